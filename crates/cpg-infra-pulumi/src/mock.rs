//! A resource monitor and an engine served on 127.0.0.1 that answer like
//! Pulumi's unit-test mocks: a resource's outputs are its inputs (plus what a
//! test adds) and it gets an id; everything sent is recorded for the test to read.
//! Faults can be injected: one registration fails, or the engine stops serving
//! (its connections close, as when the CLI's process ends).
//!
//! ```
//! use cpg_infra_pulumi::mock::{MockEngine, MockOptions};
//!
//! let engine = MockEngine::start(MockOptions::default()).expect("listens");
//! let env = engine.environment(4);
//! assert!(env.iter().any(|(k, _)| k == "PULUMI_MONITOR"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use cpg_infra::graph::{Graph, Value};
use prost_types::Struct;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use crate::proto::{
    CallResponse, Callback, GetRootResourceRequest, GetRootResourceResponse, InvokeResponse,
    LogRequest, ReadResourceRequest, ReadResourceResponse, RegisterErrorHookRequest,
    RegisterPackageRequest, RegisterPackageResponse, RegisterResourceHookRequest,
    RegisterResourceOutputsRequest, RegisterResourceRequest, RegisterResourceResponse,
    RequirePulumiVersionRequest, RequirePulumiVersionResponse, ResourceCallRequest,
    ResourceInvokeRequest, SetRootResourceRequest, SetRootResourceResponse, StartDebuggingRequest,
    SupportsFeatureRequest, SupportsFeatureResponse,
    engine_server::{Engine, EngineServer},
    resource_monitor_server::{ResourceMonitor, ResourceMonitorServer},
};
use crate::wire;

/// Computes the outputs a registration adds to its inputs (a mock's `new_resource`).
pub type OutputsHook =
    Arc<dyn Fn(&RegisterResourceRequest) -> BTreeMap<String, prost_types::Value> + Send + Sync>;
/// Answers a data-source call (a mock's `call`): its result, or an error message.
pub type InvokeHook = Arc<dyn Fn(&ResourceInvokeRequest) -> Result<Struct, String> + Send + Sync>;

/// How the mock answers.
#[derive(Clone)]
pub struct MockOptions {
    /// The project and stack the URNs name.
    pub project: String,
    /// The stack.
    pub stack: String,
    /// A preview: ids are empty (unknown) and outputs are only the inputs.
    pub dry_run: bool,
    /// The features `SupportsFeature` says yes to.
    pub features: BTreeSet<String>,
    /// Extra outputs per registration (not called in a preview).
    pub outputs: Option<OutputsHook>,
    /// The answer to data-source calls; without one, a call returns its arguments.
    pub invoke: Option<InvokeHook>,
    /// Refuse the registration of this (type, name) with a message naming it.
    pub fail: Option<(String, String)>,
    /// On the n-th RegisterResource (1 for the root), stop serving: that request
    /// never gets an answer and every connection is closed.
    pub stop_after: Option<usize>,
    /// How long each RegisterResource takes, so concurrency is observable.
    pub delay: Duration,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            project: "cpg".into(),
            stack: "test".into(),
            dry_run: false,
            features: [
                "secrets",
                "resourceReferences",
                "outputValues",
                "aliasSpecs",
                "deletedWith",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            outputs: None,
            invoke: None,
            fail: None,
            stop_after: None,
            delay: Duration::ZERO,
        }
    }
}

impl std::fmt::Debug for MockOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockOptions")
            .field("project", &self.project)
            .field("stack", &self.stack)
            .field("dry_run", &self.dry_run)
            .field("features", &self.features)
            .field("fail", &self.fail)
            .field("stop_after", &self.stop_after)
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

