//! The reference's bugs, fixed on purpose: each test is named after what broke.

use cpg_infra::config::{CloudIdentity, CloudName, Component, GroupName};
use serde_json::Value;

use super::support::{load, plan, reference_dir};

fn small() -> cpg_infra::config::Config {
    load(&reference_dir().join("small"))
}

fn resource<'a>(plan: &'a Value, type_token: &str, name: &str) -> &'a Value {
    plan["resources"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["type"] == type_token && r["name"] == name)
        })
        .unwrap_or_else(|| panic!("no {type_token}::{name} in the plan"))
}

fn output_of(value: &Value) -> (&str, &str) {
    (
        value["$output"]["resource"].as_str().unwrap_or_default(),
        value["$output"]["property"].as_str().unwrap_or_default(),
    )
}

#[test]
fn metamist_machine_account_reaches_main_list() {
    let config = small();
    let metamist = config.infrastructure.metamist.clone().expect("metamist");
    let plan = plan(config).to_plan_json();
    let current = resource(
        &plan,
        "cpg:google:GroupMembership",
        "fewgenomes-gcp-metamist-machine-account-in-main-list",
    );
    assert_eq!(
        current["inputs"]["member_key"],
        metamist.gcp.machine_account.as_str()
    );
    let legacy = resource(
        &plan,
        "cpg:google:GroupMembership",
        "fewgenomes-gcp-metamist-service-account-in-main-list",
    );
    assert_eq!(
        legacy["inputs"]["member_key"],
        metamist.gcp.legacy_machine_account.as_str()
    );
    for membership in [current, legacy] {
        assert_eq!(
            output_of(&membership["inputs"]["group_key"]),
            (
                "gcp:cloudidentity/group:Group::fewgenomes-gcp-main-list-group",
                "id"
            )
        );
    }
}

#[test]
fn images_dev_reader_gets_members() {
    let plan = plan(small()).to_plan_json();
    let membership = resource(
        &plan,
        "cpg:google:GroupMembership",
        "common-gcp-test-in-images-dev-reader-group-member",
    );
    assert_eq!(
        output_of(&membership["inputs"]["group_key"]),
        (
            "gcp:cloudidentity/group:Group::common-gcp-images-dev-reader-group",
            "id"
        )
    );
    assert_eq!(
        output_of(&membership["inputs"]["member_key"]),
        (
            "gcp:cloudidentity/group:Group::common-gcp-test-group",
            "groupKey.id"
        )
    );
}

#[test]
fn main_read_reads_main_web() {
    let plan = plan(small()).to_plan_json();
    let binding = resource(
        &plan,
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "fewgenomes-gcp-main-read-main-web-bucket-viewer",
    );
    let role = &binding["inputs"]["role"]["$concat"][1];
    assert_eq!(role, "/roles/StorageObjectAndBucketViewer");
}

#[test]
fn dependants_build_when_common_has_no_container_registry() {
    let mut config = small();
    let without_registry: Vec<Component> = Component::ALL
        .iter()
        .copied()
        .filter(|c| *c != Component::ContainerRegistry)
        .collect();
    let common = config
        .datasets
        .iter_mut()
        .find(|d| d.dataset == "common")
        .expect("common");
    common.components.insert(CloudName::Gcp, without_registry);
    let plan = plan(config).to_plan_json();
    // The images groups fewgenomes joins are made for common.
    resource(
        &plan,
        "gcp:cloudidentity/group:Group",
        "common-gcp-images-reader-group",
    );
    resource(
        &plan,
        "cpg:google:GroupMembership",
        "fewgenomes-gcp-transitive-images-reader-in-common-images-reader",
    );
}

#[test]
fn dependants_with_a_test_namespace_build_when_a_dependency_has_none() {
    let mut config = small();
    for dataset in &mut config.datasets {
        // validation depends on fewgenomes; swap which of them sets up test.
        match dataset.dataset.as_str() {
            "fewgenomes" => dataset.setup_test = false,
            "validation" => dataset.setup_test = true,
            _ => {}
        }
    }
    let plan = plan(config).to_plan_json();
    resource(
        &plan,
        "gcp:cloudidentity/group:Group",
        "fewgenomes-gcp-test-read-group",
    );
    resource(
        &plan,
        "cpg:google:GroupMembership",
        "validation-gcp-transitive-test-read-in-fewgenomes-test-read",
    );
}

#[test]
fn temporary_access_principal_has_the_group_prefix() {
    let mut config = small();
    config.infrastructure.group_prefix = Some("dev-".into());
    let fewgenomes = config
        .datasets
        .iter_mut()
        .find(|d| d.dataset == "fewgenomes")
        .expect("fewgenomes");
    fewgenomes
        .members
        .insert(GroupName::TmpMainReadAccess, vec!["alice.smith".into()]);
    let plan = plan(config).to_plan_json();
    let entitlement = resource(
        &plan,
        "gcp:privilegedaccessmanager/entitlement:entitlement",
        "fewgenomes-gcp-temporary-bucket-access-main-read",
    );
    assert_eq!(
        entitlement["inputs"]["eligibleUsers"][0]["principals"][0],
        "group:dev-fewgenomes-tmp-main-read-access@populationgenomics.org.au"
    );
    // The group itself is created with the prefix (which is in its logical name too).
    let group = resource(
        &plan,
        "gcp:cloudidentity/group:Group",
        "fewgenomes-gcp-dev-fewgenomes-tmp-main-read-access-group",
    );
    assert_eq!(
        group["inputs"]["groupKey"]["id"],
        "dev-fewgenomes-tmp-main-read-access@populationgenomics.org.au"
    );
}

