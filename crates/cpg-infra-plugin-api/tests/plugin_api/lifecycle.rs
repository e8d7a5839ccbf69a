//! The driver runs loaded plugins: `main` before group finalisation,
//! `on_group_finalisation` after, every callback across the C ABI, and failures as
//! errors that name the plugin.

use cpg_infra::driver::{BuildError, CpgInfrastructure, Stage};
use cpg_infra::graph::{ResourceId, Value};
use cpg_infra::plugin::{LogLevel, PluginError};
use cpg_infra_gcp::GcpProvider;
use cpg_infra_plugin_api::loader::load;

use super::support::{fixtures, load as load_config, plugins_dir};

fn infrastructure(plugins: &[&str]) -> CpgInfrastructure {
    let mut config = load_config("small");
    config.infrastructure.plugins_enabled = plugins.iter().map(|p| (*p).to_owned()).collect();
    CpgInfrastructure::from_validated(config).with_cloud(GcpProvider)
}

#[test]
fn a_loaded_plugin_declares_exports_and_adds_members_across_the_abi() {
    let libraries = fixtures();
    let dir = plugins_dir("lifecycle", &[("fixture_good", &libraries["fixture_good"])]);
    let plugin = load(dir.path(), "fixture_good").expect("loads");
    let built = infrastructure(&["fixture_good"])
        .with_plugin(Box::new(plugin))
        .build_with_log()
        .unwrap_or_else(|e| panic!("build: {e:?}"));

    let bucket = ResourceId::new("gcp:storage/bucket:Bucket", "fixture-bucket");
    let declared = built.graph.get(&bucket).expect("the plugin's bucket");
    assert_eq!(
        declared.inputs["name"],
        Value::from("fixture-populationgenomics.org.au")
    );
    assert_eq!(
        declared.to_json()["inputs"]["labels"],
        serde_json::json!({"k": {"$secret": "v"}})
    );
    assert_eq!(
        declared.to_json()["inputs"]["source"],
        serde_json::json!({"$archive": {"path": "functions/fixture"}})
    );
    assert_eq!(
        built.graph.exports()["fixture-bucket-name"],
        Value::output(&bucket, "name")
    );
    // The member added in `main` was finalised like the driver's own members.
    assert!(
        built
            .graph
            .resources()
            .iter()
            .any(|r| &*r.id.name == "fixture-robot-in-common-analysis"),
        "the plugin's group member is declared"
    );

    let log: Vec<(LogLevel, &str)> = built
        .plugin_log
        .iter()
        .inspect(|line| assert_eq!(line.plugin, "fixture_good"))
        .map(|line| (line.level, line.message.as_str()))
        .collect();
    assert_eq!(log.len(), 4, "{log:#?}");
    assert_eq!(
        log[0],
        (
            LogLevel::Info,
            "main: populationgenomics.org.au, 3 datasets"
        )
    );
    assert_eq!(
        log[1],
        (
            LogLevel::Warning,
            "second declare: resource gcp:storage/bucket:Bucket::fixture-bucket is declared twice"
        )
    );
    assert!(
        log[2].1.starts_with("common-analysis (cpg:")
            || log[2].1.starts_with("common-analysis (gcp:"),
        "{log:#?}"
    );
    assert!(
        log[2]
            .1
            .ends_with("; bucket gcp:storage/bucket:Bucket::fixture-bucket")
    );
    assert_eq!(
        log[3],
        (
            LogLevel::Warning,
            "late member: groups are finalised: group \"common-analysis\" cannot get members any more"
        )
    );
}

#[test]
fn a_panic_in_main_is_an_error_naming_the_plugin() {
    let libraries = fixtures();
    let dir = plugins_dir("panic", &[("fixture_panics", &libraries["fixture_panics"])]);
    let plugin = load(dir.path(), "fixture_panics").expect("loads");
    let error = infrastructure(&["fixture_panics"])
        .with_plugin(Box::new(plugin))
        .build()
        .expect_err("the plugin panics");
    assert_eq!(
        error.to_string(),
        "plugin \"fixture_panics\" failed in main"
    );
    match error {
        BuildError::Plugin {
            plugin,
            stage,
            source,
        } => {
            assert_eq!(plugin, "fixture_panics");
            assert_eq!(stage, Stage::Main);
            assert_eq!(
                source,
                PluginError::Panicked("fixture panics in main with 3 datasets".into())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn enabled_and_given_plugins_must_agree() {
    let missing = infrastructure(&["fixture_good"])
        .build()
        .expect_err("not given");
    assert_eq!(
        missing.to_string(),
        "plugin \"fixture_good\" is enabled but was not loaded"
    );

    let libraries = fixtures();
    let dir = plugins_dir("agree", &[("fixture_good", &libraries["fixture_good"])]);
    let plugin = load(dir.path(), "fixture_good").expect("loads");
    let extra = infrastructure(&[])
        .with_plugin(Box::new(plugin))
        .build()
        .expect_err("not enabled");
    assert!(matches!(extra, BuildError::PluginNotEnabled(name) if name == "fixture_good"));
}
