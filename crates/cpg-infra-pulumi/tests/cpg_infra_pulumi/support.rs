//! Planning configs, a mock engine that answers for them, and an independent
//! check of what the engine received against the plan.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use cpg_infra::config::load_dir;
use cpg_infra::driver::{Built, CpgInfrastructure};
use cpg_infra::graph::{
    AliasParent, EvaluateError, Graph, Invoke, OutputRef, Resolver, Resource, ResourceId, Value,
};
use cpg_infra_azure::AzureProvider;
use cpg_infra_gcp::GcpProvider;
use cpg_infra_mock_engine::{MockEngine, MockOptions, Recorded, answering_for};
use cpg_infra_pulumi::proto::alias::spec::Parent;
use cpg_infra_pulumi::proto::{ReadResourceRequest, RegisterResourceRequest};
use cpg_infra_pulumi::wire::{self, Lookup};
use cpg_infra_pulumi::{DeployError, DeployOptions, Deployed, STACK_REFERENCE_TYPE, Session};
use prost_types::{Struct, Value as Wire};

pub use cpg_infra_reference::reference_dir;

/// The example config directory of the deploy binary.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config")
}

/// Plans a valid config directory with the GCP and Azure clouds.
pub fn plan(dir: &Path) -> Graph {
    build(dir).graph
}

/// Builds a valid config directory with the GCP and Azure clouds, as the program
/// builds it without plugins: the plan and each resource's origin.
pub fn build(dir: &Path) -> Built {
    let config = load_dir(dir).unwrap_or_else(|invalid| panic!("{}: {invalid}", dir.display()));
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .build_with_log()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"))
}

/// The organisation the mock's `getOrganization` returns.
pub const ORG_ID: &str = "123456789";

/// A mock for `graph`: computed outputs, and an organisation for data sources.
pub fn mock_for(graph: &Graph, options: MockOptions) -> MockEngine {
    MockEngine::start(answering_for(graph, ORG_ID, options)).expect("mock listens")
}

/// Deploys `graph` against `mock` with `parallel` registrations at once.
pub fn deploy(graph: &Graph, mock: &MockEngine, parallel: usize) -> Result<Deployed, DeployError> {
    deploy_with(graph, mock, parallel, None)
}

/// Deploys `graph` against `mock`, asset paths taken from `asset_root`.
pub fn deploy_with(
    graph: &Graph,
    mock: &MockEngine,
    parallel: usize,
    asset_root: Option<&Path>,
) -> Result<Deployed, DeployError> {
    let session = Session::connect(mock.settings(parallel))?;
    let options = DeployOptions {
        asset_root: asset_root.map(Path::to_path_buf),
        ..DeployOptions::default()
    };
    session.deploy(graph, &options)
}

/// The URN the mock gives a root-parented resource.
pub fn urn(id: &ResourceId) -> String {
    format!("urn:pulumi:test::cpg::{}::{}", id.type_token, id.name)
}

/// The URN of the root stack.
pub const ROOT_URN: &str = "urn:pulumi:test::cpg::pulumi:pulumi:Stack::cpg-test";

/// Answers outputs from what the mock recorded: the independent expectation.
pub struct FromMock {
    /// By type and name: the id and the outputs the mock answered, for
    /// registrations and reads alike.
    answers: HashMap<(String, String), (String, Struct)>,
    dry_run: bool,
}

impl FromMock {
    /// The resolver of `recorded`.
    pub fn new(recorded: &Recorded, dry_run: bool) -> Self {
        let registered = recorded.responses.iter().map(|(t, n, r)| {
            (
                (t.clone(), n.clone()),
                (r.id.clone(), r.object.clone().unwrap_or_default()),
            )
        });
        // A read resource's id is the one it was read by.
        let read = recorded.read_responses.iter().filter_map(|(t, n, r)| {
            let request = recorded
                .reads
                .iter()
                .find(|q| q.r#type == *t && q.name == *n)?;
            Some((
                (t.clone(), n.clone()),
                (request.id.clone(), r.properties.clone().unwrap_or_default()),
            ))
        });
        FromMock {
            answers: registered.chain(read).collect(),
            dry_run,
        }
    }
}

/// Whether a stack reference's answer lists `export` among its secret outputs.
fn secret_export(object: &Struct, export: &str) -> bool {
    match wire::lookup(object, "secretOutputNames") {
        Lookup::Found(names) => matches!(
            wire::to_value(&names),
            Value::List(names) if names.contains(&Value::from(export))
        ),
        _ => false,
    }
}

impl Resolver for FromMock {
    fn output(&self, output: &OutputRef) -> Option<Value> {
        let (id, object) = self.answers.get(&(
            output.resource.type_token.to_string(),
            output.resource.name.to_string(),
        ))?;
        if output.property == "id" {
            return (!id.is_empty()).then(|| Value::from(id.clone()));
        }
        let value = match wire::lookup(object, &output.property) {
            Lookup::Found(w) if !wire::contains_unknown(&w) => Some(wire::to_value(&w)),
            Lookup::Absent if !self.dry_run => Some(Value::Null),
            _ => None,
        }?;
        let export = output
            .property
            .strip_prefix("outputs.")
            .map(|rest| rest.split('.').next().unwrap_or(rest));
        Some(match export {
            Some(export)
                if &*output.resource.type_token == STACK_REFERENCE_TYPE
                    && secret_export(object, export)
                    && !matches!(value, Value::Secret(_)) =>
            {
                value.secret()
            }
            _ => value,
        })
    }

