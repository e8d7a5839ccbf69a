//! The metamist plugin in-process against a mock host, and run by the driver against
//! the reference (`parity`).

#[path = "metamist/parity.rs"]
mod parity;

use std::collections::BTreeMap;

use cpg_infra::config::{CloudName, Config, load_dir};
use cpg_infra::graph::{Archive, Asset, Resource, ResourceId, Value};
use cpg_infra_plugin_api::sdk::{LogLevel, Mode, Plugin, PluginContext, PluginError, PluginHost};
use cpg_infra_plugin_api::testing::MockHost;
use metamist::Metamist;

use cpg_infra_reference::reference_dir;

fn config() -> Config {
    let dir = reference_dir().join("small-plugins");
    load_dir(&dir).unwrap_or_else(|e| panic!("{}: {:?}", dir.display(), e.diagnostics))
}

/// A host with what the driver declares before the plugin runs: the common
/// analysis group and the Python registry.
fn host(config: Config, context: PluginContext) -> MockHost {
    let mut host = MockHost::new(config).with_context(context);
    host.add_group(
        CloudName::Gcp,
        "common-analysis",
        ResourceId::new("gcp:cloudidentity/group:Group", "common-gcp-analysis-group"),
    );
    host.declare(
        Resource::new(
            "gcp:artifactregistry/repository:Repository",
            "python-artifact-registry",
        )
        .input("location", "australia-southeast1")
        .input("project", "cpg-common")
        .input("repositoryId", "python-registry"),
    )
    .expect("registry");
    host
}

fn run(host: &mut MockHost) -> Result<(), PluginError> {
    let mut plugin = Metamist;
    plugin.main(host)?;
    host.finalise_groups();
    plugin.on_group_finalisation(host)
}

fn plugin_resources(host: &MockHost) -> usize {
    host.graph().len() - 1
}

#[test]
fn without_etl_nothing_is_declared() {
    let mut config = config();
    if let Some(metamist) = config.infrastructure.metamist.as_mut() {
        metamist.etl = None;
    }
    let mut host = host(config, PluginContext::default());
    run(&mut host).expect("runs");
    assert_eq!(plugin_resources(&host), 0);
    assert_eq!(host.log_lines()[0].0, LogLevel::Info);
}

#[test]
fn missing_sources_warn_when_planning_and_fail_when_deploying() {
    let nowhere = std::env::temp_dir().join("metamist-plugin-nowhere");
    let mut planning = host(
        config(),
        PluginContext {
            config_dir: Some(nowhere.clone()),
            mode: Mode::Plan,
        },
    );
    run(&mut planning).expect("planning goes on");
    assert_eq!(plugin_resources(&planning), 47);
    let (level, message) = &planning.log_lines()[0];
    assert_eq!(*level, LogLevel::Warning);
    assert!(message.starts_with("ETL sources not found: "), "{message}");

    let mut deploying = host(
        config(),
        PluginContext {
            config_dir: Some(nowhere),
            mode: Mode::Deploy,
        },
    );
    let error = run(&mut deploying).expect_err("deploying needs the sources");
    assert!(
        error.to_string().starts_with("ETL sources not found: "),
        "{error}"
    );
    assert_eq!(
        plugin_resources(&deploying),
        0,
        "nothing is declared before the check"
    );
}

#[test]
fn load_requirements_name_the_python_registry_and_private_packages() {
    // Removed when dropped, also when the test fails.
    let root = tempfile::Builder::new()
        .prefix("metamist-plugin-")
        .tempdir()
        .expect("temporary directory");
    let etl = root.path().join("functions/metamist");
    for dir in ["extract", "load", "notification"] {
        std::fs::create_dir_all(etl.join(dir)).expect("mkdir");
        std::fs::write(etl.join(dir).join("main.py"), "pass\n").expect("write");
    }
    std::fs::write(etl.join("load/requirements.txt"), "flask\n").expect("write");
    std::fs::write(etl.join("bq_schema.json"), "[1]\n").expect("write");
    std::fs::write(etl.join("bq_log_schema.json"), "[2]\n").expect("write");
    let mut host = host(
        config(),
        PluginContext {
            config_dir: Some(root.path().to_path_buf()),
            mode: Mode::Deploy,
        },
    );
    run(&mut host).expect("runs");
    let object = host
        .graph()
        .get(&ResourceId::new(
            "gcp:storage/bucketObject:BucketObject",
            "metamist-etl-load-source-code",
        ))
        .expect("load archive");
    let Some(Value::Archive(Archive::Assets(assets))) = object.inputs.get("source") else {
        panic!("{object:?}")
    };
    assert_eq!(
        assets["requirements.txt"],
        Asset::Text(
            "flask\n\n--extra-index-url https://australia-southeast1-python.pkg.dev/cpg-common/python-registry/simple/\ncpg-private-parsers==1.0.0"
                .into()
        )
    );
    assert!(matches!(assets["main.py"], Asset::File { .. }));
    let table = host
        .graph()
        .get(&ResourceId::new(
            "gcp:bigquery/table:Table",
            "metamist-etl-bigquery-table-logs",
        ))
        .expect("log table");
    assert_eq!(table.inputs["schema"], Value::from("[2]\n"));
    root.close().expect("clean up");
}

#[test]
fn external_etl_services_are_refused_not_dropped() {
    let mut config = config();
    if let Some(etl) = config
        .infrastructure
        .metamist
        .as_mut()
        .and_then(|m| m.etl.as_mut())
    {
        etl.custom_audience_list = Some(BTreeMap::from([(
            "extract".to_owned(),
            vec!["https://x".to_owned()],
        )]));
    }
    let error = run(&mut host(config, PluginContext::default())).expect_err("refused");
    assert!(
        error.to_string().contains(
            "external Cloud Run services for the ETL functions are not built by this release"
        ),
        "{error}"
    );
}

/// The reference writes the accessor configuration from its config's dicts, so the
/// ETL types come in the config's order; a sorted order would be new secret bytes.
#[test]
fn accessor_configuration_lists_types_in_config_order() {
    let mut config = config();
    let etl = config
        .infrastructure
        .metamist
        .as_mut()
        .and_then(|metamist| metamist.etl.as_mut())
        .expect("small-plugins has metamist.etl");
    let bbv = etl.by_type.get("bbv/v1").expect("bbv/v1").clone();
    let mut sample = bbv.clone();
    sample.parser_name = "sample_v2".into();
    etl.by_type = cpg_infra::config::OrderedMap::new([
        ("sample/v2".to_owned(), sample),
        ("bbv/v1".to_owned(), bbv),
    ])
    .expect("two types");
    let mut host = host(config, PluginContext::default());
    run(&mut host).expect("runs");
    let version = host
        .graph()
        .resources()
        .iter()
        .find(|r| &*r.id.name == "metamist-etl-accessor-configuration")
        .expect("the accessor configuration");
    let text = version.inputs["secretData"].to_json().to_string();
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {text}"))
    };
    assert!(
        at(r#"\"sample/v2\": {\"parser_name\": \"sample_v2\""#)
            < at(r#"\"bbv/v1\": {\"parser_name\": \"bbv_v1\""#),
        "{text}"
    );
}
