//! The provider through its gRPC interface, against the fake services; and the state
//! migration.

mod pulumi_resource_cpg {
    pub mod auth;
    pub mod binary;
    pub mod credentials;
    pub mod distrust;
    pub mod end_to_end;
    pub mod google;
    pub mod hail;
    pub mod harness;
    pub mod lost_answers;
    pub mod metamist;
    pub mod migrate;
    pub mod plan;
    pub mod protocol;
}
