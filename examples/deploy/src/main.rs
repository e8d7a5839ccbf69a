//! `deploy`: the thin binary an organisation builds around cpg-infra.
//!
//! Every subcommand is one variant of [`Command`] whose arguments are a struct of
//! their own, dispatched in [`run`] to one function. `deploy <command> --help` shows
//! each command's options and examples. Without a subcommand, `deploy` is the Pulumi
//! program that `pulumi preview` and `pulumi up` start.

mod access;
mod diagnostics;
mod diff;
mod differences;
mod migrate_state;
mod plugins;
mod program;
mod schema;
mod shards;
mod summary;

use cpg_infra::config::Severity;
use cpg_infra::error_chain as chain;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use cpg_infra::config::Config;
use cpg_infra::graph::Graph;
use cpg_infra::plugin::Mode;

/// Validate, plan and review a cpg-infra config directory, or (without a command)
/// deploy it as a Pulumi program.
#[derive(Debug, Parser)]
#[command(
    name = "deploy",
    version,
    after_help = "\
Without a command, deploy runs as a Pulumi program: `pulumi preview` and `pulumi up`
start it (the project's Pulumi.yaml names it as the binary), and it finds the config
directory in --config-dir, CPG_INFRA_CONFIG_DIR or the stack's `<project>:config-dir`.

Exit codes:
  0  success (diff --exit-code: nothing changes)
  1  problems found (an invalid config, a warning with --deny-warnings, a plugin
     that does not load, a question about nothing the plan has, a file that cannot
     be written, a failed deployment)
  2  usage error, or no command outside Pulumi
  3  diff --deny-destroy: data-bearing resources would be destroyed or replaced
  4  diff --exit-code: something changes (never a failure)

Examples:
  deploy validate config/ --deny-warnings
  deploy plan config/ --json > plan.json
  deploy plugins config/ --plugins-dir target/release
  deploy access config/ --person mira.okafor
  deploy diff main-config/ pr-config/ --markdown
  deploy migrate-state before.json > after.json
  deploy shards config/ --json
  deploy completions bash > ~/.local/share/bash-completion/completions/deploy"
)]
struct Cli {
    /// When to colour the output: `auto` colours when the output is a terminal.
    #[arg(long, value_enum, global = true, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    color: ColorWhen,
    /// Without a command: the config directory to deploy.
    #[arg(long, value_name = "DIR")]
    config_dir: Option<PathBuf>,
    /// The command to run; none runs the Pulumi program.
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
        self.colours(std::io::stdout().is_terminal())
    }

    /// Whether to colour the diagnostics this binary writes to standard error.
    fn stderr(self) -> bool {
        use std::io::IsTerminal;
        self.colours(std::io::stderr().is_terminal())
    }

    /// Whether to colour an output that is (or is not) a terminal.
    fn colours(self, terminal: bool) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
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
Warnings (`warning: …`, with file, key path and line) do not fail the command
unless --deny-warnings is given. --message-format json writes one JSON object per
diagnostic on standard output (severity, file, path, line, column, message);
--message-format github writes GitHub Actions annotations (`::error file=…,line=…::…`).

Examples:
  deploy validate config/
  deploy validate config/ --deny-warnings
  deploy validate config/ --message-format github")]
    Validate(ValidateArgs),
    /// List every resource the config declares, for people or (`--json`) programs.
    #[command(after_help = "\
Validates first: an invalid config prints its problems and exits 1. Plans with the GCP
and Azure clouds and the plugins the config enables (`plugins_enabled` in cpg.toml),
opened from the plugins directory: --plugins-dir, else CPG_INFRA_PLUGINS_DIR, else the
Pulumi config `<project>:plugins-dir`, else plugins/ beside this executable.

Examples:
  deploy plan config/
  deploy plan config/ --json > plan.json
  deploy plan config/ --dataset cardiac --type gcp:storage/bucket:Bucket
  deploy plan config/ --show gcp:storage/bucket:Bucket::cardiac-gcp-main-bucket
  deploy plan config/ --plugins-dir target/release --deny-warnings")]
    Plan(PlanArgs),
    /// List the plugins the config enables and whether each would load, and why not.
    #[command(after_help = "\
