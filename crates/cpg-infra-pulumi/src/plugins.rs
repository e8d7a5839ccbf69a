//! The program's plugins: where the plugins directory is, and opening the plugins
//! the config enables from it.

use std::path::{Path, PathBuf};

use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::error_chain;
use cpg_infra::plugin::{PLUGINS_DIR_ENV, PluginsDirSource, plugins_dir};
use cpg_infra_plugin_api::loader::{LoadError, load_enabled};

/// Why the enabled plugins were not opened; nothing is built then.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginsError {
    /// Plugins are enabled, no plugins directory is named and the running
    /// executable's path is unknown.
    #[error(
        "plugins are enabled ({}) but no plugins directory is known: name one or set {PLUGINS_DIR_ENV}",
        .enabled.join(", ")
    )]
    NoDirectory {
        /// The enabled plugins.
        enabled: Vec<String>,
    },
    /// Enabled plugins whose libraries are missing or cannot be loaded.
    #[error(
        "cannot open the enabled plugins from {}: {}",
        .dir.display(),
        .errors.iter().map(|e| error_chain(e)).collect::<Vec<_>>().join("; ")
    )]
    Open {
        /// The plugins directory.
        dir: PathBuf,
        /// Every library that did not load, and why.
        errors: Vec<LoadError>,
    },
}

impl PluginsError {
    /// Each problem as a line of its own: one per library that did not load.
    pub fn lines(&self) -> Vec<String> {
        match self {
            PluginsError::Open { errors, .. } => errors.iter().map(|e| error_chain(e)).collect(),
            other => vec![other.to_string()],
        }
    }
}

/// The plugins directory, and where it was named: `explicit`, else the environment
/// variable `CPG_INFRA_PLUGINS_DIR`, else the Pulumi config `<project>:plugins-dir`
/// (from `PULUMI_CONFIG`, as the language host passes it), else `plugins/` beside
/// the running executable (the rule of [`plugins_dir`]). `None` only when none is
/// named and the executable's path is unknown.
pub fn find_plugins_dir(explicit: Option<&Path>) -> Option<(PathBuf, PluginsDirSource)> {
    let environment = std::env::var_os(PLUGINS_DIR_ENV);
    let pulumi_config = std::env::var("PULUMI_CONFIG").ok();
    let executable = std::env::current_exe().ok();
    plugins_dir(
        explicit,
        environment.as_deref(),
        pulumi_config.as_deref(),
        executable.as_deref(),
    )
}

/// `infra` with every plugin its config enables that was not given to it already,
/// opened from the plugins directory ([`find_plugins_dir`] of `explicit`). Every
/// library that is missing or does not load is reported, and none is given then.
pub fn open_enabled_plugins(
    infra: CpgInfrastructure,
    explicit: Option<&Path>,
) -> Result<CpgInfrastructure, PluginsError> {
    let given = infra.plugin_names();
    let wanted: Vec<String> = infra
        .config()
        .plugins_enabled
        .iter()
        .filter(|name| !given.contains(name))
        .cloned()
        .collect();
    if wanted.is_empty() {
        return Ok(infra);
    }
    let Some((dir, _)) = find_plugins_dir(explicit) else {
        return Err(PluginsError::NoDirectory { enabled: wanted });
    };
    match load_enabled(&dir, &wanted) {
        Ok(plugins) => Ok(plugins
            .into_iter()
            .fold(infra, |infra, plugin| infra.with_plugin(Box::new(plugin)))),
        Err(errors) => Err(PluginsError::Open { dir, errors }),
    }
}
