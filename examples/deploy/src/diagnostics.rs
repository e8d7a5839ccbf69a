//! What validation found, on standard error: each error and warning after its
//! severity, with its file, key path and line; and whether warnings fail the command.
//! Every diagnostic the binary prints starts with [`label`], coloured as `--color`
//! asks.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use cpg_infra::config::{Config, InvalidConfig, Severity, load_dir};

/// Whether diagnostics on standard error are coloured.
static COLOUR: AtomicBool = AtomicBool::new(false);

/// Colours the severity of every diagnostic from now on, or not.
pub fn set_colour(on: bool) {
    COLOUR.store(on, Ordering::Relaxed);
}

/// A diagnostic's severity as it starts the line: `error` in bold red, `warning` in
/// bold yellow when colour is on.
pub fn label(severity: Severity) -> Label {
    Label(severity)
}

/// The severity word of a diagnostic; see [`label`].
pub struct Label(Severity);

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.0.as_str();
        if !COLOUR.load(Ordering::Relaxed) {
            return f.write_str(word);
        }
        let colour = match self.0 {
            Severity::Warning => "33",
            _ => "31",
        };
        write!(f, "\u{1b}[1;{colour}m{word}\u{1b}[0m")
    }
}

/// Loads and validates `dir`, printing every error and warning. Returns the config
/// when it has no errors, and no warnings either when `deny_warnings` is set.
pub fn load_checked(dir: &Path, deny_warnings: bool) -> Option<Config> {
    match load_dir(dir) {
        Ok(config) => {
            for warning in &config.warnings {
                eprintln!("{}: {warning}", label(warning.severity()));
            }
            if deny_warnings && !config.warnings.is_empty() {
                let n = config.warnings.len();
                eprintln!(
                    "{}: {}: {n} warning{}, denied by --deny-warnings",
                    label(Severity::Error),
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
        eprintln!("{}: {diagnostic}", label(diagnostic.severity()));
    }
}
