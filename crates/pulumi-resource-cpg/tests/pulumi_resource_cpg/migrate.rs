//! A migrated state read back through the provider.

use cpg_infra_kinds::migrate::migrate;
use cpg_infra_kinds::{GROUP_MEMBERSHIP, GROUP_SETTINGS, METAMIST_PROJECT};
use cpg_infra_reference::{same, stack_export};
use serde_json::{Value, json};

/// The migrated state read back through the provider, against fakes holding what the
/// state records: every membership, settings and metamist project reads back unchanged.
/// (Hail resources name their service's URL in their inputs, so they cannot be pointed
/// at a fake here.)
#[tokio::test]
async fn a_migrated_state_reads_back_unchanged() {
    use super::harness::{Created, Harness};

    let migration = migrate(&stack_export("small"), "0.1.0").expect("migrate");
    let resources = migration.document["deployment"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let of_type = |token: &str| -> Vec<Value> {
        resources
            .iter()
            .filter(|r| r["type"] == json!(token))
            .cloned()
            .collect()
    };
    let mut h = Harness::start().await;
    let memberships = of_type(GROUP_MEMBERSHIP);
    for m in &memberships {
        let name = m["id"].as_str().unwrap_or("");
        assert!(h.ci.add_named_member(name, m["outputs"]["member_key"].as_str().unwrap_or("")));
    }
    let settings = of_type(GROUP_SETTINGS);
    for s in &settings {
        let email = s["inputs"]["group_email"].as_str().unwrap_or("");
        h.gs.add_group(email);
        for (k, v) in s["inputs"]["settings"].as_object().into_iter().flatten() {
            h.gs.set(email, k, v.as_str().unwrap_or(""));
        }
    }
    let projects = of_type(METAMIST_PROJECT);
    for p in &projects {
        let name = p["inputs"]["project_name"].as_str().unwrap_or("");
        h.metamist
            .add_project_with_id(name, p["outputs"]["project_id"].as_i64().unwrap_or(-1));
    }
    let mut read_back = 0;
    for r in memberships.iter().chain(&settings).chain(&projects) {
        let created = Created {
            urn: r["urn"].as_str().unwrap_or("").into(),
            id: r["id"].as_str().unwrap_or("").into(),
            outputs: r["outputs"].clone(),
            inputs: r["inputs"].clone(),
        };
        let (id, outputs, _) = h.read(&created).await.expect("read").expect("present");
        assert_eq!(id, created.id, "{}", created.urn);
        assert!(
            same(&outputs, &created.outputs),
            "{}: {outputs} != {}",
            created.urn,
            created.outputs
        );
        read_back += 1;
    }
    assert_eq!(read_back, 329 + 83 + 5);
}
