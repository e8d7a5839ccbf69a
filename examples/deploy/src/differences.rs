//! `deploy differences`: what the first preview of a stack adopted from the reference
//! changes, read from the plan.

use std::path::Path;
use std::process::ExitCode;

use cpg_infra_review::differences::Differences;

/// Runs `deploy differences <dir>`, planning as `deploy plan` does with the plugins
/// from `plugins_dir`: 0 when listed, 1 when the config is invalid.
pub fn run(dir: &Path, json: bool, plugins_dir: Option<&Path>) -> ExitCode {
    let Some((_config, graph)) = crate::build(dir, plugins_dir, false) else {
        return ExitCode::from(1);
    };
    let differences = Differences::of(&graph);
    if json {
        match serde_json::to_string_pretty(&differences.to_json()) {
            Ok(text) => crate::emit(&(text + "\n")),
            Err(error) => {
                eprintln!("error: cannot write JSON: {error}");
                ExitCode::from(1)
            }
        }
    } else {
        crate::emit(&differences.to_text())
    }
}
