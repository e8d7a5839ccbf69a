//! The `cpg:` resource kinds: the seven resources the reference made with Python
//! dynamic providers, which this project's provider `pulumi-resource-cpg` serves.
//!
//! Everything that plans, reviews, checks or migrates these resources reads its facts
//! here: the type tokens, the provider version, each kind's properties and the package
//! schema built from them ([`schema`]), and the rewriting of a stack's state: from the
//! reference's dynamic providers to `pulumi-resource-cpg` ([`migrate`]), and from one
//! stack into a stack per shard ([`split`]). The provider
//! binary serves them. The crate has no HTTP or TLS dependency, so a deploy binary can know
//! the kinds without linking the provider's network stack.
//!
//! ```
//! use cpg_infra_kinds::schema::Kind;
//!
//! let kind = Kind::from_reference_class("HailBatchUserProvider");
//! assert_eq!(kind.map(|k| k.spec().token), Some(cpg_infra_kinds::HAIL_USER));
//! ```

pub mod export;
pub mod migrate;
pub mod schema;
pub mod split;

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

#[cfg(test)]
mod tests {
    /// What the crate may depend on: JSON, errors, and the two pure encodings the
    /// state migration needs. Anything that speaks HTTP or TLS, or runs an async
    /// runtime, belongs to the provider.
    const ALLOWED: [&str; 4] = ["base64", "serde_json", "sha2", "thiserror"];

    #[test]
    fn the_crate_depends_on_nothing_that_speaks_http_or_tls() {
        let manifest = include_str!("../Cargo.toml");
        let mut section = "";
        let mut found = Vec::new();
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line;
            } else if section == "[dependencies]" && !line.is_empty() && !line.starts_with('#') {
                let name = line.split(['=', '.', ' ']).next().unwrap_or(line);
                found.push(name);
            }
        }
        found.sort_unstable();
        assert_eq!(found, ALLOWED);
    }
}
