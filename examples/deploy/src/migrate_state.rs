//! `deploy migrate-state <export.json>`: rewrites a `pulumi stack export` document so
//! the reference's Python dynamic resources become this project's `cpg:` resources;
//! the new document goes to standard output, the report of what changed to standard
//! error.

use std::io::Write;
use std::path::Path;

use cpg_infra_kinds::migrate::{MigrateError, migrate_owned};

/// Why `migrate-state` failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateStateError {
    /// The export could not be read.
    #[error("{}: cannot read", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The export is not JSON.
    #[error("{}: not JSON (line {line})", path.display())]
    Json {
        /// The file.
        path: std::path::PathBuf,
        /// The line of the error.
        line: usize,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The export was refused.
    #[error("{}: not migrated", path.display())]
    Refused {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: MigrateError,
    },
    /// The new document or the report could not be written.
    #[error("cannot write the migrated state")]
    Write(#[source] std::io::Error),
}

/// Reads the JSON document at `export` (a `pulumi stack export`), parsed from the
/// file as it is read: the document is never held beside its text.
pub fn read_document(export: &Path) -> Result<serde_json::Value, MigrateStateError> {
    let read_error = |source| MigrateStateError::Read {
        path: export.into(),
        source,
    };
    let file = std::fs::File::open(export).map_err(read_error)?;
    serde_json::from_reader(std::io::BufReader::with_capacity(1 << 20, file)).map_err(|source| {
        if source.is_io() {
            read_error(source.into())
        } else {
            MigrateStateError::Json {
                path: export.into(),
                line: source.line(),
                source,
            }
        }
    })
}

/// Migrates the export at `export`, for the `cpg` provider at `provider_version`; writes
/// the new document to `out` and one line per change, then a summary, to `report`.
pub fn migrate_state(
    export: &Path,
    provider_version: &str,
    out: &mut dyn Write,
    report: &mut dyn Write,
) -> Result<(), MigrateStateError> {
    let document = read_document(export)?;
    let migration =
        migrate_owned(document, provider_version).map_err(|source| MigrateStateError::Refused {
            path: export.into(),
            source,
        })?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, &mut *out);
    serde_json::to_writer_pretty(&mut buffered, &migration.document)
        .map_err(std::io::Error::from)
        .and_then(|()| buffered.write_all(b"\n"))
        .and_then(|()| buffered.flush())
        .map_err(MigrateStateError::Write)?;
    drop(buffered);
    drop(migration.document);
    let mut lines = String::new();
    if migration.provider_added {
        lines.push_str(&format!("added    {}\n", migration.provider_urn));
    }
    for m in &migration.moved {
        lines.push_str(&format!(
            "moved    {} -> {} (from {})\n",
            m.old_urn, m.new_urn, m.told_by
        ));
    }
    lines.push_str(&format!(
        "{} resource(s) moved to the cpg provider, {} other resource(s) had references rewritten\n",
        migration.moved.len(),
        migration.references_rewritten
    ));
    report
        .write_all(lines.as_bytes())
        .map_err(MigrateStateError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_document_and_reports_each_move() {
        let dir = std::env::temp_dir().join(format!("deploy-migrate-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("export.json");
        let export = serde_json::json!({"version": 3, "deployment": {"resources": [
            {"urn": "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "type": "pulumi:pulumi:Stack", "custom": false},
            {"urn": "urn:pulumi:s::p::pulumi-python:dynamic:Resource::m", "type": "pulumi-python:dynamic:Resource",
             "custom": true, "id": "groups/g/memberships/1",
             "inputs": {"__provider": "x", "group_key": "groups/g", "member_key": "a@x.org"},
             "outputs": {"__provider": "x", "group_key": "groups/g", "member_key": "a@x.org", "member_name": "groups/g/memberships/1"}},
        ]}});
        let _ = std::fs::write(&path, export.to_string());
        let (mut out, mut report) = (Vec::new(), Vec::new());
        let result = migrate_state(&path, "0.1.0", &mut out, &mut report);
        assert!(result.is_ok(), "{result:?}");
        let document: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(
            document["deployment"]["resources"][2]["urn"],
            "urn:pulumi:s::p::cpg:google:GroupMembership::m"
        );
        let report = String::from_utf8_lossy(&report);
        assert!(report.contains("added    urn:pulumi:s::p::pulumi:providers:cpg::default_0_1_0"));
        assert!(report.contains("-> urn:pulumi:s::p::cpg:google:GroupMembership::m (from inputs)"));
        assert!(report.ends_with("1 resource(s) moved to the cpg provider, 0 other resource(s) had references rewritten\n"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_json_names_the_file_and_line() {
        let dir = std::env::temp_dir().join(format!("deploy-migrate-bad-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("export.json");
        let _ = std::fs::write(&path, "{\n\"version\": 3,\n oops}");
        let err = migrate_state(&path, "0.1.0", &mut Vec::new(), &mut Vec::new())
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.ends_with("export.json: not JSON (line 3)")),
            "{err:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_directory_is_unreadable_not_bad_json() {
        let dir = std::env::temp_dir().join(format!("deploy-migrate-dir-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let err = migrate_state(&dir, "0.1.0", &mut Vec::new(), &mut Vec::new()).err();
        assert!(
            matches!(&err, Some(MigrateStateError::Read { path, .. }) if *path == dir),
            "{err:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
