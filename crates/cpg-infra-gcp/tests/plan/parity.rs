//! The plan against the reference's recorded output: the same (type, name) set, the
//! same inputs, the same explicit `dependsOn`, and inputs that come from the same
//! resources' outputs.
//!
//! Values only known at deploy time are evaluated (`Value::evaluate`) with what the
//! reference's mock engine answered for the resources they come from, so inputs
//! built from outputs — bucket paths, storage TOMLs, members caches, member lists —
//! are compared too, byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use cpg_infra::graph::{Graph, Invoke, OutputRef, Resolver, Value as GraphValue};
use serde_json::{Value, json};

use super::support::{load, plan, reference, reference_dir};

/// The reference's Python dynamic providers and this project's tokens for them.
const DYNAMIC: [(&str, &str); 7] = [
    (
        "GoogleGroupMembershipProvider",
        "cpg:google:GroupMembership",
    ),
    ("GoogleGroupSettingsProvider", "cpg:google:GroupSettings"),
    ("HailBatchUserProvider", "cpg:hail:User"),
    ("HailBatchBillingProjectProvider", "cpg:hail:BillingProject"),
    (
        "HailBatchBillingProjectMembershipProvider",
        "cpg:hail:BillingProjectMembership",
    ),
    ("MetamistProjectProvider", "cpg:metamist:Project"),
    (
        "MetamistProjectMembersProvider",
        "cpg:metamist:ProjectMembers",
    ),
];

/// The reference's resources by `type::name`, with this project's type tokens.
struct Reference {
    resources: BTreeMap<String, Value>,
    /// `pulumi-python:dynamic:Resource::name` → this project's `type::name`.
    renamed: BTreeMap<String, String>,
    organization: BTreeMap<String, Value>,
}

impl Reference {
    fn new(recorded: &Value) -> Self {
        let mut resources = BTreeMap::new();
        let mut renamed = BTreeMap::new();
        for resource in recorded["resources"].as_array().expect("resources") {
            let name = resource["name"].as_str().expect("name");
            let recorded_type = resource["type"].as_str().expect("type");
            let type_token = match resource["dynamic_provider"].as_str() {
                Some(provider) => {
                    let class = provider.rsplit('.').next().unwrap_or(provider);
                    DYNAMIC
                        .iter()
                        .find(|(c, _)| *c == class)
                        .map(|(_, t)| *t)
                        .unwrap_or_else(|| panic!("unknown dynamic provider {provider}"))
                }
                None => recorded_type,
            };
            let id = format!("{type_token}::{name}");
            renamed.insert(format!("{recorded_type}::{name}"), id.clone());
            resources.insert(id, resource.clone());
        }
        // The reference's mocks answer getOrganization with this organisation.
        let organization = BTreeMap::from([
            ("orgId".to_owned(), json!("123456789012")),
            ("id".to_owned(), json!("organizations/123456789012")),
        ]);
        Reference {
            resources,
            renamed,
            organization,
        }
    }

    fn id(&self, recorded: &str) -> String {
        self.renamed
            .get(recorded)
            .cloned()
            .unwrap_or_else(|| recorded.to_owned())
    }

