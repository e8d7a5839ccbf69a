//! The plan against the reference's recorded output: the same (type, name) set, the
//! same inputs, the same explicit `dependsOn`, and inputs that come from the same
//! resources' outputs.
//!
//! Values only known at deploy time (`$output`, `$invoke`, `$concat`) are evaluated
//! with what the reference's mock engine answered for those resources, so inputs
//! built from outputs are compared too. Values this project computes at deploy time
//! that the reference computed in Python (`$toml`, `$json`, `$lines`, …) are
//! treated as unknown.

use std::collections::{BTreeMap, BTreeSet};

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

    /// A plan value with deploy-time references evaluated; `None` when unknown.
    fn evaluate(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Object(map) if map.len() == 1 && map.keys().all(|k| k.starts_with('$')) => {
                let (key, inner) = map.iter().next()?;
                match key.as_str() {
                    "$secret" => Some(json!({ "$secret": self.evaluate(inner)? })),
                    "$output" => {
                        self.output(inner["resource"].as_str()?, inner["property"].as_str()?)
                    }
                    "$invoke" => self.organization.get(inner["property"].as_str()?).cloned(),
                    "$concat" => {
                        let mut text = String::new();
                        for part in inner.as_array()? {
                            match self.evaluate(part)? {
                                Value::String(s) => text.push_str(&s),
                                other => text.push_str(&other.to_string()),
                            }
                        }
                        Some(Value::String(text))
                    }
                    _ => None,
                }
            }
            Value::Object(map) => Some(Value::Object(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), self.evaluate(v)?)))
                    .collect::<Option<_>>()?,
            )),
            Value::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .map(|v| self.evaluate(v))
                    .collect::<Option<_>>()?,
            )),
            other => Some(other.clone()),
        }
    }
}

/// Resources a plan value takes outputs from.
fn output_dependencies(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(output) = map.get("$output").filter(|_| map.len() == 1)
                && let Some(resource) = output["resource"].as_str()
            {
                found.insert(resource.to_owned());
            }
            map.values().for_each(|v| output_dependencies(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| output_dependencies(v, found)),
        _ => {}
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
fn differences(recorded: &Value, planned: &Value) -> Vec<String> {
    let reference = Reference::new(recorded);
    let ours: BTreeMap<String, &Value> = planned["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                format!(
                    "{}::{}",
                    r["type"].as_str().unwrap_or_default(),
                    r["name"].as_str().unwrap_or_default()
                ),
                r,
            )
        })
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
        let our_inputs = resource["inputs"].as_object().unwrap_or(&empty);
        let names: BTreeSet<&String> = recorded_inputs
            .keys()
            .chain(our_inputs.keys())
            .filter(|k| *k != "__provider")
            .collect();
        for name in names {
            match (recorded_inputs.get(name), our_inputs.get(name)) {
                (Some(theirs), Some(mine)) => {
                    if let Some(mine) = reference.evaluate(mine)
                        && !same(theirs, &mine)
                    {
                        found.push(format!(
                            "{id}: input {name}: reference {theirs}, plan {mine}"
                        ));
                    }
                }
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
        let our_depends: BTreeSet<String> = resource["options"]["dependsOn"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
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
        let mut our_sources = BTreeSet::new();
        output_dependencies(&resource["inputs"], &mut our_sources);
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
    let found = differences(&recorded, &planned);
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
        let mine = exports.get(name).and_then(|v| reference.evaluate(v));
        assert_eq!(mine.as_ref(), Some(value), "export {name}");
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
    let mut planned = plan(load(&reference_dir().join("storage-only"))).to_plan_json();
    let resources = planned["resources"].as_array_mut().expect("resources");
    let bucket = resources
        .iter_mut()
        .find(|r| r["name"] == "fewgenomes-gcp-main-bucket")
        .expect("bucket");
    bucket["inputs"]["location"] = json!("us-central1");
    resources.retain(|r| r["name"] != "common-gcp-main-bucket");
    let found = differences(&recorded, &planned);
    assert!(
        found
            .iter()
            .any(|d| d.contains("fewgenomes-gcp-main-bucket: input location")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|d| d == "missing: gcp:storage/bucket:Bucket::common-gcp-main-bucket"),
        "{found:#?}"
    );
}
