//! `deploy`: the thin binary an organisation builds around cpg-infra.
//!
//! ```text
//! deploy validate <config dir>       check a config directory; exit 0 when valid, 1 when not
//! deploy plan <config dir> [--json] [--plugins-dir P]  every resource the config declares, for people or programs
//! deploy plugins <config dir> [--plugins-dir P]  which enabled plugins would load, and why not
//! deploy generate <n> <dir> [--seed S]  write a synthetic config of n datasets
//! deploy migrate-state <export.json>      move a stack export off the Python dynamic providers
//! deploy [--config-dir <dir>]        run as a Pulumi program (started by the Pulumi CLI)
//! ```
//!
//! `--deny-warnings` makes `validate` and `plan` fail on warnings too.

mod diagnostics;
mod migrate_state;
mod plugins;
mod program;
mod summary;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: deploy <command> <config dir> [options]

commands:
  validate          check every file of the config directory and report every problem
  plan [--json] [--plugins-dir P]
                    list every resource the config declares; --json for the plan document
  plugins [--plugins-dir P]
                    list the enabled plugins and whether each would load

  generate <n> <dir> [--seed S]
                    write a realistic synthetic config of n datasets into <dir>
  migrate-state <export.json>
                    rewrite a `pulumi stack export` for the cpg provider (to stdout)

  (no command) [--config-dir <dir>]
                    run as a Pulumi program: `pulumi preview` / `pulumi up` start it

options:
  --deny-warnings   validate and plan fail on warnings as on errors
";

/// A command line the binary understood.
enum Command {
    Validate(PathBuf),
    Plan {
        dir: PathBuf,
        json: bool,
        plugins_dir: Option<PathBuf>,
    },
    Plugins {
        dir: PathBuf,
        plugins_dir: Option<PathBuf>,
    },
    Generate {
        datasets: usize,
        dir: PathBuf,
        seed: u64,
    },
    MigrateState(PathBuf),
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
            let (rest, plugins_dir) = take_plugins_dir(rest)?;
            let json = rest.iter().any(|a| *a == "--json");
            let others: Vec<&String> = rest.into_iter().filter(|a| *a != "--json").collect();
            match others.as_slice() {
                [dir] if !dir.starts_with('-') => Ok(Command::Plan {
                    dir: PathBuf::from(dir),
                    json,
                    plugins_dir,
                }),
                _ => Err(
                    "plan takes the config directory and optionally --json and --plugins-dir P"
                        .into(),
                ),
            }
        }
        [command, rest @ ..] if command == "plugins" => match take_plugins_dir(rest)? {
            (others, plugins_dir) if others.len() == 1 && !others[0].starts_with('-') => {
                Ok(Command::Plugins {
                    dir: PathBuf::from(others[0]),
                    plugins_dir,
                })
            }
            _ => Err("plugins takes the config directory and optionally --plugins-dir P".into()),
        },
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
        [command, export] if command == "migrate-state" => {
            Ok(Command::MigrateState(PathBuf::from(export)))
        }
        [command, ..] if command == "migrate-state" => {
            Err("migrate-state takes exactly one argument, the stack export file".into())
        }
        [flag, dir] if flag == "--config-dir" => Ok(Command::Program(Some(PathBuf::from(dir)))),
        [command, ..] => Err(format!("unknown command {command:?}")),
        [] => Ok(Command::Program(None)),
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let deny_warnings = args.iter().any(|a| a == "--deny-warnings");
    args.retain(|a| a != "--deny-warnings");
    match parse(&args) {
        Ok(Command::Help) => emit(USAGE),
        Ok(Command::Validate(dir)) => match diagnostics::load_checked(&dir, deny_warnings) {
            Some(config) => emit(&format!(
                "{}: valid ({} datasets, {} users)\n",
                dir.display(),
                config.datasets.len(),
                config.infrastructure.users.len()
            )),
            None => ExitCode::from(1),
        },
        Ok(Command::Plan {
            dir,
            json,
            plugins_dir,
        }) => plan(&dir, json, plugins_dir.as_deref(), deny_warnings),
        Ok(Command::Plugins { dir, plugins_dir }) => {
            match diagnostics::load_checked(&dir, deny_warnings) {
                Some(config) => plugins::list(&config, plugins_dir.as_deref()),
                None => ExitCode::from(1),
            }
        }
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
        Ok(Command::MigrateState(export)) => {
            let version = pulumi_resource_cpg::PROVIDER_VERSION;
            let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
            match migrate_state::migrate_state(&export, version, &mut out, &mut err) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {}", chain(&error));
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

/// `--plugins-dir P` taken out of `args`: the other arguments and `P`.
fn take_plugins_dir(args: &[String]) -> Result<(Vec<&String>, Option<PathBuf>), String> {
    let mut others = Vec::new();
    let mut plugins_dir = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--plugins-dir" {
            let dir = args.next().ok_or("--plugins-dir takes a directory")?;
            if plugins_dir.replace(PathBuf::from(dir)).is_some() {
                return Err("--plugins-dir is given twice".into());
            }
        } else {
            others.push(arg);
        }
    }
    Ok((others, plugins_dir))
}

fn plan(dir: &Path, json: bool, plugins_dir: Option<&Path>, deny_warnings: bool) -> ExitCode {
    let Some(config) = diagnostics::load_checked(dir, deny_warnings) else {
        return ExitCode::from(1);
    };
    let datasets: Vec<String> = config.datasets.iter().map(|d| d.dataset.clone()).collect();
    let infrastructure =
        match plugins::prepare(config, dir, plugins_dir, cpg_infra::plugin::Mode::Plan) {
            Ok(infrastructure) => infrastructure,
            Err(code) => return code,
        };
    match plugins::build(&infrastructure).map(|built| built.graph) {
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
