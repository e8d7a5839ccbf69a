//! The schemas against the loader: every valid config is accepted, and a document is
//! rejected exactly when decoding rejects it.

mod schema {
    pub mod files;
    pub mod support;
}