/// Everything the mock received, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// `SupportsFeature` ids asked.
    pub features: Vec<String>,
    /// `RegisterResource` requests, the root's included.
    pub registrations: Vec<RegisterResourceRequest>,
    /// `RegisterResourceOutputs` requests.
    pub outputs: Vec<RegisterResourceOutputsRequest>,
    /// `Invoke` requests.
    pub invokes: Vec<ResourceInvokeRequest>,
    /// `Engine.Log` requests.
    pub logs: Vec<LogRequest>,
    /// The answers to registrations, in the order they were given: type, name
    /// and response.
    pub responses: Vec<(String, String, RegisterResourceResponse)>,
    /// The URN given to `SetRootResource`.
    pub root: Option<String>,
    /// The most registrations in progress at once.
    pub max_in_flight: usize,
}

struct Shared {
    options: MockOptions,
    recorded: Mutex<Recorded>,
    in_flight: AtomicUsize,
    registrations: AtomicUsize,
    stop: Mutex<Option<mpsc::Sender<()>>>,
}

impl Shared {
    fn recorded(&self) -> MutexGuard<'_, Recorded> {
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn stop(&self) {
        let sender = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }
}

/// A running mock: a resource monitor and an engine, each on its own port of
/// 127.0.0.1, served by a runtime on a thread of their own until stopped or
/// dropped.
pub struct MockEngine {
    monitor: SocketAddr,
    engine: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for MockEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockEngine")
            .field("monitor", &self.monitor)
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl MockEngine {
    /// Listens on two free ports of 127.0.0.1 and serves.
    pub fn start(options: MockOptions) -> std::io::Result<MockEngine> {
        let monitor_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let engine_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        monitor_listener.set_nonblocking(true)?;
        engine_listener.set_nonblocking(true)?;
        let monitor = monitor_listener.local_addr()?;
        let engine = engine_listener.local_addr()?;
        let (stop_tx, stop_rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            options,
            recorded: Mutex::new(Recorded::default()),
            in_flight: AtomicUsize::new(0),
            registrations: AtomicUsize::new(0),
            stop: Mutex::new(Some(stop_tx)),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let served = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let started = runtime.block_on(async {
                let monitor_listener = tokio::net::TcpListener::from_std(monitor_listener)?;
                let engine_listener = tokio::net::TcpListener::from_std(engine_listener)?;
                let monitor_service = ResourceMonitorServer::new(Monitor(Arc::clone(&served)))
                    .max_decoding_message_size(usize::MAX)
                    .max_encoding_message_size(usize::MAX);
                tokio::spawn(
                    tonic::transport::Server::builder()
                        .add_service(monitor_service)
                        .serve_with_incoming(
                            TcpIncoming::from(monitor_listener).with_nodelay(Some(true)),
                        ),
                );
                tokio::spawn(
                    tonic::transport::Server::builder()
                        .add_service(EngineServer::new(EngineLog(Arc::clone(&served))))
                        .serve_with_incoming(
                            TcpIncoming::from(engine_listener).with_nodelay(Some(true)),
                        ),
                );
                Ok::<_, std::io::Error>(())
            });
            if started.is_ok() {
                // Serve until stopped (or the mock is dropped).
                let _ = stop_rx.recv();
            }
            // Dropping every task closes every connection at once.
            runtime.shutdown_background();
        });
        Ok(MockEngine {
            monitor,
            engine,
            shared,
            thread: Some(thread),
        })
    }

    /// The resource monitor's address.
    pub fn monitor_address(&self) -> SocketAddr {
        self.monitor
    }

    /// The engine's address.
    pub fn engine_address(&self) -> SocketAddr {
        self.engine
    }

