//! Derived Azure names: for any storage prefix and dataset names validation
//! accepts, every storage account, registry and Key Vault name is valid for Azure and
//! no two datasets share one; validation accepts exactly the names that allow that.

use std::collections::BTreeSet;
use std::sync::Arc;

use cpg_infra::config::{
    CloudName, Component, Config, CpgDatasetConfig, DatasetGcpConfig, azure_names, validate,
};
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra_azure::{AzureCloud, AzureProvider};
use cpg_infra_gcp::GcpProvider;
use proptest::prelude::*;

use super::support::azure_common;

/// Dataset names as validation allows them: lowercase letters, digits and hyphens,
/// no hyphen at either end. Some from a tiny alphabet, so that names differing only
/// in hyphens (`a-1`, `a1`) meet often, and some too long for a storage account.
fn dataset_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[ab1][ab1-]{0,4}[ab1]",
        2 => "[a-z0-9][a-z0-9-]{0,12}[a-z0-9]",
        1 => "[a-z][a-z0-9]{18,22}",
    ]
}

/// Organisations' `azure.dataset_storage_prefix`es: empty, short, with a hyphen or
/// in capitals (only the letters and digits reach the account name).
fn storage_prefix() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,5}",
        "[a-z]{1,3}-",
        "[A-Z]{2,3}",
        "[a-z]{8,12}",
    ]
}

