//! A connection to the engine that started this process: the monitor's features,
//! the engine's log, and deployments (see `run`).

use std::time::Duration;

use cpg_infra::graph::Graph;
use pulumi_gestalt_proto::pulumi::pulumirpc::{
    LogRequest, LogSeverity, SupportsFeatureRequest, engine_client::EngineClient,
    resource_monitor_client::ResourceMonitorClient,
};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::error::DeployError;
use crate::positions::SourcePositions;
use crate::schedule::Schedule;
use crate::settings::EngineSettings;
use crate::versions::ProviderVersions;

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

/// How long the first exchange with the engine (connecting and asking the
/// monitor's features) may take: an engine that accepts connections but never
/// answers is reported after this, not after the keep-alive gives up.
pub const FIRST_EXCHANGE_DEADLINE: Duration = Duration::from_secs(10);

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
    /// The directory the plan's relative asset and archive paths are relative to
    /// (the config directory, for function sources); `None`: the working directory.
    pub asset_root: Option<std::path::PathBuf>,
    /// Where the config defines each resource, sent as its registration's (or
    /// read's) `sourcePosition`; a resource without one is sent without.
    pub source_positions: SourcePositions,
}

/// What a deployment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The root stack's URN.
    pub root_urn: String,
    /// Resources registered (without the root and the resources read).
    pub resources: usize,
    /// Resources read from the engine (those with the `id` option, such as
    /// stack references), not registered.
    pub reads: usize,
    /// Data-source calls made (or found unknown in a preview).
    pub invokes: usize,
    /// Stack exports sent.
    pub exports: usize,
    /// Registered resources whose outputs were still held when the run ended: only
    /// those a stack export reads. Every other resource's outputs are dropped as soon
    /// as no resource still to be registered needs them (its URN and id stay).
    pub outputs_kept: usize,
    /// The most registered resources' outputs held at any one time during the run.
    pub max_outputs_kept: usize,
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
pub(crate) fn is_gone(status: &Status) -> bool {
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
pub(crate) fn call_error(call: &'static str, status: &Status) -> DeployError {
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
    /// the monitor supports. An unreachable address is an error within seconds,
    /// and so is an engine that does not answer within
    /// [`FIRST_EXCHANGE_DEADLINE`].
    pub fn connect(settings: EngineSettings) -> Result<Session, DeployError> {
        Session::connect_within(settings, FIRST_EXCHANGE_DEADLINE)
    }

    /// [`Session::connect`] with another deadline for the first exchange: past
    /// it, the error is [`DeployError::EngineSilent`].
    pub fn connect_within(
        settings: EngineSettings,
        deadline: Duration,
    ) -> Result<Session, DeployError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(DeployError::Runtime)?;
        let first_exchange = async {
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
        };
        let (monitor, engine, features) = runtime.block_on(async {
            tokio::time::timeout(deadline, first_exchange)
                .await
                .unwrap_or_else(|_| {
                    Err(DeployError::EngineSilent {
                        address: settings.monitor.clone(),
                        waited: deadline,
                    })
                })
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
        let run = crate::run::Run {
            graph,
            schedule: &schedule,
            settings: &self.settings,
            features: self.features,
            versions: &options.versions,
            asset_root: options.asset_root.as_deref(),
            source_positions: &options.source_positions,
            monitor: self.monitor.clone(),
            engine: self.engine.clone(),
        };
        self.runtime.block_on(run.run())
    }
}

/// One message to the engine's log.
pub(crate) async fn log(
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
