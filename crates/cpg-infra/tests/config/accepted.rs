//! Configs the reference builds are accepted: what it refuses only where a component
//! turns a value into a cloud name is refused only there, and what it builds with a
//! log line, or without any effect, is a warning. Each test is named after the case.

use super::support::ConfigDir;

/// Loads `dir`, which must validate, and renders its warnings.
fn warnings(dir: &ConfigDir) -> Vec<String> {
    match dir.load() {
        Ok(config) => config.warnings.iter().map(ToString::to_string).collect(),
        Err(invalid) => panic!("the config was refused: {:#?}", dir_errors(&invalid)),
    }
}

fn dir_errors(invalid: &cpg_infra::config::InvalidConfig) -> Vec<String> {
    invalid
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn empty_wheel_bucket_name_is_skipped() {
    let dir = ConfigDir::valid();
    dir.replace(
        "cpg.toml",
        "hail_auth_url = \"https://auth.example.org\"\n",
        "hail_auth_url = \"https://auth.example.org\"\nwheel_bucket_name = \"\"\n",
    );
    assert_eq!(warnings(&dir), Vec::<String>::new());
    let config = dir.load().expect("valid");
    let hail = config.infrastructure.hail.expect("hail");
    assert_eq!(hail.gcp.wheel_bucket_name.as_deref(), Some(""));
}
