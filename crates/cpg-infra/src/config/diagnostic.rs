//! What validation reports: a problem, how serious it is, and the file, key path and
//! line it is at.

use std::fmt;

use super::names::CloudName;
use super::source::KeyPath;
use super::suggest::Suggestion;

/// One problem with the configuration, and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The file, relative to the config directory (or a description of the value when
    /// the config was built in code).
    pub file: String,
    /// The key path inside the file.
    pub path: KeyPath,
    /// The line, when the parser knows it.
    pub line: Option<u32>,
    /// What is wrong.
    pub problem: Problem,
}

/// How serious a problem is.
///
/// An error is what cannot be built, or would build broken or insecure
/// infrastructure: it stops validation. A warning is what the reference accepts that
/// has no effect or looks like a mistake: it is reported and the config is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// The configuration cannot be used.
    Error,
    /// The configuration is used as it is; the problem is reported.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as the command line prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Diagnostic {
    /// How serious the problem is.
    pub fn severity(&self) -> Severity {
        self.problem.severity()
    }

    /// Whether the problem is a warning.
    pub fn is_warning(&self) -> bool {
        self.severity() == Severity::Warning
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if !self.path.is_root() {
            write!(f, ": {}", self.path)?;
        }
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("{item:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The problems validation finds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A required file does not exist.
    #[error("file not found in {dir} (it holds {holds})")]
    MissingFile {
        /// The config directory.
        dir: String,
        /// What the file holds.
        holds: String,
    },
    /// The config directory itself cannot be read: it does not exist, is not a
    /// directory, or cannot be listed.
    #[error("cannot read the config directory: {message}")]
    UnreadableDir {
        /// Why: the operating system's message or what the path is instead.
        message: String,
    },
    /// An entry of `datasets/` that is not a dataset directory (a README, a dotfile);
    /// it is ignored (a warning).
    #[error("not a dataset directory; ignored")]
    NotADatasetDir,
    /// Two files that hold the same config under alternative names.
    #[error("{other} holds the same config; keep one of the two")]
    ConflictingFiles {
        /// The other file.
        other: String,
    },
    /// A file in a dataset directory that the loader does not read.
    #[error("unknown dataset file, expected one of {}{suggestion}", list(.expected))]
    UnknownFile {
        /// The files the loader reads.
        expected: Vec<String>,
        /// The nearest of them.
        suggestion: Suggestion,
    },
    /// A file could not be read.
    #[error("cannot read the file: {message}")]
    Unreadable {
        /// The operating system's message.
        message: String,
    },
    /// A file is not valid TOML or YAML.
    #[error("syntax error: {message}")]
    Syntax {
        /// The parser's message.
        message: String,
    },
    /// A key given twice in one mapping.
    #[error("duplicate key {key:?} (first given on line {first_line})")]
    DuplicateKey {
        /// The key.
        key: String,
        /// Where it was first given.
        first_line: u32,
    },
    /// A key the schema does not have.
    #[error("unknown key {key:?}{suggestion}")]
    UnknownKey {
        /// The key.
        key: String,
        /// The nearest known key.
        suggestion: Suggestion,
    },
    /// A value of the wrong type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the schema wants.
        expected: String,
        /// What the file has.
        found: String,
    },
    /// A value outside a closed set.
    #[error("invalid value {value:?}, expected one of {}{suggestion}", list(.expected))]
    InvalidValue {
        /// The value.
        value: String,
        /// The allowed values.
        expected: Vec<String>,
        /// The nearest allowed value.
        suggestion: Suggestion,
    },
    /// A required key is absent.
    #[error("missing required key {key:?}")]
    MissingKey {
        /// The key.
        key: String,
    },
    /// Any other value the schema rejects.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
    },
    /// A rule across values or files that a value's schema cannot express (a
    /// dependency that does not deploy where its dependant does, a derived name
    /// that collides, …).
    #[error("{message}")]
    Rule {
        /// What is wrong.
        message: String,
    },
    /// A dataset value given both in `production.yaml` and in a dataset file.
    #[error("{key:?} is given both here and in {other_file}")]
    GivenTwice {
        /// The dataset key.
        key: String,
        /// The other file.
        other_file: String,
    },
    /// A `datasets/<name>` directory for a dataset the dataset config does not list.
    #[error("directory for dataset {dataset:?}, which is not in the dataset config{suggestion}")]
    OrphanDatasetDirectory {
        /// The directory's name.
        dataset: String,
        /// The nearest known dataset.
        suggestion: Suggestion,
    },
    /// A dataset's `dataset` key differs from the name it is listed under.
    #[error("dataset name {found:?} differs from the key {expected:?} it is listed under")]
    DatasetNameMismatch {
        /// The key.
        expected: String,
        /// The value.
        found: String,
    },
    /// Two datasets with the same name.
    #[error("dataset {name:?} is defined more than once")]
    DuplicateDataset {
        /// The name.
        name: String,
    },
    /// A dataset name the clouds cannot use.
    #[error("invalid dataset name {name:?}: {reason}")]
    InvalidDatasetName {
        /// The name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A reference to a dataset that does not exist.
    #[error("unknown dataset {name:?}{suggestion}")]
    UnknownDataset {
        /// The name.
        name: String,
        /// The nearest known dataset.
        suggestion: Suggestion,
    },
    /// Datasets that depend on each other in a circle.
    #[error("dependency cycle: {}", .cycle.join(" -> "))]
    DependencyCycle {
        /// The datasets, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A member key that is not in `users`.
    #[error("unknown user {user:?}{suggestion}")]
    UnknownUser {
        /// The member key.
        user: String,
        /// The nearest known user.
        suggestion: Suggestion,
    },
    /// A user without an identity on a cloud that needs one.
    #[error(
        "user {user:?} has no {cloud} identity (users.{user}.clouds.{cloud}), needed because {needed_by}"
    )]
    MissingCloudIdentity {
        /// The member key.
        user: String,
        /// The cloud.
        cloud: CloudName,
        /// What needs it.
        needed_by: String,
    },
    /// A deploy location without a budget.
    #[error("no budget for {cloud}, which the dataset deploys to")]
    MissingBudget {
        /// The cloud.
        cloud: CloudName,
    },
    /// A dropbox moving files to an upload bucket that does not exist.
    #[error("unknown upload bucket {bucket:?}, expected one of {}", list(.known))]
    UnknownUploadBucket {
        /// The bucket name.
        bucket: String,
        /// The dataset's upload buckets.
        known: Vec<String>,
    },
    /// Two dropboxes with one id in a dataset.
    #[error("dropbox id {id:?} is already used by dropboxes[{first_index}]")]
    DuplicateDropbox {
        /// The id.
        id: String,
        /// The first dropbox with it.
        first_index: usize,
    },
    /// A shared project without what it shares or pays with.
    #[error("enable_shared_project needs {needs}")]
    SharedProjectIncomplete {
        /// What is missing.
        needs: String,
    },
    /// A config section an enabled feature needs.
    #[error("the infrastructure config has no [{section}] section, needed by {needed_by}")]
    MissingSection {
        /// The section.
        section: String,
        /// What needs it.
        needed_by: String,
    },
    /// A name derived from the config that a cloud would reject.
    #[error("{what} {name:?} is {length} characters, {limit}")]
    NameOutOfLimits {
        /// What the name is for.
        what: String,
        /// The derived name.
        name: String,
        /// Its length.
        length: usize,
        /// The cloud's limit.
        limit: String,
    },
    /// A number outside its range.
    #[error("{value} is out of range, expected {range}")]
    OutOfRange {
        /// The value.
        value: i64,
        /// The range.
        range: String,
    },
    /// A name listed twice.
    #[error("{what} {name:?} is listed more than once")]
    Duplicate {
        /// What kind of name.
        what: String,
        /// The name.
        name: String,
    },
    /// A name listed twice where the second listing changes nothing (a warning).
    #[error("{what} {name:?} is listed more than once; it counts once")]
    Repeated {
        /// What kind of name.
        what: String,
        /// The name.
        name: String,
    },
    /// A setting that has no effect, or part of whose effect is left out (a warning).
    #[error("{setting} {effect}: {reason}")]
    NoEffect {
        /// The setting.
        setting: String,
        /// What is left out (`has no effect`, `gives notebooks no access`, …).
        effect: String,
        /// Why.
        reason: String,
    },
    /// A dataset in both `depends_on` and `depends_on_readonly` (a warning).
    #[error(
        "{dataset:?} is also in depends_on, which already gives every access depends_on_readonly gives"
    )]
    DependencyInBothLists {
        /// The dependency.
        dataset: String,
    },
    /// An ad-hoc group without members (a warning).
    #[error("ad-hoc group {name:?} has no members")]
    EmptyGroup {
        /// The group.
        name: String,
    },
    /// A value the reference accepts that looks like a mistake (a warning).
    #[error("{message}")]
    Questionable {
        /// What looks wrong, and what is built.
        message: String,
    },
    /// A member that is left out of a group, as the reference leaves it out (a warning).
    #[error("{member:?} is left out of the group: {reason}{suggestion}")]
    MemberLeftOut {
        /// The member key.
        member: String,
        /// Why.
        reason: String,
        /// The nearest known user, when the member is unknown.
        suggestion: Suggestion,
    },
}

impl Problem {
    /// How serious the problem is: warnings are the problems the reference accepts
    /// that have no effect or look like a mistake; everything else is an error.
    pub fn severity(&self) -> Severity {
        match self {
            Problem::Repeated { .. }
            | Problem::NoEffect { .. }
            | Problem::DependencyInBothLists { .. }
            | Problem::EmptyGroup { .. }
            | Problem::MemberLeftOut { .. }
            | Problem::Questionable { .. }
            | Problem::NotADatasetDir => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// A configuration that failed validation: every problem found, errors and warnings
/// (sorted by file and line when loaded from a directory).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the configuration has {}", count(.diagnostics))]
pub struct InvalidConfig {
    /// Every problem, at least one of them an error.
    pub diagnostics: Vec<Diagnostic>,
}

impl InvalidConfig {
    /// The errors: what makes the configuration unusable.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_warning())
    }

    /// The warnings found beside the errors.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_warning())
    }
}

/// `3 errors and 1 warning`.
fn count(diagnostics: &[Diagnostic]) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let warnings = diagnostics.iter().filter(|d| d.is_warning()).count();
    let errors = diagnostics.len() - warnings;
    if warnings == 0 {
        plural(errors, "error")
    } else {
        format!(
            "{} and {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }
}
