//! `deploy` with no subcommand: the Pulumi program. The Pulumi CLI's language host
//! starts it with the engine's addresses in the environment; it finds the config
//! directory, validates, builds and registers every resource with the engine.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::plugins;

use cpg_infra::config::load_dir;
use cpg_infra::plugin::{LogLevel, Mode};
use cpg_infra_pulumi::{DeployOptions, EngineSettings, ProviderVersions, Session, Severity, chain};

/// The environment variable naming the config directory.
pub const CONFIG_DIR_ENV: &str = "CPG_INFRA_CONFIG_DIR";
/// The project's Pulumi configuration key naming the config directory.
pub const CONFIG_DIR_KEY: &str = "config-dir";

/// Runs as a Pulumi program. The config directory is `config_dir` (from
/// `--config-dir`), else `CPG_INFRA_CONFIG_DIR`, else the stack's configuration
/// `<project>:config-dir` (relative to the project's directory). Exits 2 when not
/// started by the Pulumi CLI, 1 when the config is invalid or the deployment
/// fails — every problem goes to the engine's log and to standard error, and an
/// invalid config registers nothing.
pub fn run(config_dir: Option<&Path>) -> ExitCode {
    let settings = match EngineSettings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("deploy: {error}");
            eprintln!("deploy: `deploy --help` lists the commands");
            return ExitCode::from(2);
        }
    };
    let session = match Session::connect(settings) {
        Ok(session) => session,
        Err(error) => {
            eprintln!("error: {}", chain(&error));
            return ExitCode::from(1);
        }
    };
    let fail = |message: &str| {
        // The engine may be what failed; standard error always has the message.
        let _ = session.log(Severity::Error, message);
        eprintln!("error: {message}");
        ExitCode::from(1)
    };
    let env_dir = std::env::var_os(CONFIG_DIR_ENV).filter(|v| !v.is_empty());
    let dir = match find_config_dir(config_dir, env_dir.map(PathBuf::from), session.settings()) {
        Some(dir) => dir,
        None => {
            return fail(&format!(
                "no config directory: pass --config-dir <dir>, set {CONFIG_DIR_ENV}, or run `pulumi config set {CONFIG_DIR_KEY} <dir>`"
            ));
        }
    };
    let config = match load_dir(&dir) {
        Ok(config) => config,
        Err(invalid) => {
            for diagnostic in &invalid.diagnostics {
                let message = diagnostic.to_string();
                let _ = session.log(Severity::Error, &message);
                eprintln!("error: {message}");
            }
            return fail(&format!("{}: {invalid}", dir.display()));
        }
    };
    for warning in &config.warnings {
        let message = warning.to_string();
        let _ = session.log(Severity::Warning, &message);
        eprintln!("warning: {message}");
    }
    // A preview plans: function sources that are missing are a warning then, and an
    // error when deploying.
    let mode = if session.settings().dry_run {
        Mode::Plan
    } else {
        Mode::Deploy
    };
    let infrastructure = match plugins::prepare(config, &dir, None, mode) {
        Ok(infrastructure) => infrastructure,
        Err(code) => {
            let _ = session.log(
                Severity::Error,
                "the enabled plugins could not be opened (see the program's standard error)",
            );
            return code;
        }
    };
    let graph = match infrastructure.build_with_log() {
        Ok(built) => {
            for line in &built.plugin_log {
                let severity = match line.level {
                    LogLevel::Debug => Severity::Debug,
                    LogLevel::Info => Severity::Info,
                    LogLevel::Warning => Severity::Warning,
                    LogLevel::Error => Severity::Error,
                };
                let _ = session.log(severity, &line.to_string());
                eprintln!("{line}");
            }
            built.graph
        }
        Err(error) => return fail(&chain(&error)),
    };
    // Function sources and other files the plan names are relative to the config
    // directory.
    // The `cpg:` resources are pinned to the provider this binary ships with, as
    // `deploy migrate-state` records it.
    let options = DeployOptions {
        asset_root: Some(dir.clone()),
        versions: ProviderVersions::default().with("cpg", cpg_infra_kinds::PROVIDER_VERSION),
    };
    match session.deploy(&graph, &options) {
        Ok(deployed) => {
            let _ = session.log(
                Severity::Debug,
                &format!(
                    "{}: {} resources, {} data-source calls, {} exports",
                    dir.display(),
                    deployed.resources,
                    deployed.invokes,
                    deployed.exports
                ),
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            // The client has logged the failure to the engine already.
            eprintln!("error: {}", chain(&error));
            ExitCode::from(1)
        }
    }
}

/// The config directory: the flag, else the environment variable, else the
/// stack's configuration, which is relative to the project's directory.
fn find_config_dir(
    flag: Option<&Path>,
    env: Option<PathBuf>,
    settings: &EngineSettings,
) -> Option<PathBuf> {
    if let Some(dir) = flag {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = env {
        return Some(dir);
    }
    let configured = PathBuf::from(settings.config(CONFIG_DIR_KEY)?);
    Some(match &settings.root_directory {
        Some(root) if configured.is_relative() => root.join(configured),
        _ => configured,
    })
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
    fn the_flag_wins_then_the_environment_then_pulumi_config() {
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
}
