//! `deploy diff`: what a config change does to the infrastructure and to access, or
//! what deploying a config would change in a stack, read from its export.

use cpg_infra::config::Severity;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cpg_infra_review::diff::PlanDiff;
use cpg_infra_review::names::Names;
use cpg_infra_review::state::{StackExport, StateDiff};
use cpg_infra_review::stream::Text;
use cpg_infra_review::urn::StackName;

/// What `deploy diff` compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sides {
    /// Two config directories.
    Configs {
        /// Before the change.
        old: PathBuf,
        /// After the change.
        new: PathBuf,
    },
    /// A stack export and a config directory.
    State {
        /// The `pulumi stack export` document.
        export: PathBuf,
        /// The config directory.
        dir: PathBuf,
    },
}

/// How to write the difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// For people; coloured when asked.
    Text {
        /// Whether to colour it.
        colour: bool,
    },
    /// JSON for programs.
    Json,
    /// Markdown for a pull request.
    Markdown,
    /// The URNs of what changes, one per line, for `pulumi preview --target`: in
    /// this stack, or (against a stack export) in the export's.
    Targets(Option<StackName>),
}

/// What makes `deploy diff` exit other than 0 once it has written the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gates {
    /// Exit [`CHANGES`] when something changes.
    pub exit_code: bool,
    /// Exit [`DATA_AT_RISK`] when data-bearing resources would be destroyed or replaced.
    pub deny_destroy: bool,
}

/// The exit code of `--deny-destroy` when data is at risk.
pub const DATA_AT_RISK: u8 = 3;

/// The exit code of `--exit-code` when something changes: distinct from every
/// failure (1 for problems found, 2 for a usage error), so that a script can tell
/// "review this change" from "this did not run".
pub const CHANGES: u8 = 4;

/// Runs `deploy diff`: two configs planned as `deploy plan` plans them (with the
/// plugins from `plugins_dir`), or one config against a stack export. 1 when a
/// config is invalid or the export cannot be read; otherwise 0, with `deny_destroy`
/// [`DATA_AT_RISK`] when data is at risk, and with `exit_code` [`CHANGES`] when
/// something changes.
pub fn run(sides: &Sides, format: Format, gates: Gates, plugins_dir: Option<&Path>) -> ExitCode {
    let compared = match sides {
        Sides::Configs { old, new } => between_configs(old, new, format, plugins_dir),
        Sides::State { export, dir } => against_state(export, dir, format, plugins_dir),
    };
    let Some((output, diff)) = compared else {
        return ExitCode::from(1);
    };
    let written = match output {
        Output::Rendered(text) => crate::emit(&text),
        Output::Text { colour } => crate::stream("write the difference", |out| {
            let mut text = Text::new(out);
            let written = diff.write_text(colour, &mut text);
            text.finish(written).map(drop)
        }),
        Output::Json => crate::stream("write the difference", |out| diff.write_json(out)),
    };
    if written != ExitCode::SUCCESS {
        return written;
    }
    let at_risk = diff.data_at_risk();
    if gates.deny_destroy && !at_risk.is_empty() {
        eprintln!(
            "error: {} data-bearing resources would be destroyed or replaced (--deny-destroy)",
            at_risk.len()
        );
        for risk in &at_risk {
            eprintln!("  {} {}: {}", risk.loss.name(), risk.id, risk.holder());
        }
        ExitCode::from(DATA_AT_RISK)
    } else if gates.exit_code && !diff.is_empty() {
        ExitCode::from(CHANGES)
    } else {
        ExitCode::SUCCESS
    }
}

/// What `deploy diff` writes once it has compared: a text already made, or the
/// difference itself, written as it is made so that the whole output is never
/// held at once.
enum Output {
    /// Made before the plans were let go (`--targets` needs them; Markdown is
    /// capped, and needs its whole text to cut it).
    Rendered(String),
    /// [`PlanDiff::write_text`].
    Text {
        /// Whether to colour it.
        colour: bool,
    },
    /// [`PlanDiff::write_json`].
    Json,
}

/// Prints an error (`error: …`) on standard error; `None`, for `?`.
fn failed<T>(message: impl std::fmt::Display) -> Option<T> {
    eprintln!("{}: {message}", crate::diagnostics::label(Severity::Error));
    None
}

/// `value` as pretty JSON and a newline.
fn json_text(value: &serde_json::Value) -> Option<String> {
    match serde_json::to_string_pretty(value) {
        Ok(json) => Some(json + "\n"),
        Err(error) => failed(format!("cannot write JSON: {error}")),
    }
}

/// The URNs, one per line.
fn lines(urns: &[String]) -> String {
    urns.iter().map(|u| format!("{u}\n")).collect()
}

/// The difference between the plans of two configs, and how to write it in
/// `format`. The configs and their plans are let go before it is written: a
/// difference between two large organisations is written while holding only the
/// difference.
fn between_configs(
    old: &Path,
    new: &Path,
    format: Format,
    plugins_dir: Option<&Path>,
) -> Option<(Output, PlanDiff)> {
    let before = crate::build(old, plugins_dir, false);
    let after = crate::build(new, plugins_dir, false);
    let (Some((old_config, before)), Some((new_config, after))) = (before, after) else {
        return None;
    };
    // People by the user keys of either config, the new one's where they differ.
    let names = Names::from_config(&old_config.infrastructure)
        .and(Names::from_config(&new_config.infrastructure));
    drop((old_config, new_config));
    let output = match format {
        Format::Text { colour } => Output::Text { colour },
        Format::Json => Output::Json,
        Format::Markdown => {
            let diff = PlanDiff::between_owned(before, after, &names);
            return Some((Output::Rendered(diff.to_markdown()), diff));
        }
        Format::Targets(stack) => {
            // The command line asks for --stack without --state.
            let stack = stack?;
            let diff = PlanDiff::between_named(&before, &after, &names);
            return match diff.targets(&before, &after, &stack) {
                Ok(urns) => Some((Output::Rendered(lines(&urns)), diff)),
                Err(error) => failed(error),
            };
        }
    };
    Some((output, PlanDiff::between_owned(before, after, &names)))
}

/// The difference between what a stack export records and the plan of a config,
/// written in `format`.
fn against_state(
    export: &Path,
    dir: &Path,
    format: Format,
    plugins_dir: Option<&Path>,
) -> Option<(Output, PlanDiff)> {
    let document = match crate::migrate_state::read_document(export) {
        Ok(document) => document,
        Err(error) => return failed(cpg_infra::error_chain(&error)),
    };
    let file = export.display().to_string();
    let recorded = match StackExport::read(&file, &document) {
        Ok(recorded) => recorded,
        Err(error) => return failed(cpg_infra::error_chain(&error)),
    };
    let (_, plan) = crate::build(dir, plugins_dir, false)?;
    let diff = match StateDiff::between(&recorded, &plan) {
        Ok(diff) => diff,
        Err(error) => return failed(error),
    };
    let text = match format {
        Format::Text { colour } => diff.to_text(colour),
        Format::Markdown => diff.to_markdown(),
        Format::Json => json_text(&diff.to_json())?,
        Format::Targets(None) => lines(&diff.targets()),
        // The command line refuses --stack with --state.
        Format::Targets(Some(_)) => return None,
    };
    Some((Output::Rendered(text), diff.diff))
}