    /// What the mock engine answered for `property` of `resource`.
    fn output(&self, resource: &str, property: &str) -> Option<Value> {
        let recorded = self.resources.get(resource)?;
        if property == "id" {
            return Some(recorded["mock_id"].clone());
        }
        let mut merged = recorded["inputs"].as_object().cloned().unwrap_or_default();
        merged.extend(
            recorded["mock_outputs"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let mut value = Value::Object(merged);
        for part in property.split('.') {
            value = value.get(part)?.clone();
        }
        Some(value)
    }
}

/// A JSON value as a graph value.
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
        Value::Object(map) => {
            GraphValue::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

impl Resolver for Reference {
    fn output(&self, output: &OutputRef) -> Option<GraphValue> {
        Reference::output(self, &output.resource.to_string(), &output.property)
            .map(|v| from_json(&v))
    }

    fn invoke(&self, invoke: &Invoke) -> Option<GraphValue> {
        self.organization.get(&invoke.property).map(from_json)
    }
}

/// JSON values equal, numbers compared as numbers (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Every difference between the plan and the reference.
fn differences(recorded: &Value, graph: &Graph) -> Vec<String> {
    let reference = Reference::new(recorded);
    let ours: BTreeMap<String, &cpg_infra::graph::Resource> = graph
        .resources()
        .iter()
        .map(|r| (r.id.to_string(), r))
        .collect();
    let mut found = Vec::new();
    for id in reference
        .resources
        .keys()
        .filter(|id| !ours.contains_key(*id))
    {
        found.push(format!("missing: {id}"));
    }
    for id in ours
        .keys()
        .filter(|id| !reference.resources.contains_key(*id))
    {
        found.push(format!("extra: {id}"));
    }
    for (id, resource) in &ours {
        let Some(recorded) = reference.resources.get(id) else {
            continue;
        };
        let empty = serde_json::Map::new();
        let recorded_inputs = recorded["inputs"].as_object().unwrap_or(&empty);
        let names: BTreeSet<&String> = recorded_inputs
            .keys()
            .chain(resource.inputs.keys())
            .filter(|k| *k != "__provider")
            .collect();
        for name in names {
            match (recorded_inputs.get(name), resource.inputs.get(name)) {
                (Some(theirs), Some(mine)) => match mine.evaluate(&reference) {
                    Ok(mine) => {
                        let mine = mine.to_json();
                        if !same(theirs, &mine) {
                            found.push(format!(
                                "{id}: input {name}: reference {theirs}, plan {mine}"
                            ));
                        }
                    }
                    // The reference's mocks answered every output the plan uses.
                    Err(error) => {
                        found.push(format!("{id}: input {name}: cannot evaluate: {error}"))
                    }
                },
                (theirs, mine) => found.push(format!(
                    "{id}: input {name}: reference {theirs:?}, plan {mine:?}"
                )),
            }
        }
        let their_depends: BTreeSet<String> = recorded["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|d| reference.id(d))
            .collect();
        let our_depends: BTreeSet<String> = resource
            .options
            .depends_on
            .iter()
            .map(ToString::to_string)
            .collect();
        if their_depends != our_depends {
            found.push(format!(
                "{id}: dependsOn: reference {their_depends:?}, plan {our_depends:?}"
            ));
        }
        let their_sources: BTreeSet<String> = recorded["property_dependencies"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .flat_map(|v| v.as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .map(|d| reference.id(d))
            .collect();
        let our_sources: BTreeSet<String> = resource
            .inputs
            .values()
            .flat_map(GraphValue::dependencies)
            .map(|d| d.to_string())
            .collect();
        if their_sources != our_sources {
            found.push(format!(
                "{id}: inputs from outputs of: reference {their_sources:?}, plan {our_sources:?}"
            ));
        }
    }
    found
}

/// A deliberate difference from the reference (see the README's "Differences from
/// the reference"): which reported differences it accounts for.
struct Fix {
    what: &'static str,
    accounts_for: fn(&str) -> bool,
}

/// Every deliberate difference a reference config may show.
const FIXES: [Fix; 3] = [
    Fix {
        what: "metamist's current machine account joins main-list under a key of its own",
        accounts_for: |d| {
            d.starts_with("extra: cpg:google:GroupMembership::")
                && d.ends_with("-gcp-metamist-machine-account-in-main-list")
        },
    },
    Fix {
        what: "images-dev-reader gets the test group",
        accounts_for: |d| {
            d.starts_with("extra: cpg:google:GroupMembership::")
                && d.ends_with("-gcp-test-in-images-dev-reader-group-member")
        },
    },
    Fix {
        what: "main-read reads main-web",
        accounts_for: |d| {
            d.contains("-gcp-main-read-main-web-bucket-viewer: input role: reference \"organizations/123456789012/roles/StorageViewerAndCreator\", plan \"organizations/123456789012/roles/StorageObjectAndBucketViewer\"")
        },
    },
];

/// Plans reference config `name` and checks every difference is a documented fix;
/// returns which fixes showed.
fn assert_matches_reference(name: &str, resources: usize) -> Vec<&'static str> {
    let recorded = reference(name);
    let graph = plan(load(&reference_dir().join(name)));
    let planned = graph.to_plan_json();
    let found = differences(&recorded, &graph);
    let unexplained: Vec<&String> = found
        .iter()
        .filter(|d| !FIXES.iter().any(|fix| (fix.accounts_for)(d)))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences:\n{}",
        unexplained.len(),
        unexplained
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let extra = found.iter().filter(|d| d.starts_with("extra: ")).count();
    assert_eq!(
        graph.len() - extra,
        resources,
        "the reference's resources, each once"
    );
    assert_eq!(recorded["resource_count"].as_u64(), Some(resources as u64));

    // The stack's exports match too.
    let exports = planned["exports"].as_object().expect("exports");
    let reference = Reference::new(&recorded);
    let recorded_exports = recorded["exports"].as_object().expect("exports");
    for (name, value) in recorded_exports {
        let mine = graph
            .exports()
            .get(name)
            .map(|v| v.evaluate(&reference).map(|v| v.to_json()));
        assert_eq!(mine, Some(Ok(value.clone())), "export {name}");
    }
    assert_eq!(exports.len(), recorded_exports.len());

    FIXES
        .iter()
        .filter(|fix| found.iter().any(|d| (fix.accounts_for)(d)))
        .map(|fix| fix.what)
        .collect()
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
        FIXES.len(),
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
    assert_eq!(fixes.len(), FIXES.len(), "{fixes:?}");
}
