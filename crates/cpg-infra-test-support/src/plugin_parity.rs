//! A plugin, run in-process by the driver on `small-plugins`, held against the
//! reference's recording: every resource the plugin adds is the reference's, with
//! the same inputs, options, explicit `dependsOn` and inputs from the same
//! resources' outputs.
//!
//! The resources the driver declares are compared by the GCP crate's parity tests
//! (`small-plugins` is `small` plus the plugins); here the plan with the plugin must
//! hold exactly the plan without it plus the plugin's resources. Each plugin's own
//! crate runs [`compare`] for its plugin (one plugin per test executable: every
//! plugin library exports the same entry symbol) and checks what is its own.
//!
//! Function sources are payload that this repository does not hold. The plugins read
//! them from the config directory; [`PAYLOAD_ENV`] names a directory to use instead,
//! holding `functions/billing_aggregator/…` (the reference's
//! `cpg_infra/billing_aggregator`) and `functions/metamist/…` (metamist's `etl/`).
//! With the payload, every archive is compared file by file with the reference's
//! recorded SHA-256s and the tables' schemas byte for byte; without it, each archive
//! is compared by path (the directory its function group names), the schemas are
//! reported absent ([`Unchecked`]), and the test says which comparisons it could not
//! make.

use std::collections::BTreeSet;
use std::path::PathBuf;

use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::{Archive, Graph, Resource, Value as GraphValue};
use cpg_infra::plugin::{LogLevel, Mode, Plugin, PluginContext};
use cpg_infra_gcp::GcpProvider;
use cpg_infra_reference::{Reference, reference_dir, same};
use serde_json::Value;

/// The sample config with the plugins, and its recording.
pub const CONFIG: &str = "small-plugins";

/// The plugins [`CONFIG`] enables, in its order.
pub const ENABLED: [&str; 2] = ["billing_aggregator", "metamist"];

/// How many resources the reference's plugins declare for [`CONFIG`]: 25 of the
/// billing aggregator and 47 of metamist.
pub const REFERENCE_PLUGIN_RESOURCES: usize = 72;

/// The environment variable naming a directory that holds the function sources.
pub const PAYLOAD_ENV: &str = "CPG_INFRA_PLUGIN_PAYLOAD";

/// What the comparison could not check, without the payload.
#[derive(Debug, Default)]
pub struct Unchecked {
    /// Archives compared by the directory they name, with the number of files the
    /// reference recorded for each.
    pub archives_by_path: Vec<String>,
    /// Inputs the reference recorded that the plan leaves out (the tables' schemas,
    /// read from the sources), as `<resource id>: input <name>`, sorted.
    pub absent_inputs: Vec<String>,
}

/// A plugin's plan of [`CONFIG`], already found equal to the reference's where it
/// overlaps: what each plugin's test checks further.
#[derive(Debug)]
pub struct Comparison {
    /// The plan with the plugin.
    pub graph: Graph,
    /// The resources the plugin added: those not in the plan without it.
    pub added: Vec<Resource>,
    /// The recording of [`CONFIG`].
    pub recorded: Value,
    /// The recording as a resolver of the plan's deploy-time values.
    pub reference: Reference,
    /// What could not be compared (empty with the payload).
    pub unchecked: Unchecked,
    /// The plugin's log lines.
    pub log: Vec<(LogLevel, String)>,
    /// Whether [`PAYLOAD_ENV`] named the function sources.
    pub with_payload: bool,
}

/// Plans [`CONFIG`] with `plugin` (and only it) enabled, run in-process by the
/// driver, and compares what it adds with the reference's recording.
///
/// # Panics
///
/// When the plan is not deterministic, breaks a provider schema, loses a driver
/// resource, or differs from the reference in any resource the plugin adds; with
/// the payload, when anything was left uncompared.
pub fn compare(plugin: Box<dyn Plugin>) -> Comparison {
    let payload = std::env::var_os(PAYLOAD_ENV).map(PathBuf::from);
    let with_payload = payload.is_some();
    let (graph, without, log) = plan_with(plugin, payload);
    // What the plugin declares exists in the pinned providers, like the rest.
    let schemas = cpg_infra_provider_schemas::Schemas::pinned().unwrap_or_else(|e| panic!("{e}"));
    let report = schemas.check(&graph);
    assert!(report.is_clean(), "{CONFIG}:\n{report}");
    let recorded = cpg_infra_reference::read(CONFIG);
    let reference = Reference::new(&recorded);

    // The driver's resources are the same with and without the plugin.
    let driver: BTreeSet<String> = without
        .resources()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let added: Vec<Resource> = graph
        .resources()
        .iter()
        .filter(|r| !driver.contains(&r.id.to_string()))
        .cloned()
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

    // The reference's dynamic resources carry this project's tokens, so the
    // driver's plan holds them too.
    let reference_added = reference
        .resources()
        .keys()
        .filter(|id| !driver.contains(*id))
        .count();
    assert_eq!(
        reference_added, REFERENCE_PLUGIN_RESOURCES,
        "the reference's plugin resources"
    );

    if with_payload {
        assert!(
            unchecked.archives_by_path.is_empty() && unchecked.absent_inputs.is_empty(),
            "with the payload everything is compared by content: {unchecked:#?}"
        );
    } else {
        eprintln!("compared by path only (set {PAYLOAD_ENV} to compare contents): {unchecked:#?}");
    }
    Comparison {
        graph,
        added,
        recorded,
        reference,
        unchecked,
        log,
        with_payload,
    }
}

/// Plans [`CONFIG`] with `plugin`, twice (the plans must be byte-identical), and
/// without it; returns both plans and the plugin's log.
fn plan_with(
    plugin: Box<dyn Plugin>,
    payload: Option<PathBuf>,
) -> (Graph, Graph, Vec<(LogLevel, String)>) {
    let mut config = cpg_infra_reference::load(&reference_dir().join(CONFIG));
    assert_eq!(config.infrastructure.plugins_enabled, ENABLED);
    assert!(
        ENABLED.contains(&plugin.name()),
        "{CONFIG} does not enable {:?}",
        plugin.name()
    );
    let mut with_plugin = config.clone();
    with_plugin.infrastructure.plugins_enabled = vec![plugin.name().to_owned()];
    let context = PluginContext {
        config_dir: Some(payload.unwrap_or_else(|| reference_dir().join(CONFIG))),
        mode: Mode::Plan,
    };
    let infra = CpgInfrastructure::from_validated(with_plugin)
        .with_cloud(GcpProvider)
        .with_plugin_context(context)
        .with_plugin(plugin);
    let built = infra.build_with_log().unwrap_or_else(|e| panic!("{e:?}"));
    // The same configs and plugin give a byte-identical plan, build after build.
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

/// Every difference between the plugin's resources and the reference's.
fn differences(
    plugin_resources: &[Resource],
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
                if spec.get("noParent") == Some(&Value::Bool(true)) {
                    plan.insert("noParent".into(), Value::Bool(true));
                }
                // A parent the plan cannot name stays, so that it shows as a difference.
                if let Some(parent) = spec.get("parentUrn").filter(|p| *p != "") {
                    plan.insert("parentUrn".into(), parent.clone());
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
