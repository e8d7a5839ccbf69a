//! Integration tests of planning with the Azure cloud beside GCP.

mod plan {
    pub mod adhoc;
    pub mod example;
    pub mod fixes;
    pub mod names;
    pub mod parity;
    pub mod schemas;
    pub mod support;
}
