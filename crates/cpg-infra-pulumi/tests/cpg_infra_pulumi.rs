//! The engine client against the mock engine: complete and correct registration,
//! previews, secrets, exports, and failures.

mod cpg_infra_pulumi {
    pub mod failures;
    pub mod plugins;
    pub mod positions;
    pub mod program;
    pub mod register;
    pub mod shards;
    pub mod stack_reference;
    pub mod support;
}