Prints the plugins directory and where it came from, each enabled plugin with its
version and ABI or why it is refused, then the other libraries in the directory.
Exits 1 when the config is invalid or an enabled plugin would not load.

Examples:
  deploy plugins config/
  deploy plugins config/ --plugins-dir target/release")]
    Plugins(PluginsArgs),
    /// Write a realistic synthetic config of n datasets into a new directory.
    #[command(after_help = "\
The directory must not exist or be empty. The same n and seed write the same files.

Examples:
  deploy generate 100 /tmp/org100
  deploy generate 10 /tmp/org10 --seed 7")]
    Generate(GenerateArgs),
    /// Who can reach what, with which role, through which groups.
    #[command(after_help = "\
Read from the plan, built as `deploy plan` builds it (both clouds, the enabled plugins):
every IAM member and binding, group membership (nested groups, dependencies, ad-hoc
groups, machine accounts, organisation-wide groups), Hail billing-project membership,
metamist member list and access entitlement. Each grant is shown with the shortest
chain of groups that leads to it. Without a question, prints everyone's access. Exits
1 when the config is invalid or the question names nothing the plan knows (naming the
nearest name it knows).

Examples:
  deploy access config/ --person mokafor
  deploy access config/ --person mira.okafor@example.org --json
  deploy access config/ --bucket exg-cardiac-main
  deploy access config/ --resource gcp:secretmanager/secret:Secret::cardiac-gcp-cromwell-full-key
  deploy access config/ --dataset cardiac
  deploy access config/ --dataset cardiac --format dot | dot -Tsvg > cardiac.svg")]
    Access(AccessArgs),
    /// What a config change does: resources added, changed and destroyed, and the
    /// access gained and lost.
    #[command(after_help = "\
Plans both config directories as `deploy plan` does (both clouds, the enabled plugins)
and compares the plans resource by resource: each changed input is shown before and
after (values only known at deploy time compared by their definition, secrets never
shown), then each person's or account's access gained and lost with the chain of
groups that grants it.

--targets prints only the URNs of the resources added, changed (updated or
replaced) and destroyed, sorted, one per line, as the Pulumi engine names them in
the stack --stack names: each becomes a `pulumi preview --target` argument.

--state <export.json> compares one config with what a `pulumi stack export`
records (migrated by migrate-state or not), offline: what an update would create,
change and delete, as far as the recorded inputs tell. Values only the update
knows (data sources, outputs of what it creates or replaces) and secrets the
export holds encrypted are listed as not compared; access is not compared.

Exit codes: 1 when a config is invalid or the export cannot be read, 2 for a usage
error; otherwise 0, or with --exit-code 0 when nothing changes and 4 when something does (a code no failure
uses, so a script tells a change to review from a diff that did not run).

Examples:
  deploy diff main-config/ pr-config/
  deploy diff main-config/ pr-config/ --markdown > review.md
  deploy diff main-config/ pr-config/ --json --exit-code
  deploy diff main-config/ pr-config/ --deny-destroy
  deploy diff main-config/ pr-config/ --targets --stack acme/datasets/production
  deploy diff --state production-export.json pr-config/
  deploy diff main-config/ pr-config/ --plugins-dir target/release")]
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
    /// Rewrite a `pulumi stack export` so the reference's Python dynamic resources
    /// become the cpg provider's resources.
    #[command(after_help = "\
Reads a `pulumi stack export` document; writes the new document to standard output
and the report of what changed to standard error; exits 1 when the export cannot be
read or is refused. Keep the old document: importing it restores the old state.

Examples:
  deploy migrate-state before.json > after.json
  (after `pulumi stack export --file before.json`; then `pulumi stack import --file after.json`)")]
    MigrateState(MigrateStateArgs),
    /// What the first preview of a stack adopted from the reference changes.
    #[command(after_help = "\
