//! The reference's recordings, read and compared.
//!
//! `<name>.reference.json` beside each sample config records what the reference
//! declared for it and what its mock engine answered. The repository holds them in
//! `testdata/reference`; [`VARIABLE`] points the tests elsewhere (see
//! `cpg-infra-testdata`, re-exported here). This crate reads those recordings
//! ([`reference_dir`], [`read`]), answers the plan's deploy-time
//! values from the mock outputs ([`Reference`], a [`Resolver`]), and compares a plan
//! with a recording ([`differences`], [`assert_matches`]) allowing only the
//! deliberate differences a caller names ([`Fix`], from `deploy differences`' list). It is for tests: it panics with
//! the file and the reason when a recording cannot be read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cpg_infra::config::{Config, load_dir};
use cpg_infra::graph::{
    Alias, AliasParent, Graph, Invoke, OutputRef, Resolver, ResourceId, Value as GraphValue,
};
use cpg_infra_gcp::tokens;
use cpg_infra_kinds::migrate;
use cpg_infra_kinds::schema::Kind;
pub use cpg_infra_review::differences::{Change, Differences, FIXES, Fix};
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

/// Whether a line of [`differences`] is `fix` showing: the extra resource a
/// [`Change::Created`] fix declares, or the changed input of a
/// [`Change::ChangedInput`] fix with the reference's and the planned value.
pub fn accounts_for(fix: &Fix, line: &str) -> bool {
    let (id, rest) = match line.strip_prefix("extra: ") {
        Some(id) => (id, None),
        None => match line.split_once(": input ") {
            Some((id, rest)) => (id, Some(rest)),
            None => return false,
        },
    };
    let Some((token, name)) = id.split_once("::") else {
        return false;
    };
    if !fix.affects(&ResourceId::new(token, name)) {
        return false;
    }
    match (fix.change, rest) {
        (Change::Created, None) => true,
        (
            Change::ChangedInput {
                input,
                reference,
                planned,
            },
            Some(rest),
        ) => rest
            .strip_prefix(&format!("{input}: reference "))
            .and_then(|values| values.split_once(", plan "))
            .is_some_and(|(theirs, ours)| theirs.contains(reference) && ours.contains(planned)),
        _ => false,
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

/// Checks a plan against a recording: every difference must be one of `fixes`, the
/// resources that differ must be exactly those [`Differences::of`] the plan names for
/// `fixes`, the `cpg:` resources it says `migrate-state` moves must be exactly the
/// recording's dynamic resources, the plan must hold each of the recording's
/// `resources` resources once (beside the fixes' extras), and the stack's exports must
/// match. Returns which fixes showed, in the order of `fixes`.
///
/// # Panics
///
/// On an unexplained difference, a difference `deploy differences` would not name
/// (or one it names that does not show), a resource count that differs, or an export
/// that differs: the assertion failures of the parity tests.
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
        .filter(|d| !fixes.iter().any(|fix| accounts_for(fix, d)))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    // `deploy differences` names exactly the resources that differ, and moves
    // exactly the reference's dynamic resources.
    let named = Differences::of(graph);
    let shown: BTreeSet<String> = found
        .iter()
        .filter(|d| fixes.iter().any(|fix| accounts_for(fix, d)))
        .map(|d| {
            let d = d.strip_prefix("extra: ").unwrap_or(d);
            d.split_once(": input ").map_or(d, |(id, _)| id).to_owned()
        })
        .collect();
    let listed: BTreeSet<String> = named
        .fixed
        .iter()
        .filter(|d| fixes.contains(d.fix))
        .map(|d| d.resource.to_string())
        .collect();
    assert_eq!(listed, shown, "the differences deploy differences names");
    let dynamic: BTreeSet<String> = recorded["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == migrate::DYNAMIC_TYPE)
        .map(|r| {
            format!(
                "{}::{}",
                type_token(r),
                r["name"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let moved: BTreeSet<String> = named.moved.iter().map(|m| m.resource.to_string()).collect();
    assert_eq!(moved, dynamic, "the resources migrate-state moves");

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
        .filter(|fix| found.iter().any(|d| accounts_for(fix, d)))
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

    /// An empty recording, and a plan of one resource `FIXES[1]` creates.
    fn one_fix() -> (Value, Graph) {
        let recorded = json!({"resources": [], "resource_count": 0, "exports": {}});
        let mut graph = Graph::new();
        let fix = &FIXES[1];
        graph
            .declare(cpg_infra::graph::Resource::new(
                fix.type_token,
                format!("ds{}", fix.name_suffix),
            ))
            .expect("declare");
        (recorded, graph)
    }

    #[test]
    fn a_fix_accounts_for_its_differences_and_is_reported() {
        let (recorded, graph) = one_fix();
        assert_eq!(
            assert_matches(&recorded, &graph, 0, &FIXES),
            ["images-dev-reader gets the test group"]
        );
    }

    #[test]
    #[should_panic(expected = "1 unexplained differences")]
    fn a_fix_not_allowed_is_unexplained() {
        let (recorded, graph) = one_fix();
        assert_matches(&recorded, &graph, 0, &FIXES[2..]);
    }

    #[test]
    fn a_changed_input_shows_only_with_both_values() {
        let fix = &FIXES[2];
        let id = format!("{}::ds{}", fix.type_token, fix.name_suffix);
        assert!(accounts_for(
            fix,
            &format!(
                "{id}: input role: reference \"o/roles/StorageViewerAndCreator\", plan \"o/roles/StorageObjectAndBucketViewer\""
            )
        ));
        assert!(!accounts_for(
            fix,
            &format!(
                "{id}: input role: reference \"o/roles/StorageViewerAndCreator\", plan \"o/roles/Other\""
            )
        ));
        assert!(!accounts_for(fix, &format!("extra: {id}")));
        assert!(!accounts_for(
            fix,
            &format!("{id}: dependsOn: reference {{}}, plan {{}}")
        ));
    }
}
