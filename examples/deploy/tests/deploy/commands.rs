//! `validate`, `plan`, `plugins` and `generate`: exit codes and output.

use std::path::{Path, PathBuf};

use cpg_infra::plugin::library_file_name;

use super::support::{TempDir, copy_dir, deploy, example_config, text};

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
fn validate_of_a_missing_directory_names_the_directory_once() {
    let output = deploy(&["validate", "/nonexistent/cpg-infra-config"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: /nonexistent/cpg-infra-config: cannot read the config directory: it does not exist\n"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("cpg.toml"), "{stderr}");
    let file = TempDir::new("cli-not-dir");
    let not_dir = file.join("cpg.toml");
    std::fs::write(&not_dir, "").expect("write");
    let output = deploy(&["validate", not_dir.to_str().expect("utf-8 path")]);
    assert!(
        text(&output.stderr).contains("cannot read the config directory: it is not a directory"),
        "{}",
        text(&output.stderr)
    );
}

#[cfg(unix)]
#[test]
fn a_dangling_link_is_named_as_such_without_cascade() {
    let dir = example_copy("dangling", |text| text);
    let members = dir.join("datasets/cardiac/members.yaml");
    std::fs::remove_file(&members).expect("rm");
    std::os::unix::fs::symlink("nowhere.yaml", &members).expect("symlink");
    let cpg = dir.join("cpg.toml");
    let kept = dir.join("kept.toml");
    std::fs::rename(&cpg, &kept).expect("mv");
    std::os::unix::fs::symlink("gone.toml", &cpg).expect("symlink");
    let output = deploy(&["validate", dir.path()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].starts_with("error: cpg.toml: cannot read the file"),
        "{stderr}"
    );
    assert!(
        errors[1].starts_with("error: datasets/cardiac/members.yaml: cannot read the file"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("not found") && !stderr.contains("budget"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_cloud_reports_itself_and_nothing_that_follows() {
    let dir = example_copy("cloud", |text| text);
    std::fs::write(
        dir.join("datasets/cardiac/budgets.yaml"),
        "gpc:\n  monthly_budget: 4000\n",
    )
    .expect("write");
    let output = deploy(&["validate", dir.path()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("error: datasets/cardiac/budgets.yaml: gpc (line 1)"),
        "{stderr}"
    );
}

#[test]
fn files_beside_the_dataset_directories_are_ignored() {
    let dir = example_copy("readme", |text| text);
    std::fs::write(dir.join("datasets/README.md"), "# Datasets\n").expect("write");
    std::fs::write(dir.join("datasets/.gitkeep"), "").expect("write");
    let output = deploy(&["validate", dir.path()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr,
        "warning: datasets/README.md: not a dataset directory; ignored\n"
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

/// The lines of `stderr` that are errors.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect()
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
    let errors = error_lines(&stderr);
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
    assert_eq!(deploy(&["diff", "x"]).status.code(), Some(2));
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
    // `small` (see `docs/differences.md`).
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
fn every_missing_key_is_reported_in_one_run() {
    let dir = example_copy("empty-toml", |text| text);
    std::fs::write(dir.join("cpg.toml"), "").expect("write");
    let output = deploy(&["validate", dir.path()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let missing: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: cpg.toml (line 1): missing required key"))
        .collect();
    assert_eq!(missing.len(), 6, "{stderr}");
    for key in ["domain", "budget_currency", "common_dataset", "users"] {
        assert!(
            missing.iter().any(|l| l.contains(&format!("\"{key}\""))),
            "{key} not reported: {stderr}"
        );
    }
}

#[test]
fn color_applies_to_every_diagnostic() {
    let always = deploy(&[
        "--color",
        "always",
        "validate",
        "/nonexistent/cpg-infra-config",
    ]);
    let stderr = text(&always.stderr);
    assert!(
        stderr.starts_with("\u{1b}[1;31merror\u{1b}[0m: "),
        "{stderr:?}"
    );
    let dir = TempDir::new("cli-colour");
    std::fs::write(dir.join("x"), "").expect("write");
    let generate = deploy(&["generate", "3", dir.path(), "--color=always"]);
    assert!(
        text(&generate.stderr).starts_with("\u{1b}[1;31merror\u{1b}[0m: "),
        "{:?}",
        text(&generate.stderr)
    );
    for choice in ["never", "auto"] {
        let plain = deploy(&[
            "--color",
            choice,
            "validate",
            "/nonexistent/cpg-infra-config",
        ]);
        assert!(text(&plain.stderr).starts_with("error: "), "{choice}");
    }
}

#[test]
fn plan_lists_one_dataset_or_one_type() {
    let dir = example_config();
    let dir = dir.to_str().expect("utf-8 path");
    let bucket = "gcp:storage/bucket:Bucket";
    let output = deploy(&["plan", dir, "--dataset", "cardiac", "--type", bucket]);
    let out = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let listed: Vec<&str> = out
        .split("\nresources:\n")
        .nth(1)
        .expect("resources")
        .lines()
        .collect();
    assert!(!listed.is_empty(), "{out}");
    for line in &listed {
        assert!(line.starts_with(&format!("  {bucket}  cardiac-")), "{out}");
    }
    assert!(
        out.contains("by dataset:\n") && !out.contains("exports:"),
        "{out}"
    );
    let by_type = text(&deploy(&["plan", dir, "--type", bucket]).stdout);
    assert!(
        by_type.contains("  common-") && by_type.contains("  cardiac-"),
        "{by_type}"
    );
    let wrong = deploy(&["plan", dir, "--type", "gcp:storage/bucket:Bukcet"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).ends_with(&format!(" — did you mean {bucket:?}?\n")),
        "{}",
        text(&wrong.stderr)
    );
    let wrong = deploy(&["plan", dir, "--dataset", "cardic"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong.stderr).ends_with(" — did you mean \"cardiac\"?\n"));
    assert_eq!(
        deploy(&["plan", dir, "--json", "--type", bucket])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn plan_show_prints_one_resources_inputs_with_secrets_masked() {
    let dir = example_config();
    let dir = dir.to_str().expect("utf-8 path");
    let id = "gcp:secretmanager/secretVersion:SecretVersion::cardiac-gcp-cromwell-service-account-full-secret-version";
    let output = deploy(&["plan", dir, "--show", id]);
    let out = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(out.starts_with(&format!("{id}\n\ninputs:\n")), "{out}");
    assert!(out.contains("\n  secretData: [secret]\n"), "{out}");
    assert!(!out.contains("privateKey"), "{out}");
    assert!(
        out.contains(
            "\n  secret: ${gcp:secretmanager/secret:Secret::cardiac-gcp-cromwell-full-key.id}\n"
        ),
        "{out}"
    );
    assert!(out.contains("\noptions:\n"), "{out}");
    let wrong = deploy(&["plan", dir, "--show", &id.replace("version", "versoin")]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).ends_with(&format!(" — did you mean {id:?}?\n")),
        "{}",
        text(&wrong.stderr)
    );
}

#[test]
fn without_a_directory_commands_use_the_environment_then_the_current_directory() {
    let run = |args: &[&str], cwd: &Path, env: Option<&Path>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_deploy"));
        command
            .args(args)
            .current_dir(cwd)
            .env_remove("CPG_INFRA_CONFIG_DIR");
        if let Some(dir) = env {
            command.env("CPG_INFRA_CONFIG_DIR", dir);
        }
        command.output().expect("run deploy")
    };
    let example = example_config();
    let elsewhere = TempDir::new("cli-cwd");
    let here = run(&["validate"], &example, None);
    assert_eq!(here.status.code(), Some(0), "{}", text(&here.stderr));
    assert!(
        text(&here.stdout).starts_with(".: valid ("),
        "{}",
        text(&here.stdout)
    );
    let from_env = run(&["validate"], &elsewhere, Some(&example));
    assert_eq!(
        from_env.status.code(),
        Some(0),
        "{}",
        text(&from_env.stderr)
    );
    assert!(text(&from_env.stdout).starts_with(&format!("{}: valid (", example.display())));
    let plan = run(
        &["plan", "--type", "gcp:storage/bucket:Bucket"],
        &elsewhere,
        Some(&example),
    );
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    // A directory given beats the environment; an empty directory is not a config.
    let given = run(&["validate", elsewhere.path()], &example, Some(&example));
    assert_eq!(given.status.code(), Some(1));
    let nothing = run(&["plugins"], &elsewhere, None);
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        text(&nothing.stderr).contains("cpg.toml"),
        "{}",
        text(&nothing.stderr)
    );
}

#[test]
fn validate_writes_json_lines_and_github_annotations() {
    let dir = example_copy("formats", |text| text);
    std::fs::write(
        dir.join("datasets/cardiac/budgets.yaml"),
        "gpc:\n  monthly_budget: 4000\n",
    )
    .expect("write");
    std::fs::write(dir.join("datasets/README.md"), "").expect("write");
    let json = deploy(&["validate", dir.path(), "--message-format", "json"]);
    assert_eq!(json.status.code(), Some(1), "{}", text(&json.stderr));
    let objects: Vec<serde_json::Value> = text(&json.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(objects.len(), 2, "{}", text(&json.stdout));
    let error = objects
        .iter()
        .find(|o| o["severity"] == "error")
        .expect("the error");
    assert_eq!(
        error["file"],
        format!("{}/datasets/cardiac/budgets.yaml", dir.path())
    );
    assert_eq!(error["path"], "gpc");
    assert_eq!(error["line"], 1);
    assert!(error["column"].is_null());
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean \"gcp\"")),
        "{error}"
    );
    let warning = objects
        .iter()
        .find(|o| o["severity"] == "warning")
        .expect("the warning");
    assert!(warning["line"].is_null());
    assert!(
        text(&json.stderr).contains("the configuration has 1 error"),
        "{}",
        text(&json.stderr)
    );

    let github = deploy(&["validate", dir.path(), "--message-format", "github"]);
    assert_eq!(github.status.code(), Some(1));
    let out = text(&github.stdout);
    assert!(
        out.contains(&format!(
            "::error file={}/datasets/cardiac/budgets.yaml,line=1,title=gpc::",
            dir.path()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "::warning file={}/datasets/README.md::not a dataset directory; ignored\n",
            dir.path()
        )),
        "{out}"
    );
    // Valid: nothing but annotations on standard output.
    let valid = deploy(&[
        "validate",
        example_config().to_str().expect("utf-8 path"),
        "--message-format",
        "json",
    ]);
    assert_eq!(valid.status.code(), Some(0));
    assert!(valid.stdout.is_empty(), "{}", text(&valid.stdout));
    assert!(text(&valid.stderr).contains(": valid ("));
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

/// The reference's small organisation.
fn small_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/reference/small")
}

#[test]
fn shards_lists_every_resource_once_in_waves() {
    let dir = small_config();
    let dir = dir.to_str().expect("utf-8 path");
    let summary = deploy(&["shards", dir]);
    assert!(summary.status.success(), "{}", text(&summary.stderr));
    let summary = text(&summary.stdout);
    assert!(summary.starts_with("5 shards in 5 waves"), "{summary}");
    assert!(summary.contains("deployed as one stack"), "{summary}");
    assert!(summary.contains("dataset-common"), "{summary}");
    let json = deploy(&["shards", dir, "--json"]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let plan = deploy(&["plan", dir, "--json"]);
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan JSON");
    let shards = document["shards"].as_array().expect("shards");
    let total: u64 = shards.iter().filter_map(|s| s["resources"].as_u64()).sum();
    assert_eq!(
        Some(total as usize),
        plan["resources"].as_array().map(Vec::len)
    );
    // Each stack in exactly one wave, after every stack it reads from.
    let waves = document["waves"].as_array().expect("waves");
    let placed: Vec<&str> = waves
        .iter()
        .flat_map(|w| w.as_array().into_iter().flatten())
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(placed.len(), shards.len());
    for shard in shards {
        for read in shard["reads"].as_array().expect("reads") {
            let from = shards
                .iter()
                .find(|s| s["stack"] == read["stack"])
                .expect("a shard read from");
            assert!(from["wave"].as_u64() < shard["wave"].as_u64());
            for output in read["outputs"].as_array().expect("outputs") {
                assert!(!output["export"].as_str().expect("name").contains('.'));
            }
        }
    }
}

#[test]
fn the_deploy_table_chooses_the_layout_and_is_checked() {
    let dir = TempDir::new("shards-layout");
    super::support::copy_dir(&small_config(), &dir);
    let cpg = dir.join("cpg.toml");
    let original = std::fs::read_to_string(&cpg).expect("cpg.toml");
    std::fs::write(
        &cpg,
        format!("{original}\n[deploy]\nlayout = \"stack-per-dataset\"\n"),
    )
    .expect("write");
    let output = deploy(&["shards", dir.path()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!text(&output.stdout).contains("deployed as one stack"));
    let lines = original.lines().count();
    std::fs::write(
        &cpg,
        format!("{original}\n[deploy]\nlayout = \"per-dataset\"\n"),
    )
    .expect("write");
    let output = deploy(&["validate", dir.path()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    // A top-level table beside [infrastructure], named by its own key path.
    assert!(stderr.contains("cpg.toml: deploy.layout"), "{stderr}");
    assert!(stderr.contains(&format!("line {}", lines + 3)), "{stderr}");
}
