//! The Pulumi program: `CpgInfrastructure::main()` builds the graph the way the
//! config asks (both clouds, the enabled plugins, the config directory) and deploys
//! it through the engine that started the process.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use cpg_infra::config::{InvalidConfig, Layout, load_dir};
use cpg_infra::driver::{BuildError, Built, CpgInfrastructure, Origins};
use cpg_infra::graph::Graph;
use cpg_infra::plugin::{LogLevel, Mode, PluginContext};
use cpg_infra::shard::{ShardError, ShardPlan, StackContext};
use cpg_infra_azure::AzureProvider;
use cpg_infra_gcp::GcpProvider;
use typed_builder::TypedBuilder;

use crate::error::{DeployError, chain};
use crate::plugins::{PluginsError, open_enabled_plugins};
use crate::positions::SourcePositions;
use crate::session::{DeployOptions, Deployed, Session, Severity};
use crate::settings::{EngineSettings, SettingsError};
use crate::versions::ProviderVersions;

/// The environment variable naming the config directory
/// ([`main_from_config_dir`]).
pub const CONFIG_DIR_ENV: &str = "CPG_INFRA_CONFIG_DIR";
/// The stack's configuration key (`<project>:config-dir`) naming the config
/// directory ([`main_from_config_dir`]), relative to the project's directory.
pub const CONFIG_DIR_KEY: &str = "config-dir";

