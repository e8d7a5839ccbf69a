//! The reference's recordings, read and compared.
//!
//! `<name>.reference.json` beside each sample config records what the reference
//! declared for it and what its mock engine answered. The repository holds them in
//! `testdata/reference`; [`VARIABLE`] points the tests elsewhere (see
//! `cpg-infra-testdata`, re-exported here). This crate reads those recordings
//! ([`reference_dir`], [`read`]), answers the plan's deploy-time
//! values from the mock outputs ([`Reference`], a [`Resolver`]), and compares a plan
//! with a recording ([`differences`], [`assert_matches`]) allowing only the
//! deliberate differences a caller names ([`Fix`]). It is for tests: it panics with
//! the file and the reason when a recording cannot be read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cpg_infra::config::{Config, load_dir};
use cpg_infra::graph::{
    Alias, AliasParent, Graph, Invoke, OutputRef, Resolver, Value as GraphValue,
};
use cpg_infra_gcp::tokens;
use cpg_infra_kinds::schema::Kind;
use serde_json::{Value, json};

mod export;

pub use cpg_infra_testdata::{
    VARIABLE, copy_differences, read, read_from, reference_dir, repository_dir, shared_dir,
};
pub use export::{pickle, stack_export};

/// Loads a config directory, which must be valid.
///
/// # Panics
///
/// When the directory does not exist (naming it and [`VARIABLE`]), or the config is
/// invalid, with every diagnostic.
pub fn load(dir: &Path) -> Config {
    assert!(
        dir.is_dir(),
        "no config directory at {} ({VARIABLE} names the directory of the reference's configs and recordings)",
        dir.display()
    );
    load_dir(dir).unwrap_or_else(|invalid| {
        let shown: Vec<String> = invalid
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        panic!("{} is invalid: {shown:#?}", dir.display())
    })
}

/// This project's type token for a recorded resource: the recorded type, or for a
/// Python dynamic resource the `cpg:` token of its provider class.
///
/// # Panics
///
/// On a dynamic provider this project has no token for, or a resource without a
/// type.
pub fn type_token(resource: &Value) -> &str {
    let recorded_type = resource["type"]
        .as_str()
        .expect("a recorded resource has a type");
    match resource["dynamic_provider"].as_str() {
        Some(provider) => {
            let class = provider.rsplit('.').next().unwrap_or(provider);
            Kind::from_reference_class(class)
                .map(|kind| kind.spec().token)
                .unwrap_or_else(|| panic!("unknown dynamic provider {provider}"))
        }
        None => recorded_type,
    }
}

/// A recording's resources by this project's `type::name`, answering deploy-time
/// values with what the reference's mock engine answered.
#[derive(Debug, Clone)]
pub struct Reference {
    resources: BTreeMap<String, Value>,
    /// Recorded `type::name` → this project's `type::name`.
    renamed: BTreeMap<String, String>,
    organization: BTreeMap<String, Value>,
}

