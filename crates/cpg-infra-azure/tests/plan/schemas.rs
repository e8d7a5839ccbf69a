//! Every config the suite knows, planned and held against the pinned provider
//! schemas: each type token exists in its provider, each input (nested ones too,
//! where known) is an input of its resource, each required input is there, and each
//! invoke's token and arguments exist.

use std::path::Path;

use cpg_infra::config::load_dir;
use cpg_infra::graph::{Graph, Resource, Value as GraphValue};
use cpg_infra_provider_schemas::{Report, Schemas};
use serde_json::Value;

use super::support::{load, plan, reference, reference_dir};

fn schemas() -> Schemas {
    Schemas::pinned().unwrap_or_else(|e| panic!("{e}"))
}

/// Checks `graph`, printing what was and was not checked; returns the report.
fn check(what: &str, schemas: &Schemas, graph: &Graph) -> Report {
    let report = schemas.check(graph);
    eprintln!("{what}:\n{report}");
    assert!(report.is_clean(), "{what}:\n{report}");
    assert!(
        report.checked.get("gcp").is_some_and(|n| *n > 100),
        "{what}: {report}"
    );
    // `cpg:` resources are checked against this project's provider schema.
    assert!(!schemas.unchecked().contains_key("cpg"), "{what}");
    assert!(report.checked.contains_key("cpg"), "{what}");
    report
}

#[test]
fn the_example_plan_holds_against_the_provider_schemas() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config");
    let report = check("example", &schemas(), &plan(load(&dir)));
    // getOrganization, for the custom roles' names.
    assert!(report.invokes_checked > 0);
}

#[test]
fn reference_config_plans_hold_against_the_provider_schemas() {
    let schemas = schemas();
    let mut planned = Vec::new();
    for entry in std::fs::read_dir(reference_dir()).expect("reference directory") {
        let path = entry.expect("entry").path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let config = load_dir(&path).unwrap_or_else(|invalid| panic!("{name}: {invalid}"));
        if !config.infrastructure.plugins_enabled.is_empty() {
            // Planned with its plugin libraries, and checked, by the plugin API's
            // parity test.
            eprintln!("{name}: planned with plugins elsewhere");
            continue;
        }
        check(&name, &schemas, &plan(config));
        planned.push(name);
    }
    planned.sort();
    for needed in ["azure-common", "features", "small", "storage-only"] {
        assert!(
            planned.iter().any(|p| p == needed),
            "{needed} in {planned:?}"
        );
    }
}

#[test]
fn synthetic_config_plans_hold_against_the_provider_schemas() {
    let schemas = schemas();
    use cpg_infra::synthetic::{Features, synthetic_config_with};
    for (datasets, seed, features) in [
        (1, 1, Features::default()),
        (30, 3, Features::default()),
        (12, 2, Features::all()),
    ] {
        let config = synthetic_config_with(datasets, seed, features);
        let what = format!("synthetic {datasets} datasets, seed {seed}, {features:?}");
        check(&what, &schemas, &plan(config));
    }
}

/// A recorded JSON value as a graph value (`{"$secret": v}` as a secret).
fn from_json(value: &Value) -> GraphValue {
    match value {
        Value::Null => GraphValue::Null,
        Value::Bool(b) => GraphValue::Bool(*b),
        Value::Number(n) => n.as_i64().map_or_else(
            || GraphValue::Float(n.as_f64().unwrap_or_default()),
            GraphValue::Int,
        ),
        Value::String(s) => GraphValue::String(s.clone()),
        Value::Array(items) => GraphValue::List(items.iter().map(from_json).collect()),
        Value::Object(map) if map.len() == 1 && map.contains_key("$secret") => {
            from_json(&map["$secret"]).secret()
        }
        Value::Object(map) => {
            GraphValue::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

#[test]
fn reference_recordings_hold_against_the_provider_schemas() {
    // What the reference registered, under the same pinned providers, passes the
    // same check: the extracted schemas are right, for Azure too.
    let schemas = schemas();
    let mut recordings = 0;
    for entry in std::fs::read_dir(reference_dir()).expect("reference directory") {
        let path = entry.expect("entry").path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".reference.json"))
        else {
            continue;
        };
        let recorded = reference(name);
        let mut graph = Graph::new();
        for resource in recorded["resources"].as_array().expect("resources") {
            let token = resource["type"].as_str().expect("type");
            if token.starts_with("pulumi-python:dynamic:") {
                continue;
            }
            let mut declared = Resource::new(token, resource["name"].as_str().expect("name"));
            for (key, value) in resource["inputs"].as_object().into_iter().flatten() {
                if key != "__provider" {
                    declared.inputs.insert(key.clone(), from_json(value));
                }
            }
            graph
                .declare(declared)
                .expect("each recorded resource once");
        }
        let report = schemas.check(&graph);
        eprintln!("{name} as recorded:\n{report}");
        assert!(report.is_clean(), "{name} as recorded:\n{report}");
        for invoke in recorded["invokes"].as_array().into_iter().flatten() {
            let token = invoke["token"].as_str().expect("token");
            let provider = schemas
                .provider(token.split(':').next().unwrap_or_default())
                .expect("a schema for the invoke's package");
            let args = provider
                .invokes
                .get(token)
                .unwrap_or_else(|| panic!("{name}: invoke {token} is not in the schema"));
            for arg in invoke["args"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                assert!(args.contains_key(arg), "{name}: {token}: argument {arg}");
            }
        }
        recordings += 1;
    }
    assert!(recordings >= 5, "{recordings} recordings");
}
