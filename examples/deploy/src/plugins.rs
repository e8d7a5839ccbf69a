//! Plugins for `deploy plan`, `access`, `diff` and `plugins`: opening the enabled
//! plugins as the Pulumi program does, and listing what would load.

use cpg_infra::config::Severity;
use std::path::Path;
use std::process::ExitCode;

use cpg_infra::config::Config;
use cpg_infra::driver::{BuildError, Built, CpgInfrastructure};
use cpg_infra::plugin::{Mode, PLUGINS_DIR_ENV};
use cpg_infra_plugin_api::loader::{Inspection, inspect};
use cpg_infra_pulumi::{ProgramOptions, find_plugins_dir};

/// The infrastructure of a validated config as the Pulumi program builds it: the
/// GCP and Azure clouds and the enabled plugins, opened from the plugins directory
/// (`--plugins-dir`, else the library's rule). Every plugin that cannot be opened
/// is reported on standard error, and nothing is built (exit code 1).
pub fn prepare(
    config: Config,
    plugins_dir_option: Option<&Path>,
    mode: Mode,
) -> Result<CpgInfrastructure, ExitCode> {
    let options = ProgramOptions::builder()
        .plugins_dir_opt(plugins_dir_option.map(Path::to_path_buf))
        .build();
    cpg_infra_pulumi::prepare(CpgInfrastructure::from_validated(config), &options, mode).map_err(
        |error| {
            for line in error.lines() {
                eprintln!("{}: {line}", crate::diagnostics::label(Severity::Error));
            }
            ExitCode::from(1)
        },
    )
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
    let Some((dir, source)) = find_plugins_dir(plugins_dir_option) else {
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
