//! One deployment of one graph: the root, then every resource as soon as what it
//! uses is known, then the exports; the requests with every resource option.

use std::collections::HashMap;
use std::time::Instant;

use cpg_infra::graph::{AliasParent, Graph, Resource, ResourceId};
use prost_types::Struct;
use pulumi_gestalt_proto::pulumi::pulumirpc::{
    Alias as WireAlias, ReadResourceRequest, RegisterResourceOutputsRequest,
    RegisterResourceRequest, ResourceInvokeRequest, SetRootResourceRequest, alias,
    engine_client::EngineClient, register_resource_request::PropertyDependencies,
    resource_monitor_client::ResourceMonitorClient,
};
use tokio::task::JoinSet;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::error::{DeployError, MissingExport};
use crate::positions::SourcePositions;
use crate::resolve::{Encoding, InvokeResult, Outputs, Registered, invoke_key};
use crate::schedule::{Node, Schedule};
use crate::session::{Deployed, Features, ROOT_TYPE, Severity, call_error, is_gone, log};
use crate::settings::EngineSettings;
use crate::versions::ProviderVersions;
use crate::wire;

/// A finished registration or call.
pub(crate) enum Done {
    Resource(Registered),
    Invoke(InvokeResult),
}

/// One deployment of one graph.
pub(crate) struct Run<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) schedule: &'a Schedule<'a>,
    pub(crate) settings: &'a EngineSettings,
    pub(crate) features: Features,
    pub(crate) versions: &'a ProviderVersions,
    pub(crate) asset_root: Option<&'a std::path::Path>,
    pub(crate) source_positions: &'a SourcePositions,
    pub(crate) monitor: ResourceMonitorClient<Channel>,
    pub(crate) engine: EngineClient<Channel>,
}

