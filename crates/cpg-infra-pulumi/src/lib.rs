//! Deploys a cpg-infra resource graph through the Pulumi engine.
//!
//! A Pulumi program is a process the Pulumi CLI's language host starts with the
//! engine's addresses in its environment ([`EngineSettings`]). This crate is that
//! program's engine client, on the generated gRPC types of `pulumi_gestalt_proto`:
//! it registers the root stack, then every resource of the graph as soon as the
//! outputs it uses are known, with every resource option, secrets as secrets and,
//! in a preview, unknowns as unknowns; then the stack exports on the root. A
//! resource with the `id` option (a stack reference, say) is read with the
//! engine's `ReadResource` instead of registered, and its outputs feed the
//! resources that use them the same way.
//!
//! The whole program is one call: [`PulumiMain::main`] opens the plugins the config
//! enables, adds the GCP and Azure clouds, builds, and registers what it built,
//! with warnings and plugin log lines in the engine's log. An organisation's
//! private deploy binary can be this short:
//!
//! ```no_run
//! use cpg_infra::config::load_dir;
//! use cpg_infra::driver::CpgInfrastructure;
//! use cpg_infra_pulumi::PulumiMain;
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = load_dir("config")?;
//! CpgInfrastructure::new(config.infrastructure, config.datasets)?.main()?;
//! # Ok(()) }
//! ```
//!
//! [`ProgramOptions`] names the plugins directory or the config directory
//! explicitly, or other provider versions; [`main_from_config_dir`] also finds and
//! loads the config directory, reporting an invalid config to the engine.
//!
//! Tests run it against the mock engine of the `cpg-infra-mock-engine` crate (test
//! support, not published), which serves a resource monitor and an engine on
//! 127.0.0.1 through [`proto`], [`wire`] and [`EngineSettings`] of this crate.

mod error;
mod plugins;
mod positions;
mod program;
mod resolve;
mod run;
mod schedule;
mod session;
mod settings;
mod versions;
pub mod wire;

pub use error::{DeployError, MissingExport, chain};
pub use plugins::{PluginsError, find_plugins_dir, open_enabled_plugins};
pub use positions::{SourcePositions, file_uri};
pub use program::{
    CONFIG_DIR_ENV, CONFIG_DIR_KEY, MainError, ProgramOptions, PulumiMain, main_from_config_dir,
    prepare,
};
pub use resolve::STACK_REFERENCE_TYPE;
pub use session::{DeployOptions, Deployed, Features, ROOT_TYPE, Session, Severity};
pub use settings::{EngineSettings, SettingsError};
pub use versions::{ProviderVersions, package};

/// The generated Pulumi protocol types this crate speaks (`pulumirpc`).
pub use pulumi_gestalt_proto::pulumi::pulumirpc as proto;
