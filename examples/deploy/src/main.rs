//! `deploy`: the thin binary an organisation builds around cpg-infra.
//!
//! ```text
//! deploy validate <config dir>       check a config directory; exit 0 when valid, 1 when not
//! deploy plan <config dir> [--json]  every resource the config declares, for people or programs
//! deploy generate <n> <dir> [--seed S]  write a synthetic config of n datasets
//! deploy [--config-dir <dir>]        run as a Pulumi program (started by the Pulumi CLI)
//! ```

mod program;
mod summary;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cpg_infra::config::{Config, load_dir};
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra_gcp::GcpProvider;

const USAGE: &str = "\
usage: deploy <command> <config dir> [options]

commands:
  validate          check every file of the config directory and report every problem
  plan [--json]     list every resource the config declares; --json for the plan document

  generate <n> <dir> [--seed S]
                    write a realistic synthetic config of n datasets into <dir>

  (no command) [--config-dir <dir>]
                    run as a Pulumi program: `pulumi preview` / `pulumi up` start it
";

/// A command line the binary understood.
enum Command {
    Validate(PathBuf),
    Plan {
        dir: PathBuf,
        json: bool,
    },
    Generate {
        datasets: usize,
        dir: PathBuf,
        seed: u64,
    },
    Help,
    Program(Option<PathBuf>),
}

fn parse(args: &[String]) -> Result<Command, String> {
    match args {
        [flag] if flag == "-h" || flag == "--help" || flag == "help" => Ok(Command::Help),
        [command, dir] if command == "validate" => Ok(Command::Validate(PathBuf::from(dir))),
        [command, ..] if command == "validate" => {
            Err("validate takes exactly one argument, the config directory".into())
        }
        [command, rest @ ..] if command == "plan" => {
            let json = rest.iter().any(|a| a == "--json");
            let others: Vec<&String> = rest.iter().filter(|a| *a != "--json").collect();
            match others.as_slice() {
                [dir] if !dir.starts_with('-') => Ok(Command::Plan {
                    dir: PathBuf::from(dir),
                    json,
                }),
                _ => Err("plan takes the config directory and optionally --json".into()),
            }
        }
        [command, datasets, dir, rest @ ..] if command == "generate" => {
            let datasets = datasets
                .parse()
                .map_err(|_| format!("generate: {datasets:?} is not a number of datasets"))?;
            let seed = match rest {
                [] => 42,
                [flag, seed] if flag == "--seed" => seed
                    .parse()
                    .map_err(|_| format!("generate: {seed:?} is not a seed"))?,
                _ => return Err("generate takes <n> <dir> and optionally --seed S".into()),
            };
            Ok(Command::Generate {
                datasets,
                dir: PathBuf::from(dir),
                seed,
            })
        }
        [flag, dir] if flag == "--config-dir" => Ok(Command::Program(Some(PathBuf::from(dir)))),
        [command, ..] => Err(format!("unknown command {command:?}")),
        [] => Ok(Command::Program(None)),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Command::Help) => emit(USAGE),
        Ok(Command::Validate(dir)) => match load(&dir) {
            Some(config) => emit(&format!(
                "{}: valid ({} datasets, {} users)\n",
                dir.display(),
                config.datasets.len(),
                config.infrastructure.users.len()
            )),
            None => ExitCode::from(1),
        },
        Ok(Command::Plan { dir, json }) => plan(&dir, json),
        Ok(Command::Program(config_dir)) => program::run(config_dir.as_deref()),
        Ok(Command::Generate {
            datasets,
            dir,
            seed,
        }) => {
            let occupied =
                std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some());
            if occupied {
                eprintln!(
                    "error: {} is not empty; generate writes a new directory",
                    dir.display()
                );
                return ExitCode::from(1);
            }
            let config = cpg_infra::synthetic::synthetic_config(datasets, seed);
            match cpg_infra::synthetic::write_config_dir(&config, &dir) {
                Ok(()) => emit(&format!(
                    "{}: {} datasets\n",
                    dir.display(),
                    config.datasets.len()
                )),
                Err(error) => {
                    eprintln!("error: cannot write {}: {error}", dir.display());
                    ExitCode::from(1)
                }
            }
        }
        Err(message) => {
            eprintln!("deploy: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Loads and validates `dir`, printing every problem when it is invalid.
fn load(dir: &Path) -> Option<Config> {
    match load_dir(dir) {
        Ok(config) => Some(config),
        Err(invalid) => {
            for diagnostic in &invalid.diagnostics {
                eprintln!("error: {diagnostic}");
            }
            eprintln!("{}: {invalid}", dir.display());
            None
        }
    }
}

fn plan(dir: &Path, json: bool) -> ExitCode {
    let Some(config) = load(dir) else {
        return ExitCode::from(1);
    };
    let datasets: Vec<String> = config.datasets.iter().map(|d| d.dataset.clone()).collect();
    let infrastructure = CpgInfrastructure::from_validated(config).with_cloud(GcpProvider);
    match infrastructure.build() {
        Ok(graph) if json => write_json(&graph),
        Ok(graph) => emit(&summary::render(&graph, &datasets)),
        Err(error) => {
            eprintln!("error: {}", chain(&error));
            ExitCode::from(1)
        }
    }
}

/// Writes `text` to standard output; a reader that went away (`| head`) is not an
/// error.
fn emit(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write the plan: {error}");
            ExitCode::from(1)
        }
    }
}

/// Streams the plan document to standard output.
fn write_json(graph: &cpg_infra::graph::Graph) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, &graph.plan())
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write the plan: {error}");
            ExitCode::from(1)
        }
    }
}

/// An error and its causes, outermost first.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
