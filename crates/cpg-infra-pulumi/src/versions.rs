//! The provider plugin version sent with every resource and invoke, per package.

use std::collections::BTreeMap;

use cpg_infra_azure::tokens::{
    AZURE_NATIVE_PACKAGE, AZURE_NATIVE_VERSION, AZUREAD_PACKAGE, AZUREAD_VERSION,
};
use cpg_infra_gcp::tokens as gcp;

/// Provider package versions, by package (`gcp`, `azure-native`, …).
///
/// The defaults are the versions the reference's stacks were made with, as the cloud
/// crates pin them: another major version would plan changes across a whole stack. A
/// package without a version is sent without one, and the engine picks the newest
/// installed plugin.
///
/// ```
/// use cpg_infra_pulumi::ProviderVersions;
///
/// let versions = ProviderVersions::default().with("gcp", "7.39.0");
/// assert_eq!(versions.for_type("gcp:storage/bucket:Bucket"), Some("7.39.0"));
/// assert_eq!(versions.for_type("pulumi:providers:azuread"), Some("5.46.0"));
/// assert_eq!(versions.for_type("cpg:hail:User"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderVersions(BTreeMap<String, String>);

impl Default for ProviderVersions {
    fn default() -> Self {
        ProviderVersions(
            [
                (gcp::PACKAGE, gcp::VERSION),
                (AZURE_NATIVE_PACKAGE, AZURE_NATIVE_VERSION),
                (AZUREAD_PACKAGE, AZUREAD_VERSION),
            ]
            .into_iter()
            .map(|(p, v)| (p.to_owned(), v.to_owned()))
            .collect(),
        )
    }
}

impl ProviderVersions {
    /// No pinned versions.
    pub fn none() -> Self {
        ProviderVersions(BTreeMap::new())
    }

    /// These versions with `package` pinned to `version` (replacing its default).
    pub fn with(mut self, package: impl Into<String>, version: impl Into<String>) -> Self {
        self.0.insert(package.into(), version.into());
        self
    }

    /// These versions without a pin for `package`.
    pub fn without(mut self, package: &str) -> Self {
        self.0.remove(package);
        self
    }

    /// The version for a resource or function token: its package is the token's
    /// first segment, or the third of a provider resource (`pulumi:providers:gcp`).
    pub fn for_type(&self, token: &str) -> Option<&str> {
        self.0.get(package(token)).map(String::as_str)
    }

    /// Every pinned package and its version.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(p, v)| (p.as_str(), v.as_str()))
    }
}

/// The package of a type or function token.
pub fn package(token: &str) -> &str {
    match token.strip_prefix("pulumi:providers:") {
        Some(package) => package,
        None => token.split(':').next().unwrap_or(token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_is_the_first_segment_or_the_provider_name() {
        assert_eq!(
            package("gcp:organizations/getOrganization:getOrganization"),
            "gcp"
        );
        assert_eq!(
            package("azure-native:storage:StorageAccount"),
            "azure-native"
        );
        assert_eq!(package("pulumi:providers:gcp"), "gcp");
        assert_eq!(package("cpg"), "cpg");
    }

    #[test]
    fn defaults_are_the_reference_versions_and_can_be_overridden() {
        let versions = ProviderVersions::default();
        assert_eq!(versions.for_type("gcp:x:Y"), Some("7.38.0"));
        assert_eq!(versions.for_type("azure-native:x:Y"), Some("2.21.2"));
        assert_eq!(versions.for_type("azuread:x:Y"), Some("5.46.0"));
        let versions = versions.with("cpg", "0.1.0").without("azuread");
        assert_eq!(versions.for_type("cpg:hail:User"), Some("0.1.0"));
        assert_eq!(versions.for_type("azuread:x:Y"), None);
        assert_eq!(ProviderVersions::none().iter().count(), 0);
    }
}
