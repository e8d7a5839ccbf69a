//! The fixture plugin libraries cargo built for these tests, and plugins directories
//! holding them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use cpg_infra::config::{Config, load_dir};
use cpg_infra::plugin::library_file_name;

/// The fixture libraries, by library name. The fixture crates are this crate's
/// dev-dependencies, so cargo builds their shared libraries with the tests
/// (see [`cpg_infra_test_support::cdylib`]).
pub fn fixtures() -> BTreeMap<String, PathBuf> {
    [
        "fixture_good",
        "fixture_panics",
        "fixture_wrong_abi",
        "fixture_wrong_magic",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), cpg_infra_test_support::cdylib(name)))
    .collect()
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
