//! The billing aggregator, a cpg-infra plugin named `billing_aggregator` (the
//! reference's `cpg_infra/billing_aggregator/driver.py`, `BillingAggregator`).
//!
//! When `billing.aggregator` is configured it declares, in the billing project: the
//! Cloud Functions, Cloud Build and Cloud Scheduler services, a bucket for function
//! sources and one archive per function group, a Slack notification channel (its
//! token read from Secret Manager when deploying), one gen2 function, alert policy
//! and scheduler job per aggregation function, the aggregate BigQuery table, and the
//! cost-control and cost-report functions with their alert and job. Without
//! `billing.aggregator` it does nothing.
//!
//! The functions' sources are payload, not part of this project: they are read from
//! `billing.aggregator.sources_dir` (default `functions/billing_aggregator`,
//! relative to the config directory), which holds `aggregate/`,
//! `gcp_cost_control/` and `gcp_cost_report_slack_bot/`. The plan records each
//! archive by path and, when the directory is there, each file's SHA-256. A missing
//! directory is a warning when planning and an error when deploying, before anything
//! is declared.
//!
//! ```no_run
//! use cpg_infra_plugin_api::sdk::Plugin;
//! use cpg_infra_plugin_api::testing::MockHost;
//!
//! # fn config() -> cpg_infra::config::Config { unimplemented!() }
//! let mut host = MockHost::new(config());
//! billing_aggregator::BillingAggregator::default().main(&mut host)?;
//! # Ok::<(), cpg_infra_plugin_api::sdk::PluginError>(())
//! ```

mod resources;

use cpg_infra::error_chain;
use std::path::{Path, PathBuf};

use cpg_infra::config::{
    BillingAggregatorConfig, BillingConfig, ConfigDir, CpgInfrastructureConfig,
};
use cpg_infra::graph::{Archive, SourceDir};
use cpg_infra_plugin_api::sdk::{LogLevel, Mode, Plugin, PluginError, PluginHost};

/// The plugin's name in `plugins_enabled`.
pub const NAME: &str = "billing_aggregator";

/// Where the sources are when `sources_dir` is not set, relative to the config
/// directory.
pub const DEFAULT_SOURCES_DIR: &str = "functions/billing_aggregator";

/// The function groups, each a directory of the sources.
const AGGREGATE: &str = "aggregate";
const COST_CONTROL: &str = "gcp_cost_control";
const COST_REPORT: &str = "gcp_cost_report_slack_bot";

/// The files of a source directory that go into its archive (the reference's
/// `archive_folder` default).
const SOURCE_EXTENSIONS: [&str; 3] = [".py", ".txt", ".json"];

/// The billing aggregator.
#[derive(Debug, Default)]
pub struct BillingAggregator {
    /// Resources created once and shared (the reference's cached properties).
    memo: resources::Memo,
}

/// The settings the aggregator needs, once `billing.aggregator` is known to be set.
pub(crate) struct Settings<'a> {
    pub config: &'a CpgInfrastructureConfig,
    pub billing: &'a BillingConfig,
    pub aggregator: &'a BillingAggregatorConfig,
    pub region: String,
    pub storage_prefix: String,
    /// The sources, inside the config directory.
    pub sources: SourceDir,
}

impl Settings<'_> {
    /// An archive of one source directory.
    pub fn archive(&self, group: &str) -> Result<Archive, PluginError> {
        self.sources
            .archive(group, &SOURCE_EXTENSIONS)
            .map_err(|e| PluginError::failed(error_chain(&e)))
    }

    /// The text of a file of a source directory, when it is there.
    pub fn source_text(&self, group: &str, file: &str) -> Result<Option<String>, PluginError> {
        self.sources
            .read_text(&Path::new(group).join(file))
            .map_err(|e| PluginError::failed(error_chain(&e)))
    }
}

impl Plugin for BillingAggregator {
    fn name(&self) -> &str {
        NAME
    }

