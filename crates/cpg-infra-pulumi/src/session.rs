//! A connection to the engine that started this process, and the deployment of a
//! graph through it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cpg_infra::graph::{Graph, Resource, ResourceId};
use prost_types::Struct;
use pulumi_gestalt_proto::pulumi::pulumirpc::{
    Alias as WireAlias, LogRequest, LogSeverity, RegisterResourceOutputsRequest,
    RegisterResourceRequest, ResourceInvokeRequest, SetRootResourceRequest, SupportsFeatureRequest,
    alias, engine_client::EngineClient, register_resource_request::PropertyDependencies,
    resource_monitor_client::ResourceMonitorClient,
};
use tokio::task::JoinSet;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::error::DeployError;
use crate::resolve::{Encoding, InvokeResult, Outputs, Registered, invoke_key};
use crate::schedule::{Node, Schedule};
use crate::settings::EngineSettings;
use crate::versions::ProviderVersions;
use crate::wire;

/// How long connecting to the engine may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP keep-alive: a connection whose peer host stops answering (the process
/// ending closes its connections at once) is found within about 25 seconds. The
/// kernel answers these probes, so gRPC servers never see them.
const TCP_KEEPALIVE: Duration = Duration::from_secs(10);
const TCP_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const TCP_KEEPALIVE_RETRIES: u32 = 3;
/// HTTP/2 pings while requests are in flight find an engine that is alive but no
/// longer answering. The engine is a Go gRPC server, which by default closes a
/// connection that pings more often than every 5 minutes (`too_many_pings`), so
/// the interval stays above that. There is no deadline on a request itself:
/// creating a resource can take many minutes.
const HTTP2_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(6 * 60);
const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
const _: () = assert!(HTTP2_KEEPALIVE_INTERVAL.as_secs() > 5 * 60);

/// The type of the root resource.
pub const ROOT_TYPE: &str = "pulumi:pulumi:Stack";

/// The severity of a message to the engine's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Severity {
    /// Shown with `--debug` only.
    Debug,
    /// Shown to the user.
    Info,
    /// Something looks wrong.
    Warning,
    /// The update fails.
    Error,
}

impl From<Severity> for LogSeverity {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Debug => LogSeverity::Debug,
            Severity::Info => LogSeverity::Info,
            Severity::Warning => LogSeverity::Warning,
            Severity::Error => LogSeverity::Error,
        }
    }
}

/// The monitor features this client uses, as the monitor answered
/// `SupportsFeature`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    /// `secrets`: secret values travel marked as secrets.
    pub secrets: bool,
    /// `resourceReferences`: outputs may hold resource references.
    pub resource_references: bool,
    /// `outputValues`: an unknown secret is sent as a secret output value.
    pub output_values: bool,
    /// `aliasSpecs`: aliases are sent as specs; otherwise as URNs.
    pub alias_specs: bool,
    /// `deletedWith`: the monitor knows the `deletedWith` option (the graph has
    /// no such option; asked so the log shows the engine's capabilities).
    pub deleted_with: bool,
}

/// How to deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOptions {
    /// Provider plugin versions per package.
    pub versions: ProviderVersions,
}

/// What a deployment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The root stack's URN.
    pub root_urn: String,
    /// Resources registered (without the root).
    pub resources: usize,
    /// Data-source calls made (or found unknown in a preview).
    pub invokes: usize,
    /// Stack exports sent.
    pub exports: usize,
    /// The most registrations and calls in flight at once.
    pub max_in_flight: usize,
    /// Wall time of the deployment, from the root's registration to the exports.
    pub elapsed: Duration,
}

/// A connection to the engine whose address the environment gives. Blocking: it
/// runs its own single-threaded async runtime.
///
/// ```no_run
/// use cpg_infra_pulumi::{DeployOptions, EngineSettings, Session};
///
/// # fn run(graph: &cpg_infra::graph::Graph) -> Result<(), Box<dyn std::error::Error>> {
/// let session = Session::connect(EngineSettings::from_env()?)?;
/// let deployed = session.deploy(graph, &DeployOptions::default())?;
/// println!("{} resources", deployed.resources);
/// # Ok(()) }
/// ```
pub struct Session {
    runtime: tokio::runtime::Runtime,
    monitor: ResourceMonitorClient<Channel>,
    engine: EngineClient<Channel>,
    settings: EngineSettings,
    features: Features,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("settings", &self.settings)
            .field("features", &self.features)
            .finish_non_exhaustive()
    }
}

