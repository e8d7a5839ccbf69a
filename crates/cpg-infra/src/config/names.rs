//! The closed sets of names the configuration uses: clouds, dataset components and
//! the access groups that `members` may list people in; and the form of a plugin's
//! name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether `name` is usable as a plugin name: lowercase ASCII letters, digits and
/// `_`, starting with a letter (the library's file name is derived from it).
pub fn is_plugin_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in the reference's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in config files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses the name used in config files.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// A deploy location: a cloud, or the dry-run cloud that declares resources without
    /// any provider.
    pub enum CloudName {
        /// Google Cloud Platform.
        Gcp => "gcp",
        /// Microsoft Azure.
        Azure => "azure",
        /// The dry-run cloud: plans resources, deploys nothing.
        DryRun => "dry-run",
    }
}

named_enum! {
    /// A part of a dataset's infrastructure that can be switched on per cloud.
    pub enum Component {
        /// Buckets, their lifecycle rules and access.
        Storage => "storage",
        /// Dataproc machine accounts and roles.
        Spark => "spark",
        /// Cromwell machine accounts, keys and roles.
        Cromwell => "cromwell",
        /// The notebook machine account.
        Notebooks => "notebooks",
        /// Hail Batch accounts and the billing project.
        HailAccounts => "hail-accounts",
        /// Metamist (sample-metadata) groups and projects.
        Metamist => "metamist",
        /// Container registries.
        ContainerRegistry => "container-registry",
        /// Analysis-runner config access and invocation.
        AnalysisRunner => "analysis-runner",
    }
}

impl Component {
    /// The components a dataset deploys on `cloud` when its config lists none.
    pub fn defaults_for(cloud: CloudName) -> &'static [Component] {
        match cloud {
            CloudName::Gcp | CloudName::DryRun => Component::ALL,
            CloudName::Azure => &[
                Component::Storage,
                Component::HailAccounts,
                Component::AnalysisRunner,
                Component::ContainerRegistry,
            ],
        }
    }
}

named_enum! {
    /// An access group whose members are listed in a dataset's `members`.
    pub enum GroupName {
        /// Manages the dataset's data.
        DataManager => "data-manager",
        /// Runs analyses.
        Analysis => "analysis",
        /// Reads metadata.
        MetadataAccess => "metadata-access",
        /// Contributes metadata.
        MetadataContribute => "metadata-contribute",
        /// Writes metadata.
        MetadataWrite => "metadata-write",
        /// Reads the web buckets.
        WebAccess => "web-access",
        /// Reads the release bucket.
        ReleaseAccess => "release-access",
        /// May request temporary read access to the main bucket.
        TmpMainReadAccess => "tmp-main-read-access",
    }
}

/// `my.service-account+x@domain` → `my-service-account-x`; service accounts keep
/// their project: `sa@project.iam.gserviceaccount.com` → `sa-project`.
pub(crate) fn name_from_account(email: &str) -> String {
    let suffix = ".iam.gserviceaccount.com";
    let base = match email.strip_suffix(suffix) {
        Some(base) => base,
        None => email.split('@').next().unwrap_or(email),
    };
    let replaced: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    replaced.replace("--", "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for cloud in CloudName::ALL {
            assert_eq!(CloudName::from_name(cloud.as_str()), Some(*cloud));
        }
        for component in Component::ALL {
            assert_eq!(Component::from_name(component.as_str()), Some(*component));
        }
        for group in GroupName::ALL {
            assert_eq!(GroupName::from_name(group.as_str()), Some(*group));
        }
        assert_eq!(CloudName::from_name("aws"), None);
    }

    #[test]
    fn azure_defaults_are_the_reference_four() {
        assert_eq!(Component::defaults_for(CloudName::Azure).len(), 4);
        assert_eq!(Component::defaults_for(CloudName::Gcp).len(), 8);
        assert_eq!(Component::defaults_for(CloudName::DryRun).len(), 8);
    }
}
