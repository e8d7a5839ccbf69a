//! Test support for `cpg-infra-pulumi` and the crates built on it (not published;
//! a dev-dependency only): a resource monitor and an engine served on 127.0.0.1
//! that answer like Pulumi's unit-test mocks: a resource's outputs are its inputs
//! (plus what a test adds) and it gets an id; everything sent is recorded for the
//! test to read.
//! A resource read by id (`ReadResource`) is answered the same way, except a
//! `pulumi:pulumi:StackReference`, which is answered from the outputs of other
//! stacks ([`MockOptions::stacks`]) — those of a run recorded before
//! ([`Recorded::stack_outputs`]), so one stack can be run and then another that
//! references it.
//! Faults can be injected: one registration fails, or the engine stops serving
//! (its connections close, as when the CLI's process ends).
//!
//! A package's custom resources can instead be forwarded to a real resource
//! provider served over gRPC ([`MockOptions::providers`]): the mock then checks,
//! creates, diffs and updates them through it as the engine would, starting from
//! the state of an earlier run ([`MockOptions::state`], [`Recorded::state`]).
//!
//! ```
//! use cpg_infra_mock_engine::{MockEngine, MockOptions};
//!
//! let engine = MockEngine::start(MockOptions::default()).expect("listens");
//! let env = engine.environment(4);
//! assert!(env.iter().any(|(k, _)| k == "PULUMI_MONITOR"));
//! ```

mod answers;
mod forward;
mod services;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use prost_types::Struct;
use tonic::transport::server::TcpIncoming;

use cpg_infra_pulumi::proto::{
    LogRequest, ReadResourceRequest, ReadResourceResponse, RegisterResourceOutputsRequest,
    RegisterResourceRequest, RegisterResourceResponse, ResourceInvokeRequest,
    engine_server::EngineServer, resource_monitor_server::ResourceMonitorServer,
};

pub use answers::{answering_for, base64, computed_outputs, computed_value, organization};
use services::{EngineLog, Monitor};

/// Computes the outputs a registration adds to its inputs (a mock's `new_resource`).
pub type OutputsHook =
    Arc<dyn Fn(&RegisterResourceRequest) -> BTreeMap<String, prost_types::Value> + Send + Sync>;
/// Answers a data-source call (a mock's `call`): its result, or an error message.
pub type InvokeHook = Arc<dyn Fn(&ResourceInvokeRequest) -> Result<Struct, String> + Send + Sync>;

/// A resource provider the mock forwards one package's custom resources to.
#[derive(Debug, Clone)]
pub struct ProviderRoute {
    /// The package: the first part of the type tokens forwarded (`cpg` for
    /// `cpg:google:GroupMembership`).
    pub package: String,
    /// Where the provider serves `ResourceProvider`.
    pub address: SocketAddr,
    /// The provider's configuration (`CheckConfig`'s news and `Configure`'s args),
    /// as the stack's `<package>:` config keys would give it.
    pub config: Struct,
}

/// A forwarded resource as the engine's state holds it after an update.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardedResource {
    /// Its type token.
    pub r#type: String,
    /// The id the provider gave it.
    pub id: String,
    /// Its inputs, as the provider checked them.
    pub inputs: Struct,
    /// Its outputs, as the provider returned them.
    pub outputs: Struct,
}

/// One call the mock made to a forwarded provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCall {
    /// The method (`CheckConfig`, `Configure`, `Check`, `Diff`, `Create`,
    /// `Update`, `Delete`).
    pub method: String,
    /// The URN it was about (the default provider's for configuration).
    pub urn: String,
}

