//! Where the repository's test data lives, for tests: the reference's recorded
//! configs and outputs in `testdata/reference`, or the directory [`VARIABLE`] names,
//! and the check that the repository's copy equals the reference's own wherever
//! that is beside the checkout. It depends on nothing of this project, so that every
//! crate's tests — the core's included — read the recordings the same way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The environment variable naming another directory of recordings to test against.
pub const VARIABLE: &str = "CPG_INFRA_REFERENCE";

/// The workspace this crate belongs to.
fn workspace_dir() -> &'static Path {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest)
}

/// The repository's copy of the recordings: `testdata/reference` in the workspace.
pub fn repository_dir() -> PathBuf {
    workspace_dir().join("testdata").join("reference")
}

/// Where the reference's recordings are kept beside a checkout on the
/// organisation's build machines (`../shared/reference`); the repository's copy
/// must equal it wherever it exists (see [`copy_differences`]).
pub fn shared_dir() -> PathBuf {
    workspace_dir().join("..").join("shared").join("reference")
}

/// The recorded reference outputs: the directory [`VARIABLE`] names if it is set,
/// else the repository's copy ([`repository_dir`]).
///
/// # Panics
///
/// When that directory does not exist, naming it and [`VARIABLE`].
pub fn reference_dir() -> PathBuf {
    reference_dir_from(std::env::var_os(VARIABLE))
}

/// [`reference_dir`] given the value of [`VARIABLE`].
fn reference_dir_from(variable: Option<std::ffi::OsString>) -> PathBuf {
    let (dir, whence) = match variable {
        Some(dir) => (PathBuf::from(dir), format!("named by {VARIABLE}")),
        None => (
            repository_dir(),
            format!("the repository's copy; set {VARIABLE} to read them from elsewhere"),
        ),
    };
    assert!(
        dir.is_dir(),
        "the reference's recordings are not at {} ({whence})",
        dir.display()
    );
    dir
}

/// Reads `<name>.reference.json` from [`reference_dir`].
///
/// # Panics
///
/// When the directory is missing (naming it and [`VARIABLE`]), or the file
/// cannot be read or is not JSON, naming the file.
pub fn read(name: &str) -> Value {
    read_from(&reference_dir(), name)
}

/// Reads `<name>.reference.json` from `dir`.
///
/// # Panics
///
/// When the file cannot be read or is not JSON, naming the file and [`VARIABLE`].
pub fn read_from(dir: &Path, name: &str) -> Value {
    let path = dir.join(format!("{name}.reference.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (a recording of the reference; {VARIABLE} names the directory to read them from)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file that differs between the repository's copy of the recordings and
/// the reference's own, one line each, by path relative to both: `differs: path`,
/// `missing: path` (only in `theirs`), `extra: path` (only in `ours`).
///
/// # Panics
///
/// When a directory or file cannot be read, naming it.
pub fn copy_differences(ours: &Path, theirs: &Path) -> Vec<String> {
    let (our_files, their_files) = (files(ours), files(theirs));
    let mut found = Vec::new();
    for path in their_files.union(&our_files) {
        let shown = path.display();
        match (our_files.contains(path), their_files.contains(path)) {
            (false, _) => found.push(format!("missing: {shown}")),
            (_, false) => found.push(format!("extra: {shown}")),
            _ if bytes(&ours.join(path)) != bytes(&theirs.join(path)) => {
                found.push(format!("differs: {shown}"));
            }
            _ => {}
        }
    }
    found
}

/// The files under `root`, relative to it, sorted.
fn files(root: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                found.insert(relative.to_path_buf());
            }
        }
    }
    found
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own under the system's temp dir, for `test`.
    fn temp_dir(test: &str) -> PathBuf {
        std::env::temp_dir().join(format!("cpg-infra-reference-{test}-{}", std::process::id()))
    }

    #[test]
    fn the_repository_holds_the_recordings_by_default() {
        let dir = reference_dir_from(None);
        assert_eq!(dir, repository_dir());
        assert!(dir.ends_with("testdata/reference"), "{}", dir.display());
        for name in [
            "storage-only",
            "small",
            "features",
            "small-plugins",
            "azure-common",
        ] {
            assert!(dir.join(name).join("cpg.toml").is_file(), "{name}");
            assert!(read_from(&dir, name)["resources"].is_array(), "{name}");
        }
    }

    #[test]
    #[should_panic(expected = "(named by CPG_INFRA_REFERENCE)")]
    fn a_missing_directory_named_by_the_variable_is_named() {
        reference_dir_from(Some("/nonexistent/cpg-infra-reference".into()));
    }

    #[test]
    fn copies_differ_by_file() {
        let root = temp_dir("copies");
        let (ours, theirs) = (root.join("ours"), root.join("theirs"));
        for dir in [&ours, &theirs] {
            std::fs::create_dir_all(dir.join("small/datasets")).expect("temp dir");
            std::fs::write(dir.join("small/cpg.toml"), "same").expect("write");
        }
        std::fs::write(ours.join("small/datasets/a.yaml"), "old").expect("write");
        std::fs::write(theirs.join("small/datasets/a.yaml"), "new").expect("write");
        std::fs::write(theirs.join("new.reference.json"), "{}").expect("write");
        std::fs::write(ours.join("small/stale.yaml"), "").expect("write");
        let found = copy_differences(&ours, &theirs);
        std::fs::remove_dir_all(&root).expect("remove");
        assert_eq!(
            found,
            [
                "missing: new.reference.json",
                "differs: small/datasets/a.yaml",
                "extra: small/stale.yaml"
            ]
        );
    }

    /// The repository's recordings are the reference's own wherever those are
    /// beside the checkout, so an updated recording is never silently ignored.
    #[test]
    fn the_repository_copy_is_the_shared_one() {
        let shared = shared_dir();
        if !shared.is_dir() {
            // Written past the test harness's capture, so that `cargo test` shows it.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped the_repository_copy_is_the_shared_one: no {} beside the checkout",
                shared.display()
            );
            return;
        }
        let found = copy_differences(&repository_dir(), &shared);
        assert!(
            found.is_empty(),
            "{} differs from {} (copy the reference's recordings into the repository):\n{}",
            repository_dir().display(),
            shared.display(),
            found.join("\n")
        );
    }

    #[test]
    fn a_recording_is_read_from_its_directory() {
        let recording = serde_json::json!({"resources": [], "resource_count": 0});
        let dir = temp_dir("read");
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("x.reference.json"), recording.to_string()).expect("write");
        let read = read_from(&dir, "x");
        std::fs::remove_dir_all(&dir).expect("remove");
        assert_eq!(read, recording);
    }
}
