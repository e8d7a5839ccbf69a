//! Integration tests of planning with the GCP cloud.

mod plan {
    pub mod accepted;
    pub mod fixes;
    pub mod generated;
    pub mod options;
    pub mod parity;
    pub mod shards;
    pub mod support;
}
