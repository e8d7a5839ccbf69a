//! Building plugin libraries with cargo, and plugins directories holding them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use cpg_infra::config::{Config, load_dir};
use cpg_infra::plugin::library_file_name;

/// The workspace's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds `packages` with cargo and returns each `cdylib` it reported, by library
/// name (`fixture_good`, `billing_aggregator`): the paths cargo gives, whatever the
/// target directory.
pub fn build_cdylibs(packages: &[&str]) -> BTreeMap<String, PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace()).args([
        "build",
        "--message-format=json-render-diagnostics",
        "--quiet",
    ]);
    for package in packages {
        command.args(["-p", package]);
    }
    let output = command.output().expect("run cargo build");
    assert!(
        output.status.success(),
        "cargo build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut found = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let kinds = message["target"]["kind"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !kinds.iter().any(|k| k == "cdylib") {
            continue;
        }
        let name = message["target"]["name"]
            .as_str()
            .expect("target name")
            .to_owned();
        let file = library_file_name(&name);
        let path = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .map(PathBuf::from)
            .find(|p| p.file_name().and_then(|n| n.to_str()) == Some(file.as_str()))
            .unwrap_or_else(|| panic!("no {file} among {}", message["filenames"]));
        found.insert(name, path);
    }
    assert_eq!(
        found.len(),
        packages.len(),
        "one cdylib per package of {packages:?}: {found:?}"
    );
    found
}

/// The fixture libraries, by library name.
pub fn fixtures() -> BTreeMap<String, PathBuf> {
    build_cdylibs(&[
        "cpg-infra-plugin-fixture-good",
        "cpg-infra-plugin-fixture-panics",
        "cpg-infra-plugin-fixture-wrong-abi",
        "cpg-infra-plugin-fixture-wrong-magic",
    ])
}

/// A new empty directory under the system's temporary directory, removed with
/// everything in it when dropped (also when a test fails).
pub fn temp_dir(label: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("cpg-infra-plugins-{label}-"))
        .tempdir()
        .expect("create temporary directory")
}

/// A plugins directory holding `libraries`, each copied under the file name of the
/// plugin name given.
pub fn plugins_dir(label: &str, libraries: &[(&str, &Path)]) -> TempDir {
    let dir = temp_dir(label);
    for (name, library) in libraries {
        std::fs::copy(library, dir.path().join(library_file_name(name))).expect("copy library");
    }
    dir
}

pub use cpg_infra_reference::reference_dir;

/// A reference config, which must be valid.
pub fn load(name: &str) -> Config {
    let dir = reference_dir().join(name);
    load_dir(&dir)
        .unwrap_or_else(|invalid| panic!("{} is invalid: {:?}", dir.display(), invalid.diagnostics))
}
