//! The reference's Azure bugs, fixed on purpose: each test is named after what broke.

use std::collections::BTreeMap;

use cpg_infra::config::{
    CloudIdentity, CloudName, Config, CpgDatasetConfig, DatasetGcpConfig, DefaultUploadBucket,
    GroupName, UploadConfig,
};
use serde_json::Value;

use super::support::{azure_common, plan_validated, resource, resources};

/// A dataset deployed to Azure only, with the default Azure components.
fn azure_dataset(name: &str) -> CpgDatasetConfig {
    CpgDatasetConfig::builder()
        .dataset(name)
        .gcp(
            DatasetGcpConfig::builder()
                .project(format!("{name}-project"))
                .build(),
        )
        .deploy_locations(vec![CloudName::Azure])
        .build()
}

fn with(mut config: Config, datasets: impl IntoIterator<Item = CpgDatasetConfig>) -> Config {
    config.datasets.extend(datasets);
    config
}

fn input<'a>(resource: &'a Value, name: &str) -> &'a Value {
    &resource["inputs"][name]
}

#[test]
fn storage_accounts_of_ds1_and_ds2_do_not_collide() {
    let plan = plan_validated(with(
        azure_common(),
        [azure_dataset("ds1"), azure_dataset("ds2")],
    ))
    .to_plan_json();
    // The reference dropped the digits: both were `cpgds`.
    let one = resource(
        &plan,
        "azure-native:storage:StorageAccount",
        "ds1-azure-cpgds1",
    );
    let two = resource(
        &plan,
        "azure-native:storage:StorageAccount",
        "ds2-azure-cpgds2",
    );
    assert_eq!(input(one, "accountName"), "cpgds1");
    assert_eq!(input(two, "accountName"), "cpgds2");
}

#[test]
fn registries_of_ds1_and_ds2_do_not_collide() {
    let mut ds1 = azure_dataset("ds1");
    ds1.create_container_registry = true;
    let mut ds2 = azure_dataset("ds2");
    ds2.create_container_registry = true;
    let plan = plan_validated(with(azure_common(), [ds1, ds2])).to_plan_json();
    let names: Vec<&str> = resources(&plan, "azure-native:containerregistry:Registry", "ds")
        .iter()
        .filter_map(|r| input(r, "registryName").as_str())
        .collect();
    assert_eq!(
        names,
        [
            "cpgds1images",
            "cpgds1imagesdev",
            "cpgds1imagestmp",
            "cpgds2images",
            "cpgds2imagesdev",
            "cpgds2imagestmp"
        ]
    );
}

#[test]
fn bucket_urls_are_blob_urls_with_hyphenated_containers() {
    let plan = plan_validated(azure_common()).to_plan_json();
    let config = resource(
        &plan,
        "gcp:storage/bucketObject:BucketObject",
        "storage-config-azure-common-main",
    );
    let content = &config["inputs"]["content"]["$secret"];
    let parts: Vec<&Value> = content["$toml"]["value"]["storage"]["common"]["tmp"]["$concat"]
        .as_array()
        .expect("the tmp URL is built from the account and container names")
        .iter()
        .collect();
    assert_eq!(parts[0], "https://");
    assert_eq!(
        parts[1]["$output"]["resource"],
        "azure-native:storage:StorageAccount::common-azure-cpgcommon"
    );
    assert_eq!(parts[2], ".blob.core.windows.net/");
    assert_eq!(
        parts[3]["$output"]["resource"],
        "azure-native:storage:BlobContainer::common-azure-main-tmp-blob-container"
    );
    assert_eq!(parts[4], "/");
    // The object sits where the reference put it, in the GCS config bucket.
    assert_eq!(input(config, "bucket"), "cpg-config");
    assert_eq!(
        input(config, "name"),
        "deploy/storage/azure/common-main.toml"
    );
}

#[test]
fn hail_accounts_on_azure_build_without_recursing() {
    let plan = plan_validated(with(azure_common(), [azure_dataset("azds")])).to_plan_json();
    let users = resources(&plan, "cpg:hail:User", "azds-azure-hail-batch-user-");
    assert_eq!(users.len(), 3, "full, standard and test");
    for user in &users {
        assert_eq!(
            input(user, "batch_uri"),
            "https://auth.azhail.populationgenomics.org.au"
        );
        assert_eq!(input(user, "token_category"), "azure");
    }
    let project = resource(
        &plan,
        "cpg:hail:BillingProject",
        "azds-azure-batch-billing-project",
    );
    assert_eq!(
        input(project, "batch_uri"),
        "https://batch.azhail.populationgenomics.org.au"
    );
    let admin = resource(
        &plan,
        "azure-native:authorization:RoleAssignment",
        "azds-azure-hail-service-account-full-hail-bucket-admin",
    );
    assert_eq!(input(admin, "principalType"), "ServicePrincipal");
    assert_eq!(
        input(admin, "principalId")["$output"],
        serde_json::json!({"resource": "cpg:hail:User::azds-azure-hail-batch-user-full", "property": "cloud_id"})
    );
    assert_eq!(
        input(admin, "scope")["$output"]["resource"],
        "azure-native:storage:BlobContainer::azds-azure-hail-blob-container"
    );
}

