//! The split read from and written to files, for the command line.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::state::not_export;
use super::{ROOT_TYPE, ShardOf, Split, SplitError, SplitOptions, split};

/// The project of an export: the one its root stack resource (or else its first
/// resource) names; `None` for an export without resources.
pub fn project_of(export: &Value) -> Option<String> {
    let resources = export.pointer("/deployment/resources")?.as_array()?;
    let urn_of = |r: &Value| r.get("urn").and_then(Value::as_str).map(String::from);
    let urn = resources
        .iter()
        .find(|r| r.get("type").and_then(Value::as_str) == Some(ROOT_TYPE))
        .or_else(|| resources.first())
        .and_then(urn_of)?;
    let rest = urn.strip_prefix("urn:pulumi:")?;
    rest.split("::").nth(1).map(String::from)
}

/// Why [`split_file`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SplitFileError {
    /// The export could not be read.
    #[error("{}: cannot read", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The export is not JSON.
    #[error("{}: not JSON (line {line})", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The line of the error.
        line: usize,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The export was refused.
    #[error("{}: not split", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: SplitError,
    },
    /// Files that would be overwritten; nothing was written.
    #[error("would overwrite {}; nothing written", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Exists(Vec<PathBuf>),
    /// A file could not be written.
    #[error("{}: cannot write", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Splits the export at `export` and writes each stack's document to
/// `<out_dir>/<stack>.json` (pretty JSON), creating `out_dir` if needed. Refuses, before
/// writing anything, when one of those files exists. `project` `None` keeps the export's
/// own project ([`project_of`]).
pub fn split_file(
    export: &Path,
    out_dir: &Path,
    project: Option<&str>,
    shards: &dyn ShardOf,
    options: SplitOptions,
) -> Result<Split, SplitFileError> {
    let text = std::fs::read_to_string(export).map_err(|source| SplitFileError::Read {
        path: export.into(),
        source,
    })?;
    let document: Value = serde_json::from_str(&text).map_err(|source| SplitFileError::Json {
        path: export.into(),
        line: source.line(),
        source,
    })?;
    let refused = |source| SplitFileError::Refused {
        path: export.into(),
        source,
    };
    let project = match project {
        Some(p) => p.to_string(),
        None => project_of(&document).ok_or_else(|| {
            refused(not_export(
                "/deployment/resources",
                "no resource to tell the project by",
            ))
        })?,
    };
    let split = split(&document, &project, shards, options).map_err(refused)?;
    let paths: Vec<PathBuf> = split
        .shards
        .keys()
        .map(|stack| out_dir.join(format!("{stack}.json")))
        .collect();
    let existing: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
    if !existing.is_empty() {
        return Err(SplitFileError::Exists(existing));
    }
    std::fs::create_dir_all(out_dir).map_err(|source| SplitFileError::Write {
        path: out_dir.into(),
        source,
    })?;
    for (path, shard) in paths.iter().zip(split.shards.values()) {
        write_new(path, &shard.document).map_err(|source| SplitFileError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(split)
}

fn write_new(path: &Path, document: &Value) -> std::io::Result<()> {
    use std::io::Write as _;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let mut out = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, document)?;
    out.write_all(b"\n")?;
    out.flush()
}