    fn invoke(&self, invoke: &Invoke) -> Option<Value> {
        match invoke.property.as_str() {
            "id" => Some(Value::from(format!("organizations/{ORG_ID}"))),
            "orgId" => Some(Value::from(ORG_ID)),
            _ => None,
        }
    }
}

/// Numbers as floats, so `1` and `1.0` compare equal (the wire has only floats).
pub fn normalise(json: &serde_json::Value) -> serde_json::Value {
    match json {
        serde_json::Value::Number(n) => serde_json::json!(n.as_f64()),
        serde_json::Value::Array(items) => items.iter().map(normalise).collect(),
        serde_json::Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| (k.clone(), normalise(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => other.clone(),
    }
}

/// Checks one value the engine received against the graph's value evaluated
/// with what the mock answered: equal when that is known, unknown (somewhere)
/// when it is not.
pub fn check_value(what: &str, sent: &Wire, declared: &Value, resolver: &FromMock) {
    match declared.evaluate(resolver) {
        Ok(expected) => assert_eq!(
            normalise(&wire::to_json(sent)),
            normalise(&expected.to_json()),
            "{what}"
        ),
        Err(EvaluateError::UnresolvedOutput { .. } | EvaluateError::UnresolvedInvoke { .. }) => {
            assert!(resolver.dry_run, "{what}: unresolved in an update");
            assert!(
                wire::contains_unknown(sent),
                "{what}: expected an unknown, sent {:?}",
                wire::to_json(sent)
            );
        }
        Err(error) => panic!("{what}: {error}"),
    }
}

/// Checks that the mock received the root first, then every resource of `graph`
/// exactly once with its type, name, inputs, dependencies and options, then the
/// exports on the root.
pub fn assert_registered_completely(graph: &Graph, recorded: &Recorded, dry_run: bool) {
    let root = &recorded.registrations[0];
    assert_eq!(
        (root.r#type.as_str(), root.name.as_str()),
        ("pulumi:pulumi:Stack", "cpg-test")
    );
    assert!(!root.custom && root.parent.is_empty());
    assert_eq!(recorded.root.as_deref(), Some(ROOT_URN));
    let mut sent: HashMap<(String, String), &RegisterResourceRequest> = HashMap::new();
    for request in &recorded.registrations[1..] {
        let previous = sent.insert((request.r#type.clone(), request.name.clone()), request);
        assert!(
            previous.is_none(),
            "{} {} registered twice",
            request.r#type,
            request.name
        );
    }
    let (read, registered): (Vec<&Resource>, Vec<&Resource>) = graph
        .resources()
        .iter()
        .partition(|r| r.options.id.is_some());
    assert_eq!(sent.len(), registered.len(), "every resource, nothing more");
    let resolver = FromMock::new(recorded, dry_run);
    assert_read_completely(&read, recorded, &resolver);
    for resource in registered {
        let id = &resource.id;
        let request = sent[&(id.type_token.to_string(), id.name.to_string())];
        check_inputs(resource, request.object.as_ref(), &resolver);
        let mut all_dependencies = BTreeSet::new();
        for (key, value) in &resource.inputs {
            let expected: BTreeSet<String> = value.dependencies().iter().map(urn).collect();
            let got: BTreeSet<String> = request.property_dependencies[key]
                .urns
                .iter()
                .cloned()
                .collect();
            assert_eq!(got, expected, "{id}: property dependencies of {key}");
            all_dependencies.extend(expected);
        }
        let options = &resource.options;
        check_sent(
            resource,
            all_dependencies,
            &request.dependencies,
            &request.parent,
        );
        assert!(request.custom, "{id}");
        assert!(request.accept_secrets && request.accept_resources, "{id}");
        let version = match id.type_token.split(':').next() {
            Some("gcp") => "7.38.0",
            Some("azure-native") => "2.21.2",
            Some("azuread") => "5.46.0",
            _ => "",
        };
        assert_eq!(request.version, version, "{id}: version");
        assert_eq!(request.ignore_changes, options.ignore_changes, "{id}");
        assert_eq!(
            request.additional_secret_outputs, options.additional_secret_outputs,
            "{id}"
        );
        assert_eq!(
            request.replace_on_changes, options.replace_on_changes,
            "{id}"
        );
        assert_eq!(
            request.delete_before_replace, options.delete_before_replace,
            "{id}"
        );
        assert_eq!(request.protect.unwrap_or(false), options.protect, "{id}");
        assert_eq!(
            request.aliases.len(),
            options.aliases.len(),
            "{id}: aliases"
        );
        for (sent, declared) in request.aliases.iter().zip(&options.aliases) {
            let Some(cpg_infra_pulumi::proto::alias::Alias::Spec(spec)) = &sent.alias else {
                panic!("{id}: alias is not a spec");
            };
            assert_eq!(
                Some(spec.name.as_str()).filter(|n| !n.is_empty()),
                declared.name.as_deref()
            );
            assert_eq!(
                Some(spec.r#type.as_str()).filter(|t| !t.is_empty()),
                declared.type_token.as_deref()
            );
            let parent = match declared.parent {
                AliasParent::Inherit => Parent::ParentUrn(String::new()),
                AliasParent::NoParent => Parent::NoParent(true),
            };
            assert_eq!(spec.parent, Some(parent), "{id}: alias parent");
        }
        assert_eq!(request.alias_specs, !options.aliases.is_empty(), "{id}");
    }
    assert_eq!(recorded.outputs.len(), 1, "exports once");
    let exports = &recorded.outputs[0];
    assert_eq!(exports.urn, ROOT_URN, "exports on the root");
    let fields = exports.outputs.clone().unwrap_or_default().fields;
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        graph.exports().keys().collect::<Vec<_>>()
    );
    for (name, value) in graph.exports() {
        check_value(&format!("export {name}"), &fields[name], value, &resolver);
    }
}

/// Checks that `sent` holds exactly the inputs of `resource`, each the graph's
/// value as far as `resolver` knows it.
fn check_inputs(resource: &Resource, sent: Option<&Struct>, resolver: &FromMock) {
    let id = &resource.id;
    let object = sent.cloned().unwrap_or_default();
    assert_eq!(
        object.fields.keys().collect::<Vec<_>>(),
        resource.inputs.keys().collect::<Vec<_>>(),
        "{id}: input names"
    );
    for (key, value) in &resource.inputs {
        check_value(
            &format!("{id}: {key}"),
            &object.fields[key],
            value,
            resolver,
        );
    }
}

/// Checks a request's dependencies — each resource its inputs use (`uses`) and
/// its `dependsOn`, once — and its parent, the root.
fn check_sent(resource: &Resource, mut uses: BTreeSet<String>, sent: &[String], parent: &str) {
    let id = &resource.id;
    uses.extend(resource.options.depends_on.iter().map(urn));
    assert_eq!(
        sent.iter().cloned().collect::<BTreeSet<_>>(),
        uses,
        "{id}: dependencies"
    );
    assert_eq!(sent.len(), uses.len(), "{id}: no duplicates");
    assert_eq!(parent, ROOT_URN, "{id}: parent");
}

/// Checks that the mock received a read of every resource of `read` (those with
/// the `id` option) exactly once, by its id, with its type, name, inputs,
/// dependencies and parent, and nothing registered for it.
fn assert_read_completely(read: &[&Resource], recorded: &Recorded, resolver: &FromMock) {
    assert_eq!(recorded.reads.len(), read.len(), "every read, nothing more");
    for resource in read {
        let id = &resource.id;
        let reads: Vec<&ReadResourceRequest> = recorded
            .reads
            .iter()
            .filter(|q| q.r#type == *id.type_token && q.name == *id.name)
            .collect();
        assert_eq!(reads.len(), 1, "{id}: read once");
        let request = reads[0];
        assert_eq!(Some(&request.id), resource.options.id.as_ref(), "{id}: id");
        check_inputs(resource, request.properties.as_ref(), resolver);
        let uses: BTreeSet<String> = resource
            .inputs
            .values()
            .flat_map(|value| value.dependencies())
            .map(|id| urn(&id))
            .collect();
        check_sent(resource, uses, &request.dependencies, &request.parent);
        assert!(request.accept_secrets && request.accept_resources, "{id}");
    }
}

/// The request the mock received for `type_token` `name`.
pub fn sent<'r>(
    recorded: &'r Recorded,
    type_token: &str,
    name: &str,
) -> &'r RegisterResourceRequest {
    recorded
        .registrations
        .iter()
        .find(|r| r.r#type == type_token && r.name == name)
        .unwrap_or_else(|| panic!("{type_token} {name} not registered"))
}

/// An input of a request.
pub fn input<'r>(request: &'r RegisterResourceRequest, key: &str) -> &'r Wire {
    request
        .object
        .as_ref()
        .and_then(|o: &Struct| o.fields.get(key))
        .unwrap_or_else(|| panic!("{} has no input {key}", request.name))
}
