//! The example config's plan on both clouds (GCP-only, dual-cloud and Azure-only
//! datasets): deterministic, and reviewed as a snapshot with one resource per line.

use std::path::Path;

use super::support::{load, plan};

fn example_plan() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config");
    let plan = plan(load(&dir)).to_plan_json();
    serde_json::to_string_pretty(&plan).expect("plan renders")
}

#[test]
fn example_plan_is_deterministic() {
    assert_eq!(example_plan(), example_plan());
}

#[test]
fn example_plans_azure_only_and_dual_cloud_datasets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config");
    let graph = plan(load(&dir));
    let has = |type_token: &str, name: &str| {
        graph
            .resources()
            .iter()
            .any(|r| &*r.id.type_token == type_token && &*r.id.name == name)
    };
    // Azure only: no GCP project, a storage account of its own.
    assert!(has(
        "azure-native:storage:StorageAccount",
        "study1-azure-exgstudy1"
    ));
    assert!(has(
        "azure-native:storage:StorageAccount",
        "study2-azure-exgstudy2"
    ));
    assert!(
        !graph
            .resources()
            .iter()
            .any(|r| r.id.name.starts_with("study1-gcp-"))
    );
    // Both clouds.
    assert!(has(
        "gcp:organizations/project:Project",
        "neuro-gcp-project"
    ));
    assert!(has(
        "azure-native:storage:StorageAccount",
        "neuro-azure-exgneuro"
    ));
    // study2 reads study1 on Azure.
    assert!(has(
        "azuread:index/groupMember:GroupMember",
        "study2-azure-transitive-study2-main-read-in-study1-main-read"
    ));
}

#[test]
fn example_plan_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config");
    let plan = plan(load(&dir)).to_plan_json();
    let mut lines = Vec::new();
    for resource in plan["resources"].as_array().expect("resources") {
        lines.push(format!(
            "{}::{} {} {}",
            resource["type"].as_str().unwrap_or_default(),
            resource["name"].as_str().unwrap_or_default(),
            resource["inputs"],
            resource["options"]
        ));
    }
    for (name, value) in plan["exports"].as_object().expect("exports") {
        lines.push(format!("export {name} {value}"));
    }
    insta::assert_snapshot!(lines.join("\n"));
}
