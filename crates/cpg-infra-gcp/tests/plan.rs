//! Integration tests of planning with the GCP cloud.

mod plan {
    pub mod parity;
    pub mod support;
}
