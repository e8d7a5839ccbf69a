//! `deploy diff`: what a config change does to the infrastructure and to access.

use cpg_infra::config::Severity;
use std::path::Path;
use std::process::ExitCode;

use cpg_infra_review::diff::PlanDiff;

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

/// The exit code of `--exit-code` when something changes: distinct from every
/// failure (1 for problems found, 2 for a usage error), so that a script can tell
/// "review this change" from "this did not run".
pub const CHANGES: u8 = 4;

/// Runs `deploy diff <old> <new>`, planning both as `deploy plan` does with the
/// plugins from `plugins_dir`: 1 when either config is invalid; otherwise 0, or with
/// `exit_code` 0 when nothing changes and [`CHANGES`] when something does.
pub fn run(
    old: &Path,
    new: &Path,
    format: Format,
    exit_code: bool,
    plugins_dir: Option<&Path>,
) -> ExitCode {
    let before = crate::build(old, plugins_dir, false);
    let after = crate::build(new, plugins_dir, false);
    let (Some((_, before)), Some((_, after))) = (before, after) else {
        return ExitCode::from(1);
    };
    let diff = PlanDiff::between(&before, &after);
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
    if exit_code && !diff.is_empty() {
        ExitCode::from(CHANGES)
    } else {
        ExitCode::SUCCESS
    }
}
