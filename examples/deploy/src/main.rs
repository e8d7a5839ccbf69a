//! `deploy`: the thin binary an organisation builds around cpg-infra.
//!
//! ```text
//! deploy validate <config dir>   check a config directory; exit 0 when valid, 1 when not
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use cpg_infra::config::{Config, load_dir};

const USAGE: &str = "\
usage: deploy <command> <config dir>

commands:
  validate   check every file of the config directory and report every problem
";

/// A command line the binary understood.
enum Command {
    Validate(PathBuf),
    Help,
}

fn parse(args: &[String]) -> Result<Command, String> {
    match args {
        [flag] if flag == "-h" || flag == "--help" || flag == "help" => Ok(Command::Help),
        [command, dir] if command == "validate" => Ok(Command::Validate(PathBuf::from(dir))),
        [command, ..] if command == "validate" => {
            Err("validate takes exactly one argument, the config directory".into())
        }
        [command, ..] => Err(format!("unknown command {command:?}")),
        [] => Err("no command given".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Validate(dir)) => validate(&dir),
        Err(message) => {
            eprintln!("deploy: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn validate(dir: &std::path::Path) -> ExitCode {
    match load_dir(dir) {
        Ok(config) => {
            println!("{}: {}", dir.display(), summary(&config));
            ExitCode::SUCCESS
        }
        Err(invalid) => {
            for diagnostic in &invalid.diagnostics {
                eprintln!("error: {diagnostic}");
            }
            eprintln!("{}: {invalid}", dir.display());
            ExitCode::from(1)
        }
    }
}

fn summary(config: &Config) -> String {
    format!(
        "valid ({} datasets, {} users)",
        config.datasets.len(),
        config.infrastructure.users.len()
    )
}