/// The id the mock gives a custom resource it answers for itself (not in a
/// preview, not forwarded to a provider, and unless [`MockOptions::outputs`]
/// computes one).
pub fn answered_id(name: &str) -> String {
    format!("{name}-id")
}

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
    /// Extra outputs per registration (not called in a preview); an `id` among
    /// them is the resource's id instead of [`answered_id`].
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
    /// Answer the registration of this (type, name) with an empty URN.
    pub empty_urn: Option<(String, String)>,
    /// Accept connections but never answer `SupportsFeature` (a hung engine).
    pub silent: bool,
    /// Providers that answer for the custom resources of their package instead
    /// of the mock (and of [`MockOptions::outputs`]); configured on first use.
    pub providers: Vec<ProviderRoute>,
    /// The state an earlier update left, by URN ([`Recorded::state`]): a
    /// forwarded resource found here is diffed (and updated or replaced) rather
    /// than created. Resources of the state that are not registered again are
    /// left alone: the mock deletes nothing.
    pub state: BTreeMap<String, ForwardedResource>,
    /// The stacks a `pulumi:pulumi:StackReference` can read, by stack reference
    /// name (`<organization>/<project>/<stack>`, [`MockOptions::stack_reference_name`]):
    /// each stack's outputs, secret ones marked secret (as a run's
    /// [`Recorded::stack_outputs`] holds them). A stack that is not here is
    /// refused, as the engine refuses a stack that does not exist; an empty
    /// entry is a stack created but never updated.
    pub stacks: BTreeMap<String, Struct>,
}

impl MockOptions {
    /// The name another stack's `pulumi:pulumi:StackReference` reads this stack by:
    /// `<organization>/<project>/<stack>`, with the organisation of
    /// [`MockEngine::environment`].
    pub fn stack_reference_name(&self) -> String {
        format!("{ORGANIZATION}/{}/{}", self.project, self.stack)
    }
}

/// The organisation [`MockEngine::environment`] names.
pub const ORGANIZATION: &str = "organization";

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
            empty_urn: None,
            silent: false,
            providers: Vec::new(),
            state: BTreeMap::new(),
            stacks: BTreeMap::new(),
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
            .field("empty_urn", &self.empty_urn)
            .field("silent", &self.silent)
            .field("providers", &self.providers)
            .field("state", &self.state.len())
            .field("stacks", &self.stacks.keys().collect::<Vec<_>>())
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
    /// `ReadResource` requests (resources read by id, such as stack references),
    /// apart from the registrations.
    pub reads: Vec<ReadResourceRequest>,
    /// The answers to reads, in the order they were given: type, name and
    /// response.
    pub read_responses: Vec<(String, String, ReadResourceResponse)>,
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
    /// The calls made to forwarded providers, in the order they were made.
    pub provider_calls: Vec<ProviderCall>,
    /// The forwarded resources this update created, updated or kept, by URN
    /// (empty in a preview, which changes no state): the next run's
    /// [`MockOptions::state`].
    pub state: BTreeMap<String, ForwardedResource>,
}

impl Recorded {
    /// This run's stack outputs: what `RegisterResourceOutputs` last recorded
    /// for the root stack (secrets marked), for another run's
    /// [`MockOptions::stacks`]; `None` when the run sent none.
    pub fn stack_outputs(&self) -> Option<Struct> {
        let root = self.root.as_deref()?;
        self.outputs
            .iter()
            .rev()
            .find(|request| request.urn == root)
            .map(|request| request.outputs.clone().unwrap_or_default())
    }
}

struct Shared {
    options: MockOptions,
    forwarders: Vec<forward::Forwarder>,
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
        let forwarders = options
            .providers
            .iter()
            .cloned()
            .map(forward::Forwarder::new)
            .collect();
        let shared = Arc::new(Shared {
            options,
            forwarders,
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
            ("PULUMI_ORGANIZATION", ORGANIZATION.to_owned()),
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
    pub fn settings(&self, parallel: usize) -> cpg_infra_pulumi::EngineSettings {
        let env: BTreeMap<String, String> = self.environment(parallel).into_iter().collect();
        match cpg_infra_pulumi::EngineSettings::from_lookup(|name| env.get(name).cloned()) {
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
