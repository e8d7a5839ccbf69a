//! The plugins, built by cargo and opened through the real loader, plan
//! `small-plugins` as the reference did: every resource the plugins add is the
//! reference's, with the same inputs, explicit `dependsOn` and inputs from the same
//! resources' outputs.
//!
//! The resources the driver declares are compared by the GCP crate's parity tests
//! (`small-plugins` is `small` plus the plugins); here the plan with the plugins
//! must hold exactly the plan without them plus the plugins' resources.
//!
//! Function sources are payload that this repository does not hold. The plugins read
//! them from the config directory; `CPG_INFRA_PLUGIN_PAYLOAD` names a directory to
//! use instead, holding `functions/billing_aggregator/…` (the reference's
//! `cpg_infra/billing_aggregator`) and `functions/metamist/…` (metamist's `etl/`).
//! With the payload, every archive is compared file by file with the reference's
//! recorded SHA-256s and the tables' schemas byte for byte; without it, each archive
//! is compared by path (the directory its function group names), the schemas are
//! reported absent, and the
//! test says which comparisons it could not make.

use std::collections::BTreeSet;
use std::path::PathBuf;

use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::{Archive, Graph, Value as GraphValue};
use cpg_infra::plugin::{LogLevel, Mode, PluginContext};
use cpg_infra_gcp::GcpProvider;
use cpg_infra_plugin_api::loader::load_enabled;
use cpg_infra_reference::{Reference, same};
use serde_json::Value;

use super::support::{build_cdylibs, load, plugins_dir, reference_dir};

/// The plugin packages and their libraries, in `small-plugins`' order.
const PLUGINS: [(&str, &str); 2] = [
    ("cpg-infra-billing-aggregator", "billing_aggregator"),
    ("cpg-infra-metamist", "metamist"),
];

/// The ETL accessor configuration, a secret: a new version is written whenever its
/// bytes change, so they must equal the reference's.
const ACCESSOR_CONFIGURATION: &str =
    "gcp:secretmanager/secretVersion:SecretVersion::metamist-etl-accessor-configuration";

/// What the comparison of archives could not check, without the payload.
#[derive(Debug, Default)]
struct Unchecked {
    archives_by_path: Vec<String>,
    absent_inputs: Vec<String>,
}

/// Compares an archive with the reference's `{"$archive": {name: {"$asset":
/// {"text_sha256", "text_len"}}}}`.
fn compare_archive(
    id: &str,
    mine: &Archive,
    theirs: &Value,
    found: &mut Vec<String>,
    unchecked: &mut Unchecked,
) {
    let Some(files) = theirs.get("$archive").and_then(Value::as_object) else {
        found.push(format!(
            "{id}: the reference's source is not an archive: {theirs}"
        ));
        return;
    };
    match mine {
        Archive::Directory { path } => {
            // The payload is absent: the path must be the function group's directory.
            let group = match id.rsplit("::").next() {
                Some("billing-aggregator-functions-source-code") => "aggregate",
                Some("billing-gcp-cost-control-source-code") => "gcp_cost_control",
                Some("billing-gcp-cost-report-source-code") => "gcp_cost_report_slack_bot",
                Some("metamist-etl-extract-source-code") => "extract",
                Some("metamist-etl-load-source-code") => "load",
                Some("metamist-etl-notification-func-source-code") => "notification",
                other => {
                    found.push(format!("{id}: no known source directory for {other:?}"));
                    return;
                }
            };
            if !path.ends_with(group) {
                found.push(format!(
                    "{id}: archive of {} instead of …/{group}",
                    path.display()
                ));
            }
            unchecked
                .archives_by_path
                .push(format!("{id} ({} files in the reference)", files.len()));
        }
        Archive::Assets(assets) => {
            let their_names: BTreeSet<&String> = files.keys().collect();
            let my_names: BTreeSet<&String> = assets.keys().collect();
            if their_names != my_names {
                found.push(format!(
                    "{id}: archive files: reference {their_names:?}, plan {my_names:?}"
                ));
            }
            for (name, asset) in assets {
                let Some(theirs) = files.get(name) else {
                    continue;
                };
                let their_sha = theirs["$asset"]["text_sha256"].as_str();
                let mine = asset.digest().map(|d| d.hex());
                if mine.as_deref() != their_sha {
                    found.push(format!(
                        "{id}: {name}: reference sha256 {their_sha:?}, plan {mine:?}"
                    ));
                }
            }
        }
    }
}

