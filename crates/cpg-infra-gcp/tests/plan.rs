//! Integration tests of planning with the GCP cloud.

mod plan {
    pub mod example;
    pub mod fixes;
    pub mod generated;
    pub mod options;
    pub mod parity;
    pub mod schemas;
    pub mod support;
}
