//! `minimal` and `deploy`, each run the way a language host runs a program against
//! the mock engine, on the same config with the same plugin libraries dropped into
//! a plugins directory, send the engine exactly the same: every registration with
//! its inputs and options, every data-source call, the exports and the log.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cpg_infra::config::{Diagnostic, load_dir};
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra::plugin::{Mode, library_file_name};
use cpg_infra_mock_engine::{MockEngine, MockOptions, Recorded, answering_for};
use cpg_infra_pulumi::proto::{
    LogRequest, LogSeverity, RegisterResourceRequest, ResourceInvokeRequest,
};
use cpg_infra_pulumi::{ProgramOptions, prepare};
use tempfile::TempDir;

/// The plugins whose libraries are dropped in, as `plugins_enabled` names them.
const PLUGINS: [&str; 2] = ["billing_aggregator", "metamist"];

/// A binary of this workspace beside `minimal` in the target directory.
fn sibling_binary(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_minimal"))
        .with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built: build it into the same target directory first (`cargo build -p {name}`; `cargo nextest run --workspace` builds it)",
        path.display()
    );
    path
}

/// A plugins directory holding the plugin libraries cargo built for this test's
/// dev-dependencies.
fn plugins_dir() -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("cpg-infra-minimal-plugins-")
        .tempdir()
        .expect("a temporary directory");
    for name in PLUGINS {
        let library = cpg_infra_test_support::cdylib(name);
        std::fs::copy(&library, dir.path().join(library_file_name(name)))
            .expect("copy the plugin library");
    }
    dir
}

/// `small-plugins`: the reference's small organisation with both plugins.
fn small_plugins() -> PathBuf {
    cpg_infra_reference::reference_dir().join("small-plugins")
}

/// The deploy example's config: both clouds and the `cpg:` provider.
fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config")
}

/// The plan of `config` as the program builds it, for the mock's answers.
fn plan(config: &Path, plugins: &Path) -> Graph {
    let config =
        load_dir(config).unwrap_or_else(|invalid| panic!("{}: {invalid}", config.display()));
    let options = ProgramOptions::builder().plugins_dir(plugins).build();
    prepare(
        CpgInfrastructure::from_validated(config),
        &options,
        Mode::Plan,
    )
    .expect("plugins open")
    .build()
    .expect("builds")
}

