//! `validate`, `plan`, `plugins` and `generate`: exit codes and output.

use std::path::{Path, PathBuf};

use cpg_infra::plugin::library_file_name;

use super::support::{TempDir, deploy, example_config, text};

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
    let dir = TempDir::new("cli");
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

/// A copy of the example config with `production.yaml` changed by `edit`.
fn example_copy(name: &str, edit: impl FnOnce(String) -> String) -> TempDir {
    let dir = TempDir::new(&format!("cli-{name}"));
    copy_dir(&example_config(), &dir);
    let production = dir.join("production.yaml");
    let text = std::fs::read_to_string(&production).expect("read production.yaml");
    std::fs::write(&production, edit(text)).expect("write production.yaml");
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn warnings_print_with_their_place_and_do_not_fail() {
    // A dependency listed twice: the reference accepts it, so it is a warning.
    let dir = example_copy("warn", |text| {
        text.replacen(
            "  depends_on:\n  - cardiac\n",
            "  depends_on:\n  - cardiac\n  - cardiac\n",
            1,
        )
    });
    let path = dir.to_str().expect("utf-8 path");
    let validate = deploy(&["validate", path]);
    let plan = deploy(&["plan", path, "--json"]);
    let denied = deploy(&["validate", path, "--deny-warnings"]);
    let denied_plan = deploy(&["plan", "--deny-warnings", path]);

    let stderr = text(&validate.stderr);
    assert_eq!(validate.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: production.yaml: ")
            && stderr.contains("depends_on[1] (line ")
            && stderr.contains("dependency \"cardiac\" is listed more than once; it counts once"),
        "{stderr}"
    );
    assert!(text(&validate.stdout).contains("valid ("));
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    assert!(!plan.stdout.is_empty());

    assert_eq!(denied.status.code(), Some(1), "{}", text(&denied.stderr));
    assert!(
        text(&denied.stderr).contains("1 warning, denied by --deny-warnings"),
        "{}",
        text(&denied.stderr)
    );
    assert_eq!(denied_plan.status.code(), Some(1));
    assert!(denied_plan.stdout.is_empty());
}

#[test]
fn a_clean_config_passes_with_deny_warnings() {
    let path = example_config();
    let output = deploy(&[
        "validate",
        path.to_str().expect("utf-8 path"),
        "--deny-warnings",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("warning"));
}

fn small_plugins() -> PathBuf {
    cpg_infra_reference::reference_dir().join("small-plugins")
}

fn empty_plugins_dir(label: &str) -> TempDir {
    TempDir::new(&format!("plugins-{label}"))
}

#[test]
fn plugins_lists_each_enabled_plugin_and_why_it_would_not_load() {
    let dir = empty_plugins_dir("list");
    let config = small_plugins();
    let output = deploy(&[
        "plugins",
        config.to_str().expect("utf-8 path"),
        "--plugins-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lib = |name: &str| {
        dir.join(format!(
            "{}{name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ))
    };
    assert_eq!(
        stdout,
        format!(
            "plugins directory: {} (--plugins-dir)\n\
             billing_aggregator: refused: plugin \"billing_aggregator\": {} does not exist\n\
             metamist: refused: plugin \"metamist\": {} does not exist\n",
            dir.display(),
            lib("billing_aggregator").display(),
            lib("metamist").display()
        )
    );
}

#[test]
fn plan_with_missing_plugins_reports_each_and_builds_nothing() {
    let dir = empty_plugins_dir("plan");
    let config = small_plugins();
    let output = deploy(&[
        "plan",
        config.to_str().expect("utf-8 path"),
        "--json",
        "--plugins-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing half-built is printed");
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].starts_with("error: plugin \"billing_aggregator\": "),
        "{stderr}"
    );
    assert!(
        errors[1].starts_with("error: plugin \"metamist\": "),
        "{stderr}"
    );
    assert_eq!(
        deploy(&["plan", "x", "--plugins-dir"]).status.code(),
        Some(2)
    );
    assert_eq!(deploy(&["plugins"]).status.code(), Some(2));
}

/// A plugins directory holding the workspace's plugins. Their crates are this
/// package's dev-dependencies, so cargo built their libraries with this test (see
/// `cpg_infra_test_support::cdylib`).
fn built_plugins_dir() -> TempDir {
    let dir = empty_plugins_dir("built");
    for name in ["billing_aggregator", "metamist"] {
        let library = cpg_infra_test_support::cdylib(name);
        std::fs::copy(&library, dir.join(library_file_name(name))).expect("copy");
    }
    dir
}

#[test]
fn plan_with_the_plugins_declares_the_references_resources() {
    let dir = built_plugins_dir();
    let config = small_plugins();
    let listed = deploy(&[
        "plugins",
        config.to_str().expect("utf-8 path"),
        "--plugins-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stdout));
    let stdout = text(&listed.stdout);
    assert!(
        stdout.contains("billing_aggregator: loads (version 0.1.0, ABI 1, "),
        "{stdout}"
    );
    assert!(
        stdout.contains("metamist: loads (version 0.1.0, ABI 1, "),
        "{stdout}"
    );

    let output = deploy(&[
        "plan",
        config.to_str().expect("utf-8 path"),
        "--json",
        "--plugins-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("plan is JSON");
    let resources = plan["resources"].as_array().expect("resources");
    let reference = cpg_infra_reference::read("small-plugins");
    // The reference's resources plus the two deliberate extra memberships of
    // `small` (see the README's "Differences from the reference").
    let extra_memberships = resources
        .iter()
        .filter(|r| {
            let name = r["name"].as_str().unwrap_or_default();
            name.ends_with("-gcp-metamist-machine-account-in-main-list")
                || name.ends_with("-gcp-test-in-images-dev-reader-group-member")
        })
        .count();
    assert_eq!(
        Some((resources.len() - extra_memberships) as u64),
        reference["resource_count"].as_u64()
    );
    // Without the function sources, each plugin warns and the plan says where they
    // were looked for.
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("warning: plugin billing_aggregator: function sources not found: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: plugin metamist: ETL sources not found: "),
        "{stderr}"
    );
}

#[test]
fn differences_lists_the_fixes_and_the_moved_resources_of_a_reference_config() {
    let dir = cpg_infra_reference::reference_dir().join("small");
    let out = deploy(&["differences", dir.to_str().expect("utf-8 path"), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let whats: std::collections::BTreeSet<&str> = listed["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .filter_map(|d| d["what"].as_str())
        .collect();
    assert_eq!(
        whats,
        [
            "images-dev-reader gets the test group",
            "main-read reads main-web",
            "metamist's current machine account joins main-list under a key of its own"
        ]
        .into()
    );
    let moved = listed["moved"].as_array().expect("moved");
    assert!(!moved.is_empty());
    assert!(
        moved
            .iter()
            .all(|m| m["from"] == "pulumi-python:dynamic:Resource"
                && m["to"].as_str().is_some_and(|t| t.starts_with("cpg:")))
    );
}
