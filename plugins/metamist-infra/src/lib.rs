//! The metamist ETL infrastructure, a cpg-infra plugin named `metamist` (the external
//! plugin `metamist_infrastructure` of populationgenomics/metamist).
//!
//! Driven by `metamist.etl`: when groups are finalised (the accessors include a
//! dataset's resolved analysis group) it declares, in metamist's project, the
//! services, the ETL service accounts and accessors, the accessor configuration
//! secret, the Pub/Sub topics and subscriptions with their dead letters, the
//! BigQuery dataset and tables, the extract and load functions (the load function's
//! requirements point at the organisation's Python registry), the Slack notification
//! function, and who may invoke the extract function. Without `metamist.etl` it does
//! nothing.
//!
//! The ETL functions' sources are payload, not part of this project: they are read
//! from `metamist.etl.sources_dir` (default `functions/metamist`, relative to the
//! config directory), laid out as metamist's `etl/` directory: `extract/`, `load/`,
//! `notification/`, `bq_schema.json` and `bq_log_schema.json`. A missing directory is
//! a warning when planning (archives are recorded by path, table schemas left out)
//! and an error when deploying, before anything is declared.
//!
//! ```no_run
//! use cpg_infra_plugin_api::sdk::Plugin;
//! use cpg_infra_plugin_api::testing::MockHost;
//!
//! # fn config() -> cpg_infra::config::Config { unimplemented!() }
//! let mut host = MockHost::new(config());
//! let mut plugin = metamist::Metamist;
//! plugin.main(&mut host)?;
//! host.finalise_groups();
//! plugin.on_group_finalisation(&mut host)?;
//! # Ok::<(), cpg_infra_plugin_api::sdk::PluginError>(())
//! ```

mod etl;
mod notification;

use cpg_infra::error_chain;
use std::path::Path;

use cpg_infra::config::{ConfigDir, CpgInfrastructureConfig, EtlConfig, MetamistConfig};
use cpg_infra::graph::{Archive, Asset, ResourceId, SourceDir, SourceError, Value};
use cpg_infra_plugin_api::sdk::{LogLevel, Mode, Plugin, PluginError, PluginHost};

pub(crate) use cpg_infra_gcp::{resource, tokens};

/// The plugin's name in `plugins_enabled`.
pub const NAME: &str = "metamist";

/// Where the sources are when `sources_dir` is not set, relative to the config
/// directory.
pub const DEFAULT_SOURCES_DIR: &str = "functions/metamist";

/// The metamist plugin.
#[derive(Debug, Default)]
pub struct Metamist;

/// What the plugin needs from the config, once `metamist.etl` is known to be set.
pub(crate) struct Settings<'a> {
    pub config: &'a CpgInfrastructureConfig,
    pub metamist: &'a MetamistConfig,
    pub etl: &'a EtlConfig,
    pub project: String,
    pub region: String,
    pub storage_prefix: String,
    /// The sources, inside the config directory.
    pub sources: SourceDir,
}

impl Settings<'_> {
    /// The project value.
    pub fn project(&self) -> Value {
        Value::from(self.project.as_str())
    }

    /// Whether the sources directory is there.
    pub fn has_sources(&self) -> Result<bool, PluginError> {
        self.sources.has_dir("").map_err(failed)
    }

    /// An archive of the files of `dir` (relative to the sources) with `extensions`.
    pub fn archive(&self, dir: &str, extensions: &[&str]) -> Result<Archive, PluginError> {
        self.sources.archive(dir, extensions).map_err(failed)
    }

    /// The text of a source file, when it is there.
    pub fn source_text(&self, file: &Path) -> Result<Option<String>, PluginError> {
        self.sources.read_text(file).map_err(failed)
    }
}

/// A payload problem as the plugin reports it.
fn failed(error: SourceError) -> PluginError {
    PluginError::failed(error_chain(&error))
}

impl Plugin for Metamist {
    fn name(&self) -> &str {
        NAME
    }

    /// Nothing yet: the reference's plugin does its work once groups are final.
    fn main(&mut self, _host: &mut dyn PluginHost) -> Result<(), PluginError> {
        Ok(())
    }

    fn on_group_finalisation(&mut self, host: &mut dyn PluginHost) -> Result<(), PluginError> {
        let config = host.infrastructure().clone();
        let Some(metamist) = config.metamist.as_ref() else {
            host.log(LogLevel::Info, "metamist is not configured: nothing to do");
            return Ok(());
        };
        let Some(etl) = metamist.etl.as_ref() else {
            host.log(
                LogLevel::Info,
                "metamist.etl is not configured: the metamist plugin declares nothing",
            );
            return Ok(());
        };
        let gcp = config.gcp.as_ref().ok_or_else(|| {
            PluginError::failed("the metamist plugin needs the gcp section of the config")
        })?;
        let context = host.context().clone();
        let settings = Settings {
            config: &config,
            metamist,
            etl,
            project: metamist.gcp.project.clone(),
            region: gcp.region.clone(),
            storage_prefix: gcp.dataset_storage_prefix.clone(),
            sources: SourceDir::new(
                ConfigDir::new(context.config_dir.clone().unwrap_or_default()),
                "metamist.etl.sources_dir",
                etl.sources_dir.as_deref().unwrap_or(DEFAULT_SOURCES_DIR),
            ),
        };
        if !settings.has_sources()? {
            let message = format!(
                "ETL sources not found: {} (set metamist.etl.sources_dir, relative to the config directory)",
                settings.sources.shown("").display()
            );
            match context.mode {
                Mode::Deploy => return Err(PluginError::failed(message)),
                Mode::Plan => host.log(
                    LogLevel::Warning,
                    &format!(
                        "{message}; the plan records the archives by path only and leaves out the tables' schemas"
                    ),
                ),
            }
        }
        let external: Vec<&String> = etl
            .custom_audience_list
            .iter()
            .flat_map(|list| list.keys())
            .filter(|f| *f == "extract" || *f == "load")
            .collect();
        if !external.is_empty() {
            return Err(PluginError::failed(format!(
                "metamist.etl.custom_audience_list for {external:?}: external Cloud Run services for the ETL functions are not built by this release"
            )));
        }
        etl::setup(host, &settings)
    }
}

/// `files` with `replace` put in place of the asset of the same name (the
/// reference's `extra_assets`).
pub(crate) fn with_asset(archive: Archive, name: &str, replace: Asset) -> Archive {
    match archive {
        Archive::Assets(mut assets) => {
            assets.insert(name.to_owned(), replace);
            Archive::Assets(assets)
        }
        directory => directory,
    }
}

/// The id of the resource `name` of type `type_token`.
pub(crate) fn id(type_token: &str, name: &str) -> ResourceId {
    ResourceId::new(type_token, name)
}

cpg_infra_plugin_api::export_plugin!("metamist", Metamist);
