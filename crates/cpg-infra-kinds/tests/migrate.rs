//! `migrate::migrate` on a stack export built from the reference's recorded small stack,
//! checked against the plan of the same config.

use std::collections::{BTreeMap, BTreeSet};

use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::{Invoke, OutputRef, Resolver, Value as GraphValue};
use cpg_infra_gcp::GcpProvider;
use cpg_infra_kinds::GROUP_MEMBERSHIP;
use cpg_infra_kinds::export::DuplicateUrn;
use cpg_infra_kinds::migrate::{DYNAMIC_TYPE, MigrateError, PROVIDER_TYPE, migrate};
use cpg_infra_reference::{from_json, reference_dir, same, stack_export};
use serde_json::{Map, Value, json};

fn export_of_small() -> Value {
    stack_export("small")
}

/// A rewritten state as the plan's resolver: outputs and ids by `type::name`.
struct State(BTreeMap<String, (Value, Value)>);

impl State {
    fn new(document: &Value) -> Self {
        let mut by_id = BTreeMap::new();
        for r in document["deployment"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let urn = r["urn"].as_str().unwrap_or("");
            let parts: Vec<&str> = urn.splitn(4, "::").collect();
            if let [_, _, qualified, name] = parts.as_slice() {
                let ty = qualified.rsplit('$').next().unwrap_or(qualified);
                by_id.insert(
                    format!("{ty}::{name}"),
                    (r["id"].clone(), r["outputs"].clone()),
                );
            }
        }
        State(by_id)
    }
}

impl Resolver for State {
    fn output(&self, output: &OutputRef) -> Option<GraphValue> {
        let (id, outputs) = self.0.get(&output.resource.to_string())?;
        if output.property == "id" {
            return Some(from_json(id));
        }
        let mut value = outputs.clone();
        for part in output.property.split('.') {
            value = value.get(part)?.clone();
        }
        Some(from_json(&value))
    }

    fn invoke(&self, invoke: &Invoke) -> Option<GraphValue> {
        // The reference's mocks answered getOrganization with this organisation.
        match invoke.property.as_str() {
            "orgId" => Some(GraphValue::String("123456789012".into())),
            "id" => Some(GraphValue::String("organizations/123456789012".into())),
            _ => None,
        }
    }
}

