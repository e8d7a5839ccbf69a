//! `deploy` with no subcommand: the Pulumi program. The Pulumi CLI's language host
//! starts it with the engine's addresses in the environment; the library finds the
//! config directory, validates, builds and registers every resource with the
//! engine ([`main_from_config_dir`]).

use cpg_infra::config::Severity;
use std::path::Path;
use std::process::ExitCode;

use cpg_infra_pulumi::{MainError, ProgramOptions, main_from_config_dir};

/// Runs as a Pulumi program. The config directory is `config_dir` (from
/// `--config-dir`), else `CPG_INFRA_CONFIG_DIR`, else the stack's configuration
/// `<project>:config-dir` (relative to the project's directory). Exits 2 when not
/// started by the Pulumi CLI, 1 when the config is invalid or the deployment
/// fails — every problem goes to the engine's log and to standard error, and an
/// invalid config registers nothing.
pub fn run(config_dir: Option<&Path>) -> ExitCode {
    let options = ProgramOptions::builder()
        .config_dir_opt(config_dir.map(Path::to_path_buf))
        .build();
    match main_from_config_dir(&options) {
        Ok(_) => ExitCode::SUCCESS,
        Err(MainError::Settings(error)) => {
            eprintln!("deploy: {error}");
            eprintln!("deploy: `deploy --help` lists the commands");
            ExitCode::from(2)
        }
        Err(MainError::Config { dir, source }) => {
            for diagnostic in &source.diagnostics {
                eprintln!(
                    "{}: {diagnostic}",
                    crate::diagnostics::label(Severity::Error)
                );
            }
            eprintln!(
                "{}: {}: {source}",
                crate::diagnostics::label(Severity::Error),
                dir.display()
            );
            ExitCode::from(1)
        }
        Err(MainError::Plugins(error)) => {
            for line in error.lines() {
                eprintln!("{}: {line}", crate::diagnostics::label(Severity::Error));
            }
            ExitCode::from(1)
        }
        Err(error) => crate::diagnostics::fail(&error),
    }
}