impl Reference {
    /// Indexes a recording (`{"resources": [...]}`).
    ///
    /// # Panics
    ///
    /// When the recording has no resource list or a resource has no name or type.
    pub fn new(recorded: &Value) -> Self {
        let mut resources = BTreeMap::new();
        let mut renamed = BTreeMap::new();
        for resource in recorded["resources"].as_array().expect("resources") {
            let name = resource["name"].as_str().expect("name");
            let recorded_type = resource["type"].as_str().expect("type");
            let id = format!("{}::{name}", type_token(resource));
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

    /// The recorded resources by this project's `type::name`.
    pub fn resources(&self) -> &BTreeMap<String, Value> {
        &self.resources
    }

    /// This project's `type::name` for a recorded `type::name` (unchanged but for
    /// dynamic resources).
    pub fn id(&self, recorded: &str) -> String {
        self.renamed
            .get(recorded)
            .cloned()
            .unwrap_or_else(|| recorded.to_owned())
    }

    /// What the mock engine answered for `property` (dotted for nested values) of
    /// `resource` (this project's `type::name`): its recorded inputs overlaid with
    /// its mock outputs; `id` is the mock id.
    pub fn output(&self, resource: &str, property: &str) -> Option<Value> {
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
pub fn from_json(value: &Value) -> GraphValue {
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

    /// What the reference's mocks answered for the data sources the plan reads: the
    /// organisation, the project number (it is in every recorded Pub/Sub and
    /// serverless-robot member), a secret version as
    /// `mock-secret-value:<project>/<secret>`, and a policy lookup as the bindings
    /// asked for, compact JSON with sorted keys.
    fn invoke(&self, invoke: &Invoke) -> Option<GraphValue> {
        match (invoke.token.as_str(), invoke.property.as_str()) {
            (tokens::GET_ORGANIZATION, property) => self.organization.get(property).map(from_json),
            (tokens::GET_SECRET_VERSION_ACCESS, "secretData") => {
                let project = invoke.args.get("project")?.as_str()?;
                let secret = invoke.args.get("secret")?.as_str()?;
                Some(GraphValue::from(format!(
                    "mock-secret-value:{project}/{secret}"
                )))
            }
            (tokens::GET_PROJECT, "number") => Some(GraphValue::from("824648759774")),
            (tokens::GET_IAM_POLICY, "policyData") => {
                let bindings = invoke.args.get("bindings")?.evaluate(self).ok()?;
                let text = json!({ "bindings": bindings.to_json() }).to_string();
                Some(GraphValue::from(text))
            }
            _ => None,
        }
    }
}

/// JSON values equal, numbers compared as numbers (`1` equals `1.0`).
pub fn same(a: &Value, b: &Value) -> bool {
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

/// Every difference between a plan and a recording, one line each: `missing: id`,
/// `extra: id`, and per resource in both its inputs (evaluated against the mock
/// outputs), its explicit `dependsOn`, the resources its inputs come from, and for
/// Azure resources its SDK type aliases.
pub fn differences(recorded: &Value, graph: &Graph) -> Vec<String> {
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
        compare_inputs(&reference, id, recorded, resource, &mut found);
        compare_dependencies(&reference, id, recorded, resource, &mut found);
        if id.starts_with("azure") {
            compare_aliases(id, recorded, resource, &mut found);
        }
    }
    found
}

fn compare_inputs(
    reference: &Reference,
    id: &str,
    recorded: &Value,
    resource: &cpg_infra::graph::Resource,
    found: &mut Vec<String>,
) {
    let empty = serde_json::Map::new();
    let recorded_inputs = recorded["inputs"].as_object().unwrap_or(&empty);
    let names: BTreeSet<&String> = recorded_inputs
        .keys()
        .chain(resource.inputs.keys())
        .filter(|k| *k != "__provider")
        .collect();
    for name in names {
        match (recorded_inputs.get(name), resource.inputs.get(name)) {
            (Some(theirs), Some(mine)) => match mine.evaluate(reference) {
                Ok(mine) => {
                    let mine = mine.to_json();
                    if !same(theirs, &mine) {
                        found.push(format!(
                            "{id}: input {name}: reference {theirs}, plan {mine}"
                        ));
                    }
                }
                // The reference's mocks answered every output the plan uses.
                Err(error) => found.push(format!("{id}: input {name}: cannot evaluate: {error}")),
            },
            (theirs, mine) => found.push(format!(
                "{id}: input {name}: reference {theirs:?}, plan {mine:?}"
            )),
        }
    }
}

fn compare_dependencies(
    reference: &Reference,
    id: &str,
    recorded: &Value,
    resource: &cpg_infra::graph::Resource,
    found: &mut Vec<String>,
) {
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

fn compare_aliases(
    id: &str,
    recorded: &Value,
    resource: &cpg_infra::graph::Resource,
    found: &mut Vec<String>,
) {
    let their_aliases: Vec<&Value> = recorded["options"]["aliases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| &a["spec"])
        .collect();
    let our_aliases: Vec<Value> = resource.options.aliases.iter().map(alias_spec).collect();
    if their_aliases.iter().copied().ne(our_aliases.iter()) {
        found.push(format!(
            "{id}: aliases: reference {their_aliases:?}, plan {our_aliases:?}"
        ));
    }
}

/// An alias as the recordings write the spec Pulumi's Python SDK sends (protobuf's
/// JSON form: empty strings left out, the parent oneof always set): `parentUrn: ""`
/// for a parent inherited from the resource, `noParent: true` for none.
///
/// ```
/// use cpg_infra::graph::{Alias, AliasParent};
///
/// let alias = Alias { type_token: Some("t:m:Old".into()), ..Alias::default() };
/// assert_eq!(
///     cpg_infra_reference::alias_spec(&alias),
///     serde_json::json!({"type": "t:m:Old", "parentUrn": ""})
/// );
/// let alias = Alias { parent: AliasParent::NoParent, ..alias };
/// assert_eq!(
///     cpg_infra_reference::alias_spec(&alias),
///     serde_json::json!({"type": "t:m:Old", "noParent": true})
/// );
/// ```
pub fn alias_spec(alias: &Alias) -> Value {
    let mut spec = serde_json::Map::new();
    if let Some(name) = &alias.name {
        spec.insert("name".into(), name.as_str().into());
    }
    if let Some(type_token) = &alias.type_token {
        spec.insert("type".into(), type_token.as_str().into());
    }
    match alias.parent {
        AliasParent::Inherit => spec.insert("parentUrn".into(), "".into()),
        AliasParent::NoParent => spec.insert("noParent".into(), true.into()),
    };
    Value::Object(spec)
}

/// A deliberate difference from the reference (see the README's "Differences from
/// the reference"): which reported differences it accounts for.
#[derive(Debug, Clone, Copy)]
pub struct Fix {
    /// What the fix is, as the tests name it.
    pub what: &'static str,
    /// Whether a line of [`differences`] is this fix showing.
    pub accounts_for: fn(&str) -> bool,
}

/// The deliberate differences of the GCP plan from the reference (see the README's
/// "Differences from the reference"), for the parity tests to allow and assert.
pub const GCP_FIXES: [Fix; 3] = [
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

/// Checks a plan against a recording: every difference must be one of `fixes`, the
/// plan must hold each of the recording's `resources` resources once (beside the
/// fixes' extras), and the stack's exports must match. Returns which fixes showed,
/// in the order of `fixes`.
///
/// # Panics
///
/// On an unexplained difference, a resource count that differs, or an export that
/// differs: the assertion failures of the parity tests.
pub fn assert_matches(
    recorded: &Value,
    graph: &Graph,
    resources: usize,
    fixes: &[Fix],
) -> Vec<&'static str> {
    let found = differences(recorded, graph);
    let unexplained: Vec<&str> = found
        .iter()
        .map(String::as_str)
        .filter(|d| !fixes.iter().any(|fix| (fix.accounts_for)(d)))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    let extra = found.iter().filter(|d| d.starts_with("extra: ")).count();
    assert_eq!(
        graph.len() - extra,
        resources,
        "the reference's resources, each once"
    );
    assert_eq!(recorded["resource_count"].as_u64(), Some(resources as u64));

    // The stack's exports match too.
    let planned = graph.to_plan_json();
    let exports = planned["exports"].as_object().expect("exports");
    let reference = Reference::new(recorded);
    let recorded_exports = recorded["exports"].as_object().expect("exports");
    for (name, value) in recorded_exports {
        let mine = graph
            .exports()
            .get(name)
            .map(|v| v.evaluate(&reference).map(|v| v.to_json()));
        assert_eq!(mine, Some(Ok(value.clone())), "export {name}");
    }
    assert_eq!(exports.len(), recorded_exports.len());

    fixes
        .iter()
        .filter(|fix| found.iter().any(|d| (fix.accounts_for)(d)))
        .map(|fix| fix.what)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording() -> Value {
        json!({
            "resources": [
                {
                    "type": "gcp:storage/bucket:Bucket",
                    "name": "main",
                    "mock_id": "main-id",
                    "inputs": {"location": "australia-southeast1", "labels": {"a": "b"}},
                    "mock_outputs": {"url": "gs://main"}
                },
                {
                    "type": "pulumi-python:dynamic:Resource",
                    "name": "members",
                    "dynamic_provider": "cpg_infra.plugin.MetamistProjectMembersProvider",
                    "inputs": {},
                    "depends_on": ["gcp:storage/bucket:Bucket::main"]
                }
            ],
            "resource_count": 2,
            "exports": {}
        })
    }

    #[test]
    fn dynamic_resources_take_this_projects_tokens() {
        let reference = Reference::new(&recording());
        assert_eq!(
            reference.resources().keys().collect::<Vec<_>>(),
            [
                "cpg:metamist:ProjectMembers::members",
                "gcp:storage/bucket:Bucket::main"
            ]
        );
        assert_eq!(
            reference.id("pulumi-python:dynamic:Resource::members"),
            "cpg:metamist:ProjectMembers::members"
        );
        assert_eq!(reference.id("gcp:x:Y::z"), "gcp:x:Y::z");
    }

    #[test]
    #[should_panic(expected = "unknown dynamic provider x.Unknown")]
    fn an_unknown_dynamic_provider_is_refused() {
        type_token(
            &json!({"type": "pulumi-python:dynamic:Resource", "dynamic_provider": "x.Unknown"}),
        );
    }

    #[test]
    fn outputs_are_the_mock_outputs_over_the_inputs() {
        let reference = Reference::new(&recording());
        let bucket = "gcp:storage/bucket:Bucket::main";
        assert_eq!(reference.output(bucket, "id"), Some(json!("main-id")));
        assert_eq!(reference.output(bucket, "url"), Some(json!("gs://main")));
        assert_eq!(reference.output(bucket, "labels.a"), Some(json!("b")));
        assert_eq!(reference.output(bucket, "labels.c"), None);
        assert_eq!(reference.output("gcp:x:Y::none", "id"), None);
        let org = Invoke {
            token: "gcp:organizations/getOrganization:getOrganization".into(),
            args: BTreeMap::new(),
            property: "orgId".into(),
        };
        assert_eq!(
            Resolver::invoke(&reference, &org),
            Some(GraphValue::from("123456789012"))
        );
        let secret = Invoke {
            token: "gcp:secretmanager/getSecretVersionAccess:getSecretVersionAccess".into(),
            args: BTreeMap::from([
                ("project".to_owned(), GraphValue::from("p")),
                ("secret".to_owned(), GraphValue::from("s")),
            ]),
            property: "secretData".into(),
        };
        assert_eq!(
            Resolver::invoke(&reference, &secret),
            Some(GraphValue::from("mock-secret-value:p/s"))
        );
        let unknown = Invoke {
            token: "gcp:x:y".into(),
            args: BTreeMap::new(),
            property: "z".into(),
        };
        assert_eq!(Resolver::invoke(&reference, &unknown), None);
    }

    #[test]
    fn numbers_are_compared_as_numbers() {
        assert!(same(&json!({"n": [1]}), &json!({"n": [1.0]})));
        assert!(!same(&json!({"n": [1]}), &json!({"n": [2]})));
        assert!(!same(&json!({"n": 1}), &json!({"n": 1, "m": 1})));
        assert_eq!(from_json(&json!(1.5)), GraphValue::Float(1.5));
        assert_eq!(
            from_json(&json!([true])),
            GraphValue::List(vec![GraphValue::Bool(true)])
        );
    }

    #[test]
    fn an_empty_plan_misses_every_recorded_resource() {
        let found = differences(&recording(), &Graph::new());
        assert_eq!(
            found,
            [
                "missing: cpg:metamist:ProjectMembers::members",
                "missing: gcp:storage/bucket:Bucket::main"
            ]
        );
    }

    #[test]
    #[should_panic(expected = "no config directory at /nonexistent/small (CPG_INFRA_REFERENCE")]
    fn a_missing_config_directory_is_named() {
        load(Path::new("/nonexistent/small"));
    }

    #[test]
    #[should_panic(expected = "2 unexplained differences")]
    fn an_unexplained_difference_fails_the_check() {
        assert_matches(&recording(), &Graph::new(), 2, &[]);
    }

    #[test]
    fn a_fix_accounts_for_its_differences_and_is_reported() {
        let fixes = [Fix {
            what: "nothing is planned",
            accounts_for: |d| d.starts_with("missing: "),
        }];
        // Nothing planned against a recording that claims no resources: only the
        // fix's differences show.
        let mut recorded = recording();
        recorded["resource_count"] = json!(0);
        assert_eq!(
            assert_matches(&recorded, &Graph::new(), 0, &fixes),
            ["nothing is planned"]
        );
    }
}