#[test]
fn every_planned_cpg_resource_is_in_the_migrated_state_with_equal_inputs() {
    let export = export_of_small();
    let migration = migrate(&export, "0.1.0").expect("migrate");
    let doc = &migration.document;
    let resources = doc["deployment"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(resources.iter().all(|r| r["type"] != json!(DYNAMIC_TYPE)));
    assert!(migration.provider_added);
    assert_eq!(migration.moved.len(), 448);
    assert!(migration.moved.iter().all(|m| m.told_by == "__provider"));

    let config = load_dir(reference_dir().join("small")).expect("valid config");
    let graph = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .expect("plan");
    let state = State::new(doc);
    let by_urn: BTreeMap<&str, &Value> = resources
        .iter()
        .map(|r| (r["urn"].as_str().unwrap_or(""), r))
        .collect();
    // Memberships this project adds on purpose (`docs/differences.md`): the only
    // creates a preview should show.
    const ADDED_ON_PURPOSE: [&str; 2] = [
        "-test-in-images-dev-reader-group-member",
        "-metamist-machine-account-in-main-list",
    ];
    let mut checked = 0;
    let mut created = 0;
    let mut planned_urns = BTreeSet::new();
    let mut problems = Vec::new();
    for resource in graph
        .resources()
        .iter()
        .filter(|r| r.id.type_token.starts_with("cpg:"))
    {
        let urn = format!(
            "urn:pulumi:test::cpg::{}::{}",
            resource.id.type_token, resource.id.name
        );
        planned_urns.insert(urn.clone());
        let Some(found) = by_urn.get(urn.as_str()) else {
            let on_purpose = &*resource.id.type_token == GROUP_MEMBERSHIP
                && ADDED_ON_PURPOSE
                    .iter()
                    .any(|s| resource.id.name.ends_with(s));
            if on_purpose {
                created += 1;
            } else {
                problems.push(format!("missing: {urn}"));
            }
            continue;
        };
        assert_eq!(
            found["provider"]
                .as_str()
                .map(|p| p.starts_with(&migration.provider_urn)),
            Some(true)
        );
        let mut planned = Map::new();
        for (name, value) in &resource.inputs {
            match value.evaluate(&state) {
                Ok(v) => {
                    planned.insert(name.clone(), v.to_json());
                }
                Err(e) => problems.push(format!("{urn}: {name}: {e}")),
            }
        }
        if !same(&Value::Object(planned.clone()), &found["inputs"]) {
            problems.push(format!(
                "{urn}: plan {} state {}",
                Value::Object(planned),
                found["inputs"]
            ));
        }
        checked += 1;
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(checked, migration.moved.len());
    assert_eq!(created, 5);
    // No delete either: every moved resource is planned.
    let unplanned: Vec<&str> = migration
        .moved
        .iter()
        .map(|m| m.new_urn.as_str())
        .filter(|u| !planned_urns.contains(*u))
        .collect();
    assert!(unplanned.is_empty(), "{unplanned:#?}");

    // The provider comes before its first user, and is used by every moved resource.
    let position = |urn: &str| resources.iter().position(|r| r["urn"] == json!(urn));
    let provider_at = position(&migration.provider_urn).expect("provider added");
    assert_eq!(resources[provider_at]["type"], json!(PROVIDER_TYPE));
    let first_user = migration
        .moved
        .iter()
        .filter_map(|m| position(&m.new_urn))
        .min()
        .expect("users");
    assert!(provider_at < first_user);
}

#[test]
fn references_follow_the_new_urns_and_nothing_else_changes() {
    let export = export_of_small();
    let migration = migrate(&export, "0.1.0").expect("migrate");
    let before = export["deployment"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let after = migration.document["deployment"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(after.len(), before.len() + 1);
    let member = after
        .iter()
        .find(|r| {
            r["urn"]
                .as_str()
                .is_some_and(|u| u.ends_with("::common-gcp-batch-billing-member-A-0876a903"))
        })
        .expect("membership");
    assert_eq!(member["type"], json!("cpg:hail:BillingProjectMembership"));
    assert_eq!(
        member["propertyDependencies"]["billing_project"],
        json!(["urn:pulumi:test::cpg::cpg:hail:BillingProject::common-gcp-batch-billing-project"])
    );
    assert!(member["inputs"].get("__provider").is_none());
    assert!(member["outputs"].get("__provider").is_none());
    // A resource that only depends on moved ones has just its references rewritten.
    let members = after
        .iter()
        .find(|r| {
            r["urn"].as_str().is_some_and(|u| {
                u.ends_with("cpg:metamist:ProjectMembers::common-metamist-members")
            })
        })
        .expect("members");
    assert!(
        members["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|d| !d.as_str().unwrap_or("").contains(DYNAMIC_TYPE))
    );
    assert!(migration.references_rewritten > 0);
    // Every resource that was not dynamic and referred to none is byte for byte the same.
    let moved: BTreeSet<&str> = migration.moved.iter().map(|m| m.old_urn.as_str()).collect();
    let untouched = before.iter().filter(|r| {
        let refers = serde_json::to_string(r)
            .unwrap_or_default()
            .contains(DYNAMIC_TYPE);
        !refers && !moved.contains(r["urn"].as_str().unwrap_or(""))
    });
    for r in untouched {
        assert!(after.contains(r), "changed: {}", r["urn"]);
    }
    // Migrating again changes nothing more.
    let again = migrate(&migration.document, "0.1.0").expect("idempotent");
    assert!(again.moved.is_empty());
    assert_eq!(again.document, migration.document);
}

#[test]
fn without_a_readable_provider_the_inputs_tell_the_kind() {
    let mut export = export_of_small();
    for r in export["deployment"]["resources"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        if let Some(inputs) = r["inputs"].as_object_mut()
            && inputs.contains_key("__provider")
        {
            inputs.insert("__provider".into(), json!("unreadable"));
        }
    }
    let migration = migrate(&export, "0.1.0").expect("migrate");
    assert_eq!(migration.moved.len(), 448);
    assert!(migration.moved.iter().all(|m| m.told_by == "inputs"));
}

#[test]
fn documents_it_does_not_understand_are_refused() {
    assert!(matches!(
        migrate(&json!({"version": 2, "deployment": {}}), "0.1.0"),
        Err(MigrateError::NotAnExport { path, .. }) if path == "/version"
    ));
    assert!(matches!(
        migrate(&json!({"resources": []}), "0.1.0"),
        Err(MigrateError::NotAnExport { .. })
    ));
    let pending = json!({"version": 3, "deployment": {"resources": [], "pending_operations": [{"type": "creating"}]}});
    assert_eq!(
        migrate(&pending, "0.1.0"),
        Err(MigrateError::PendingOperations(1))
    );
    let odd = json!({"version": 3, "deployment": {"resources": [{
        "urn": "urn:pulumi:s::p::pulumi-python:dynamic:Resource::x",
        "type": DYNAMIC_TYPE,
        "inputs": {"__provider": "?", "colour": "blue"},
    }]}});
    let err = migrate(&odd, "0.1.0").expect_err("unknown kind");
    assert!(err.to_string().contains("colour"), "{err}");
}

/// A one-resource export of a Hail user named `name`, as the reference recorded it.
fn hail_user(name: &str) -> Value {
    json!({
        "urn": format!("urn:pulumi:s::p::{DYNAMIC_TYPE}::{name}"),
        "type": DYNAMIC_TYPE,
        "id": name,
        "inputs": {"username": name, "batch_uri": "https://b", "token_category": "gcp"},
    })
}

#[test]
fn an_export_holding_a_urn_twice_is_refused_naming_it() {
    let export = json!({"version": 3, "deployment": {"resources": [
        hail_user("a"), hail_user("b"), hail_user("a"),
    ]}});
    let err = migrate(&export, "0.1.0").expect_err("duplicate URN");
    let urn = format!("urn:pulumi:s::p::{DYNAMIC_TYPE}::a");
    assert_eq!(
        err,
        MigrateError::DuplicateUrn(DuplicateUrn {
            urn: urn.clone(),
            first: 0,
            second: 2
        })
    );
    assert!(err.to_string().contains(&urn), "{err}");
}

#[test]
fn a_rename_onto_a_urn_the_export_holds_is_refused_naming_both() {
    let mut adopted = hail_user("a");
    adopted["urn"] = json!("urn:pulumi:s::p::cpg:hail:User::a");
    adopted["type"] = json!("cpg:hail:User");
    let export = json!({"version": 3, "deployment": {"resources": [hail_user("a"), adopted]}});
    let err = migrate(&export, "0.1.0").expect_err("collision");
    assert_eq!(
        err,
        MigrateError::RenameCollision {
            urn: format!("urn:pulumi:s::p::{DYNAMIC_TYPE}::a"),
            new_urn: "urn:pulumi:s::p::cpg:hail:User::a".into(),
        }
    );
    let text = err.to_string();
    assert!(text.contains("cpg:hail:User::a"), "{text}");
    assert!(text.contains(DYNAMIC_TYPE), "{text}");
}

#[test]
fn two_renames_onto_one_urn_are_refused() {
    // Two URNs that differ only in the type segment the migration replaces.
    let mut other = hail_user("a");
    other["urn"] = json!("urn:pulumi:s::p::pulumi-python:dynamic:Other::a");
    let export = json!({"version": 3, "deployment": {"resources": [hail_user("a"), other]}});
    assert!(matches!(
        migrate(&export, "0.1.0"),
        Err(MigrateError::RenameCollision { urn, new_urn })
            if urn == "urn:pulumi:s::p::pulumi-python:dynamic:Other::a"
                && new_urn == "urn:pulumi:s::p::cpg:hail:User::a"
    ));
}