/// Runs `binary` as the language host would for a fresh mock, with the config
/// directory and plugins directory in the environment.
fn run(
    binary: &Path,
    graph: &Graph,
    dry_run: bool,
    config: &Path,
    plugins: &Path,
) -> (Output, Recorded) {
    let mock = MockEngine::start(answering_for(
        graph,
        "123456789",
        MockOptions {
            dry_run,
            ..MockOptions::default()
        },
    ))
    .expect("mock");
    let mut command = Command::new(binary);
    command
        .env("CPG_INFRA_CONFIG_DIR", config)
        .env("CPG_INFRA_PLUGINS_DIR", plugins);
    for (key, value) in mock.environment(8) {
        command.env(key, value);
    }
    let output = command.output().expect("run the program");
    (output, mock.recorded())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Registrations by type and name, and data-source calls, in an order that does
/// not depend on how the registrations in flight interleaved.
fn sorted(recorded: &Recorded) -> (Vec<RegisterResourceRequest>, Vec<ResourceInvokeRequest>) {
    let mut registrations = recorded.registrations.clone();
    registrations.sort_by(|a, b| (&a.r#type, &a.name).cmp(&(&b.r#type, &b.name)));
    let mut invokes = recorded.invokes.clone();
    invokes.sort_by_cached_key(|invoke| format!("{invoke:?}"));
    (registrations, invokes)
}

/// Runs `minimal` and `deploy` on `config` and checks the engine received the same
/// from both; returns how `minimal` exited, what the engine received, and the plan.
fn same_from_both(config: &Path, dry_run: bool) -> (Output, Recorded, Graph) {
    let deploy = sibling_binary("deploy");
    let minimal = PathBuf::from(env!("CARGO_BIN_EXE_minimal"));
    let plugins = plugins_dir();
    let graph = plan(config, plugins.path());
    let (minimal_output, from_minimal) = run(&minimal, &graph, dry_run, config, plugins.path());
    let (deploy_output, from_deploy) = run(&deploy, &graph, dry_run, config, plugins.path());
    let what = format!("{} (dry run: {dry_run})", config.display());
    assert_eq!(
        minimal_output.status.success(),
        deploy_output.status.success(),
        "{what}: minimal: {}\ndeploy: {}",
        text(&minimal_output.stderr),
        text(&deploy_output.stderr)
    );
    assert_eq!(sorted(&from_minimal), sorted(&from_deploy), "{what}");
    assert_eq!(from_minimal.outputs, from_deploy.outputs, "{what}: exports");
    assert_eq!(from_minimal.root, from_deploy.root, "{what}: root");
    assert_eq!(from_minimal.features, from_deploy.features, "{what}");
    // The engine's log, the same from both: first the validation warnings, each
    // with the file and line `load_dir` located (`CpgInfrastructure::new` in
    // `minimal` validates again with the files the loaded config carries).
    assert_eq!(
        from_minimal.logs, from_deploy.logs,
        "{what}: the engine's log"
    );
    let loaded = load_dir(config).expect("valid");
    assert!(
        loaded.warnings.iter().all(|w| w.line.is_some()),
        "{what}: {:#?}",
        loaded.warnings
    );
    let located = messages(&loaded.warnings);
    assert!(from_minimal.logs.len() >= located.len(), "{what}");
    let (minimal_warnings, _) = from_minimal.logs.split_at(located.len());
    assert_eq!(
        warnings(minimal_warnings),
        located,
        "{what}: the warnings, located"
    );
    (minimal_output, from_minimal, graph)
}

/// Each diagnostic as text.
fn messages(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics.iter().map(ToString::to_string).collect()
}

/// The messages of `logs`, each of which must be a warning.
fn warnings(logs: &[LogRequest]) -> Vec<String> {
    logs.iter()
        .map(|l| {
            assert_eq!(l.severity, LogSeverity::Warning as i32, "{l:?}");
            l.message.clone()
        })
        .collect()
}

/// The messages the engine's log received, with their severity.
fn logged(recorded: &Recorded) -> Vec<(i32, String)> {
    recorded
        .logs
        .iter()
        .map(|l| (l.severity, l.message.clone()))
        .collect()
}

#[test]
fn minimal_registers_what_deploy_registers_with_the_plugins_in_a_preview() {
    let (output, recorded, graph) = same_from_both(&small_plugins(), true);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        recorded.registrations.len(),
        graph.len() + 1,
        "the root and the plan"
    );
    // The plugins' resources are among them, and their warnings in the log.
    assert!(
        recorded
            .registrations
            .iter()
            .any(|r| r.r#type == "gcp:cloudfunctionsv2/function:Function"),
        "the billing aggregator's functions"
    );
    let warning = LogSeverity::Warning as i32;
    for name in PLUGINS {
        assert!(
            logged(&recorded)
                .iter()
                .any(|(severity, m)| *severity == warning
                    && m.starts_with(&format!("warning: plugin {name}: "))),
            "{name}: {:?}",
            logged(&recorded)
        );
    }
}

#[test]
fn minimal_refuses_what_deploy_refuses_in_an_update_without_function_sources() {
    // Deploying, the plugins refuse the missing function sources a preview accepts.
    let (output, recorded, _) = same_from_both(&small_plugins(), false);
    assert!(!output.status.success());
    assert!(recorded.registrations.is_empty(), "nothing registered");
    assert!(
        text(&output.stderr).contains("function sources not found"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn minimal_registers_what_deploy_registers_on_both_clouds_in_an_update() {
    let (output, recorded, _) = same_from_both(&example_config(), false);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for package in ["gcp:", "azure-native:", "azuread:", "cpg:"] {
        assert!(
            recorded
                .registrations
                .iter()
                .any(|r| r.r#type.starts_with(package)),
            "{package}"
        );
    }
    assert!(!recorded.invokes.is_empty(), "data-source calls");
    assert_eq!(recorded.outputs.len(), 1, "the exports");
}