Plans the config as `deploy plan` does (both clouds, the enabled plugins) and lists
each resource where the plan differs from what the reference builds on purpose, with
its change (created, or an input changed in place) and its row of the Differences
table (docs/differences.md); then the cpg: resources `deploy migrate-state` moves
from the reference's Python dynamic resources. Exits 1 when the config is invalid.

Examples:
  deploy differences config/
  deploy differences config/ --json | jq '.differences[].resource'")]
    Differences(DifferencesArgs),
    /// The organisation cut into a stack per dataset: the shards, their sizes,
    /// what each reads from which, and the waves they deploy in.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "\
Plans the config as `deploy plan` does (both clouds, the enabled plugins) and cuts it
into shards (docs/sharding.md): the organisation, one per dataset, and what comes
after the datasets, each with its Pulumi stack. Prints each wave's stacks with their
sizes and the stacks each reads outputs from; --json prints the same for programs
(a CI job matrix). Exits 1 when the config is invalid or shards need each other
(naming the resources that make the cycle).

`deploy shards split-state` moves the single stack's state into the shard stacks.

Examples:
  deploy shards config/
  deploy shards config/ --json | jq -c '.waves'
  deploy shards split-state prod.json config/ shards/"
    )]
    Shards(ShardsArgs),
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
    /// The config directory (holding cpg.toml and production.yaml); default:
    /// CPG_INFRA_CONFIG_DIR, else the current directory.
    #[arg(value_name = "CONFIG_DIR")]
    dir: Option<PathBuf>,
    /// Fail (exit 1) on warnings as on errors.
    #[arg(long)]
    deny_warnings: bool,
    /// How to write the diagnostics: for people, JSON lines or GitHub annotations.
    #[arg(long, value_enum, default_value_t, value_name = "FORMAT")]
    message_format: diagnostics::MessageFormat,
}

/// `deploy plan`.
#[derive(Debug, Args)]
struct PlanArgs {
    /// The config directory (holding cpg.toml and production.yaml); default:
    /// CPG_INFRA_CONFIG_DIR, else the current directory.
    #[arg(value_name = "CONFIG_DIR")]
    dir: Option<PathBuf>,
    /// Print the plan document (JSON) instead of the summary.
    #[arg(long)]
    json: bool,
    /// List only this dataset's resources.
    #[arg(long, value_name = "DATASET", conflicts_with = "json")]
    dataset: Option<String>,
    /// List only the resources of this type token.
    #[arg(long = "type", value_name = "TYPE", conflicts_with = "json")]
    type_token: Option<String>,
    /// Show one resource's inputs (secrets masked) and options, as type::name.
    #[arg(long, value_name = "TYPE::NAME", conflicts_with_all = ["json", "dataset", "type_token"])]
    show: Option<String>,
    /// Where the enabled plugins' libraries are.
    #[arg(long, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
    /// Fail (exit 1) on warnings as on errors.
    #[arg(long)]
    deny_warnings: bool,
}

/// `deploy plugins`.
#[derive(Debug, Args)]
struct PluginsArgs {
    /// The config directory (holding cpg.toml and production.yaml); default:
    /// CPG_INFRA_CONFIG_DIR, else the current directory.
    #[arg(value_name = "CONFIG_DIR")]
    dir: Option<PathBuf>,
    /// Where the enabled plugins' libraries are.
    #[arg(long, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
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
    /// The config directory (holding cpg.toml and production.yaml); default:
    /// CPG_INFRA_CONFIG_DIR, else the current directory.
    #[arg(value_name = "CONFIG_DIR")]
    dir: Option<PathBuf>,
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
    /// This dataset's groups, their members, their nesting and what each grants.
    #[arg(long, group = "question", value_name = "DATASET")]
    dataset: Option<String>,
    /// The format of --dataset's answer: text (the default), or a picture.
    #[arg(long, value_enum, requires = "dataset")]
    format: Option<access::PictureFormat>,
    /// Print JSON for programs: each grant with person, role, resource and chain.
    #[arg(long, conflicts_with = "dataset")]
    json: bool,
    /// Where the enabled plugins' libraries are.
    #[arg(long, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
}

