//! This project's type tokens for the resources the reference made with Python
//! dynamic providers and the drivers declare themselves. (Google group resources are
//! the GCP crate's.)

/// A metamist project (the reference's `MetamistProjectProvider`).
pub const METAMIST_PROJECT: &str = "cpg:metamist:Project";
/// A metamist project's member lists (`MetamistProjectMembersProvider`).
pub const METAMIST_PROJECT_MEMBERS: &str = "cpg:metamist:ProjectMembers";
/// A Hail Batch user (`HailBatchUserProvider`).
pub const HAIL_USER: &str = "cpg:hail:User";
/// A Hail Batch billing project (`HailBatchBillingProjectProvider`).
pub const HAIL_BILLING_PROJECT: &str = "cpg:hail:BillingProject";
/// A Hail Batch billing project membership (`HailBatchBillingProjectMembershipProvider`).
pub const HAIL_BILLING_PROJECT_MEMBERSHIP: &str = "cpg:hail:BillingProjectMembership";