    fn main(&mut self, host: &mut dyn PluginHost) -> Result<(), PluginError> {
        // A new build: nothing declared before belongs to it.
        self.memo = resources::Memo::default();
        let config = host.infrastructure().clone();
        let Some(billing) = config.billing.as_ref() else {
            host.log(
                LogLevel::Info,
                "billing is not configured: the billing aggregator declares nothing",
            );
            return Ok(());
        };
        let Some(aggregator) = billing.aggregator.as_ref() else {
            host.log(
                LogLevel::Info,
                "billing.aggregator is not configured: the billing aggregator declares nothing",
            );
            return Ok(());
        };
        let gcp = config.gcp.as_ref().ok_or_else(|| {
            PluginError::failed("the billing aggregator needs the gcp section of the config")
        })?;
        let context = host.context().clone();
        let sources = SourceDir::new(
            ConfigDir::new(context.config_dir.clone().unwrap_or_default()),
            "billing.aggregator.sources_dir",
            aggregator
                .sources_dir
                .as_deref()
                .unwrap_or(DEFAULT_SOURCES_DIR),
        );
        let settings = Settings {
            config: &config,
            billing,
            aggregator,
            region: gcp.region.clone(),
            storage_prefix: gcp.dataset_storage_prefix.clone(),
            sources,
        };
        check_sources(host, &settings, context.mode)?;

        if 24 % aggregator.interval_hours != 0 {
            host.log(
                LogLevel::Warning,
                &format!(
                    "the aggregation interval ({} hours) does not divide a day: two runs may fall within one interval",
                    aggregator.interval_hours
                ),
            );
        }
        let memo = &mut self.memo;
        resources::aggregator_functions(host, memo, &settings)?;
        resources::aggregate_table(host, &settings)?;
        match billing.gcp_cost_controls.as_ref() {
            Some(controls) => {
                resources::cost_control(host, memo, &settings, controls)?;
                resources::cost_reporting(host, memo, &settings, controls)?;
            }
            None => host.log(
                LogLevel::Warning,
                "billing.gcp_cost_controls is not configured: no cost-control or cost-report function is declared",
            ),
        }
        Ok(())
    }
}

/// Every source directory must be there when deploying; when planning, a missing
/// one is a warning and its archive is recorded by path only.
fn check_sources(
    host: &mut dyn PluginHost,
    settings: &Settings<'_>,
    mode: Mode,
) -> Result<(), PluginError> {
    let mut missing: Vec<PathBuf> = Vec::new();
    let wanted: &[&str] = if settings.billing.gcp_cost_controls.is_some() {
        &[AGGREGATE, COST_CONTROL, COST_REPORT]
    } else {
        &[AGGREGATE]
    };
    for group in wanted {
        let present = settings
            .sources
            .has_dir(group)
            .map_err(|e| PluginError::failed(error_chain(&e)))?;
        if !present {
            missing.push(settings.sources.shown(group));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = missing.iter().map(|d| d.display().to_string()).collect();
    let message = format!(
        "function sources not found: {} (set billing.aggregator.sources_dir, relative to the config directory)",
        shown.join(", ")
    );
    match mode {
        Mode::Deploy => Err(PluginError::failed(message)),
        Mode::Plan => {
            host.log(
                LogLevel::Warning,
                &format!(
                    "{message}; the plan records those archives by path only and leaves out the aggregate table's schema"
                ),
            );
            Ok(())
        }
    }
}

/// Python's `str.capitalize`: the first character upper-case, the rest lower-case.
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

cpg_infra_plugin_api::export_plugin!("billing_aggregator", BillingAggregator::default());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitalize_is_pythons() {
        assert_eq!(capitalize("GCP Cost Reporting"), "Gcp cost reporting");
        assert_eq!(capitalize("hail"), "Hail");
        assert_eq!(capitalize(""), "");
    }
}