impl Run<'_> {
    fn encoding(&self) -> Encoding {
        Encoding {
            secrets: self.features.secrets,
            output_values: self.features.output_values,
            resource_references: self.features.resource_references,
        }
    }

    /// The pinned version of the provider package of `token` (empty: the engine's
    /// choice, as for the builtin `pulumi:` types).
    fn version(&self, token: &str) -> String {
        self.versions.for_type(token).unwrap_or_default().to_owned()
    }

    pub(crate) async fn run(mut self) -> Result<Deployed, DeployError> {
        let started = Instant::now();
        let root = match self.register_root().await {
            Ok(root) => root,
            Err(error) => {
                self.report(&error).await;
                return Err(error);
            }
        };
        let mut registered: HashMap<ResourceId, Registered> = HashMap::new();
        let mut invoked: HashMap<String, InvokeResult> = HashMap::new();
        let mut waits = self.schedule.waits.clone();
        let mut ready: std::collections::VecDeque<Node> =
            self.schedule.initially_ready().into_iter().collect();
        let mut in_flight: JoinSet<(Node, Result<Done, Status>)> = JoinSet::new();
        let mut failures: Vec<DeployError> = Vec::new();
        let mut keep = Keep::new(self.graph, self.schedule);
        let mut max_in_flight = 0;
        let parallel = self.settings.parallel;
        loop {
            while failures.is_empty() && in_flight.len() < parallel {
                let Some(node) = ready.pop_front() else { break };
                let started = {
                    let outputs = Outputs {
                        resources: &registered,
                        invokes: &invoked,
                        dry_run: self.settings.dry_run,
                        asset_root: self.asset_root,
                    };
                    self.start(node, &outputs, &root)
                };
                keep.started(node, self.graph, &mut registered);
                match started {
                    Ok(Start::Spawn(future)) => {
                        in_flight.spawn(async move { (node, future.await) });
                    }
                    Ok(Start::Now(done)) => {
                        self.finish(
                            node,
                            done,
                            &mut keep,
                            &mut registered,
                            &mut invoked,
                            &mut waits,
                            &mut ready,
                        );
                    }
                    Err(error) => {
                        self.report(&error).await;
                        failures.push(error);
                    }
                }
                max_in_flight = max_in_flight.max(in_flight.len());
            }
            if in_flight.is_empty() {
                break;
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            let (node, result) = match joined {
                Ok(outcome) => outcome,
                Err(join_error) => {
                    let error = DeployError::Interrupted {
                        message: join_error.to_string(),
                    };
                    self.report(&error).await;
                    failures.push(error);
                    continue;
                }
            };
            match result {
                Ok(Done::Resource(resource)) if resource.urn.is_empty() => {
                    let error = DeployError::EmptyUrn {
                        resource: self.graph.resources()[node].id.clone(),
                    };
                    self.report(&error).await;
                    failures.push(error);
                }
                Ok(done) => {
                    self.finish(
                        node,
                        done,
                        &mut keep,
                        &mut registered,
                        &mut invoked,
                        &mut waits,
                        &mut ready,
                    );
                }
                Err(status) => {
                    // Logged now: registrations still in flight may take minutes.
                    let error = self.failure(node, &status);
                    self.report(&error).await;
                    failures.push(error);
                }
            }
        }
        if let Some(first) = failures.into_iter().next() {
            self.summarise(&first, &registered).await;
            return Err(first);
        }
        let exports = self.register_exports(&root, &registered, &invoked).await?;
        let reads = self
            .graph
            .resources()
            .iter()
            .filter(|r| r.options.id.is_some())
            .count();
        let outputs_kept = registered
            .values()
            .filter(|r| !r.object.fields.is_empty())
            .count();
        Ok(Deployed {
            root_urn: root.urn,
            resources: registered.len() - reads,
            reads,
            invokes: invoked.len(),
            exports,
            outputs_kept,
            max_outputs_kept: keep.max_held,
            max_in_flight,
            elapsed: started.elapsed(),
        })
    }

    /// Logs a failure to the engine (best effort: the engine may be the problem).
    async fn report(&mut self, error: &DeployError) {
        if matches!(error, DeployError::EngineGone { .. }) {
            return;
        }
        let message = crate::error::chain(error);
        let _ = log(&mut self.engine, Severity::Error, &message, "").await;
    }

    /// Logs how many resources were registered and names those that were not
    /// (best effort, as [`Run::report`]).
    async fn summarise(
        &mut self,
        error: &DeployError,
        registered: &HashMap<ResourceId, Registered>,
    ) {
        if matches!(error, DeployError::EngineGone { .. }) {
            return;
        }
        let message = summary(self.graph, registered);
        let _ = log(&mut self.engine, Severity::Error, &message, "").await;
    }

    /// The error for a failed node.
    fn failure(&self, node: Node, status: &Status) -> DeployError {
        let resources = self.graph.resources();
        if is_gone(status) {
            let during = if node < self.schedule.resources {
                let doing = if resources[node].options.id.is_some() {
                    "reading"
                } else {
                    "registering"
                };
                format!("{doing} {}", resources[node].id)
            } else {
                format!(
                    "calling data source {}",
                    self.schedule.invokes[node - self.schedule.resources].token
                )
            };
            return DeployError::EngineGone {
                during,
                message: status.message().to_owned(),
            };
        }
        if node < self.schedule.resources {
            DeployError::Register {
                resource: resources[node].id.clone(),
                message: status.message().to_owned(),
            }
        } else {
            let k = node - self.schedule.resources;
            DeployError::Invoke {
                token: self.schedule.invokes[k].token.clone(),
                resource: self.schedule.first_user[k].clone(),
                message: status.message().to_owned(),
            }
        }
    }

    /// Records a finished node and frees the nodes that waited only for it.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        node: Node,
        done: Done,
        keep: &mut Keep,
        registered: &mut HashMap<ResourceId, Registered>,
        invoked: &mut HashMap<String, InvokeResult>,
        waits: &mut [usize],
        ready: &mut std::collections::VecDeque<Node>,
    ) {
        match done {
            Done::Resource(mut resource) => {
                keep.hold(node, &mut resource);
                registered.insert(self.graph.resources()[node].id.clone(), resource);
            }
            Done::Invoke(result) => {
                let invoke = self.schedule.invokes[node - self.schedule.resources];
                invoked.insert(invoke_key(invoke), result);
            }
        }
        for &next in &self.schedule.dependants[node] {
            waits[next] -= 1;
            if waits[next] == 0 {
                ready.push_back(next);
            }
        }
    }

    async fn register_root(&mut self) -> Result<Registered, DeployError> {
        let request = RegisterResourceRequest {
            r#type: ROOT_TYPE.to_owned(),
            name: self.settings.root_name(),
            custom: false,
            object: Some(Struct::default()),
            accept_secrets: true,
            accept_resources: self.features.resource_references,
            supports_partial_values: true,
            ..RegisterResourceRequest::default()
        };
        let response = self
            .monitor
            .register_resource(request)
            .await
            .map_err(|status| call_error("RegisterResource (the root stack)", &status))?
            .into_inner();
        if response.urn.is_empty() {
            return Err(DeployError::Engine {
                call: "RegisterResource (the root stack)",
                message: "answered with an empty URN".to_owned(),
            });
        }
        match self
            .engine
            .set_root_resource(SetRootResourceRequest {
                urn: response.urn.clone(),
            })
            .await
        {
            Ok(_) => {}
            Err(status) if status.code() == Code::Unimplemented => {}
            Err(status) => return Err(call_error("SetRootResource", &status)),
        }
        Ok(Registered {
            urn: response.urn,
            id: response.id,
            object: response.object.unwrap_or_default(),
        })
    }

    /// Starts a node: a request in flight, or a result known at once.
    fn start(
        &self,
        node: Node,
        outputs: &Outputs<'_>,
        root: &Registered,
    ) -> Result<Start, DeployError> {
        if node < self.schedule.resources {
            let resource = &self.graph.resources()[node];
            if let Some(id) = &resource.options.id {
                let request = self.read_request(resource, id, outputs, root)?;
                let mut monitor = self.monitor.clone();
                // A read resource's id is the one it was read by, always known.
                let id = id.clone();
                return Ok(Start::Spawn(Box::pin(async move {
                    let response = monitor.read_resource(request).await?.into_inner();
                    Ok(Done::Resource(Registered {
                        urn: response.urn,
                        id,
                        object: response.properties.unwrap_or_default(),
                    }))
                })));
            }
            let request = self.request(resource, outputs, root)?;
            let mut monitor = self.monitor.clone();
            return Ok(Start::Spawn(Box::pin(async move {
                let response = monitor.register_resource(request).await?.into_inner();
                Ok(Done::Resource(Registered {
                    urn: response.urn,
                    id: response.id,
                    object: response.object.unwrap_or_default(),
                }))
            })));
        }
        let k = node - self.schedule.resources;
        let invoke = self.schedule.invokes[k];
        let args = invoke
            .args
            .iter()
            .map(|(key, value)| {
                if let Some(missing) = outputs.missing_export(value) {
                    let user = &self.schedule.first_user[k];
                    return Err(missing_export(
                        missing,
                        format!(
                            "data source {} (for {user}), argument {key:?}",
                            invoke.token
                        ),
                        Some(user.clone()),
                    ));
                }
                outputs
                    .encode(value, self.encoding())
                    .map(|w| (key.clone(), w))
                    .map_err(|source| DeployError::Evaluate {
                        resource: self.schedule.first_user[k].clone(),
                        input: format!("{}({key})", invoke.token),
                        source,
                    })
            })
            .collect::<Result<std::collections::BTreeMap<_, _>, _>>()?;
        if args.values().any(wire::contains_unknown) {
            return Ok(Start::Now(Done::Invoke(InvokeResult::Unknown)));
        }
        let request = ResourceInvokeRequest {
            tok: invoke.token.clone(),
            args: Some(Struct { fields: args }),
            version: self.version(&invoke.token),
            accept_resources: self.features.resource_references,
            ..ResourceInvokeRequest::default()
        };
        let mut monitor = self.monitor.clone();
        Ok(Start::Spawn(Box::pin(async move {
            let response = monitor.invoke(request).await?.into_inner();
            if !response.failures.is_empty() {
                let reasons: Vec<String> = response
                    .failures
                    .iter()
                    .map(|f| format!("{}: {}", f.property, f.reason))
                    .collect();
                return Err(Status::invalid_argument(reasons.join("; ")));
            }
            Ok(Done::Invoke(InvokeResult::Known(
                response.r#return.unwrap_or_default(),
            )))
        })))
    }

    /// What a registration and a read of `resource` have in common: its inputs,
    /// what they and its options depend on, its parent and its provider.
    fn prepare(
        &self,
        resource: &Resource,
        outputs: &Outputs<'_>,
        root: &Registered,
    ) -> Result<Prepared, DeployError> {
        let urn = |id: &ResourceId| {
            outputs
                .resources
                .get(id)
                .map(|r| r.urn.clone())
                .unwrap_or_default()
        };
        let mut object = std::collections::BTreeMap::new();
        let mut property_dependencies = HashMap::new();
        let mut dependencies: Vec<String> = Vec::new();
        for (key, value) in &resource.inputs {
            if let Some(missing) = outputs.missing_export(value) {
                return Err(missing_export(
                    missing,
                    format!("{} input {key:?}", resource.id),
                    Some(resource.id.clone()),
                ));
            }
            let encoded =
                outputs
                    .encode(value, self.encoding())
                    .map_err(|source| DeployError::Evaluate {
                        resource: resource.id.clone(),
                        input: key.clone(),
                        source,
                    })?;
            object.insert(key.clone(), encoded);
            let urns: Vec<String> = value.dependencies().iter().map(urn).collect();
            for u in &urns {
                if !dependencies.contains(u) {
                    dependencies.push(u.clone());
                }
            }
            property_dependencies.insert(key.clone(), PropertyDependencies { urns });
        }
        let options = &resource.options;
        for id in &options.depends_on {
            let u = urn(id);
            if !dependencies.contains(&u) {
                dependencies.push(u);
            }
        }
        let parent = options
            .parent
            .as_ref()
            .map_or_else(|| root.urn.clone(), urn);
        let provider = options.provider.as_ref().map_or_else(String::new, |id| {
            let registered = &outputs.resources[id];
            let provider_id = if registered.id.is_empty() {
                wire::UNKNOWN
            } else {
                registered.id.as_str()
            };
            format!("{}::{provider_id}", registered.urn)
        });
        Ok(Prepared {
            object: Struct { fields: object },
            property_dependencies,
            dependencies,
            parent,
            provider,
        })
    }

    /// The registration of `resource` with every option it has, and its source
    /// position.
    fn request(
        &self,
        resource: &Resource,
        outputs: &Outputs<'_>,
        root: &Registered,
    ) -> Result<RegisterResourceRequest, DeployError> {
        let Prepared {
            object,
            property_dependencies,
            dependencies,
            parent,
            provider,
        } = self.prepare(resource, outputs, root)?;
        let options = &resource.options;
        let (aliases, alias_ur_ns) = self.aliases(resource, &parent, root);
        Ok(RegisterResourceRequest {
            r#type: resource.id.type_token.to_string(),
            name: resource.id.name.to_string(),
            parent,
            custom: true,
            object: Some(object),
            protect: options.protect.then_some(true),
            dependencies,
            provider,
            property_dependencies,
            delete_before_replace: options.delete_before_replace,
            delete_before_replace_defined: options.delete_before_replace,
            version: self.version(&resource.id.type_token),
            ignore_changes: options.ignore_changes.clone(),
            accept_secrets: true,
            additional_secret_outputs: options.additional_secret_outputs.clone(),
            alias_ur_ns,
            supports_partial_values: true,
            accept_resources: self.features.resource_references,
            replace_on_changes: options.replace_on_changes.clone(),
            aliases,
            alias_specs: self.features.alias_specs && !options.aliases.is_empty(),
            source_position: self.source_positions.get(&resource.id).cloned(),
            ..RegisterResourceRequest::default()
        })
    }

    /// The read of `resource` by `id`, as Pulumi's Python SDK sends one
    /// (`read_resource`): its inputs as the properties that identify it, what
    /// they and its options depend on, its parent, its provider (none: the
    /// engine's default for the package, the builtin provider for `pulumi:`
    /// types such as a stack reference), its additional secret outputs and its
    /// source position. The
    /// options that manage a resource's life (protect, ignoreChanges,
    /// deleteBeforeReplace, replaceOnChanges, aliases) do not apply to a read and
    /// are not sent, as the SDKs send none of them.
    fn read_request(
        &self,
        resource: &Resource,
        id: &str,
        outputs: &Outputs<'_>,
        root: &Registered,
    ) -> Result<ReadResourceRequest, DeployError> {
        let Prepared {
            object,
            dependencies,
            parent,
            provider,
            ..
        } = self.prepare(resource, outputs, root)?;
        Ok(ReadResourceRequest {
            id: id.to_owned(),
            r#type: resource.id.type_token.to_string(),
            name: resource.id.name.to_string(),
            parent,
            properties: Some(object),
            dependencies,
            provider,
            version: self.version(&resource.id.type_token),
            accept_secrets: true,
            additional_secret_outputs: resource.options.additional_secret_outputs.clone(),
            accept_resources: self.features.resource_references,
            source_position: self.source_positions.get(&resource.id).cloned(),
            ..ReadResourceRequest::default()
        })
    }

    /// The aliases as specs, or as URNs for a monitor without alias specs.
    fn aliases(
        &self,
        resource: &Resource,
        parent: &str,
        root: &Registered,
    ) -> (Vec<WireAlias>, Vec<String>) {
        let aliases = &resource.options.aliases;
        if self.features.alias_specs {
            let specs = aliases
                .iter()
                .map(|a| WireAlias {
                    alias: Some(alias::Alias::Spec(alias::Spec {
                        name: a.name.clone().unwrap_or_default(),
                        r#type: a.type_token.clone().unwrap_or_default(),
                        stack: String::new(),
                        project: String::new(),
                        // As Pulumi's Python SDK: an alias without a parent of its
                        // own sets the oneof to an empty `parentUrn`, which the
                        // engine reads as the resource's current parent.
                        parent: Some(match a.parent {
                            AliasParent::Inherit => alias::spec::Parent::ParentUrn(String::new()),
                            AliasParent::NoParent => alias::spec::Parent::NoParent(true),
                        }),
                    })),
                })
                .collect();
            return (specs, Vec::new());
        }
        let urns = aliases
            .iter()
            .map(|a| {
                let name = a.name.as_deref().unwrap_or(&resource.id.name);
                let type_token = a.type_token.as_deref().unwrap_or(&resource.id.type_token);
                // URN: `urn:pulumi:<stack>::<project>::<qualified type>::<name>`;
                // the qualified type is the parent's, then `$`, then the type,
                // except under the root stack or without a parent.
                let parent_type = if a.parent == AliasParent::NoParent || parent == root.urn {
                    None
                } else {
                    parent.split("::").nth(2)
                };
                let qualified = match parent_type {
                    Some(p) => format!("{p}${type_token}"),
                    None => type_token.to_owned(),
                };
                self.settings.urn(&qualified, name)
            })
            .collect();
        (Vec::new(), urns)
    }

    async fn register_exports(
        &mut self,
        root: &Registered,
        registered: &HashMap<ResourceId, Registered>,
        invoked: &HashMap<String, InvokeResult>,
    ) -> Result<usize, DeployError> {
        let outputs = Outputs {
            resources: registered,
            invokes: invoked,
            dry_run: self.settings.dry_run,
            asset_root: self.asset_root,
        };
        let mut fields = std::collections::BTreeMap::new();
        for (name, value) in self.graph.exports() {
            if let Some(missing) = outputs.missing_export(value) {
                let error = missing_export(missing, format!("stack export {name:?}"), None);
                self.report(&error).await;
                return Err(error);
            }
            match outputs.encode(value, self.encoding()) {
                Ok(encoded) => {
                    fields.insert(name.clone(), encoded);
                }
                Err(source) => {
                    let error = DeployError::Export {
                        name: name.clone(),
                        source,
                    };
                    self.report(&error).await;
                    return Err(error);
                }
            }
        }
        let count = fields.len();
        self.monitor
            .register_resource_outputs(RegisterResourceOutputsRequest {
                urn: root.urn.clone(),
                outputs: Some(Struct { fields }),
            })
            .await
            .map_err(|status| call_error("RegisterResourceOutputs", &status))?;
        Ok(count)
    }
}

