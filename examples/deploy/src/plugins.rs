//! Plugins for `deploy plan`, `access`, `diff` and `plugins`: where the plugins directory is,
//! opening the enabled plugins, and listing what would load.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cpg_infra::config::Config;
use cpg_infra::driver::{BuildError, Built, CpgInfrastructure};
use cpg_infra::plugin::{Mode, PLUGINS_DIR_ENV, PluginContext, PluginsDirSource, plugins_dir};
use cpg_infra_azure::AzureProvider;
use cpg_infra_gcp::GcpProvider;
use cpg_infra_plugin_api::loader::{Inspection, inspect, load_enabled};

/// The plugins directory: `--plugins-dir`, `CPG_INFRA_PLUGINS_DIR`, the Pulumi config
/// `<project>:plugins-dir`, or the directory of this executable.
pub fn resolve_plugins_dir(option: Option<&Path>) -> Option<(PathBuf, PluginsDirSource)> {
    let environment = std::env::var_os(PLUGINS_DIR_ENV);
    let pulumi_config = std::env::var("PULUMI_CONFIG").ok();
    let executable = std::env::current_exe().ok();
    plugins_dir(
        option,
        environment.as_deref(),
        pulumi_config.as_deref(),
        executable.as_deref(),
    )
}

/// The infrastructure of a validated config with the GCP and Azure clouds and the enabled
/// plugins, opened from the plugins directory. Every plugin that cannot be opened
/// is reported on standard error, and nothing is built (exit code 1).
pub fn prepare(
    config: Config,
    config_dir: &Path,
    plugins_dir_option: Option<&Path>,
    mode: Mode,
) -> Result<CpgInfrastructure, ExitCode> {
    let enabled = config.infrastructure.plugins_enabled.clone();
    let mut infrastructure = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .with_plugin_context(PluginContext {
            config_dir: Some(config_dir.to_owned()),
            mode,
        });
    if enabled.is_empty() {
        return Ok(infrastructure);
    }
    let Some((dir, _)) = resolve_plugins_dir(plugins_dir_option) else {
        eprintln!(
            "error: plugins are enabled ({}) but no plugins directory is known: pass --plugins-dir or set {PLUGINS_DIR_ENV}",
            enabled.join(", ")
        );
        return Err(ExitCode::from(1));
    };
    match load_enabled(&dir, &enabled) {
        Ok(plugins) => {
            for plugin in plugins {
                infrastructure = infrastructure.with_plugin(Box::new(plugin));
            }
            Ok(infrastructure)
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {}", super::chain(error));
            }
            Err(ExitCode::from(1))
        }
    }
}

/// Builds the plan, writing what plugins logged to standard error.
pub fn build(infrastructure: &CpgInfrastructure) -> Result<Built, BuildError> {
    let built = infrastructure.build_with_log()?;
    for line in &built.plugin_log {
        eprintln!("{line}");
    }
    Ok(built)
}

/// `deploy plugins <config dir> [--plugins-dir P]`: each enabled plugin and whether
/// it would load (and why not), then the other libraries in the directory. Exits 1
/// when an enabled plugin would not load.
pub fn list(config: &Config, plugins_dir_option: Option<&Path>) -> ExitCode {
    let enabled = &config.infrastructure.plugins_enabled;
    let Some((dir, source)) = resolve_plugins_dir(plugins_dir_option) else {
        println!("no plugins directory: pass --plugins-dir or set {PLUGINS_DIR_ENV}");
        return if enabled.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    };
    let mut out = format!("plugins directory: {} ({source})\n", dir.display());
    if enabled.is_empty() {
        out.push_str("no plugin is enabled (plugins_enabled is empty)\n");
    }
    let mut refused = false;
    for (i, inspection) in inspect(&dir, enabled).into_iter().enumerate() {
        let line = match inspection {
            Inspection::Loads(info) => format!(
                "{}: loads (version {}, ABI {}, {})",
                info.name,
                info.version,
                info.abi_version,
                info.path.display()
            ),
            Inspection::Refused(error) => {
                refused = true;
                let name = enabled.get(i).map_or("?", String::as_str);
                format!("{name}: refused: {}", super::chain(&error))
            }
            Inspection::NotEnabled { path } => {
                format!("{}: not enabled, not opened", path.display())
            }
            other => format!("{other:?}"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    let code = super::emit(&out);
    if refused { ExitCode::from(1) } else { code }
}
