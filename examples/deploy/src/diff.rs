//! `deploy diff`: what a config change does to the infrastructure and to access.

use cpg_infra::config::Severity;
use std::path::Path;
use std::process::ExitCode;

use cpg_infra_review::diff::PlanDiff;
use cpg_infra_review::names::Names;

/// How to write the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Runs `deploy diff <old> <new>`, planning both as `deploy plan` does with the
/// plugins from `plugins_dir` and naming people by either config's user keys: 1 when either config is invalid; otherwise 0, with
/// `deny_destroy` [`DATA_AT_RISK`] when data is at risk, and with `exit_code`
/// [`CHANGES`] when something changes.
pub fn run(
    old: &Path,
    new: &Path,
    format: Format,
    gates: Gates,
    plugins_dir: Option<&Path>,
) -> ExitCode {
    let before = crate::build(old, plugins_dir, false);
    let after = crate::build(new, plugins_dir, false);
    let (Some((old_config, before)), Some((new_config, after))) = (before, after) else {
        return ExitCode::from(1);
    };
    // People by the user keys of either config, the new one's where they differ.
    let names = Names::from_config(&old_config.infrastructure)
        .and(Names::from_config(&new_config.infrastructure));
    let diff = PlanDiff::between_named(&before, &after, &names);
    let text = match format {
        Format::Text { colour } => diff.to_text(colour),
        Format::Markdown => diff.to_markdown(),
        Format::Json => match serde_json::to_string_pretty(&diff.to_json()) {
            Ok(json) => json + "\n",
            Err(error) => {
                eprintln!(
                    "{}: cannot write JSON: {error}",
                    crate::diagnostics::label(Severity::Error)
                );
                return ExitCode::from(1);
            }
        },
    };
    let written = crate::emit(&text);
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