/// What a registration and a read of a resource have in common.
struct Prepared {
    /// The inputs, encoded.
    object: Struct,
    /// Per input, the URNs of the resources it uses.
    property_dependencies: HashMap<String, PropertyDependencies>,
    /// The URNs of every resource the inputs and `dependsOn` use, each once.
    dependencies: Vec<String>,
    /// The parent's URN (the root's when it has none).
    parent: String,
    /// The provider reference (`<urn>::<id>`), or empty for the default provider.
    provider: String,
}

/// The error for an export `used_by` uses that the referenced stack lacks.
fn missing_export(
    missing: MissingExport,
    used_by: String,
    resource: Option<ResourceId>,
) -> DeployError {
    DeployError::MissingExport {
        used_by,
        resource,
        missing: Box::new(missing),
    }
}

/// A node started: a request to await, or a result known without the engine.
enum Start {
    Spawn(std::pin::Pin<Box<dyn std::future::Future<Output = Result<Done, Status>> + Send>>),
    Now(Done),
}

/// How many resources a failed run registered, and the first of those it did not.
pub(crate) fn summary(graph: &Graph, registered: &HashMap<ResourceId, Registered>) -> String {
    /// How many unregistered resources are named.
    const NAMED: usize = 20;
    let missing: Vec<&ResourceId> = graph
        .resources()
        .iter()
        .map(|r| &r.id)
        .filter(|id| !registered.contains_key(*id))
        .collect();
    let mut message = format!(
        "{} of {} resources registered; not registered: ",
        graph.len() - missing.len(),
        graph.len()
    );
    let named: Vec<String> = missing
        .iter()
        .take(NAMED)
        .map(ToString::to_string)
        .collect();
    message.push_str(&named.join(", "));
    if missing.len() > NAMED {
        message.push_str(&format!(" and {} more", missing.len() - NAMED));
    }
    message
}