impl AccessArgs {
    fn query(&self) -> access::Query {
        if let Some(person) = &self.person {
            access::Query::Person(person.clone())
        } else if let Some(resource) = &self.resource {
            access::Query::Resource(resource.clone())
        } else if let Some(bucket) = &self.bucket {
            access::Query::Bucket(bucket.clone())
        } else if let Some(dataset) = &self.dataset {
            access::Query::Dataset {
                dataset: dataset.clone(),
                format: self.format.unwrap_or(access::PictureFormat::Text),
            }
        } else {
            access::Query::Everyone
        }
    }
}

/// `deploy diff`.
#[derive(Debug, Args)]
struct DiffArgs {
    /// The config directories before and after the change; with --state, only the
    /// one to compare with the export.
    #[arg(value_name = "CONFIG_DIR", num_args = 1..=2, required = true)]
    dirs: Vec<PathBuf>,
    /// Compare the config with what a `pulumi stack export` records instead of
    /// with another config.
    #[arg(long, value_name = "EXPORT_JSON")]
    state: Option<PathBuf>,
    /// Print JSON for programs.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print Markdown to paste into a pull request.
    #[arg(long, conflicts_with = "targets")]
    markdown: bool,
    /// Print the URN of every resource added, changed or destroyed, one per line,
    /// for `pulumi preview --target` (needs --stack, or --state).
    #[arg(long, conflicts_with = "json")]
    targets: bool,
    /// The stack the URNs are in, as <org>/<project>/<stack> or <project>/<stack>.
    #[arg(
        long,
        value_name = "ORG/PROJECT/STACK",
        requires = "targets",
        conflicts_with = "state"
    )]
    stack: Option<cpg_infra_review::urn::StackName>,
    /// Exit 0 when nothing changes and 4 when something does.
    #[arg(long)]
    exit_code: bool,
    /// Exit 3 when data-bearing resources (buckets, datasets, projects, secrets, …)
    /// would be destroyed or replaced.
    #[arg(long)]
    deny_destroy: bool,
    /// Where the enabled plugins' libraries are (for both configs).
    #[arg(long, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
}

impl DiffArgs {
    /// What to compare, or the usage error.
    fn sides(&self) -> Result<diff::Sides, &'static str> {
        match (&self.state, self.dirs.as_slice()) {
            (Some(export), [dir]) => Ok(diff::Sides::State {
                export: export.clone(),
                dir: dir.clone(),
            }),
            (Some(_), _) => Err("with --state, give one config directory: the one to compare"),
            (None, [old, new]) => Ok(diff::Sides::Configs {
                old: old.clone(),
                new: new.clone(),
            }),
            (None, _) => {
                Err("give the old and the new config directory (or --state <export.json> and one)")
            }
        }
    }

    /// The format asked for, or the usage error.
    fn format(&self, colour: bool) -> Result<diff::Format, &'static str> {
        Ok(if self.targets {
            match (&self.stack, &self.state) {
                (Some(stack), _) => diff::Format::Targets(Some(stack.clone())),
                (None, Some(_)) => diff::Format::Targets(None),
                (None, None) => {
                    return Err("--targets needs --stack <org>/<project>/<stack> \
                                (or --state, whose export names the stack)");
                }
            }
        } else if self.json {
            diff::Format::Json
        } else if self.markdown {
            diff::Format::Markdown
        } else {
            diff::Format::Text { colour }
        })
    }
}

/// `deploy differences`.
#[derive(Debug, Args)]
struct DifferencesArgs {
    /// The config directory (holding cpg.toml and production.yaml).
    #[arg(value_name = "CONFIG_DIR")]
    dir: PathBuf,
    /// Print JSON for programs: `differences` and `moved`.
    #[arg(long)]
    json: bool,
    /// Where the enabled plugins' libraries are.
    #[arg(long, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
}

/// `deploy schema`.
#[derive(Debug, Args)]
struct SchemaArgs {
    /// The config file whose schema to print.
    #[arg(long, value_enum, value_name = "FILE")]
    file: Option<schema::SchemaFile>,
}

