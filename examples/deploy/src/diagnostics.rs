//! What validation found, on standard error: each error and warning after its
//! severity, with its file, key path and line; and whether warnings fail the command.

use std::path::Path;

use cpg_infra::config::{Config, InvalidConfig, load_dir};

/// Loads and validates `dir`, printing every error and warning. Returns the config
/// when it has no errors, and no warnings either when `deny_warnings` is set.
pub fn load_checked(dir: &Path, deny_warnings: bool) -> Option<Config> {
    match load_dir(dir) {
        Ok(config) => {
            for warning in &config.warnings {
                eprintln!("{}: {warning}", warning.severity());
            }
            if deny_warnings && !config.warnings.is_empty() {
                let n = config.warnings.len();
                eprintln!(
                    "{}: {n} warning{}, denied by --deny-warnings",
                    dir.display(),
                    if n == 1 { "" } else { "s" }
                );
                return None;
            }
            Some(config)
        }
        Err(invalid) => {
            report(&invalid);
            eprintln!("{}: {invalid}", dir.display());
            None
        }
    }
}

fn report(invalid: &InvalidConfig) {
    for diagnostic in &invalid.diagnostics {
        eprintln!("{}: {diagnostic}", diagnostic.severity());
    }
}
