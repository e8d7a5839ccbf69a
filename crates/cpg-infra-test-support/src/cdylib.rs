//! The shared libraries of `cdylib` crates, found where cargo put them for the test
//! that is running — no test runs `cargo build` itself.
//!
//! How they get there: a test that needs plugin `x`'s library declares `x`'s crate a
//! dev-dependency, and `x` lists `crate-type = ["cdylib", "rlib"]`. Cargo compiles a
//! library target with every crate type it lists, also when it only builds it as a
//! dependency, so building the test builds `lib<x>.so` too (the `rlib` is what makes
//! the crate a dependency cargo accepts; the test need not use it, and an unused
//! dependency is not linked, so the plugins' entry symbols never meet in one test
//! executable). Cargo writes a dependency's outputs to `<target>/<profile>/deps/`,
//! the directory the test executable itself is in, and leaves the hash out of a
//! path package's shared library names (they are baked into whatever links them),
//! so the file is `deps/lib<x>.so` whatever the target directory. A crate built as
//! a root of the build (`cargo build -p x`, `--workspace`) is also copied up to
//! `<target>/<profile>/`, which is searched second.

use std::path::{Path, PathBuf};

use cpg_infra::plugin::library_file_name;

/// The shared library of the `cdylib` crate whose library is named `name` (its
/// `[lib] name`, which is also the plugin name a plugins directory files it under),
/// as cargo built it for the running test.
///
/// # Panics
///
/// When the running executable cannot be found, or the library is in neither
/// directory cargo writes it to — then the crate is not a dev-dependency of the
/// crate whose test asks for it, or does not list `cdylib` among its crate types.
pub fn cdylib(name: &str) -> PathBuf {
    let executable = std::env::current_exe()
        .unwrap_or_else(|error| panic!("where is this test executable? {error}"));
    find(name, &executable).unwrap_or_else(|searched| {
        panic!(
            "{} was not built for this test: looked in {searched:?}; declare the crate of \
             library {name:?} a dev-dependency of the crate under test, with \
             crate-type = [\"cdylib\", \"rlib\"]",
            library_file_name(name)
        )
    })
}

/// The library `name` beside `executable` or one directory up; else the
/// directories searched.
fn find(name: &str, executable: &Path) -> Result<PathBuf, Vec<PathBuf>> {
    let file = library_file_name(name);
    let searched: Vec<PathBuf> = executable
        .ancestors()
        .skip(1)
        .take(2)
        .map(Path::to_path_buf)
        .collect();
    searched
        .iter()
        .map(|dir| dir.join(&file))
        .find(|candidate| candidate.is_file())
        .ok_or(searched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_beside_the_executable_comes_before_one_a_directory_up() {
        let root = tempfile::tempdir().expect("temporary directory");
        let deps = root.path().join("debug/deps");
        std::fs::create_dir_all(&deps).expect("mkdir");
        let executable = deps.join("plugin_api-0123");
        let file = library_file_name("fixture_good");

        let searched = find("fixture_good", &executable).expect_err("nothing built yet");
        assert_eq!(searched, [deps.clone(), root.path().join("debug")]);

        std::fs::write(root.path().join("debug").join(&file), "uplifted").expect("write");
        assert_eq!(
            find("fixture_good", &executable),
            Ok(root.path().join("debug").join(&file))
        );
        std::fs::write(deps.join(&file), "dependency").expect("write");
        assert_eq!(find("fixture_good", &executable), Ok(deps.join(&file)));
    }
}
