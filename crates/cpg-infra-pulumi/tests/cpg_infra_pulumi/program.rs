//! `CpgInfrastructure::main()` through the extension trait: the whole program.

use std::path::{Path, PathBuf};

use billing_aggregator::BillingAggregator;
use cpg_infra::config::load_dir;
use cpg_infra::driver::{BuildError, CpgInfrastructure};
use cpg_infra::plugin::{Plugin, PluginError, PluginHost};
use cpg_infra_mock_engine::{MockEngine, MockOptions, Recorded};
use cpg_infra_pulumi::proto::LogSeverity;
use cpg_infra_pulumi::{MainError, PluginsError, ProgramOptions, PulumiMain, wire};

use super::plugins::plan_with_aggregator;
use super::support::{example_dir, mock_for, plan, reference_dir};

/// A plugins directory that does not exist: opening any plugin from it fails.
fn no_plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/no-such-plugins-dir")
}

/// The paths of the archives sent as bucket objects' sources.
fn archive_paths(recorded: &Recorded) -> Vec<String> {
    recorded.registrations[1..]
        .iter()
        .filter(|r| r.r#type == "gcp:storage/bucketObject:BucketObject")
        .filter_map(|r| {
            let source = r.object.as_ref()?.fields.get("source")?;
            Some(wire::to_json(source)["path"].as_str()?.to_owned())
        })
        .collect()
}

/// The messages the engine's log received with `severity`.
fn logged(mock: &MockEngine, severity: LogSeverity) -> Vec<String> {
    mock.recorded()
        .logs
        .into_iter()
        .filter(|l| l.severity == severity as i32)
        .map(|l| l.message)
        .collect()
}

#[test]
fn main_adds_both_clouds_and_pins_every_provider() {
    let graph = plan(&example_dir());
    let mock = mock_for(&graph, MockOptions::default());
    let config = load_dir(example_dir()).expect("valid");
    // No cloud is given: the program adds GCP and Azure itself.
    let deployed = CpgInfrastructure::from_validated(config)
        .deploy_to(mock.settings(8), &ProgramOptions::default())
        .expect("deploys");
    assert_eq!(deployed.resources, graph.len());
    let recorded = mock.recorded();
    assert_eq!(recorded.registrations.len(), graph.len() + 1);
    let mut packages = std::collections::BTreeSet::new();
    for request in &recorded.registrations[1..] {
        let package = request.r#type.split(':').next().expect("package");
        let pinned = match package {
            "gcp" => cpg_infra_gcp::tokens::VERSION,
            "azure-native" => cpg_infra_azure::tokens::AZURE_NATIVE_VERSION,
            "azuread" => cpg_infra_azure::tokens::AZUREAD_VERSION,
            "cpg" => cpg_infra_kinds::PROVIDER_VERSION,
            other => panic!("{other}: unexpected package"),
        };
        assert_eq!(
            request.version, pinned,
            "{} {}",
            request.r#type, request.name
        );
        packages.insert(package.to_owned());
    }
    assert_eq!(
        packages.into_iter().collect::<Vec<_>>(),
        ["azure-native", "azuread", "cpg", "gcp"],
        "both clouds and the cpg provider"
    );
}

/// A plugin `plugins_enabled` does not name.
struct Stray;

impl Plugin for Stray {
    fn name(&self) -> &str {
        "stray"
    }
    fn main(&mut self, _host: &mut dyn PluginHost) -> Result<(), PluginError> {
        Ok(())
    }
}

#[test]
fn a_build_error_is_logged_and_nothing_is_registered() {
    let mock = MockEngine::start(MockOptions::default()).expect("mock");
    let config = load_dir(example_dir()).expect("valid");
    let error = CpgInfrastructure::from_validated(config)
        .with_plugin(Box::new(Stray))
        .deploy_to(mock.settings(8), &ProgramOptions::default())
        .expect_err("cannot build");
    assert!(
        matches!(error, MainError::Build(BuildError::PluginNotEnabled(ref name)) if name == "stray"),
        "{error:?}"
    );
    assert!(mock.recorded().registrations.is_empty());
    let errors = logged(&mock, LogSeverity::Error);
    assert!(errors.iter().any(|m| m.contains("\"stray\"")), "{errors:?}");
}

#[test]
fn a_missing_plugin_library_is_logged_and_nothing_is_registered() {
    let mock = MockEngine::start(MockOptions::default()).expect("mock");
    let config = load_dir(reference_dir().join("small-plugins")).expect("valid");
    let options = ProgramOptions::builder()
        .plugins_dir(no_plugins_dir())
        .build();
    let error = CpgInfrastructure::from_validated(config)
        .deploy_to(mock.settings(8), &options)
        .expect_err("no plugins");
    let MainError::Plugins(PluginsError::Open { dir, errors }) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(dir, &no_plugins_dir());
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(mock.recorded().registrations.is_empty());
    let logged = logged(&mock, LogSeverity::Error);
    for name in ["billing_aggregator", "metamist"] {
        assert!(
            logged
                .iter()
                .any(|m| m.starts_with(&format!("plugin \"{name}\": "))
                    && m.ends_with("does not exist")),
            "{name}: {logged:?}"
        );
    }
}

#[test]
fn plugins_plan_in_a_preview_from_the_config_dir_and_log_to_the_engine() {
    let dir = reference_dir().join("small-plugins");
    let graph = plan_with_aggregator(&dir);
    let infra = || {
        let mut config = load_dir(&dir).expect("valid");
        config.infrastructure.plugins_enabled = vec!["billing_aggregator".to_owned()];
        CpgInfrastructure::from_validated(config)
            .with_plugin(Box::new(BillingAggregator::default()))
    };
    // The plugin given in-process is not opened from the plugins directory.
    let options = ProgramOptions::builder()
        .plugins_dir(no_plugins_dir())
        .build();

    let preview = mock_for(
        &graph,
        MockOptions {
            dry_run: true,
            ..MockOptions::default()
        },
    );
    let deployed = infra()
        .deploy_to(preview.settings(8), &options)
        .expect("a preview plans");
    assert_eq!(deployed.resources, graph.len());
    // Function sources are archives under the config directory the config was
    // loaded from.
    let sources = archive_paths(&preview.recorded());
    assert_eq!(sources.len(), 3, "{sources:?}");
    assert!(
        sources.iter().all(|path| Path::new(path).starts_with(&dir)),
        "{sources:?}"
    );
    // Missing sources are a warning when planning, in the engine's log.
    let warnings = logged(&preview, LogSeverity::Warning);
    assert!(
        warnings.iter().any(
            |m| m.starts_with("warning: plugin billing_aggregator: function sources not found")
        ),
        "{warnings:?}"
    );

    // The option names another config directory.
    let elsewhere = dir.join("elsewhere");
    let moved = mock_for(
        &graph,
        MockOptions {
            dry_run: true,
            ..MockOptions::default()
        },
    );
    let options_elsewhere = ProgramOptions::builder()
        .plugins_dir(no_plugins_dir())
        .config_dir(&elsewhere)
        .build();
    infra()
        .deploy_to(moved.settings(8), &options_elsewhere)
        .expect("a preview plans");
    let sources = archive_paths(&moved.recorded());
    assert_eq!(sources.len(), 3, "{sources:?}");
    assert!(
        sources
            .iter()
            .all(|path| Path::new(path).starts_with(&elsewhere)),
        "{sources:?}"
    );

    // An update deploys: missing sources stop the build.
    let update = MockEngine::start(MockOptions::default()).expect("mock");
    let error = infra()
        .deploy_to(update.settings(8), &options)
        .expect_err("an update needs the sources");
    assert!(
        matches!(error, MainError::Build(BuildError::Plugin { .. })),
        "{error:?}"
    );
    assert!(update.recorded().registrations.is_empty());
    let errors = logged(&update, LogSeverity::Error);
    assert!(
        errors
            .iter()
            .any(|m| m.contains("function sources not found")),
        "{errors:?}"
    );
}

#[test]
fn validation_warnings_reach_the_engine_log() {
    let dir = reference_dir().join("small");
    let graph = plan(&dir);
    let config = load_dir(&dir).expect("valid");
    let mut datasets = config.datasets;
    let dataset = datasets
        .iter_mut()
        .find(|d| !d.depends_on.is_empty())
        .expect("a dataset with a dependency");
    // A dependency in both lists: the reference accepts it, with no effect.
    dataset
        .depends_on_readonly
        .push(dataset.depends_on[0].clone());
    let infra = CpgInfrastructure::new(config.infrastructure, datasets).expect("valid");
    let expected: Vec<String> = infra.warnings().iter().map(ToString::to_string).collect();
    assert!(!expected.is_empty());
    let mock = mock_for(
        &graph,
        MockOptions {
            dry_run: true,
            ..MockOptions::default()
        },
    );
    infra
        .deploy_to(mock.settings(8), &ProgramOptions::default())
        .expect("deploys");
    let warnings = logged(&mock, LogSeverity::Warning);
    for warning in &expected {
        assert!(warnings.contains(warning), "{warning}: {warnings:?}");
    }
}

#[test]
fn main_outside_pulumi_says_which_variable_is_missing() {
    // The test process is not started by a language host.
    if std::env::var_os("PULUMI_MONITOR").is_some() {
        return;
    }
    let config = load_dir(example_dir()).expect("valid");
    let error = CpgInfrastructure::from_validated(config)
        .main()
        .expect_err("no engine");
    assert_eq!(
        cpg_infra_pulumi::chain(&error),
        "not started by the Pulumi engine: PULUMI_MONITOR is not set: deploy runs as a Pulumi program, started by `pulumi preview` or `pulumi up`"
    );
}