/// Which registered resources' outputs are still needed: a resource's outputs
/// are kept while a node that uses them has not started, or for ever when a
/// stack export uses them; otherwise only its URN and id stay.
struct Keep {
    /// Per resource: the nodes using it that have not started (+1 for exports).
    uses: Vec<usize>,
    /// Per node: the resources it uses.
    uses_of: Vec<Vec<Node>>,
    /// How many registered resources' outputs are held now.
    held: usize,
    /// The most held at once.
    max_held: usize,
}

impl Keep {
    fn new(graph: &Graph, schedule: &Schedule<'_>) -> Keep {
        let exported: std::collections::HashSet<ResourceId> = graph
            .exports()
            .values()
            .flat_map(|value| value.dependencies())
            .collect();
        let mut uses = vec![0; schedule.resources];
        let mut uses_of = vec![Vec::new(); schedule.dependants.len()];
        for (node, dependants) in schedule.dependants.iter().enumerate() {
            if node < schedule.resources {
                uses[node] =
                    dependants.len() + usize::from(exported.contains(&graph.resources()[node].id));
                for &user in dependants {
                    uses_of[user].push(node);
                }
            }
        }
        Keep {
            uses,
            uses_of,
            held: 0,
            max_held: 0,
        }
    }

    /// Whether the outputs of `node` are needed by a node not yet started.
    fn needed(&self, node: Node) -> bool {
        self.uses.get(node).is_some_and(|&n| n > 0)
    }

    /// `node` is registered: its outputs are kept if a node not yet started needs
    /// them, else dropped at once.
    fn hold(&mut self, node: Node, resource: &mut Registered) {
        if !self.needed(node) {
            resource.object = Struct::default();
        } else if !resource.object.fields.is_empty() {
            self.held += 1;
            self.max_held = self.max_held.max(self.held);
        }
    }

    /// `node` has started: the outputs no other node needs any more are dropped.
    fn started(
        &mut self,
        node: Node,
        graph: &Graph,
        registered: &mut HashMap<ResourceId, Registered>,
    ) {
        for &used in &self.uses_of[node] {
            self.uses[used] -= 1;
            if self.uses[used] == 0
                && let Some(r) = registered.get_mut(&graph.resources()[used].id)
                && !r.object.fields.is_empty()
            {
                r.object = Struct::default();
                self.held -= 1;
            }
        }
    }
}
