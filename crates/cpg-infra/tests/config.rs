//! Integration tests of configuration loading and validation.

mod config {
    pub mod accepted;
    pub mod adversarial;
    pub mod properties;
    pub mod rules;
    pub mod sources;
    pub mod support;
}