fn is_account_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn is_vault_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_registry_name(name: &str) -> bool {
    (5..=50).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// azure-common with `names` deployed to Azure only, each with its registries.
fn config_with(names: &BTreeSet<String>) -> Config {
    let mut config = azure_common();
    for (i, name) in names.iter().enumerate() {
        config.datasets.push(
            CpgDatasetConfig::builder()
                .dataset(name.as_str())
                .gcp(
                    DatasetGcpConfig::builder()
                        .project(format!("project-{i}"))
                        .build(),
                )
                .deploy_locations(vec![CloudName::Azure])
                .setup_test(false)
                .create_container_registry(true)
                .components(
                    [(
                        CloudName::Azure,
                        vec![Component::Storage, Component::ContainerRegistry],
                    )]
                    .into(),
                )
                .build(),
        );
    }
    config
}

/// The names the plan asks Azure for, by input.
fn planned(config: Config, input: &str, type_token: &str) -> Vec<String> {
    let graph = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .build()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"));
    graph
        .resources()
        .iter()
        .filter(|r| &*r.id.type_token == type_token)
        .filter_map(|r| r.inputs.get(input)?.as_str().map(str::to_owned))
        .collect()
}

/// The Key Vault name each Azure dataset's cloud declares.
fn vault_names(config: &Config) -> Vec<String> {
    let infrastructure = Arc::new(config.infrastructure.clone());
    let mut graph = Graph::new();
    config
        .datasets
        .iter()
        .filter(|d| d.deploy_locations.contains(&CloudName::Azure))
        .map(|dataset| {
            let mut cloud = AzureCloud::new(infrastructure.clone(), Arc::new(dataset.clone()));
            let vault = cloud.vault(&mut graph).expect("a vault");
            let resource = graph.get(&vault).expect("declared");
            resource.inputs["vaultName"]
                .as_str()
                .expect("a literal name")
                .to_owned()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn derived_azure_names_are_valid_and_distinct(
        prefix in storage_prefix(),
        names in proptest::collection::btree_set(dataset_name(), 1..5)
            .prop_filter("not the config's own datasets", |names| {
                !names.iter().any(|n| ["common", "fewgenomes", "validation"].contains(&n.as_str()))
            })
    ) {
        let mut config = config_with(&names);
        config.infrastructure.azure.as_mut().expect("azure").dataset_storage_prefix = prefix.clone();

        // What should be accepted: every account is a valid name (the prefix may be
        // empty, so a dataset may start one with a digit or leave it too short), and
        // none is shared (common is on Azure too).
        let mut accounts = vec![azure_names::storage_account(&prefix, "common")];
        accounts.extend(names.iter().map(|n| azure_names::storage_account(&prefix, n)));
        let distinct: BTreeSet<&String> = accounts.iter().collect();
        let expected = distinct.len() == accounts.len()
            && accounts.iter().all(|a| is_account_name(a));
        let outcome = validate(&config.infrastructure, &config.datasets);
        prop_assert_eq!(outcome.is_ok(), expected, "{:?} {:?}: {:?}", prefix, names, outcome);
        if !expected {
            return Ok(());
        }

        let accounts = planned(config.clone(), "accountName", cpg_infra_azure::tokens::STORAGE_ACCOUNT);
        prop_assert_eq!(accounts.len(), names.len() + 1);
        prop_assert!(accounts.iter().all(|a| is_account_name(a)), "{:?}", accounts);
        prop_assert_eq!(accounts.iter().collect::<BTreeSet<_>>().len(), accounts.len());

        let registries = planned(config.clone(), "registryName", cpg_infra_azure::tokens::REGISTRY);
        prop_assert_eq!(registries.len(), 3 * (names.len() + 1));
        prop_assert!(registries.iter().all(|r| is_registry_name(r)), "{:?}", registries);
        prop_assert_eq!(registries.iter().collect::<BTreeSet<_>>().len(), registries.len());

        // No default component asks for a secret, so each dataset's cloud is asked
        // for its vault directly: the name it declares is the one to check.
        let vaults = vault_names(&config);
        prop_assert_eq!(vaults.len(), names.len() + 1);
        prop_assert!(vaults.iter().all(|v| is_vault_name(v)), "{:?}", vaults);
        prop_assert_eq!(vaults.iter().collect::<BTreeSet<_>>().len(), vaults.len());
    }
}

#[test]
fn names_differing_only_in_hyphens_are_rejected_and_digits_kept() {
    let accepted = |names: &[&str]| {
        let config = config_with(&names.iter().map(|n| (*n).to_owned()).collect());
        validate(&config.infrastructure, &config.datasets).is_ok()
    };
    assert!(accepted(&["ds1", "ds2"]));
    assert!(!accepted(&["a-1", "a1"]));
    assert!(!accepted(&["com-mon"]), "common's account is cpgcommon");
    assert!(
        accepted(&["abcdefghijklmnopqrstu"]),
        "24 characters with the prefix"
    );
    assert!(!accepted(&["abcdefghijklmnopqrstuv"]), "25 characters");
}

#[test]
fn upload_container_names_azure_refuses_are_rejected_at_validation() {
    use cpg_infra::config::{
        AdditionalUploadBucket, DataDropboxConfig, DataDropboxGcpConfig, UploadConfig,
        UploadDropbox,
    };
    let mut config = azure_common();
    config.infrastructure.data_dropbox = Some(DataDropboxConfig {
        gcp: DataDropboxGcpConfig::builder()
            .project("dropbox-project")
            .server_machine_account("dropbox@dropbox-project.iam.gserviceaccount.com")
            .build(),
    });
    let bucket = |name: &str| AdditionalUploadBucket::builder().name(name).build();
    let dropbox = |id: &str| {
        UploadDropbox::builder()
            .id(id)
            .name("a dropbox")
            .allowed_filetypes(vec![])
            .uploaders(vec![])
            .build()
    };
    let mut dataset = CpgDatasetConfig::builder()
        .dataset("azup")
        .gcp(DatasetGcpConfig::builder().project("azup-project").build())
        .deploy_locations(vec![CloudName::Azure])
        .build();
    dataset.upload_config = Some(UploadConfig {
        additional_buckets: Some(vec![
            bucket("batch-2"),
            bucket("batch_1"),
            bucket(&"b".repeat(52)),
        ]),
        dropboxes: Some(vec![dropbox("ok-1"), dropbox("a--b")]),
        ..UploadConfig::default()
    });
    config.datasets.push(dataset);
    let diagnostics: Vec<String> = validate(&config.infrastructure, &config.datasets)
        .expect_err("containers Azure refuses")
        .errors()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        diagnostics,
        [
            "dataset config \"azup\": upload_config.additional_buckets[1].name: Azure blob \
             container name \"main-upload-batch_1\" may hold only lowercase letters, digits \
             and single hyphens, and must start and end with a letter or digit",
            &format!(
                "dataset config \"azup\": upload_config.additional_buckets[2].name: Azure blob \
                 container name \"main-upload-{}\" is 64 characters, allowed: 3 to 63",
                "b".repeat(52)
            ),
            "dataset config \"azup\": upload_config.dropboxes[1].id: Azure blob container \
             name \"main-upload-db-a--b\" may hold only lowercase letters, digits and single \
             hyphens, and must start and end with a letter or digit",
        ]
    );
}
