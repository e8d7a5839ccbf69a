//! The `cpg:` resource kinds: the seven resources the reference made with Python
//! dynamic providers, which this project's provider `pulumi-resource-cpg` serves.
//!
//! Everything that plans, reviews, checks or migrates these resources reads its facts
//! here; the provider binary serves them. The crate has no HTTP or TLS dependency, so
//! a deploy binary can know the kinds without linking the provider's network stack.

/// The version of the provider that serves these kinds: the plugin version the
/// engine is asked for and the name of the default provider
/// (`default_<version>`) that migrated state refers to.
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Pulumi package name of the `cpg:` kinds.
pub const PACKAGE: &str = "cpg";

/// A Google group membership (the reference's `GoogleGroupMembershipProvider`).
pub const GROUP_MEMBERSHIP: &str = "cpg:google:GroupMembership";
/// Google group settings (the reference's `GoogleGroupSettingsProvider`).
pub const GROUP_SETTINGS: &str = "cpg:google:GroupSettings";
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

/// Every `cpg:` type token, in the order the provider's schema lists them.
pub const TOKENS: [&str; 7] = [
    GROUP_MEMBERSHIP,
    GROUP_SETTINGS,
    HAIL_USER,
    HAIL_BILLING_PROJECT,
    HAIL_BILLING_PROJECT_MEMBERSHIP,
    METAMIST_PROJECT,
    METAMIST_PROJECT_MEMBERS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_is_in_the_cpg_package_once() {
        for (i, token) in TOKENS.iter().enumerate() {
            assert_eq!(token.split(':').next(), Some(PACKAGE), "{token}");
            assert_eq!(token.split(':').count(), 3, "{token}");
            assert!(!TOKENS[..i].contains(token), "{token} listed twice");
        }
    }
}