#[test]
fn dry_run_cloud_plans_beside_gcp() {
    let mut config = small();
    for user in config.infrastructure.users.values_mut() {
        if let Some(gcp) = user.clouds.get(&CloudName::Gcp).cloned() {
            user.clouds
                .insert(CloudName::DryRun, CloudIdentity { ..gcp });
        }
    }
    for dataset in &mut config.datasets {
        dataset.deploy_locations = vec![CloudName::Gcp, CloudName::DryRun];
    }
    cpg_infra::config::validate(&config.infrastructure, &config.datasets).expect("valid");
    let graph = plan(config);
    let dry_run: Vec<&str> = graph
        .resources()
        .iter()
        .filter(|r| r.id.type_token.starts_with("dry-run:"))
        .map(|r| &*r.id.name)
        .collect();
    assert!(
        dry_run.contains(&"fewgenomes-dry-run-main-bucket"),
        "{dry_run:?}"
    );
    assert!(dry_run.contains(&"fewgenomes-dry-run-analysis-group"));
    assert!(dry_run.iter().any(|n| n.starts_with("validation-dry-run-transitive-analysis-in-fewgenomes-analysis")));
    // GCP is unchanged beside it: the small plan's 931 plus the documented fixes.
    let gcp = graph
        .resources()
        .iter()
        .filter(|r| !r.id.type_token.starts_with("dry-run:") && !r.id.name.contains("-dry-run-"))
        .count();
    assert_eq!(gcp, 931 + 5);
}

#[test]
fn notebook_tmp_main_read_without_notebooks_builds_the_rest() {
    let mut config = small();
    let fewgenomes = config
        .datasets
        .iter_mut()
        .find(|d| d.dataset == "fewgenomes")
        .expect("fewgenomes");
    fewgenomes.allow_notebook_tmp_main_read = true;
    fewgenomes.components.insert(
        CloudName::Gcp,
        vec![
            Component::Storage,
            Component::HailAccounts,
            Component::Metamist,
        ],
    );
    let warnings = cpg_infra::config::validate(&config.infrastructure, &config.datasets)
        .expect("a warning, not an error");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let plan = plan(config).to_plan_json();
    // The group, the browser role and the entitlement, as the reference builds them.
    resource(
        &plan,
        "gcp:cloudidentity/group:Group",
        "fewgenomes-gcp-tmp-main-read-access-group",
    );
    resource(
        &plan,
        "gcp:projects/iAMMember:IAMMember",
        "fewgenomes-gcp-tmp-main-read-access-project-browser",
    );
    resource(
        &plan,
        "gcp:privilegedaccessmanager/entitlement:entitlement",
        "fewgenomes-gcp-temporary-bucket-access-main-read",
    );
    // No notebook account joins the group.
    let names: Vec<&str> = plan["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("fewgenomes-gcp-notebook")),
        "{names:?}"
    );
}

#[test]
fn configs_with_only_warnings_plan_as_the_reference_builds_them() {
    let mut config = load(&reference_dir().join("features"));
    let infra = &mut config.infrastructure;
    infra.data_dropbox = None;
    let mut offline = infra.users.values().next().cloned().expect("a user");
    offline.id = "offline".into();
    offline.clouds.clear();
    infra.users.insert("offline".into(), offline);
    let groups = infra.adhoc_groups.get_or_insert_with(Vec::new);
    groups.push(cpg_infra::config::AdhocGroup {
        name: "empty-group".into(),
        description: "Nobody yet".into(),
        members: Vec::new(),
    });
    groups.push(cpg_infra::config::AdhocGroup {
        name: "fewgenomes-reviewers".into(),
        description: "Reviewers".into(),
        members: vec!["offline".into()],
    });
    let validation = config
        .datasets
        .iter_mut()
        .find(|d| d.dataset == "validation")
        .expect("validation");
    validation.depends_on_readonly.push("fewgenomes".into());
    validation.depends_on.push("fewgenomes".into());
    let members = validation
        .members
        .entry(GroupName::TmpMainReadAccess)
        .or_default();
    members.push("nobody-known".into());
    members.push("offline".into());
    let analysis = validation.members.entry(GroupName::Analysis).or_default();
    let someone = analysis.first().cloned().expect("an analyst");
    analysis.push(someone);

    let warnings = cpg_infra::config::validate(&config.infrastructure, &config.datasets)
        .unwrap_or_else(|e| panic!("{:#?}", e.diagnostics));
    let shown: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 8, "{shown:#?}");
    assert!(
        warnings
            .iter()
            .all(cpg_infra::config::Diagnostic::is_warning)
    );
    let graph = plan(config);
    let names: Vec<&str> = graph.resources().iter().map(|r| &*r.id.name).collect();
    assert!(names.contains(&"common-gcp-empty-group-group"), "{names:?}");
    assert!(names.contains(&"common-gcp-fewgenomes-reviewers-group"));
    // The dropboxes' buckets are made; the server config is not.
    assert!(
        names.iter().any(|n| n.contains("main-upload-db-")),
        "{names:?}"
    );
    assert!(!names.contains(&"common-gcp-data-dropbox-server-config-latest"));
}
