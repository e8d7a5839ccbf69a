//! The loader refuses every bad library with a message that says why.

use std::path::Path;

use cpg_infra_plugin_api::abi::ABI_VERSION;
use cpg_infra_plugin_api::loader::{Inspection, LoadError, inspect, load, load_enabled};

use super::support::{fixtures, plugins_dir, temp_dir};

fn refusal(dir: &Path, name: &str) -> LoadError {
    match load(dir, name) {
        Ok(plugin) => panic!("{name} loaded: {plugin:?}"),
        Err(error) => error,
    }
}

#[test]
fn a_good_plugin_loads_with_its_header() {
    let libraries = fixtures();
    let dir = plugins_dir("good", &[("fixture_good", &libraries["fixture_good"])]);
    let plugin = load(dir.path(), "fixture_good").expect("loads");
    let info = plugin.info();
    assert_eq!(info.name, "fixture_good");
    assert_eq!(info.version, "0.1.0");
    assert_eq!(info.abi_version, ABI_VERSION);
    assert_eq!(
        info.path,
        dir.path()
            .join(cpg_infra::plugin::library_file_name("fixture_good"))
    );
}

#[test]
fn wrong_magic_is_refused() {
    let libraries = fixtures();
    let dir = plugins_dir(
        "magic",
        &[("fixture_wrong_magic", &libraries["fixture_wrong_magic"])],
    );
    let error = refusal(dir.path(), "fixture_wrong_magic");
    assert!(matches!(error, LoadError::WrongMagic { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("plugin \"fixture_wrong_magic\": ")
            && message.ends_with(
                "is not a cpg-infra plugin (wrong magic \"NOTCPGIN\" in its header, expected \"CPGINFRA\")"
            ),
        "{message}"
    );
}

#[test]
fn wrong_abi_version_is_refused() {
    let libraries = fixtures();
    let dir = plugins_dir(
        "abi",
        &[("fixture_wrong_abi", &libraries["fixture_wrong_abi"])],
    );
    let error = refusal(dir.path(), "fixture_wrong_abi");
    let message = error.to_string();
    let expected = format!(
        "speaks plugin ABI version {}, this host supports versions 1–{ABI_VERSION}; rebuild the plugin against this release's cpg-infra-plugin-api",
        ABI_VERSION + 1
    );
    assert!(message.ends_with(&expected), "{message}");
    assert!(matches!(error, LoadError::UnsupportedAbi { found, .. } if found == ABI_VERSION + 1));
}

#[test]
fn a_name_that_differs_from_the_file_is_refused() {
    let libraries = fixtures();
    let dir = plugins_dir("impostor", &[("impostor", &libraries["fixture_good"])]);
    let error = refusal(dir.path(), "impostor");
    let message = error.to_string();
    assert!(
        message.starts_with("plugin \"impostor\": ")
            && message.ends_with(
                "calls itself \"fixture_good\"; a plugin's name and its file name must agree"
            ),
        "{message}"
    );
}

#[test]
fn missing_files_and_files_that_are_not_libraries_are_refused() {
    let dir = temp_dir("missing");
    let missing = refusal(dir.path(), "billing_aggregator");
    assert!(matches!(missing, LoadError::NotFound { .. }), "{missing:?}");
    assert!(missing.to_string().ends_with("does not exist"), "{missing}");

    std::fs::write(
        dir.path()
            .join(cpg_infra::plugin::library_file_name("junk")),
        "not a library",
    )
    .expect("write");
    let junk = refusal(dir.path(), "junk");
    assert!(
        junk.to_string()
            .ends_with("is not a loadable shared library"),
        "{junk}"
    );
    assert!(
        std::error::Error::source(&junk).is_some(),
        "the system's reason is kept"
    );

    let invalid = refusal(dir.path(), "../etc/passwd");
    assert_eq!(
        invalid.to_string(),
        "\"../etc/passwd\" is not a plugin name"
    );
}

#[test]
fn every_problem_of_the_enabled_list_is_reported() {
    let libraries = fixtures();
    let dir = plugins_dir(
        "enabled",
        &[
            ("fixture_good", &libraries["fixture_good"]),
            ("fixture_wrong_magic", &libraries["fixture_wrong_magic"]),
        ],
    );
    let names: Vec<String> = [
        "fixture_good",
        "fixture_wrong_magic",
        "absent",
        "fixture_good",
    ]
    .map(String::from)
    .to_vec();
    let errors = load_enabled(dir.path(), &names).expect_err("three problems");
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 3, "{shown:#?}");
    assert!(matches!(errors[0], LoadError::WrongMagic { .. }));
    assert!(matches!(errors[1], LoadError::NotFound { .. }));
    assert_eq!(shown[2], "plugin \"fixture_good\" is enabled twice");

    let loaded = load_enabled(dir.path(), &["fixture_good".to_owned()]).expect("loads");
    assert_eq!(loaded.len(), 1);
}

#[test]
fn inspection_lists_enabled_plugins_then_other_libraries_unopened() {
    let libraries = fixtures();
    let dir = plugins_dir(
        "inspect",
        &[
            ("fixture_good", &libraries["fixture_good"]),
            ("fixture_panics", &libraries["fixture_panics"]),
        ],
    );
    let found = inspect(
        dir.path(),
        &["fixture_good".to_owned(), "absent".to_owned()],
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(matches!(&found[0], Inspection::Loads(info) if info.name == "fixture_good"));
    assert!(matches!(
        &found[1],
        Inspection::Refused(LoadError::NotFound { .. })
    ));
    assert!(
        matches!(&found[2], Inspection::NotEnabled { path } if path.ends_with(cpg_infra::plugin::library_file_name("fixture_panics")))
    );
}
