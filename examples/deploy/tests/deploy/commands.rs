//! `validate`, `plan` and `generate`: exit codes and output.

use super::support::{deploy, example_config, text};

#[test]
fn validate_accepts_the_example_config() {
    let output = deploy(&["validate", example_config().to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("valid ("),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn validate_reports_every_problem_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("deploy-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("datasets/common")).expect("mkdir");
    std::fs::write(
        dir.join("cpg.toml"),
        "domian = \"x\"\nbudget_currency = \"AUD\"\ncommon_dataset = \"common\"\nconfig_destination = \"gs://x\"\nusers = {}\nplugins_enabled = []\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("production.yaml"),
        "common:\n  gcp:\n    project: cpg-common\n  setup_test: maybe\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("datasets/common/members.yaml"),
        "analysis: [nobody]\n",
    )
    .expect("write");
    let output = deploy(&["validate", dir.to_str().expect("utf-8 path")]);
    let stderr = text(&output.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: cpg.toml: domian (line 1): unknown key \"domian\" — did you mean \"domain\"?"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: production.yaml: common.setup_test (line 4): expected a boolean"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "error: datasets/common/members.yaml: analysis[0] (line 1): unknown user \"nobody\""
        ),
        "{stderr}"
    );
}

#[test]
fn validate_of_a_missing_directory_exits_1() {
    let output = deploy(&["validate", "/nonexistent/cpg-infra-config"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("cpg.toml: file not found"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn plan_prints_a_summary_and_json() {
    let dir = example_config();
    let dir = dir.to_str().expect("utf-8 path");
    let summary = deploy(&["plan", dir]);
    assert_eq!(summary.status.code(), Some(0), "{}", text(&summary.stderr));
    let out = text(&summary.stdout);
    assert!(
        out.contains("by type:") && out.contains("gcp:storage/bucket:Bucket"),
        "{out}"
    );
    let json = deploy(&["plan", dir, "--json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan is JSON");
    assert_eq!(plan["format_version"], 1);
    assert!(plan["resources"].as_array().is_some_and(|r| !r.is_empty()));
    assert_eq!(
        json.stdout,
        deploy(&["plan", dir, "--json"]).stdout,
        "deterministic"
    );
}

#[test]
fn plan_of_an_invalid_config_exits_1() {
    let output = deploy(&["plan", "/nonexistent/cpg-infra-config", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
}
