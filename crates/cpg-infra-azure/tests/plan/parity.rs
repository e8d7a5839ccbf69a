//! The plan of a config on GCP and Azure against the reference's recorded output:
//! the same (type, name) set, the same inputs, the same explicit `dependsOn`, inputs
//! that come from the same resources' outputs, and for Azure the same SDK aliases.
//!
//! Values only known at deploy time are evaluated (`Value::evaluate`) with what the
//! reference's mock engine answered for the resources they come from, so inputs
//! built from outputs — bucket paths, storage TOMLs, members caches, member lists —
//! are compared too, byte for byte.

use std::collections::BTreeSet;

use cpg_infra::graph::{Graph, Value as GraphValue};
use cpg_infra_reference::{Fix, differences};

use super::support::{load, plan, reference, reference_dir};

/// Every deliberate difference a reference config may show: the list `deploy
/// differences` prints from.
const FIXES: [Fix; 5] = cpg_infra_reference::FIXES;

/// Plans reference config `name` and checks every difference is a documented fix;
/// returns which fixes showed.
fn assert_matches_reference(name: &str, resources: usize) -> Vec<&'static str> {
    let graph = plan(load(&reference_dir().join(name)));
    cpg_infra_reference::assert_matches(&reference(name), &graph, resources, &FIXES)
}

#[test]
fn azure_common_matches_the_reference() {
    let fixes = assert_matches_reference("azure-common", 1048);
    assert_eq!(
        fixes,
        FIXES.iter().map(|fix| fix.what).collect::<Vec<_>>(),
        "every documented fix shows in azure-common"
    );
}

#[test]
fn every_azure_resource_of_the_reference_is_planned() {
    let recorded = reference("azure-common");
    let graph = plan(load(&reference_dir().join("azure-common")));
    let azure = |t: &str| t.starts_with("azure-native:") || t.starts_with("azuread:");
    let theirs: BTreeSet<String> = recorded["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| azure(r["type"].as_str().unwrap_or_default()))
        .map(|r| {
            format!(
                "{}::{}",
                r["type"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(theirs.len(), 115);
    let ours: BTreeSet<String> = graph
        .resources()
        .iter()
        .filter(|r| azure(&r.id.type_token))
        .map(|r| r.id.to_string())
        .collect();
    assert!(
        theirs.is_subset(&ours),
        "missing: {:?}",
        theirs.difference(&ours).collect::<Vec<_>>()
    );
    // One extra: the test group joins images-dev-reader (a documented fix).
    assert_eq!(ours.len(), 116);
}

#[test]
fn a_changed_azure_alias_or_input_is_reported() {
    // The comparison itself must be able to fail.
    let recorded = reference("azure-common");
    let graph = plan(load(&reference_dir().join("azure-common")));
    let mut changed = Graph::new();
    for resource in graph.resources() {
        let mut resource = resource.clone();
        match &*resource.id.name {
            "common-azure-cpgcommon" if resource.id.type_token.ends_with("StorageAccount") => {
                resource.options.aliases.pop();
            }
            "common-azure-container-registry-images" => {
                resource
                    .inputs
                    .insert("registryName".into(), GraphValue::from("cpgcommo"));
            }
            _ => {}
        }
        changed.declare(resource).expect("declare");
    }
    let found = differences(&recorded, &changed);
    assert!(
        found
            .iter()
            .any(|d| d.contains("StorageAccount::common-azure-cpgcommon: aliases")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d.contains("common-azure-container-registry-images: input registryName")),
        "{found:#?}"
    );
}