/// `deploy migrate-state`.
#[derive(Debug, Args)]
struct MigrateStateArgs {
    /// The `pulumi stack export` document.
    #[arg(value_name = "EXPORT_JSON")]
    export: PathBuf,
}

/// `deploy shards`: its own arguments show the shards; subcommands that work on
/// shards (such as moving a stack's state into them) go beside them, and clap
/// refuses the two together.
#[derive(Debug, Args)]
struct ShardsArgs {
    /// What to show.
    #[command(flatten)]
    show: ShardsShowArgs,
    /// A subcommand instead of showing the shards.
    #[command(subcommand)]
    command: Option<ShardsCommand>,
}

/// The subcommands of `deploy shards`.
#[derive(Debug, Subcommand)]
enum ShardsCommand {
    /// Split the single stack's `pulumi stack export` into one export per shard
    /// stack, for `pulumi stack import`.
    #[command(after_help = "\
Plans the config as `deploy shards` does and writes <OUT_DIR>/<stack>.json for every
shard stack that holds a resource or output of the export: each with its own root
stack and copies of the providers its resources use, every URN and reference moved
to the stack, ids, inputs and outputs kept, so that importing them creates and
deletes nothing (docs/sharding.md, \"Moving an existing stack\"). Prints what each
stack holds and the references to other stacks it drops (a state cannot hold them)
on standard error.

Exits 1, writing nothing, when the config is invalid, the export cannot be read, a
file of <OUT_DIR> would be overwritten, or the export is refused: a resource or
output no shard holds, a parent in another shard, pending operations, resources
marked for deletion, or encrypted secrets (export with --show-secrets).

Examples:
  deploy shards split-state prod.json config/ shards/
  (after `pulumi stack export --show-secrets --file prod.json`; then, per shard stack,
  `pulumi stack import --stack <stack> --file shards/<stack>.json`)")]
    SplitState(SplitStateArgs),
}

/// `deploy shards split-state`.
#[derive(Debug, Args)]
struct SplitStateArgs {
    /// The single stack's `pulumi stack export` document (taken with --show-secrets).
    #[arg(value_name = "EXPORT_JSON")]
    export: PathBuf,
    /// The config directory, planned to tell which shard holds each resource.
    #[arg(value_name = "CONFIG_DIR")]
    dir: PathBuf,
    /// Where to write one `<stack>.json` per shard stack (created if missing; no
    /// file in it is overwritten).
    #[arg(value_name = "OUT_DIR")]
    out_dir: PathBuf,
    /// Carry encrypted secrets as they are. Only sound when every shard stack is
    /// imported with the same secrets provider and key as the original stack (a
    /// passphrase or a cloud KMS key; Pulumi Cloud's own keys are bound to the
    /// original stack). Without it, an export holding ciphertexts is refused.
    #[arg(long)]
    allow_ciphertext: bool,
    /// Where the enabled plugins' libraries are.
    #[arg(long, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
}

/// `deploy shards <config dir>`.
#[derive(Debug, Args)]
struct ShardsShowArgs {
    /// The config directory (holding cpg.toml and production.yaml); default:
    /// CPG_INFRA_CONFIG_DIR, else the current directory.
    #[arg(value_name = "CONFIG_DIR")]
    dir: Option<PathBuf>,
    /// Print JSON for programs: the shards, what each reads, the waves.
    #[arg(long)]
    json: bool,
    /// Where the enabled plugins' libraries are.
    #[arg(long, value_name = "DIR")]
    plugins_dir: Option<PathBuf>,
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
    diagnostics::set_colour(cli.color.stderr());
    let Some(command) = cli.command else {
        return program::run(cli.config_dir.as_deref());
    };
    if cli.config_dir.is_some() {
        let error = Cli::command().color(cli.color.clap()).error(
            clap::error::ErrorKind::ArgumentConflict,
            "--config-dir is only for running as a Pulumi program (no command); \
             the commands take the config directory as their argument",
        );
        let _ = error.print();
        return ExitCode::from(2);
    }
    match command {
        Command::Validate(args) => validate(
            &config_dir(args.dir),
            args.deny_warnings,
            args.message_format,
        ),
        Command::Plan(args) => plan(&args),
        Command::Plugins(args) => match diagnostics::load_checked(&config_dir(args.dir), false) {
            Some(config) => plugins::list(&config, args.plugins_dir.as_deref()),
            None => ExitCode::from(1),
        },
        Command::Generate(args) => generate(args.datasets, &args.dir, args.seed),
        Command::Access(args) => access::run(
            &config_dir(args.dir.clone()),
            &args.query(),
            args.json,
            args.plugins_dir.as_deref(),
        ),
        Command::Diff(args) => {
            let asked = args
                .sides()
                .and_then(|sides| Ok((sides, args.format(cli.color.stdout())?)));
            match asked {
                Ok((sides, format)) => diff::run(
                    &sides,
                    format,
                    diff::Gates {
                        exit_code: args.exit_code,
                        deny_destroy: args.deny_destroy,
                    },
                    args.plugins_dir.as_deref(),
                ),
                Err(message) => {
                    let error = Cli::command()
                        .color(cli.color.clap())
                        .error(clap::error::ErrorKind::MissingRequiredArgument, message);
                    let _ = error.print();
                    ExitCode::from(2)
                }
            }
        }
        Command::Differences(args) => {
            differences::run(&args.dir, args.json, args.plugins_dir.as_deref())
        }
        Command::Shards(ShardsArgs {
            command: Some(ShardsCommand::SplitState(args)),
            ..
        }) => shards::split_state(
            &args.export,
            &args.dir,
            &args.out_dir,
            if args.allow_ciphertext {
                cpg_infra_kinds::split::SplitOptions::allowing_ciphertext()
            } else {
                cpg_infra_kinds::split::SplitOptions::default()
            },
            args.plugins_dir.as_deref(),
        ),
        Command::Shards(args) => shards::run(
            &config_dir(args.show.dir),
            args.show.json,
            args.show.plugins_dir.as_deref(),
        ),
        Command::Schema(args) => schema::run(args.file),
        Command::MigrateState(args) => migrate_state(&args.export),
        Command::Completions(args) => completions(args.shell),
    }
}

/// The config directory a command works on: the one given, else
/// `CPG_INFRA_CONFIG_DIR` when set and not empty, else the current directory.
fn config_dir(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| {
            std::env::var_os("CPG_INFRA_CONFIG_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

fn validate(dir: &Path, deny_warnings: bool, format: diagnostics::MessageFormat) -> ExitCode {
    let Some(config) = diagnostics::load_checked_as(dir, deny_warnings, format) else {
        return ExitCode::from(1);
    };
    let valid = format!(
        "{}: valid ({} datasets, {} users)\n",
        dir.display(),
        config.datasets.len(),
        config.infrastructure.users.len()
    );
    if format == diagnostics::MessageFormat::Human {
        emit(&valid)
    } else {
        // Standard output holds only the diagnostics.
        eprint!("{valid}");
        ExitCode::SUCCESS
    }
}

fn plan(args: &PlanArgs) -> ExitCode {
    let dir = config_dir(args.dir.clone());
    let Some((config, graph)) = build(&dir, args.plugins_dir.as_deref(), args.deny_warnings) else {
        return ExitCode::from(1);
    };
    if args.json {
        return write_json(&graph);
    }
    let datasets: Vec<String> = config.datasets.iter().map(|d| d.dataset.clone()).collect();
    let filter = summary::Filter {
        dataset: args.dataset.clone(),
        type_token: args.type_token.clone(),
    };
    let answer = match &args.show {
        Some(resource) => summary::show(&graph, resource),
        None => summary::check(&graph, &datasets, &filter)
            .map(|()| summary::render(&graph, &datasets, &filter)),
    };
    match answer {
        Ok(text) => emit(&text),
        Err(error) => {
            eprintln!("{}: {error}", diagnostics::label(Severity::Error));
            ExitCode::from(1)
        }
    }
}

/// Loads, validates and plans `dir` the one way every command plans: with the GCP
/// and Azure clouds and the enabled plugins from the plugins directory, printing
/// every warning and problem on standard error. `None` when it cannot (or, with
/// `deny_warnings`, when validation warned).
fn build(dir: &Path, plugins_dir: Option<&Path>, deny_warnings: bool) -> Option<(Config, Graph)> {
    let config = diagnostics::load_checked(dir, deny_warnings)?;
    let infrastructure = plugins::prepare(config.clone(), plugins_dir, Mode::Plan).ok()?;
    match plugins::build(&infrastructure) {
        Ok(built) => Some((config, built.graph)),
        Err(error) => {
            eprintln!(
                "{}: {}: {}",
                dir.display(),
                diagnostics::label(Severity::Error),
                chain(&error)
            );
            None
        }
    }
}

fn generate(datasets: usize, dir: &Path, seed: u64) -> ExitCode {
    if let Err(error) = cpg_infra::synthetic::check_dataset_count(datasets) {
        eprintln!("{}: {error}", crate::diagnostics::label(Severity::Error));
        return ExitCode::from(2);
    }
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        eprintln!(
            "{}: {} is not empty; generate writes a new directory",
            diagnostics::label(Severity::Error),
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
            eprintln!(
                "{}: cannot write {}: {error}",
                crate::diagnostics::label(Severity::Error),
                dir.display()
            );
            ExitCode::from(1)
        }
    }
}

fn migrate_state(export: &Path) -> ExitCode {
    let version = cpg_infra_kinds::PROVIDER_VERSION;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    match migrate_state::migrate_state(export, version, &mut out, &mut err) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            drop(err);
            diagnostics::fail(&error)
        }
    }
}

/// Writes the completion script for `shell` to standard output.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "deploy", &mut script);
    emit(&String::from_utf8_lossy(&script))
}