/// Every difference between the plugins' resources and the reference's.
fn differences(
    plugin_resources: &[&cpg_infra::graph::Resource],
    reference: &Reference,
    unchecked: &mut Unchecked,
) -> Vec<String> {
    let mut found = Vec::new();
    for resource in plugin_resources {
        let id = resource.id.to_string();
        let Some(recorded) = reference.resources().get(&id) else {
            found.push(format!("extra: {id}"));
            continue;
        };
        let empty = serde_json::Map::new();
        let recorded_inputs = recorded["inputs"].as_object().unwrap_or(&empty);
        let names: BTreeSet<&String> = recorded_inputs
            .keys()
            .chain(resource.inputs.keys())
            .collect();
        for name in names {
            match (recorded_inputs.get(name), resource.inputs.get(name)) {
                (Some(theirs), Some(GraphValue::Archive(mine))) => {
                    compare_archive(&id, mine, theirs, &mut found, unchecked);
                }
                (Some(theirs), Some(mine)) => match mine.evaluate(reference) {
                    Ok(mine) => {
                        let mine = mine.to_json();
                        if !same(theirs, &mine) {
                            found.push(format!(
                                "{id}: input {name}: reference {theirs}, plan {mine}"
                            ));
                        }
                    }
                    Err(error) => {
                        found.push(format!("{id}: input {name}: cannot evaluate: {error}"))
                    }
                },
                (Some(_), None) => unchecked.absent_inputs.push(format!("{id}: input {name}")),
                (None, Some(mine)) => found.push(format!(
                    "{id}: input {name}: not in the reference, plan {mine:?}"
                )),
                (None, None) => {}
            }
        }
        let their_depends: BTreeSet<&str> = recorded["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let our_depends: Vec<String> = resource
            .options
            .depends_on
            .iter()
            .map(ToString::to_string)
            .collect();
        let our_depends: BTreeSet<&str> = our_depends.iter().map(String::as_str).collect();
        if their_depends != our_depends {
            found.push(format!(
                "{id}: dependsOn: reference {their_depends:?}, plan {our_depends:?}"
            ));
        }
        let their_sources: BTreeSet<String> = recorded["property_dependencies"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .flat_map(|v| v.as_array().into_iter().flatten())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let our_sources: BTreeSet<String> = resource
            .inputs
            .values()
            .flat_map(GraphValue::dependencies)
            .map(|d| d.to_string())
            .collect();
        if their_sources != our_sources
            && !registry_through_apply(&id, &their_sources, &our_sources)
        {
            found.push(format!(
                "{id}: inputs from outputs of: reference {their_sources:?}, plan {our_sources:?}"
            ));
        }
        let mut options = resource.to_json()["options"].clone();
        // `dependsOn` is compared above, as a set.
        if let Some(map) = options.as_object_mut() {
            map.remove("dependsOn");
        }
        if options != plugin_options(recorded) {
            found.push(format!(
                "{id}: options: reference {}, plan {options}",
                recorded["options"]
            ));
        }
    }
    found
}

/// The reference builds the load function inside an `apply` on the Python
/// registry's outputs, so what takes the function's URL records the registry as a
/// source too; the plan reads the registry's inputs while planning and has no such
/// edge. Only that one extra source is accounted for.
fn registry_through_apply(id: &str, theirs: &BTreeSet<String>, ours: &BTreeSet<String>) -> bool {
    const REGISTRY: &str = "gcp:artifactregistry/repository:Repository::python-artifact-registry";
    id == "gcp:pubsub/subscription:Subscription::metamist-etl-subscription"
        && theirs.contains(REGISTRY)
        && theirs.iter().filter(|s| *s != REGISTRY).eq(ours.iter())
}

/// The reference's recorded options in the plan's form (those the plugins set),
/// without `dependsOn`.
fn plugin_options(recorded: &Value) -> Value {
    let mut options = serde_json::Map::new();
    let mut copy = |from: &str, to: &str| {
        if let Some(v) = recorded["options"].get(from) {
            options.insert(to.to_owned(), v.clone());
        }
    };
    copy("additional_secret_outputs", "additionalSecretOutputs");
    copy("replace_on_changes", "replaceOnChanges");
    // The recording writes an alias as Pulumi's spec; the plan as its fields.
    if let Some(aliases) = recorded["options"]["aliases"].as_array() {
        let aliases = aliases
            .iter()
            .map(|alias| {
                let spec = &alias["spec"];
                let mut plan = serde_json::Map::new();
                if let Some(name) = spec.get("name") {
                    plan.insert("name".into(), name.clone());
                }
                if spec.get("parentUrn") == Some(&Value::from("")) {
                    plan.insert("noParent".into(), Value::Bool(true));
                }
                if let Some(type_token) = spec.get("type") {
                    plan.insert("type".into(), type_token.clone());
                }
                Value::Object(plan)
            })
            .collect();
        options.insert("aliases".into(), Value::Array(aliases));
    }
    Value::Object(options)
}

/// Plans `small-plugins` with the plugins loaded from the libraries cargo built.
fn plan_with_plugins(payload: Option<PathBuf>) -> (Graph, Graph, Vec<(LogLevel, String)>) {
    let packages: Vec<&str> = PLUGINS.iter().map(|(p, _)| *p).collect();
    let libraries = build_cdylibs(&packages);
    let installed: Vec<(&str, &std::path::Path)> = PLUGINS
        .iter()
        .map(|(_, lib)| (*lib, libraries[*lib].as_path()))
        .collect();
    let dir = plugins_dir("parity", &installed);

    let mut config = load("small-plugins");
    let enabled: Vec<String> = PLUGINS.iter().map(|(_, lib)| (*lib).to_owned()).collect();
    assert_eq!(config.infrastructure.plugins_enabled, enabled);
    let plugins = load_enabled(dir.path(), &enabled).unwrap_or_else(|errors| panic!("{errors:#?}"));
    let context = PluginContext {
        config_dir: Some(payload.unwrap_or_else(|| reference_dir().join("small-plugins"))),
        mode: Mode::Plan,
    };
    let mut infra = CpgInfrastructure::from_validated(config.clone())
        .with_cloud(GcpProvider)
        .with_plugin_context(context);
    for plugin in plugins {
        infra = infra.with_plugin(Box::new(plugin));
    }
    let built = infra.build_with_log().unwrap_or_else(|e| panic!("{e:?}"));
    // The same configs and libraries give a byte-identical plan, build after build.
    let again = infra.build().unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        serde_json::to_string(&again.plan()).expect("plan"),
        serde_json::to_string(&built.graph.plan()).expect("plan"),
        "plans are deterministic"
    );

    config.infrastructure.plugins_enabled.clear();
    let without = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .expect("plan without plugins");
    let log = built
        .plugin_log
        .iter()
        .map(|l| (l.level, l.message.clone()))
        .collect();
    (built.graph, without, log)
}

#[test]
fn plugins_match_the_reference() {
    let payload = std::env::var_os("CPG_INFRA_PLUGIN_PAYLOAD").map(PathBuf::from);
    let with_payload = payload.is_some();
    let (graph, without, log) = plan_with_plugins(payload);
    // What the plugins declare exists in the pinned providers, like the rest.
    let schemas = cpg_infra_provider_schemas::Schemas::pinned().unwrap_or_else(|e| panic!("{e}"));
    let report = schemas.check(&graph);
    assert!(report.is_clean(), "small-plugins:\n{report}");
    let recorded = cpg_infra_reference::read("small-plugins");
    let reference = Reference::new(&recorded);

    // The driver's resources are the same with and without plugins.
    let driver: BTreeSet<String> = without
        .resources()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let added: Vec<&cpg_infra::graph::Resource> = graph
        .resources()
        .iter()
        .filter(|r| !driver.contains(&r.id.to_string()))
        .collect();
    assert_eq!(
        graph.len() - added.len(),
        without.len(),
        "every driver resource is still there"
    );

    let mut unchecked = Unchecked::default();
    let found = differences(&added, &reference, &mut unchecked);
    unchecked.archives_by_path.sort();
    unchecked.absent_inputs.sort();
    assert!(
        found.is_empty(),
        "{} differences:\n{}",
        found.len(),
        found.join("\n")
    );
    // Compared above with the rest; here explicitly, byte for byte, so that a
    // switch-over writes no new secret version.
    let accessor_configuration = added
        .iter()
        .find(|r| r.id.to_string() == ACCESSOR_CONFIGURATION)
        .expect("the accessor configuration");
    let mine = accessor_configuration.inputs["secretData"]
        .evaluate(&reference)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_json();
    let theirs = &reference.resources()[ACCESSOR_CONFIGURATION]["inputs"]["secretData"];
    assert_eq!(mine["$secret"].as_str(), theirs["$secret"].as_str());
    assert!(theirs["$secret"].as_str().is_some_and(|text| {
        text.contains(r#""users": ["alice.smith@populationgenomics.org.au", "alice.smith@"#)
    }));

    assert_eq!(
        added.len(),
        72,
        "the plugins' 72 resources (25 billing aggregator, 47 metamist)"
    );
    // The reference's dynamic resources carry this project's tokens, so the
    // driver's plan holds them too.
    let reference_added = reference
        .resources()
        .keys()
        .filter(|id| !driver.contains(*id))
        .count();
    assert_eq!(reference_added, 72, "the reference's plugin resources");

    // The exports of whole resources name the reference's resources.
    for name in [
        "gcp_cost_control_cloud_function",
        "gcp_cost_reporting_cloud_function",
        "gcp_cost_reporting_cloud_scheduler_job",
    ] {
        let urn = recorded["exports"][name]["urn"].as_str().expect("urn");
        let mine = graph
            .exports()
            .get(name)
            .unwrap_or_else(|| panic!("export {name}"));
        let GraphValue::Output(output) = mine else {
            panic!("{name}: {mine:?}")
        };
        assert_eq!(output.property, "", "{name} exports the whole resource");
        assert!(
            urn.ends_with(&format!("::{}", output.resource)),
            "{name}: {urn} vs {}",
            output.resource
        );
    }

    if with_payload {
        assert!(
            unchecked.archives_by_path.is_empty() && unchecked.absent_inputs.is_empty(),
            "with the payload everything is compared by content: {unchecked:#?}"
        );
    } else {
        // Without the payload: six archives by path, three tables' schemas
        // absent, and a warning from each plugin that says so.
        assert_eq!(unchecked.archives_by_path.len(), 6, "{unchecked:#?}");
        assert_eq!(
            unchecked.absent_inputs,
            [
                "gcp:bigquery/table:Table::billing-aggregate-table: input schema",
                "gcp:bigquery/table:Table::metamist-etl-bigquery-table-logs: input schema",
                "gcp:bigquery/table:Table::metamist-etl-bigquery-table: input schema",
            ]
        );
        for prefix in ["function sources not found: ", "ETL sources not found: "] {
            assert!(
                log.iter()
                    .any(|(level, message)| *level == LogLevel::Warning
                        && message.starts_with(prefix)),
                "{log:#?}"
            );
        }
        eprintln!(
            "compared by path only (set CPG_INFRA_PLUGIN_PAYLOAD to compare contents): {unchecked:#?}"
        );
    }
}
