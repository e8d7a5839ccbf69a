//! `deploy`: the thin binary an organisation builds around cpg-infra.
//!
//! Every subcommand is one variant of [`Command`] whose arguments are a struct of
//! their own, dispatched in [`run`] to one function. `deploy <command> --help` shows
//! each command's options and examples.

mod access;
mod diff;
mod schema;
mod summary;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use cpg_infra::config::{Config, load_dir};
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra_gcp::GcpProvider;

/// Validate, plan and review a cpg-infra config directory.
#[derive(Debug, Parser)]
#[command(
    name = "deploy",
    version,
    after_help = "\
Exit codes:
  0  success (diff --exit-code: nothing changes)
  1  problems found (an invalid config, a question about nothing the plan has,
     a file that cannot be written)
  2  usage error (diff --exit-code: something changes)

Examples:
  deploy validate config/
  deploy plan config/ --json > plan.json
  deploy access config/ --person mira.okafor
  deploy diff main-config/ pr-config/ --markdown
  deploy completions bash > ~/.local/share/bash-completion/completions/deploy"
)]
struct Cli {
    /// When to colour the output: `auto` colours when the output is a terminal.
    #[arg(long, value_enum, global = true, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    color: ColorWhen,
    /// The command to run.
    #[command(subcommand)]
    command: Option<Command>,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    /// When the output is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    /// Clap's choice for its own help and error messages.
    fn clap(self) -> clap::ColorChoice {
        match self {
            ColorWhen::Auto => clap::ColorChoice::Auto,
            ColorWhen::Always => clap::ColorChoice::Always,
            ColorWhen::Never => clap::ColorChoice::Never,
        }
    }

