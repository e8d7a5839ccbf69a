//! What validation found, on standard error: each error and warning after its
//! severity, with its file, key path and line; and whether warnings fail the command.
//! Every diagnostic the binary prints starts with [`label`], coloured as `--color`
//! asks.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use cpg_infra::config::{Config, Diagnostic, InvalidConfig, Problem, Severity, load_dir};

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

/// Prints `error: <error and its causes>` on standard error; the exit code of a
/// command that failed (1).
pub fn fail(error: &dyn std::error::Error) -> std::process::ExitCode {
    eprintln!(
        "{}: {}",
        label(Severity::Error),
        cpg_infra::error_chain(error)
    );
    std::process::ExitCode::from(1)
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

/// How `validate` writes what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MessageFormat {
    /// One line per diagnostic on standard error, for people.
    #[default]
    Human,
    /// One JSON object per line on standard output, for programs.
    Json,
    /// GitHub Actions workflow commands on standard output (`::error file=…,line=…::…`),
    /// which annotate the pull request's files.
    Github,
}

/// Loads and validates `dir`, printing every error and warning for people. Returns
/// the config when it has no errors, and no warnings either when `deny_warnings` is
/// set.
pub fn load_checked(dir: &Path, deny_warnings: bool) -> Option<Config> {
    load_checked_as(dir, deny_warnings, MessageFormat::Human)
}

/// [`load_checked`], each diagnostic written in `format`. The closing summary of a
/// failure (`<dir>: …`) is for people and always goes to standard error.
pub fn load_checked_as(dir: &Path, deny_warnings: bool, format: MessageFormat) -> Option<Config> {
    match load_dir(dir) {
        Ok(config) => {
            for warning in &config.warnings {
                write(dir, warning, format);
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
            report(dir, &invalid, format);
            eprintln!("{}: {invalid}", dir.display());
            None
        }
    }
}

fn report(dir: &Path, invalid: &InvalidConfig, format: MessageFormat) {
    for diagnostic in &invalid.diagnostics {
        write(dir, diagnostic, format);
    }
}

/// Writes one diagnostic in `format`.
fn write(dir: &Path, diagnostic: &Diagnostic, format: MessageFormat) {
    match format {
        MessageFormat::Human => eprintln!("{}: {diagnostic}", label(diagnostic.severity())),
        MessageFormat::Json => println!("{}", json(dir, diagnostic)),
        MessageFormat::Github => println!("{}", github(dir, diagnostic)),
    }
}

/// The diagnostic's file as a path from where the command runs: the config
/// directory joined with the file (the directory itself when it is what is wrong).
fn file_path(dir: &Path, diagnostic: &Diagnostic) -> String {
    let path = if matches!(diagnostic.problem, Problem::UnreadableDir { .. }) {
        dir.to_path_buf()
    } else {
        dir.join(&diagnostic.file)
    };
    let path = path.strip_prefix(".").unwrap_or(&path);
    path.display().to_string()
}

/// One JSON object: severity, file (from where the command runs), key path, line
/// and column (`null` when unknown; columns are not tracked) and message.
fn json(dir: &Path, diagnostic: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "severity": diagnostic.severity().as_str(),
        "file": file_path(dir, diagnostic),
        "path": diagnostic.path.to_string(),
        "line": diagnostic.line,
        "column": serde_json::Value::Null,
        "message": diagnostic.problem.to_string(),
    })
}

/// A GitHub Actions workflow command: `::error file=F,line=N,title=P::message`,
/// escaped as the runner expects.
fn github(dir: &Path, diagnostic: &Diagnostic) -> String {
    let mut properties = vec![format!(
        "file={}",
        escape_property(&file_path(dir, diagnostic))
    )];
    if let Some(line) = diagnostic.line {
        properties.push(format!("line={line}"));
    }
    if !diagnostic.path.is_root() {
        properties.push(format!(
            "title={}",
            escape_property(&diagnostic.path.to_string())
        ));
    }
    format!(
        "::{} {}::{}",
        diagnostic.severity().as_str(),
        properties.join(","),
        escape_data(&diagnostic.problem.to_string())
    )
}

/// A workflow command's message: `%`, carriage returns and newlines escaped.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: as a message, and `:` and `,` too.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_escape_what_the_runner_would_read_as_syntax() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