/// Writes `text` to standard output; a reader that went away (`| head`) is not an
/// error.
fn emit(text: &str) -> ExitCode {
    use std::io::Write;
    stream("write to standard output", |out| {
        out.write_all(text.as_bytes())
    })
}

/// Standard output, buffered: what [`stream`] writes to.
type Stdout = std::io::BufWriter<std::io::StdoutLock<'static>>;

/// Writes to standard output with `write`, through a buffer, as it is produced: 0
/// when written, or when the reader went away (`| head`); otherwise 1, saying it
/// cannot `what`.
fn stream(what: &str, write: impl FnOnce(&mut Stdout) -> std::io::Result<()>) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "{}: cannot {what}: {error}",
                crate::diagnostics::label(Severity::Error)
            );
            ExitCode::from(1)
        }
    }
}

/// Streams the plan document to standard output.
fn write_json(graph: &Graph) -> ExitCode {
    stream("write the plan", |out| {
        cpg_infra_review::stream::write_json_pretty(out, &graph.plan())
    })
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

    #[test]
    fn no_command_is_the_pulumi_program_with_an_optional_config_dir() {
        let cli = Cli::try_parse_from(["deploy", "--config-dir", "config"]).expect("parses");
        assert!(cli.command.is_none());
        assert_eq!(cli.config_dir, Some(PathBuf::from("config")));
        let cli = Cli::try_parse_from(["deploy"]).expect("parses");
        assert!(cli.command.is_none() && cli.config_dir.is_none());
    }

    #[test]
    fn deny_warnings_and_plugins_dir_reach_plan() {
        let cli = Cli::try_parse_from([
            "deploy",
            "plan",
            "--deny-warnings",
            "config",
            "--plugins-dir",
            "p",
        ])
        .expect("parses");
        let Some(Command::Plan(args)) = cli.command else {
            panic!("not plan: {:?}", cli.command);
        };
        assert!(args.deny_warnings && !args.json);
        assert_eq!(args.plugins_dir, Some(PathBuf::from("p")));
    }
}