    /// Whether to colour what this binary writes to standard output.
    fn stdout(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Check every file of a config directory and report every problem.
    #[command(after_help = "\
Prints `<dir>: valid (N datasets, M users)` and exits 0 when the directory is valid;
otherwise prints every problem on standard error, one per line, and exits 1.

Examples:
  deploy validate config/")]
    Validate(ValidateArgs),
    /// List every resource the config declares, for people or (`--json`) programs.
    #[command(after_help = "\
Validates first: an invalid config prints its problems and exits 1.

Examples:
  deploy plan config/
  deploy plan config/ --json > plan.json")]
    Plan(PlanArgs),
    /// Write a realistic synthetic config of n datasets into a new directory.
    #[command(after_help = "\
The directory must not exist or be empty. The same n and seed write the same files.

Examples:
  deploy generate 100 /tmp/org100
  deploy generate 10 /tmp/org10 --seed 7")]
    Generate(GenerateArgs),
    /// Who can reach what, with which role, through which groups.
    #[command(after_help = "\
Read from the plan: every IAM member and binding, group membership (nested groups,
dependencies, ad-hoc groups, machine accounts, organisation-wide groups), Hail
billing-project membership, metamist member list and access entitlement. Each grant is
shown with the shortest chain of groups that leads to it. Without a question, prints
everyone's access. Exits 1 when the config is invalid or the question names nothing
the plan knows.

Examples:
  deploy access config/ --person mokafor
  deploy access config/ --person mira.okafor@example.org --json
  deploy access config/ --bucket exg-cardiac-main
  deploy access config/ --resource gcp:secretmanager/secret:Secret::cardiac-gcp-cromwell-full-key
  deploy access config/ --dataset cardiac --format dot | dot -Tsvg > cardiac.svg")]
    Access(AccessArgs),
    /// What a config change does: resources added, changed and destroyed, and the
    /// access gained and lost.
    #[command(after_help = "\
Plans both config directories and compares the plans resource by resource: each
changed input is shown before and after (values only known at deploy time compared
by their definition, secrets never shown), then each person's or account's access
gained and lost with the chain of groups that grants it.

Exit codes: 1 when either config is invalid; otherwise 0, or with --exit-code 0 when
nothing changes and 2 when something does (as `terraform plan -detailed-exitcode`).

Examples:
  deploy diff main-config/ pr-config/
  deploy diff main-config/ pr-config/ --markdown > review.md
  deploy diff main-config/ pr-config/ --json --exit-code")]
    Diff(DiffArgs),
    /// Print the JSON Schema (draft 2020-12) of a config file, for editors.
    #[command(after_help = "\
Generated from the config types, their doc comments as descriptions. Without --file,
prints an object of every file's schema keyed by file name. The repository keeps them
in schemas/<file>.schema.json; point an editor at one with a first line:
  cpg.toml:           #:schema ./schemas/cpg.toml.schema.json   (taplo)
  production.yaml:    # yaml-language-server: $schema=./schemas/production.yaml.schema.json

Examples:
  deploy schema --file members.yaml > schemas/members.yaml.schema.json
  deploy schema | jq 'keys'")]
    Schema(SchemaArgs),
    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  deploy completions bash > ~/.local/share/bash-completion/completions/deploy
  deploy completions zsh > ~/.zfunc/_deploy
  deploy completions fish > ~/.config/fish/completions/deploy.fish")]
    Completions(CompletionsArgs),
}

/// `deploy validate`.
#[derive(Debug, Args)]
struct ValidateArgs {
    /// The config directory (holding cpg.toml and production.yaml).
    #[arg(value_name = "CONFIG_DIR")]
    dir: PathBuf,
}

/// `deploy plan`.
#[derive(Debug, Args)]
struct PlanArgs {
    /// The config directory (holding cpg.toml and production.yaml).
    #[arg(value_name = "CONFIG_DIR")]
    dir: PathBuf,
    /// Print the plan document (JSON) instead of the summary.
    #[arg(long)]
    json: bool,
}

/// `deploy generate`.
#[derive(Debug, Args)]
struct GenerateArgs {
    /// The number of datasets, the common dataset included.
    #[arg(value_name = "N")]
    datasets: usize,
    /// The directory to write; it must not exist or be empty.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The random seed.
    #[arg(long, default_value_t = 42, value_name = "S")]
    seed: u64,
}

/// `deploy access`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("question").multiple(false))]
struct AccessArgs {
    /// The config directory (holding cpg.toml and production.yaml).
    #[arg(value_name = "CONFIG_DIR")]
    dir: PathBuf,
    /// Everything this person can reach: a user key from cpg.toml, or an identity
    /// (email, Hail username).
    #[arg(long, group = "question", value_name = "USER")]
    person: Option<String>,
    /// Everyone who can reach this resource, as type::name.
    #[arg(long, group = "question", value_name = "TYPE::NAME")]
    resource: Option<String>,
    /// Everyone who can reach the bucket of this name.
    #[arg(long, group = "question", value_name = "NAME")]
    bucket: Option<String>,
    /// Draw this dataset's groups, their nesting and what each grants (needs --format).
    #[arg(long, group = "question", requires = "format", value_name = "DATASET")]
    dataset: Option<String>,
    /// The picture's format, with --dataset.
    #[arg(long, value_enum, requires = "dataset")]
    format: Option<access::PictureFormat>,
    /// Print JSON for programs: each grant with person, role, resource and chain.
    #[arg(long, conflicts_with = "dataset")]
    json: bool,
}

impl AccessArgs {
    fn query(&self) -> access::Query {
        if let Some(person) = &self.person {
            access::Query::Person(person.clone())
        } else if let Some(resource) = &self.resource {
            access::Query::Resource(resource.clone())
        } else if let Some(bucket) = &self.bucket {
            access::Query::Bucket(bucket.clone())
        } else if let (Some(dataset), Some(format)) = (&self.dataset, self.format) {
            access::Query::Dataset {
                dataset: dataset.clone(),
                format,
            }
        } else {
            access::Query::Everyone
        }
    }
}

/// `deploy diff`.
#[derive(Debug, Args)]
struct DiffArgs {
    /// The config directory before the change.
    #[arg(value_name = "OLD_CONFIG_DIR")]
    old: PathBuf,
    /// The config directory after the change.
    #[arg(value_name = "NEW_CONFIG_DIR")]
    new: PathBuf,
    /// Print JSON for programs.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print Markdown to paste into a pull request.
    #[arg(long)]
    markdown: bool,
    /// Exit 0 when nothing changes and 2 when something does.
    #[arg(long)]
    exit_code: bool,
}

/// `deploy schema`.
#[derive(Debug, Args)]
struct SchemaArgs {
    /// The config file whose schema to print.
    #[arg(long, value_enum, value_name = "FILE")]
    file: Option<schema::SchemaFile>,
}

/// `deploy completions`.
#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = Cli::command().color(color_in_args(&args).clap());
    let cli = command
        .try_get_matches_from(&args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    match cli {
        Ok(cli) => run(cli),
        Err(error) => {
            // Help and version go to standard output and exit 0; usage errors exit 2.
            let _ = error.print();
            ExitCode::from(if error.use_stderr() { 2 } else { 0 })
        }
    }
}

/// The `--color` choice in `args`, read before clap parses them so that clap's own
/// help and errors honour it too.
fn color_in_args(args: &[std::ffi::OsString]) -> ColorWhen {
    let mut choice = ColorWhen::Auto;
    let mut args = args.iter().filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--color") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        if let Some(parsed) = value.and_then(|v| ColorWhen::from_str(v, false).ok()) {
            choice = parsed;
        }
    }
    choice
}