/// A channel to `address` (`host:port`), connected now.
async fn channel(service: &'static str, address: &str) -> Result<Channel, DeployError> {
    let uri = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let connect_error = |source| DeployError::Connect {
        service,
        address: address.to_owned(),
        source,
    };
    Endpoint::from_shared(uri)
        .map_err(connect_error)?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .tcp_keepalive(Some(TCP_KEEPALIVE))
        .tcp_keepalive_interval(Some(TCP_KEEPALIVE_INTERVAL))
        .tcp_keepalive_retries(Some(TCP_KEEPALIVE_RETRIES))
        .http2_keep_alive_interval(HTTP2_KEEPALIVE_INTERVAL)
        .keep_alive_timeout(HTTP2_KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(false)
        .connect()
        .await
        .map_err(connect_error)
}

/// Whether `status` says the connection to the engine is gone (rather than the
/// engine refusing a request).
fn is_gone(status: &Status) -> bool {
    if matches!(status.code(), Code::Unavailable | Code::Cancelled) {
        return true;
    }
    // A connection reset mid-request surfaces as `Unknown` with a transport
    // error underneath.
    let mut source = std::error::Error::source(status);
    while let Some(cause) = source {
        if cause.is::<tonic::transport::Error>() || cause.is::<std::io::Error>() {
            return true;
        }
        let text = cause.to_string();
        if text.contains("connection") || text.contains("broken pipe") {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The error for a failed call that is not about one resource.
fn call_error(call: &'static str, status: &Status) -> DeployError {
    if is_gone(status) {
        DeployError::EngineGone {
            during: call.to_owned(),
            message: status.message().to_owned(),
        }
    } else {
        DeployError::Engine {
            call,
            message: status.message().to_owned(),
        }
    }
}

impl Session {
    /// Connects to the resource monitor and the engine and asks which features
    /// the monitor supports. An unreachable address is an error within seconds.
    pub fn connect(settings: EngineSettings) -> Result<Session, DeployError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(DeployError::Runtime)?;
        let (monitor, engine, features) = runtime.block_on(async {
            let monitor =
                ResourceMonitorClient::new(channel("resource monitor", &settings.monitor).await?)
                    .max_decoding_message_size(usize::MAX)
                    .max_encoding_message_size(usize::MAX);
            let engine = EngineClient::new(channel("engine", &settings.engine).await?);
            let mut ask = monitor.clone();
            let mut supports = async |id: &str| -> Result<bool, DeployError> {
                match ask
                    .supports_feature(SupportsFeatureRequest { id: id.to_owned() })
                    .await
                {
                    Ok(response) => Ok(response.into_inner().has_support),
                    Err(status) if status.code() == Code::Unimplemented => Ok(false),
                    Err(status) => Err(call_error("SupportsFeature", &status)),
                }
            };
            let features = Features {
                secrets: supports("secrets").await?,
                resource_references: supports("resourceReferences").await?,
                output_values: supports("outputValues").await?,
                alias_specs: supports("aliasSpecs").await?,
                deleted_with: supports("deletedWith").await?,
            };
            Ok::<_, DeployError>((monitor, engine, features))
        })?;
        Ok(Session {
            runtime,
            monitor,
            engine,
            settings,
            features,
        })
    }

    /// The environment this session was started with.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// What the monitor supports.
    pub fn features(&self) -> Features {
        self.features
    }

    /// Sends a message to the engine's log (shown by `pulumi preview` / `up`).
    pub fn log(&self, severity: Severity, message: &str) -> Result<(), DeployError> {
        let mut engine = self.engine.clone();
        self.runtime
            .block_on(log(&mut engine, severity, message, ""))
            .map_err(|status| call_error("Log", &status))
    }

    /// Registers the root stack, then every resource of `graph` as soon as the
    /// outputs it uses are known (up to `PULUMI_PARALLEL` at once), then the
    /// stack's exports on the root.
    ///
    /// A failed registration or data-source call is logged to the engine naming
    /// the resource; no further registration starts, those in flight finish, and
    /// the first failure is returned. A broken connection is
    /// [`DeployError::EngineGone`].
    pub fn deploy(&self, graph: &Graph, options: &DeployOptions) -> Result<Deployed, DeployError> {
        let schedule = match Schedule::new(graph) {
            Ok(schedule) => schedule,
            Err(error) => {
                // Nothing was registered; the engine shows why.
                let _ = self.log(Severity::Error, &crate::error::chain(&error));
                return Err(error);
            }
        };
        let run = Run {
            graph,
            schedule: &schedule,
            settings: &self.settings,
            features: self.features,
            versions: &options.versions,
            monitor: self.monitor.clone(),
            engine: self.engine.clone(),
        };
        self.runtime.block_on(run.run())
    }
}

/// One message to the engine's log.
async fn log(
    engine: &mut EngineClient<Channel>,
    severity: Severity,
    message: &str,
    urn: &str,
) -> Result<(), Status> {
    engine
        .log(LogRequest {
            severity: LogSeverity::from(severity) as i32,
            message: message.to_owned(),
            urn: urn.to_owned(),
            stream_id: 0,
            ephemeral: false,
        })
        .await
        .map(|_| ())
}

/// A finished registration or call.
enum Done {
    Resource(Registered),
    Invoke(InvokeResult),
}

/// One deployment of one graph.
struct Run<'a> {
    graph: &'a Graph,
    schedule: &'a Schedule<'a>,
    settings: &'a EngineSettings,
    features: Features,
    versions: &'a ProviderVersions,
    monitor: ResourceMonitorClient<Channel>,
    engine: EngineClient<Channel>,
}

impl Run<'_> {
    fn encoding(&self) -> Encoding {
        Encoding {
            secrets: self.features.secrets,
            output_values: self.features.output_values,
        }
    }

    async fn run(mut self) -> Result<Deployed, DeployError> {
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
                    };
                    self.start(node, &outputs, &root)
                };
                match started {
                    Ok(Start::Spawn(future)) => {
                        in_flight.spawn(async move { (node, future.await) });
                    }
                    Ok(Start::Now(done)) => {
                        self.finish(
                            node,
                            done,
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
                Ok(done) => {
                    self.finish(
                        node,
                        done,
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
            return Err(first);
        }
        let exports = self.register_exports(&root, &registered, &invoked).await?;
        Ok(Deployed {
            root_urn: root.urn,
            resources: registered.len(),
            invokes: invoked.len(),
            exports,
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

    /// The error for a failed node.
    fn failure(&self, node: Node, status: &Status) -> DeployError {
        let resources = self.graph.resources();
        if is_gone(status) {
            let during = if node < self.schedule.resources {
                format!("registering {}", resources[node].id)
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
    fn finish(
        &self,
        node: Node,
        done: Done,
        registered: &mut HashMap<ResourceId, Registered>,
        invoked: &mut HashMap<String, InvokeResult>,
        waits: &mut [usize],
        ready: &mut std::collections::VecDeque<Node>,
    ) {
        match done {
            Done::Resource(resource) => {
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
            version: self
                .versions
                .for_type(&invoke.token)
                .unwrap_or_default()
                .to_owned(),
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

    /// The registration of `resource` with every option it has.
    fn request(
        &self,
        resource: &Resource,
        outputs: &Outputs<'_>,
        root: &Registered,
    ) -> Result<RegisterResourceRequest, DeployError> {
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
        let (aliases, alias_ur_ns) = self.aliases(resource, &parent, root);
        Ok(RegisterResourceRequest {
            r#type: resource.id.type_token.to_string(),
            name: resource.id.name.to_string(),
            parent,
            custom: true,
            object: Some(Struct { fields: object }),
            protect: options.protect.then_some(true),
            dependencies,
            provider,
            property_dependencies,
            delete_before_replace: options.delete_before_replace,
            delete_before_replace_defined: options.delete_before_replace,
            version: self
                .versions
                .for_type(&resource.id.type_token)
                .unwrap_or_default()
                .to_owned(),
            ignore_changes: options.ignore_changes.clone(),
            accept_secrets: true,
            additional_secret_outputs: options.additional_secret_outputs.clone(),
            alias_ur_ns,
            supports_partial_values: true,
            accept_resources: self.features.resource_references,
            replace_on_changes: options.replace_on_changes.clone(),
            aliases,
            alias_specs: self.features.alias_specs && !options.aliases.is_empty(),
            ..RegisterResourceRequest::default()
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
                        parent: a.no_parent.then_some(alias::spec::Parent::NoParent(true)),
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
                let parent_type = if a.no_parent || parent == root.urn {
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
        };
        let mut fields = std::collections::BTreeMap::new();
        for (name, value) in self.graph.exports() {
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

/// A node started: a request to await, or a result known without the engine.
enum Start {
    Spawn(std::pin::Pin<Box<dyn std::future::Future<Output = Result<Done, Status>> + Send>>),
    Now(Done),
}