#[test]
fn hail_billing_members_come_from_each_clouds_own_identities() {
    // The reference cached resolved members by group name across clouds, so a
    // dataset on both clouds got one cloud's members on the other.
    let mut config = azure_common();
    let alice = config
        .infrastructure
        .users
        .get_mut("alice.smith")
        .expect("alice");
    alice.clouds.insert(
        CloudName::Azure,
        CloudIdentity::builder()
            .id("f1942216-c3a9-5762-8a37-3207e9958d87")
            .hail_batch_username("asmith-azure")
            .build(),
    );
    let both = CpgDatasetConfig::builder()
        .dataset("dual")
        .gcp(DatasetGcpConfig::builder().project("dual-project").build())
        .deploy_locations(vec![CloudName::Gcp, CloudName::Azure])
        .budgets(BTreeMap::from([(
            CloudName::Gcp,
            cpg_infra::config::Budget::builder()
                .monthly_budget(100)
                .build(),
        )]))
        .members(BTreeMap::from([(
            GroupName::Analysis,
            vec!["alice.smith".to_owned()],
        )]))
        .build();
    let plan = plan_validated(with(config, [both])).to_plan_json();
    let users = |prefix: &str| -> Vec<String> {
        resources(&plan, "cpg:hail:BillingProjectMembership", prefix)
            .iter()
            .filter(|r| {
                // The people's memberships: not the dataset's own Hail accounts,
                // nor the billing aggregator.
                r["name"].as_str().is_some_and(|n| {
                    !n.contains("-batch-billing-member-hail-") && !n.ends_with("-aggregator")
                })
            })
            .filter_map(|r| input(r, "user").as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(users("dual-gcp-"), ["asmith"]);
    assert_eq!(users("dual-azure-"), ["asmith-azure"]);
    // Memberships of the two clouds' groups are declared side by side.
    let person = |prefix: &str, token: &str| {
        resources(&plan, token, prefix)
            .iter()
            .filter(|r| {
                r["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("-analysis-member-"))
            })
            .count()
    };
    assert_eq!(person("dual-gcp-", "cpg:google:GroupMembership"), 1);
    assert_eq!(
        person("dual-azure-", "azuread:index/groupMember:GroupMember"),
        1
    );
}

#[test]
fn uploaders_are_assigned_as_users_not_service_principals() {
    let mut dataset = azure_dataset("azds");
    dataset.upload_config = Some(UploadConfig {
        default_bucket: Some(DefaultUploadBucket {
            uploaders: Some(vec!["bob.nguyen".to_owned()]),
        }),
        ..UploadConfig::default()
    });
    let plan = plan_validated(with(azure_common(), [dataset])).to_plan_json();
    let uploaders = resources(
        &plan,
        "azure-native:authorization:RoleAssignment",
        "azds-azure-main-upload-main-upload-uploader-",
    );
    assert_eq!(uploaders.len(), 1);
    assert_eq!(input(uploaders[0], "principalType"), "User");
    assert_eq!(
        input(uploaders[0], "principalId"),
        "c2bbdf56-9b05-5a33-a7d6-3f8dee3b1a1b"
    );
    // The upload identity stays a service principal.
    let account = resource(
        &plan,
        "azure-native:authorization:RoleAssignment",
        "azds-azure-main-upload-service-account-main-upload-bucket-creator",
    );
    assert_eq!(input(account, "principalType"), "ServicePrincipal");
}

#[test]
fn dependencies_across_azure_datasets_join_their_groups() {
    let base = azure_dataset("azbase");
    let mut user = azure_dataset("azuser");
    user.depends_on = vec!["azbase".to_owned()];
    let plan = plan_validated(with(azure_common(), [base, user])).to_plan_json();
    let transitive = resource(
        &plan,
        "azuread:index/groupMember:GroupMember",
        "azuser-azure-transitive-analysis-in-azbase-analysis",
    );
    assert_eq!(
        input(transitive, "groupObjectId")["$output"]["resource"],
        "azuread:index/group:Group::azbase-azure-analysis-group"
    );
    assert_eq!(
        input(transitive, "memberObjectId")["$output"]["resource"],
        "azuread:index/group:Group::azuser-azure-analysis-group"
    );
    // The dependant's storage config merges its dependencies' configs.
    let config = resource(
        &plan,
        "gcp:storage/bucketObject:BucketObject",
        "storage-config-azure-azuser-main",
    );
    let merged = config["inputs"]["content"]["$secret"]["$toml"]["merge"]
        .as_array()
        .expect("merged configs");
    assert_eq!(merged.len(), 2, "azbase's and common's");
}

#[test]
fn disable_group_memberships_removes_azure_memberships_too() {
    // The reference honoured the switch on GCP only, so the first phase of a
    // two-phase rename left every Entra ID membership in place.
    let members = |disable: bool| {
        let mut config = azure_common();
        config.infrastructure.disable_group_memberships = disable;
        let plan = plan_validated(config).to_plan_json();
        resources(&plan, "azuread:index/groupMember:GroupMember", "").len()
    };
    assert!(members(false) > 0, "azure-common has Entra ID memberships");
    assert_eq!(members(true), 0);
}

#[test]
fn azure_budget_is_accepted_and_builds_nothing() {
    // The reference skips budgets on Azure; a config with one still validates, and
    // neither cloud declares a budget for the Azure-only dataset.
    let mut dataset = azure_dataset("azspend");
    dataset.budgets.insert(
        CloudName::Azure,
        cpg_infra::config::Budget::builder()
            .monthly_budget(100)
            .build(),
    );
    let plan = plan_validated(with(azure_common(), [dataset])).to_plan_json();
    let all: Vec<&Value> = plan["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| {
            r["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("azspend-"))
        })
        .collect();
    assert!(!all.is_empty(), "the dataset is planned");
    let budgets: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|r| {
            r["type"]
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains("budget"))
                || r["name"].as_str().is_some_and(|n| n.contains("budget"))
        })
        .collect();
    assert!(budgets.is_empty(), "{budgets:#?}");
}

/// A dataset on both clouds, with the GCP budget that cloud needs.
fn dual_dataset(name: &str) -> CpgDatasetConfig {
    let mut dataset = azure_dataset(name);
    dataset.deploy_locations = vec![CloudName::Gcp, CloudName::Azure];
    dataset.budgets.insert(
        CloudName::Gcp,
        cpg_infra::config::Budget::builder()
            .monthly_budget(100)
            .build(),
    );
    dataset
}

/// The resources a value refers to, by `type::name`.
fn referenced(value: &Value, found: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(resource) = map.get("$output").and_then(|o| o["resource"].as_str()) {
                found.insert(resource.to_owned());
            }
            map.values().for_each(|v| referenced(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| referenced(v, found)),
        _ => {}
    }
}

#[test]
fn dual_cloud_dependencies_stay_on_their_own_cloud() {
    // Declared before its dependency: the build order follows depends_on.
    let mut user = dual_dataset("dualuser");
    user.depends_on = vec!["dualbase".to_owned()];
    let plan =
        plan_validated(with(azure_common(), [user, dual_dataset("dualbase")])).to_plan_json();
    // Each cloud's groups join the dependency's groups on the same cloud.
    let azure = resource(
        &plan,
        "azuread:index/groupMember:GroupMember",
        "dualuser-azure-transitive-analysis-in-dualbase-analysis",
    );
    assert_eq!(
        input(azure, "groupObjectId")["$output"]["resource"],
        "azuread:index/group:Group::dualbase-azure-analysis-group"
    );
    let gcp = resource(
        &plan,
        "cpg:google:GroupMembership",
        "dualuser-gcp-transitive-analysis-in-dualbase-analysis",
    );
    assert_eq!(
        input(gcp, "group_key")["$output"]["resource"],
        "gcp:cloudidentity/group:Group::dualbase-gcp-analysis-group"
    );
    // Each cloud's storage config merges the dependency's config of that cloud
    // only: Azure URLs from storage accounts, GCP URLs from buckets.
    for (cloud, account) in [
        (
            "azure",
            "azure-native:storage:StorageAccount::dualbase-azure-cpgdualbase",
        ),
        ("gcp", "gcp:storage/bucket:Bucket::dualbase-gcp-main-bucket"),
    ] {
        let config = resource(
            &plan,
            "gcp:storage/bucketObject:BucketObject",
            &format!("storage-config-{cloud}-dualuser-main"),
        );
        let mut sources = std::collections::BTreeSet::new();
        referenced(&config["inputs"]["content"], &mut sources);
        assert!(sources.contains(account), "{cloud}: {sources:#?}");
        let other = if cloud == "azure" { "gcp:" } else { "azure" };
        assert!(
            sources.iter().all(|s| !s.starts_with(other)),
            "{cloud} config refers to the other cloud: {sources:#?}"
        );
    }
}
