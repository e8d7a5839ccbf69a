//! `deploy` with no subcommand, run the way a language host runs a program,
//! against the mock engine.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra::shard::ShardPlan;
use cpg_infra_gcp::GcpProvider;
use cpg_infra_mock_engine::{MockEngine, MockOptions, answering_for};
use cpg_infra_pulumi::proto::LogSeverity;

use super::support::{TempDir, copy_dir, text};

pub fn reference_small() -> PathBuf {
    cpg_infra_reference::reference_dir().join("small")
}

pub fn plan(dir: &Path) -> Graph {
    let config = load_dir(dir).unwrap_or_else(|invalid| panic!("{}: {invalid}", dir.display()));
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .expect("builds")
}

/// Runs `deploy args…` with the language host's environment for `mock`.
pub fn run_program(mock: &MockEngine, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_deploy"));
    command.args(args).env_remove("CPG_INFRA_CONFIG_DIR");
    for (key, value) in mock.environment(8) {
        command.env(key, value);
    }
    for (key, value) in extra {
        command.env(key, value);
    }
    command.output().expect("run deploy")
}

/// Every resource of `graph` arrived once, after the root, with its inputs, and
/// the exports arrived on the root.
fn assert_complete(graph: &Graph, mock: &MockEngine) {
    let recorded = mock.recorded();
    assert_eq!(recorded.registrations[0].r#type, "pulumi:pulumi:Stack");
    let sent: Vec<(String, String)> = recorded.registrations[1..]
        .iter()
        .map(|r| (r.r#type.clone(), r.name.clone()))
        .collect();
    let distinct: BTreeSet<&(String, String)> = sent.iter().collect();
    assert_eq!(distinct.len(), sent.len(), "each resource once");
    let planned: BTreeSet<(String, String)> = graph
        .resources()
        .iter()
        .map(|r| (r.id.type_token.to_string(), r.id.name.to_string()))
        .collect();
    assert_eq!(
        distinct.into_iter().cloned().collect::<BTreeSet<_>>(),
        planned
    );
    for (request, resource) in recorded.registrations[1..].iter().map(|r| {
        let resource = graph
            .resources()
            .iter()
            .find(|g| *g.id.type_token == r.r#type && *g.id.name == r.name)
            .expect("planned");
        (r, resource)
    }) {
        let keys: Vec<&String> = request
            .object
            .as_ref()
            .expect("inputs")
            .fields
            .keys()
            .collect();
        assert_eq!(
            keys,
            resource.inputs.keys().collect::<Vec<_>>(),
            "{}",
            resource.id
        );
    }
    assert_eq!(recorded.outputs.len(), 1);
    assert_eq!(
        Some(&recorded.outputs[0].urn),
        recorded.root.as_ref(),
        "exports on the root"
    );
}

#[test]
fn deploy_registers_reference_small_in_an_update_and_a_preview() {
    let dir = reference_small();
    let graph = plan(&dir);
    for dry_run in [false, true] {
        let mock = MockEngine::start(answering_for(
            &graph,
            "123",
            MockOptions {
                dry_run,
                ..MockOptions::default()
            },
        ))
        .expect("mock");
        let output = run_program(&mock, &["--config-dir", dir.to_str().expect("utf-8")], &[]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert_complete(&graph, &mock);
    }
}

#[test]
fn deploy_finds_its_config_dir_in_the_environment_or_pulumi_config() {
    let dir = reference_small();
    let graph = plan(&dir);
    let dir = dir.to_str().expect("utf-8");
    let mock =
        MockEngine::start(answering_for(&graph, "123", MockOptions::default())).expect("mock");
    let output = run_program(&mock, &[], &[("CPG_INFRA_CONFIG_DIR", dir)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_complete(&graph, &mock);
    let mock =
        MockEngine::start(answering_for(&graph, "123", MockOptions::default())).expect("mock");
    let config = format!(r#"{{"cpg:config-dir": {dir:?}}}"#);
    let output = run_program(&mock, &[], &[("PULUMI_CONFIG", &config)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_complete(&graph, &mock);
}

#[test]
fn source_positions_point_at_the_config_in_the_project_not_the_working_directory() {
    // `cpg:config-dir` is relative to the project's directory; the working
    // directory holds another `config/` (the example's), which must not be used.
    let project = TempDir::new("positions");
    let config_dir = project.join("config");
    copy_dir(&reference_small(), &config_dir);
    let graph = plan(&config_dir);
    let mock =
        MockEngine::start(answering_for(&graph, "123", MockOptions::default())).expect("mock");
    let output = run_program(
        &mock,
        &[],
        &[
            ("PULUMI_CONFIG", r#"{"cpg:config-dir": "config"}"#),
            ("PULUMI_ROOT_DIRECTORY", project.path()),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_complete(&graph, &mock);
    let recorded = mock.recorded();
    let files: BTreeSet<String> = recorded.registrations[1..]
        .iter()
        .map(|r| {
            let position = r
                .source_position
                .as_ref()
                .unwrap_or_else(|| panic!("{} {}: no source position", r.r#type, r.name));
            assert!(position.line > 0 && position.column == 0, "{position:?}");
            position.uri.clone()
        })
        .collect();
    let under = |file: &str| format!("file://{}/{file}", config_dir.display());
    assert_eq!(
        files,
        BTreeSet::from([under("cpg.toml"), under("production.yaml")])
    );
}

#[test]
fn an_invalid_config_is_logged_and_registers_nothing() {
    let dir = TempDir::new("program");
    std::fs::write(dir.join("cpg.toml"), "domian = \"x\"\n").expect("write");
    std::fs::write(dir.join("production.yaml"), "{}\n").expect("write");
    let mock = MockEngine::start(MockOptions::default()).expect("mock");
    let output = run_program(&mock, &["--config-dir", dir.to_str().expect("utf-8")], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("unknown key \"domian\""), "{stderr}");
    let recorded = mock.recorded();
    assert!(recorded.registrations.is_empty(), "nothing registered");
    assert!(
        recorded
            .logs
            .iter()
            .any(|l| l.severity == LogSeverity::Error as i32
                && l.message.contains("unknown key \"domian\"")),
        "{:?}",
        recorded.logs
    );
}

#[test]
fn a_refused_registration_exits_1_naming_the_resource() {
    let dir = reference_small();
    let graph = plan(&dir);
    let failing = graph.resources()[graph.len() / 2].id.clone();
    let mock = MockEngine::start(answering_for(
        &graph,
        "123",
        MockOptions {
            fail: Some((failing.type_token.to_string(), failing.name.to_string())),
            ..MockOptions::default()
        },
    ))
    .expect("mock");
    let output = run_program(&mock, &["--config-dir", dir.to_str().expect("utf-8")], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let named = format!("{} {}", failing.type_token, failing.name);
    assert!(stderr.contains(&named), "{stderr}");
    assert!(
        mock.recorded()
            .logs
            .iter()
            .any(|l| l.message.contains(&named))
    );
}

#[test]
fn a_vanished_engine_ends_the_program_within_seconds() {
    let dir = reference_small();
    let graph = plan(&dir);
    let mock = MockEngine::start(answering_for(
        &graph,
        "123",
        MockOptions {
            stop_after: Some(100),
            ..MockOptions::default()
        },
    ))
    .expect("mock");
    let started = Instant::now();
    let output = run_program(&mock, &["--config-dir", dir.to_str().expect("utf-8")], &[]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the Pulumi engine went away"), "{stderr}");
}

#[test]
fn outside_pulumi_the_program_names_the_missing_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_deploy"))
        .env_remove("PULUMI_MONITOR")
        .output()
        .expect("run deploy");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("PULUMI_MONITOR is not set"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn with_a_stack_per_dataset_the_program_registers_its_stacks_shard_or_names_the_stacks() {
    let dir = TempDir::new("sharded");
    copy_dir(&reference_small(), &dir);
    let toml = dir.join("cpg.toml");
    let text_before = std::fs::read_to_string(&toml).expect("cpg.toml");
    std::fs::write(
        &toml,
        text_before + "\n[deploy]\nlayout = \"stack-per-dataset\"\n",
    )
    .expect("write cpg.toml");
    let config = load_dir(&*dir).unwrap_or_else(|invalid| panic!("{invalid}"));
    let built = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build_with_log()
        .expect("builds");
    let plan = ShardPlan::new(&built.graph, &built.origins).expect("shards");
    let organisation = plan.shard(plan.shard_for_stack("organisation").expect("a shard"));

    let mock = MockEngine::start(answering_for(
        &built.graph,
        "123",
        MockOptions {
            stack: "organisation".into(),
            ..MockOptions::default()
        },
    ))
    .expect("mock");
    let output = run_program(&mock, &["--config-dir", dir.to_str().expect("utf-8")], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("stack \"organisation\": shard 1 of"),
        "{stderr}"
    );
    let registered: BTreeSet<(String, String)> = mock.recorded().registrations[1..]
        .iter()
        .map(|r| (r.r#type.clone(), r.name.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = organisation
        .resources
        .iter()
        .map(|id| (id.type_token.to_string(), id.name.to_string()))
        .collect();
    assert_eq!(registered, expected, "only the organisation's shard");
    assert!(!expected.is_empty() && expected.len() < built.graph.len());

    let mock = MockEngine::start(MockOptions {
        stack: "production".into(),
        ..MockOptions::default()
    })
    .expect("mock");
    let output = run_program(&mock, &["--config-dir", dir.to_str().expect("utf-8")], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no shard is deployed to stack \"production\"")
            && stderr.contains("organisation, dataset-"),
        "{stderr}"
    );
    assert!(
        mock.recorded().registrations.is_empty(),
        "nothing registered"
    );
}