    /// The environment a language host gives a program for this engine, with
    /// `parallel` registrations allowed at once.
    pub fn environment(&self, parallel: usize) -> Vec<(String, String)> {
        let options = &self.shared.options;
        [
            ("PULUMI_MONITOR", self.monitor.to_string()),
            ("PULUMI_ENGINE", self.engine.to_string()),
            ("PULUMI_PROJECT", options.project.clone()),
            ("PULUMI_STACK", options.stack.clone()),
            ("PULUMI_ORGANIZATION", "organization".to_owned()),
            ("PULUMI_DRY_RUN", options.dry_run.to_string()),
            ("PULUMI_PARALLEL", parallel.to_string()),
            ("PULUMI_CONFIG", "{}".to_owned()),
            ("PULUMI_CONFIG_SECRET_KEYS", "[]".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The settings a program reads from [`MockEngine::environment`].
    pub fn settings(&self, parallel: usize) -> crate::EngineSettings {
        let env: BTreeMap<String, String> = self.environment(parallel).into_iter().collect();
        match crate::EngineSettings::from_lookup(|name| env.get(name).cloned()) {
            Ok(settings) => settings,
            // The environment above holds every required variable.
            Err(error) => unreachable!("mock environment: {error}"),
        }
    }

    /// A copy of everything received so far.
    pub fn recorded(&self) -> Recorded {
        self.shared.recorded().clone()
    }

    /// Stops serving: every connection closes and the ports stop accepting.
    pub fn stop(&mut self) {
        self.shared.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MockEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The URN the engine gives `name` of `type_token` under the parent `parent`.
fn urn(options: &MockOptions, type_token: &str, name: &str, parent: &str) -> String {
    let parent_type = parent.split("::").nth(2).filter(|t| *t != crate::ROOT_TYPE);
    let qualified = match parent_type {
        Some(p) if !parent.is_empty() => format!("{p}${type_token}"),
        _ => type_token.to_owned(),
    };
    format!(
        "urn:pulumi:{}::{}::{qualified}::{name}",
        options.stack, options.project
    )
}

struct Monitor(Arc<Shared>);

/// Decrements the in-flight count when a registration ends, answered or not.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tonic::async_trait]
impl ResourceMonitor for Monitor {
    async fn supports_feature(
        &self,
        request: Request<SupportsFeatureRequest>,
    ) -> Result<Response<SupportsFeatureResponse>, Status> {
        let id = request.into_inner().id;
        let has_support = self.0.options.features.contains(&id);
        self.0.recorded().features.push(id);
        Ok(Response::new(SupportsFeatureResponse { has_support }))
    }

    async fn invoke(
        &self,
        request: Request<ResourceInvokeRequest>,
    ) -> Result<Response<InvokeResponse>, Status> {
        let request = request.into_inner();
        self.0.recorded().invokes.push(request.clone());
        let result = match &self.0.options.invoke {
            Some(hook) => hook(&request).map_err(Status::unknown)?,
            None => request.args.clone().unwrap_or_default(),
        };
        Ok(Response::new(InvokeResponse {
            r#return: Some(result),
            failures: Vec::new(),
        }))
    }

    async fn call(
        &self,
        _request: Request<ResourceCallRequest>,
    ) -> Result<Response<CallResponse>, Status> {
        Err(Status::unimplemented("the mock has no components"))
    }

    async fn read_resource(
        &self,
        _request: Request<ReadResourceRequest>,
    ) -> Result<Response<ReadResourceResponse>, Status> {
        Err(Status::unimplemented("the mock reads no resources"))
    }

    async fn register_resource(
        &self,
        request: Request<RegisterResourceRequest>,
    ) -> Result<Response<RegisterResourceResponse>, Status> {
        let shared = &self.0;
        let request = request.into_inner();
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = InFlight(&shared.in_flight);
        let count = shared.registrations.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut recorded = shared.recorded();
            recorded.max_in_flight = recorded.max_in_flight.max(now);
            recorded.registrations.push(request.clone());
        }
        if shared.options.stop_after == Some(count) {
            shared.stop();
            std::future::pending::<()>().await;
        }
        if !shared.options.delay.is_zero() {
            tokio::time::sleep(shared.options.delay).await;
        }
        let options = &shared.options;
        if options
            .fail
            .as_ref()
            .is_some_and(|(t, n)| *t == request.r#type && *n == request.name)
        {
            return Err(Status::unknown(format!(
                "creating {} failed: injected failure",
                request.name
            )));
        }
        let urn = urn(options, &request.r#type, &request.name, &request.parent);
        let mut object = request.object.clone().unwrap_or_default();
        let id = if !request.custom || options.dry_run {
            String::new()
        } else {
            format!("{}-id", request.name)
        };
        if !options.dry_run && request.custom {
            if let Some(hook) = &options.outputs {
                object.fields.extend(hook(&request));
            }
            object.fields.insert("id".into(), wire::string(id.clone()));
        }
        // As the engine does: the outputs named secret come back as secrets.
        for name in &request.additional_secret_outputs {
            if let Some(value) = object.fields.remove(name) {
                let value = if wire::secret_inner(&value).is_some() {
                    value
                } else {
                    wire::secret(value)
                };
                object.fields.insert(name.clone(), value);
            }
        }
        let response = RegisterResourceResponse {
            urn,
            id,
            object: Some(object),
            ..RegisterResourceResponse::default()
        };
        shared
            .recorded()
            .responses
            .push((request.r#type, request.name, response.clone()));
        Ok(Response::new(response))
    }

    async fn register_resource_outputs(
        &self,
        request: Request<RegisterResourceOutputsRequest>,
    ) -> Result<Response<()>, Status> {
        self.0.recorded().outputs.push(request.into_inner());
        Ok(Response::new(()))
    }

    async fn register_stack_transform(
        &self,
        _request: Request<Callback>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no transforms"))
    }

    async fn register_stack_invoke_transform(
        &self,
        _request: Request<Callback>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no transforms"))
    }

    async fn register_resource_hook(
        &self,
        _request: Request<RegisterResourceHookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no hooks"))
    }

    async fn register_error_hook(
        &self,
        _request: Request<RegisterErrorHookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no hooks"))
    }

    async fn register_package(
        &self,
        _request: Request<RegisterPackageRequest>,
    ) -> Result<Response<RegisterPackageResponse>, Status> {
        Err(Status::unimplemented("no packages"))
    }

    async fn signal_and_wait_for_shutdown(
        &self,
        _request: Request<()>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }
}

struct EngineLog(Arc<Shared>);

#[tonic::async_trait]
impl Engine for EngineLog {
    async fn log(&self, request: Request<LogRequest>) -> Result<Response<()>, Status> {
        self.0.recorded().logs.push(request.into_inner());
        Ok(Response::new(()))
    }

    async fn get_root_resource(
        &self,
        _request: Request<GetRootResourceRequest>,
    ) -> Result<Response<GetRootResourceResponse>, Status> {
        let urn = self.0.recorded().root.clone().unwrap_or_default();
        Ok(Response::new(GetRootResourceResponse { urn }))
    }

    async fn set_root_resource(
        &self,
        request: Request<SetRootResourceRequest>,
    ) -> Result<Response<SetRootResourceResponse>, Status> {
        self.0.recorded().root = Some(request.into_inner().urn);
        Ok(Response::new(SetRootResourceResponse {}))
    }

    async fn start_debugging(
        &self,
        _request: Request<StartDebuggingRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no debugging"))
    }

    async fn require_pulumi_version(
        &self,
        _request: Request<RequirePulumiVersionRequest>,
    ) -> Result<Response<RequirePulumiVersionResponse>, Status> {
        Ok(Response::new(RequirePulumiVersionResponse {}))
    }
}

/// Standard base64 of `text` (for outputs that providers return encoded).
pub fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The value a provider would compute for output `property` of resource `name`:
/// base64 of a small JSON key file for a `privateKey`, `"<name>.<property>"`
/// otherwise.
pub fn computed_value(name: &str, property: &str) -> prost_types::Value {
    if property == "privateKey" {
        wire::string(base64(&format!("{{\"key\": \"{name}\"}}")))
    } else {
        wire::string(format!("{name}.{property}"))
    }
}

/// Every output property `value` reads, by resource.
fn read_properties(
    value: &Value,
    read: &mut std::collections::HashMap<(String, String), BTreeSet<String>>,
) {
    match value {
        Value::Output(o) => {
            read.entry((
                o.resource.type_token.to_string(),
                o.resource.name.to_string(),
            ))
            .or_default()
            .insert(o.property.clone());
        }
        Value::List(items) => items.iter().for_each(|v| read_properties(v, read)),
        Value::Map(entries) => entries.values().for_each(|v| read_properties(v, read)),
        Value::Secret(inner) => read_properties(inner, read),
        Value::Invoke(invoke) => invoke.args.values().for_each(|v| read_properties(v, read)),
        Value::Function(f) => f
            .arguments()
            .into_iter()
            .for_each(|v| read_properties(v, read)),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::String(_) => {}
    }
}

/// An outputs hook that, like a provider, computes every output property
/// `graph` reads that a resource's inputs do not hold ([`computed_value`]).
pub fn computed_outputs(graph: &Graph) -> OutputsHook {
    let mut read = std::collections::HashMap::new();
    for resource in graph.resources() {
        for value in resource.inputs.values() {
            read_properties(value, &mut read);
        }
    }
    for value in graph.exports().values() {
        read_properties(value, &mut read);
    }
    Arc::new(move |request: &RegisterResourceRequest| {
        let mut added = BTreeMap::new();
        let key = (request.r#type.clone(), request.name.clone());
        let inputs = request.object.as_ref();
        for property in read.get(&key).into_iter().flatten() {
            let (head, rest) = property.split_once('.').unwrap_or((property, ""));
            if head == "id" || inputs.is_some_and(|i| i.fields.contains_key(head)) {
                continue;
            }
            let value = computed_value(&request.name, property);
            let value = if rest.is_empty() {
                value
            } else {
                wire::object([(rest.to_owned(), value)])
            };
            added.insert(head.to_owned(), value);
        }
        added
    })
}

/// An invoke hook answering `gcp:organizations/getOrganization` (and any other
/// call) with its arguments plus `id` `organizations/<org_id>` and `orgId`.
pub fn organization(org_id: &str) -> InvokeHook {
    let org_id = org_id.to_owned();
    Arc::new(move |request: &ResourceInvokeRequest| {
        let mut result = request.args.clone().unwrap_or_default();
        result
            .fields
            .insert("id".into(), wire::string(format!("organizations/{org_id}")));
        result
            .fields
            .insert("orgId".into(), wire::string(org_id.clone()));
        Ok(result)
    })
}

/// Options answering for `graph` as a provider would: computed outputs
/// ([`computed_outputs`]) and an organisation for data sources
/// ([`organization`]).
pub fn answering_for(graph: &Graph, org_id: &str, options: MockOptions) -> MockOptions {
    MockOptions {
        outputs: Some(computed_outputs(graph)),
        invoke: Some(organization(org_id)),
        ..options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_the_standard_alphabet() {
        assert_eq!(base64(""), "");
        assert_eq!(base64("f"), "Zg==");
        assert_eq!(base64("fo"), "Zm8=");
        assert_eq!(base64("foo"), "Zm9v");
        assert_eq!(base64("{\"key\": 1}"), "eyJrZXkiOiAxfQ==");
    }

    #[test]
    fn urns_name_non_root_parents() {
        let options = MockOptions::default();
        assert_eq!(
            urn(
                &options,
                "t:m:M",
                "a",
                "urn:pulumi:test::cpg::pulumi:pulumi:Stack::cpg-test"
            ),
            "urn:pulumi:test::cpg::t:m:M::a"
        );
        assert_eq!(
            urn(
                &options,
                "t:m:M",
                "b",
                "urn:pulumi:test::cpg::p:c:C::parent"
            ),
            "urn:pulumi:test::cpg::p:c:C$t:m:M::b"
        );
        assert_eq!(
            urn(&options, "t:m:M", "c", ""),
            "urn:pulumi:test::cpg::t:m:M::c"
        );
    }
}