/// Why `main()` did not deploy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MainError {
    /// The process was not started the way a language host starts a program.
    #[error("not started by the Pulumi engine")]
    Settings(#[from] SettingsError),
    /// Nothing names the config directory (nothing was registered).
    #[error(
        "no config directory: set {CONFIG_DIR_ENV} or run `pulumi config set {CONFIG_DIR_KEY} <dir>`"
    )]
    NoConfigDir,
    /// The config directory does not hold a valid config (nothing was
    /// registered); every problem is in `source.diagnostics`.
    #[error("{}", .dir.display())]
    Config {
        /// The config directory.
        dir: PathBuf,
        /// Every problem found.
        #[source]
        source: InvalidConfig,
    },
    /// The enabled plugins could not be opened (nothing was registered).
    #[error("cannot open the plugins")]
    Plugins(#[from] PluginsError),
    /// The infrastructure could not be built (nothing was registered).
    #[error("cannot build the infrastructure")]
    Build(#[from] BuildError),
    /// The layout is a stack per dataset and the engine's stack has no shard, or
    /// the organisation cannot be cut into shards (nothing was registered).
    #[error("cannot deploy stack {stack:?} as a shard")]
    Shard {
        /// The engine's stack.
        stack: String,
        /// Why.
        #[source]
        source: Box<ShardError>,
    },
    /// The deployment failed.
    #[error("cannot deploy")]
    Deploy(#[from] DeployError),
}

/// How the program runs; every option has a default, so
/// `ProgramOptions::default()` is what [`PulumiMain::main`] uses.
///
/// ```
/// use cpg_infra_pulumi::ProgramOptions;
///
/// let options = ProgramOptions::builder()
///     .plugins_dir("/opt/cpg-infra/plugins")
///     .config_dir("/srv/cpg-config")
///     .build();
/// assert_eq!(options.versions.for_type("cpg:hail:User"), Some(cpg_infra_kinds::PROVIDER_VERSION));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, TypedBuilder)]
#[non_exhaustive]
pub struct ProgramOptions {
    /// The plugins directory. `None`: `CPG_INFRA_PLUGINS_DIR`, else the Pulumi
    /// config `<project>:plugins-dir`, else `plugins/` beside the running binary
    /// (see [`find_plugins_dir`](crate::find_plugins_dir)).
    #[builder(default, setter(strip_option(fallback = plugins_dir_opt), into))]
    pub plugins_dir: Option<PathBuf>,
    /// The config directory: relative paths the plan names (plugins' function
    /// sources, `$asset` and `$archive` paths) are relative to it, and
    /// [`main_from_config_dir`] loads the config from it. `None`: the directory
    /// [`load_dir`] recorded on the config, else the working directory
    /// ([`main_from_config_dir`]: `CPG_INFRA_CONFIG_DIR`, else
    /// `<project>:config-dir`).
    #[builder(default, setter(strip_option(fallback = config_dir_opt), into))]
    pub config_dir: Option<PathBuf>,
    /// Provider plugin versions per package: by default the pinned `gcp`,
    /// `azure-native` and `azuread` versions, and `cpg` at this release's provider
    /// version.
    #[builder(default = pinned_versions())]
    pub versions: ProviderVersions,
}

impl Default for ProgramOptions {
    fn default() -> Self {
        ProgramOptions::builder().build()
    }
}

/// Every provider pinned: the clouds' pinned versions and `cpg` at the version of
/// the provider this release ships (as `deploy migrate-state` records it).
fn pinned_versions() -> ProviderVersions {
    ProviderVersions::default().with("cpg", cpg_infra_kinds::PROVIDER_VERSION)
}

impl ProgramOptions {
    /// The config directory for `infra`: the option, else the one its config
    /// was loaded from.
    fn config_dir_for(&self, infra: &CpgInfrastructure) -> Option<PathBuf> {
        self.config_dir
            .clone()
            .or_else(|| infra.config().config_dir.clone())
    }
}

/// Deploying a [`CpgInfrastructure`] through the Pulumi engine: brings
/// `infra.main()` into scope.
///
/// ```no_run
/// use cpg_infra::config::load_dir;
/// use cpg_infra::driver::CpgInfrastructure;
/// use cpg_infra_pulumi::PulumiMain;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = load_dir("config")?;
/// CpgInfrastructure::new(config.infrastructure, config.datasets)?.main()?;
/// # Ok(()) }
/// ```
pub trait PulumiMain: Sized {
    /// The whole Pulumi program (`pulumi preview` / `pulumi up`), with the default
    /// [`ProgramOptions`]: connects to the engine the environment names, sends
    /// validation warnings to its log, makes the infrastructure ready as
    /// [`prepare`] does (GCP and Azure, the enabled plugins from the plugins
    /// directory, planning in a preview and deploying in an update), builds it,
    /// sends the plugins' log lines to the engine's log, and registers every
    /// resource with every provider version pinned and asset paths relative to
    /// the config directory. Warnings and plugin log lines also go to standard
    /// error. A plugin that does not open, or a build error, is sent to the
    /// engine's log and returned; nothing is registered then.
    ///
    /// When the config's `[deploy] layout` is `stack-per-dataset`, the whole
    /// organisation is still built, then cut into shards
    /// ([`ShardPlan`](cpg_infra::shard::ShardPlan)), and only the shard of the
    /// engine's stack is registered: its resources, a stack reference
    /// `<organization>/<project>/<stack>` per shard it reads from, and the
    /// exports other shards read. A stack that is no shard's (or a cut with a
    /// cycle) is sent to the engine's log, listing the valid stacks, and returned;
    /// nothing is registered then.
    fn main(self) -> Result<Deployed, MainError> {
        self.main_with(&ProgramOptions::default())
    }

    /// [`PulumiMain::main`] with explicit options.
    fn main_with(self, options: &ProgramOptions) -> Result<Deployed, MainError> {
        self.deploy_to(EngineSettings::from_env()?, options)
    }

    /// [`PulumiMain::main_with`] for the engine `settings` name, rather than the
    /// one the environment names.
    fn deploy_to(
        self,
        settings: EngineSettings,
        options: &ProgramOptions,
    ) -> Result<Deployed, MainError> {
        self.deploy_in(&Session::connect(settings)?, options)
    }

    /// [`PulumiMain::main_with`] over a `session` already connected.
    fn deploy_in(self, session: &Session, options: &ProgramOptions) -> Result<Deployed, MainError>;
}

impl PulumiMain for CpgInfrastructure {
    fn deploy_in(self, session: &Session, options: &ProgramOptions) -> Result<Deployed, MainError> {
        for warning in self.warnings() {
            report(session, Severity::Warning, &warning.to_string());
            eprintln!("warning: {warning}");
        }
        // A preview plans: plugins accept missing payload (function sources) then,
        // and refuse it when deploying.
        let mode = if session.settings().dry_run {
            Mode::Plan
        } else {
            Mode::Deploy
        };
        let asset_root = options.config_dir_for(&self);
        let layout = self.config().deploy.layout;
        let infra = prepare(self, options, mode).inspect_err(|error| {
            for line in error.lines() {
                report(session, Severity::Error, &line);
            }
        })?;
        let built = infra.build_with_log().inspect_err(|error| {
            report(session, Severity::Error, &chain(error));
        })?;
        for line in &built.plugin_log {
            report(session, severity(line.level), &line.to_string());
            eprintln!("{line}");
        }
        let graph = match layout {
            Layout::SingleStack => Cow::Borrowed(&built.graph),
            Layout::StackPerDataset => {
                let (graph, summary) =
                    shard_graph(&built, session.settings()).map_err(|source| {
                        let error = MainError::Shard {
                            stack: session.settings().stack.clone(),
                            source: Box::new(source),
                        };
                        report(session, Severity::Error, &chain(&error));
                        error
                    })?;
                report(session, Severity::Info, &summary);
                eprintln!("{summary}");
                Cow::Owned(graph)
            }
        };
        let source_positions = source_positions(&infra, &graph, &built.origins, options)
            .unwrap_or_else(|error| {
                let warning = format!("registering without source positions: {error}");
                report(session, Severity::Warning, &warning);
                eprintln!("warning: {warning}");
                SourcePositions::default()
            });
        let deploy_options = DeployOptions {
            versions: options.versions.clone(),
            asset_root: asset_root.clone(),
            source_positions,
        };
        // The client logs a failure to the engine itself.
        let deployed = session.deploy(&graph, &deploy_options)?;
        let place = asset_root.map(|dir| format!("{}: ", dir.display()));
        report(
            session,
            Severity::Debug,
            &format!(
                "{}{} resources, {} read, {} data-source calls, {} exports",
                place.unwrap_or_default(),
                deployed.resources,
                deployed.reads,
                deployed.invokes,
                deployed.exports
            ),
        );
        Ok(deployed)
    }
}

/// Where the files `infra`'s config was loaded from define each resource of
/// `graph` ([`SourcePositions::from_config`]), the files found in the config's
/// directory, else in the directory of `options`; none for a config built in code
/// (or without a directory).
fn source_positions(
    infra: &CpgInfrastructure,
    graph: &Graph,
    origins: &Origins,
    options: &ProgramOptions,
) -> Result<SourcePositions, String> {
    let config = infra.config();
    let dir = config
        .config_dir
        .as_deref()
        .or(options.config_dir.as_deref());
    let (Some(sources), Some(dir)) = (config.sources.as_deref(), dir) else {
        return Ok(SourcePositions::default());
    };
    SourcePositions::from_config(graph, origins, sources, dir)
        .map_err(|error| format!("{}: {error}", dir.display()))
}

/// The graph the engine's stack registers when the organisation is deployed as a
/// stack per dataset: the shard of `settings.stack`, its stack references named
/// in `settings.organization` and `settings.project`; and a line saying which
/// shard that is and what it holds.
fn shard_graph(built: &Built, settings: &EngineSettings) -> Result<(Graph, String), ShardError> {
    let plan = ShardPlan::new(&built.graph, &built.origins)?;
    let index = plan.shard_for_stack(&settings.stack)?;
    let context = StackContext::new(&settings.organization, &settings.project);
    let graph = plan.shard_graph(&built.graph, index, &context)?;
    let shard = plan.shard(index);
    let wave = plan
        .waves()
        .iter()
        .position(|wave| wave.contains(&index))
        .unwrap_or_default();
    let outputs: usize = shard.reads.values().map(|names| names.len()).sum();
    let summary = format!(
        "stack {:?}: shard {} of {} in wave {wave} (waves 0 to {}), {} of the organisation's \
         {} resources, {outputs} outputs read from {} other stacks",
        shard.stack,
        index + 1,
        plan.shards().len(),
        plan.waves().len().saturating_sub(1),
        shard.resources.len(),
        built.graph.len(),
        shard.reads.len(),
    );
    Ok((graph, summary))
}

/// `infra` made ready to build the way the program builds it, in `mode`: the GCP
/// and Azure clouds for each of the two no provider was given for (a cloud no
/// dataset deploys to declares nothing), the plugin context (the config directory
/// of `options` or of the config, and `mode`), and every enabled plugin not given
/// already, opened from the plugins directory
/// ([`open_enabled_plugins`](crate::open_enabled_plugins)).
pub fn prepare(
    infra: CpgInfrastructure,
    options: &ProgramOptions,
    mode: Mode,
) -> Result<CpgInfrastructure, PluginsError> {
    let config_dir = options.config_dir_for(&infra);
    let mut infra = infra.with_plugin_context(PluginContext { config_dir, mode });
    if !infra.has_cloud(cpg_infra::config::CloudName::Gcp) {
        infra = infra.with_cloud(GcpProvider);
    }
    if !infra.has_cloud(cpg_infra::config::CloudName::Azure) {
        infra = infra.with_cloud(AzureProvider);
    }
    open_enabled_plugins(infra, options.plugins_dir.as_deref())
}

/// The whole Pulumi program for a config directory: `options.config_dir`, else
/// `CPG_INFRA_CONFIG_DIR`, else the stack's configuration `<project>:config-dir`
/// (relative to the project's directory). Loads and validates it (every problem
/// goes to the engine's log, and nothing is registered), then runs
/// [`PulumiMain::main_with`] on it.
pub fn main_from_config_dir(options: &ProgramOptions) -> Result<Deployed, MainError> {
    let session = Session::connect(EngineSettings::from_env()?)?;
    let environment = std::env::var_os(CONFIG_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let Some(dir) = find_config_dir(
        options.config_dir.as_deref(),
        environment,
        session.settings(),
    ) else {
        let error = MainError::NoConfigDir;
        report(&session, Severity::Error, &error.to_string());
        return Err(error);
    };
    let config = load_dir(&dir).map_err(|invalid| {
        for diagnostic in &invalid.diagnostics {
            report(&session, Severity::Error, &diagnostic.to_string());
        }
        let error = MainError::Config {
            dir: dir.clone(),
            source: invalid,
        };
        report(&session, Severity::Error, &chain(&error));
        error
    })?;
    CpgInfrastructure::from_validated(config).deploy_in(&session, options)
}

/// The config directory: `explicit`, else `environment`, else the stack's
/// configuration, which is relative to the project's directory.
fn find_config_dir(
    explicit: Option<&Path>,
    environment: Option<PathBuf>,
    settings: &EngineSettings,
) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = environment {
        return Some(dir);
    }
    let configured = PathBuf::from(settings.config(CONFIG_DIR_KEY)?);
    Some(match &settings.root_directory {
        Some(root) if configured.is_relative() => root.join(configured),
        _ => configured,
    })
}

/// Sends `message` to the engine's log; best effort, since the engine may be what
/// failed, and the caller reports the failure either way.
fn report(session: &Session, severity: Severity, message: &str) {
    let _ = session.log(severity, message);
}

/// The engine's severity for a plugin's log level.
fn severity(level: LogLevel) -> Severity {
    match level {
        LogLevel::Debug => Severity::Debug,
        LogLevel::Info => Severity::Info,
        LogLevel::Warning => Severity::Warning,
        LogLevel::Error => Severity::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(config: &str, root: Option<&str>) -> EngineSettings {
        EngineSettings::from_lookup(|name| match name {
            "PULUMI_MONITOR" | "PULUMI_ENGINE" => Some("127.0.0.1:1".into()),
            "PULUMI_PROJECT" => Some("cpg".into()),
            "PULUMI_STACK" => Some("test".into()),
            "PULUMI_DRY_RUN" => Some("true".into()),
            "PULUMI_PARALLEL" => Some("4".into()),
            "PULUMI_CONFIG" => Some(config.into()),
            "PULUMI_ROOT_DIRECTORY" => root.map(String::from),
            _ => None,
        })
        .expect("settings")
    }

    #[test]
    fn the_option_wins_then_the_environment_then_pulumi_config() {
        let configured = settings(r#"{"cpg:config-dir": "conf"}"#, Some("/srv/project"));
        assert_eq!(
            find_config_dir(Some(Path::new("flag")), Some("env".into()), &configured),
            Some(PathBuf::from("flag"))
        );
        assert_eq!(
            find_config_dir(None, Some("env".into()), &configured),
            Some(PathBuf::from("env"))
        );
        assert_eq!(
            find_config_dir(None, None, &configured),
            Some(PathBuf::from("/srv/project/conf"))
        );
        let absolute = settings(r#"{"cpg:config-dir": "/etc/cpg"}"#, Some("/srv/project"));
        assert_eq!(
            find_config_dir(None, None, &absolute),
            Some(PathBuf::from("/etc/cpg"))
        );
        let other_project = settings(r#"{"other:config-dir": "conf"}"#, None);
        assert_eq!(find_config_dir(None, None, &other_project), None);
    }

    #[test]
    fn every_provider_is_pinned_by_default_including_cpg() {
        let options = ProgramOptions::default();
        for (token, version) in [
            ("gcp:storage/bucket:Bucket", cpg_infra_gcp::tokens::VERSION),
            (
                "azure-native:storage:StorageAccount",
                cpg_infra_azure::tokens::AZURE_NATIVE_VERSION,
            ),
            (
                "azuread:index/group:Group",
                cpg_infra_azure::tokens::AZUREAD_VERSION,
            ),
            ("cpg:hail:User", cpg_infra_kinds::PROVIDER_VERSION),
        ] {
            assert_eq!(options.versions.for_type(token), Some(version), "{token}");
        }
    }
}
