//! The plan against the reference's recorded output: the same (type, name) set, the
//! same inputs, the same explicit `dependsOn`, and inputs that come from the same
//! resources' outputs.
//!
//! Values only known at deploy time are evaluated (`Value::evaluate`) with what the
//! reference's mock engine answered for the resources they come from, so inputs
//! built from outputs — bucket paths, storage TOMLs, members caches, member lists —
//! are compared too, byte for byte.

use cpg_infra::graph::{Graph, Value as GraphValue};
use cpg_infra_reference::{FIXES, Fix, differences};

use super::support::{load, plan, reference, reference_dir};

/// Every deliberate difference a GCP-only reference config may show: the GCP part of
/// the list `deploy differences` prints from.
fn fixes() -> Vec<Fix> {
    FIXES
        .iter()
        .filter(|fix| !fix.name_suffix.starts_with("-azure-"))
        .copied()
        .collect()
}

/// Plans reference config `name` and checks every difference is a documented fix;
/// returns which fixes showed.
fn assert_matches_reference(name: &str, resources: usize) -> Vec<&'static str> {
    let graph = plan(load(&reference_dir().join(name)));
    cpg_infra_reference::assert_matches(&reference(name), &graph, resources, &fixes())
}

#[test]
fn storage_only_matches_the_reference() {
    let fixes = assert_matches_reference("storage-only", 437);
    assert_eq!(
        fixes,
        [
            "images-dev-reader gets the test group",
            "main-read reads main-web"
        ]
    );
}

#[test]
fn small_matches_the_reference() {
    let fixes = assert_matches_reference("small", 931);
    assert_eq!(
        fixes.len(),
        self::fixes().len(),
        "every documented fix shows in small: {fixes:?}"
    );
}

#[test]
fn a_changed_input_is_reported() {
    // The comparison itself must be able to fail.
    let recorded = reference("storage-only");
    let graph = plan(load(&reference_dir().join("storage-only")));
    let mut changed = Graph::new();
    for resource in graph.resources() {
        let mut resource = resource.clone();
        match &*resource.id.name {
            "common-gcp-main-bucket" => continue,
            "fewgenomes-gcp-main-bucket" => {
                resource
                    .inputs
                    .insert("location".into(), GraphValue::from("us-central1"));
            }
            "fewgenomes-analysis-group-cache-members" => {
                resource.inputs.insert(
                    "content".into(),
                    GraphValue::from("nobody@example.org").secret(),
                );
            }
            _ => {}
        }
        changed.declare(resource).expect("declare");
    }
    let found = differences(&recorded, &changed);
    assert!(
        found
            .iter()
            .any(|d| d.contains("fewgenomes-gcp-main-bucket: input location")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d.contains("fewgenomes-analysis-group-cache-members: input content")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d == "missing: gcp:storage/bucket:Bucket::common-gcp-main-bucket"),
        "{found:#?}"
    );
}

#[test]
fn features_matches_the_reference() {
    let fixes = assert_matches_reference("features", 1011);
    assert_eq!(fixes.len(), self::fixes().len(), "{fixes:?}");
}