/// Runs one parsed command line.
fn run(cli: Cli) -> ExitCode {
    let Some(command) = cli.command else {
        // No subcommand: the help on standard error, as a usage error.
        let help = Cli::command().render_help();
        if cli.color == ColorWhen::Always {
            eprint!("{}", help.ansi());
        } else {
            eprint!("{help}");
        }
        return ExitCode::from(2);
    };
    match command {
        Command::Validate(args) => validate(&args.dir),
        Command::Plan(args) => plan(&args.dir, args.json),
        Command::Generate(args) => generate(args.datasets, &args.dir, args.seed),
        Command::Access(args) => access::run(&args.dir, &args.query(), args.json),
        Command::Diff(args) => {
            let format = if args.json {
                diff::Format::Json
            } else if args.markdown {
                diff::Format::Markdown
            } else {
                diff::Format::Text {
                    colour: cli.color.stdout(),
                }
            };
            diff::run(&args.old, &args.new, format, args.exit_code)
        }
        Command::Schema(args) => schema::run(args.file),
        Command::Completions(args) => completions(args.shell),
    }
}

fn validate(dir: &Path) -> ExitCode {
    match load(dir) {
        Some(config) => emit(&format!(
            "{}: valid ({} datasets, {} users)\n",
            dir.display(),
            config.datasets.len(),
            config.infrastructure.users.len()
        )),
        None => ExitCode::from(1),
    }
}

fn generate(datasets: usize, dir: &Path, seed: u64) -> ExitCode {
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        eprintln!(
            "error: {} is not empty; generate writes a new directory",
            dir.display()
        );
        return ExitCode::from(1);
    }
    let config = cpg_infra::synthetic::synthetic_config(datasets, seed);
    match cpg_infra::synthetic::write_config_dir(&config, dir) {
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

/// Writes the completion script for `shell` to standard output.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "deploy", &mut script);
    emit(&String::from_utf8_lossy(&script))
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

/// Loads, validates and plans `dir` with every cloud this binary knows, printing
/// every problem when it cannot.
fn build(dir: &Path) -> Option<(Config, cpg_infra::graph::Graph)> {
    let config = load(dir)?;
    let infrastructure = CpgInfrastructure::from_validated(config.clone()).with_cloud(GcpProvider);
    match infrastructure.build() {
        Ok(graph) => Some((config, graph)),
        Err(error) => {
            eprintln!("{}: error: {}", dir.display(), chain(&error));
            None
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
            eprintln!("error: cannot write to standard output: {error}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn color_is_read_in_both_spellings() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            color_in_args(&args(&["deploy", "--color", "never"])),
            ColorWhen::Never
        );
        assert_eq!(
            color_in_args(&args(&["deploy", "plan", "--color=always"])),
            ColorWhen::Always
        );
        assert_eq!(
            color_in_args(&args(&["deploy", "plan", "x"])),
            ColorWhen::Auto
        );
        assert_eq!(
            color_in_args(&args(&["deploy", "--color", "sometimes"])),
            ColorWhen::Auto
        );
    }
}
