//! The resource options azure-native's SDK adds to its resources: an alias per
//! earlier API version of the type, so the plan sends what the reference's SDK sent.

use cpg_infra::graph::{Alias, Resource, ResourceOptions};

use crate::tokens;

/// The API versions of azure-native 2.21.2's `storage` module, oldest first: each
/// storage type is aliased to those from its first on, less any it lacks.
const STORAGE: [&str; 23] = [
    "v20150501preview",
    "v20150615",
    "v20160101",
    "v20160501",
    "v20161201",
    "v20170601",
    "v20171001",
    "v20180201",
    "v20180301preview",
    "v20180701",
    "v20181101",
    "v20190401",
    "v20190601",
    "v20200801preview",
    "v20210101",
    "v20210201",
    "v20210401",
    "v20210601",
    "v20210801",
    "v20210901",
    "v20220501",
    "v20220901",
    "v20230101",
];

/// The API versions azure-native 2.21.2 aliases `type_token` to, oldest first.
fn versions(type_token: &str) -> Vec<&'static str> {
    let listed = |versions: &[&'static str]| versions.to_vec();
    match type_token {
        tokens::STORAGE_ACCOUNT => listed(&STORAGE),
        tokens::BLOB_CONTAINER => storage_since("v20180201", &[]),
        tokens::BLOB_SERVICE_PROPERTIES => storage_since("v20180701", &[]),
        tokens::MANAGEMENT_POLICY => storage_since("v20180301preview", &["v20180701"]),
        tokens::REGISTRY => listed(&[
            "v20170301",
            "v20171001",
            "v20190501",
            "v20191201preview",
            "v20201101preview",
            "v20210601preview",
            "v20210801preview",
            "v20210901",
            "v20211201preview",
            "v20220201preview",
            "v20221201",
            "v20230101preview",
            "v20230601preview",
            "v20230701",
            "v20230801preview",
            "v20231101preview",
        ]),
        tokens::RESOURCE_GROUP => listed(&[
            "v20151101",
            "v20160201",
            "v20160701",
            "v20160901",
            "v20170510",
            "v20180201",
            "v20180501",
            "v20190301",
            "v20190501",
            "v20190510",
            "v20190701",
            "v20190801",
            "v20191001",
            "v20200601",
            "v20200801",
            "v20201001",
            "v20210101",
            "v20210401",
            "v20220901",
            "v20230701",
        ]),
        tokens::ROLE_ASSIGNMENT => listed(&[
            "v20150701",
            "v20171001preview",
            "v20180101preview",
            "v20180901preview",
            "v20200301preview",
            "v20200401preview",
            "v20200801preview",
            "v20201001preview",
            "v20220401",
        ]),
        tokens::USER_ASSIGNED_IDENTITY => listed(&[
            "v20150831preview",
            "v20181130",
            "v20210930preview",
            "v20220131preview",
            "v20230131",
            "v20230731preview",
        ]),
        _ => Vec::new(),
    }
}

/// The storage API versions from `first` on, without those in `missing`.
fn storage_since(first: &str, missing: &[&str]) -> Vec<&'static str> {
    STORAGE
        .iter()
        .skip_while(|version| **version != first)
        .filter(|version| !missing.contains(version))
        .copied()
        .collect()
}

/// The options azure-native's SDK adds to resources of `type_token`: for
/// `azure-native:storage:BlobContainer`, an alias to
/// `azure-native:storage/v20180201:BlobContainer` and each later version.
pub fn sdk_options(type_token: &str) -> ResourceOptions {
    let Some((provider, rest)) = type_token.split_once(':') else {
        return ResourceOptions::default();
    };
    let Some((module, kind)) = rest.split_once(':') else {
        return ResourceOptions::default();
    };
    ResourceOptions {
        aliases: versions(type_token)
            .into_iter()
            .map(|version| Alias {
                type_token: Some(format!("{provider}:{module}/{version}:{kind}")),
                ..Alias::default()
            })
            .collect(),
        ..ResourceOptions::default()
    }
}

/// A resource of `type_token` with the SDK's options for it.
pub fn resource(type_token: &str, name: impl AsRef<str>) -> Resource {
    Resource::new(type_token, name).options(sdk_options(type_token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpg_infra::graph::AliasParent;

    #[test]
    fn aliases_name_each_api_version() {
        let options = sdk_options(tokens::RESOURCE_GROUP);
        assert_eq!(options.aliases.len(), 20);
        assert_eq!(
            options.aliases[0].type_token.as_deref(),
            Some("azure-native:resources/v20151101:ResourceGroup")
        );
        assert!(
            options
                .aliases
                .iter()
                .all(|a| a.parent == AliasParent::Inherit && a.name.is_none())
        );
        assert!(sdk_options(tokens::GROUP).aliases.is_empty());
    }
}
