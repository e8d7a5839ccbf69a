//! `deploy diff`: what a config change does to the infrastructure and to access.

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

/// Runs `deploy diff <old> <new>`, planning both as `deploy plan` does with the
/// plugins from `plugins_dir`: 1 when either config is invalid; otherwise 0, or with
/// `exit_code` 0 when nothing changes and 2 when something does.
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
                eprintln!("error: cannot write JSON: {error}");
                return ExitCode::from(1);
            }
        },
    };
    let written = crate::emit(&text);
    if written != ExitCode::SUCCESS {
        return written;
    }
    if exit_code && !diff.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
