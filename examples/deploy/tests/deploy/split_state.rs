//! `deploy shards split-state`: the single stack of a config, registered with the
//! mock engine and exported, split into one export per shard stack; each shard's
//! graph, registered in wave order with the stack outputs of the shards before it,
//! registers exactly the resources of its split export, with the same ids and
//! inputs — nothing created, deleted or updated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::shard::{ShardPlan, StackContext};
use cpg_infra_gcp::GcpProvider;
use cpg_infra_mock_engine::{MockEngine, MockOptions, ORGANIZATION, Recorded, answering_for};
use cpg_infra_pulumi::{DeployOptions, Session, wire};
use serde_json::Value as Json;

use super::program::reference_small;
use super::state::{as_exported, export_of, write};
use super::support::{TempDir, copy_dir, deploy, text};
use super::targets::register;

/// The resources of an export document, by URN.
fn by_urn(document: &Json) -> BTreeMap<String, Json> {
    document["deployment"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| (r["urn"].as_str().expect("urn").to_owned(), r.clone()))
        .collect()
}

/// `type::name` of a resource of an export.
fn key_of(resource: &Json) -> (String, String) {
    let urn = resource["urn"].as_str().expect("urn");
    let name = urn.rsplit("::").next().expect("name");
    (
        resource["type"].as_str().expect("type").to_owned(),
        name.to_owned(),
    )
}

/// Registers `graph` as stack `stack` against a mock that knows the stacks of
/// `known`; what the mock recorded.
fn register_shard(graph: &cpg_infra::graph::Graph, stack: &str, known: &MockOptions) -> Recorded {
    let options = MockOptions {
        stack: stack.to_owned(),
        ..known.clone()
    };
    let mock = MockEngine::start(answering_for(graph, "123", options)).expect("mock listens");
    let session = Session::connect(mock.settings(8)).expect("connects");
    session
        .deploy(graph, &DeployOptions::default())
        .unwrap_or_else(|e| panic!("{stack}: {e}"));
    mock.recorded()
}

#[test]
fn each_shard_registers_exactly_its_split_state_with_its_ids_and_inputs() {
    // The live single stack: the config without the layout, registered and exported
    // with its secrets shown.
    let small = reference_small();
    let single = register(&small);
    let exported = export_of(&single, true);
    let dir = TempDir::new("split-state");
    let export = write(&dir, "export.json", &exported);

    // The same config with the sharded layout chosen, split.
    let config = dir.0.join("config");
    copy_dir(&small, &config);
    let toml = config.join("cpg.toml");
    let mut cpg = std::fs::read_to_string(&toml).expect("cpg.toml");
    cpg.push_str("\n[deploy]\nlayout = \"stack-per-dataset\"\n");
    std::fs::write(&toml, cpg).expect("write cpg.toml");
    let out = dir.0.join("shards");
    let config_arg = config.to_str().expect("utf-8");
    let out_arg = out.to_str().expect("utf-8");
    let output = deploy(&["shards", "split-state", &export, config_arg, out_arg]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        output.stdout.is_empty(),
        "the summary goes to standard error"
    );
    let summary = text(&output.stderr);
    assert!(summary.contains("dataset-common: "), "{summary}");

    // The shards, as the program deploys them.
    let built = CpgInfrastructure::from_validated(load_dir(&config).expect("valid"))
        .with_cloud(GcpProvider)
        .build_with_log()
        .expect("builds");
    let plan = ShardPlan::new(&built.graph, &built.origins).expect("shards");
    let context = StackContext::new(ORGANIZATION, "cpg");
    let original: BTreeMap<(String, String), Json> = by_urn(&exported)
        .into_values()
        .map(|r| (key_of(&r), r))
        .collect();

    let mut known = MockOptions::default();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut reads = 0;
    for wave in plan.waves() {
        let mut outputs = Vec::new();
        for &index in wave {
            let shard = plan.shard(index);
            let split: Json = serde_json::from_str(
                &std::fs::read_to_string(out.join(format!("{}.json", shard.stack)))
                    .unwrap_or_else(|e| panic!("{}: {e}", shard.stack)),
            )
            .expect("split export is JSON");
            let split = by_urn(&split);
            let graph = plan
                .shard_graph(&built.graph, index, &context)
                .expect("shard graph");
            let recorded = register_shard(&graph, &shard.stack, &known);
            reads += recorded.reads.len();

            // The URNs registered are exactly those the split state holds (its
            // providers aside: the mock registers no default providers): nothing
            // created, nothing deleted.
            let registered: BTreeSet<&str> = recorded
                .responses
                .iter()
                .map(|(_, _, response)| response.urn.as_str())
                .collect();
            let held: BTreeSet<&str> = split
                .iter()
                .filter(|(_, r)| {
                    !r["type"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("pulumi:providers:"))
                })
                .map(|(urn, _)| urn.as_str())
                .collect();
            assert_eq!(registered, held, "{}", shard.stack);
            assert_eq!(
                registered.len(),
                shard.resources.len() + 1,
                "{}: its resources and its root",
                shard.stack
            );

            // Each resource keeps its id and inputs, and is registered with the
            // inputs the split state holds: no update either.
            for request in &recorded.registrations[1..] {
                let key = (request.r#type.clone(), request.name.clone());
                assert!(seen.insert(key.clone()), "{key:?} in two shards");
                let before = &original[&key];
                let (_, _, response) = recorded
                    .responses
                    .iter()
                    .find(|(t, n, _)| *t == request.r#type && *n == request.name)
                    .expect("answered");
                let after = &split[&response.urn];
                assert_eq!(after["id"], before["id"], "{key:?}");
                assert_eq!(after["inputs"], before["inputs"], "{key:?}");
                assert_eq!(after["outputs"], before["outputs"], "{key:?}");
                let sent = as_exported(
                    request
                        .object
                        .as_ref()
                        .map_or(Json::Null, wire::struct_to_json),
                    true,
                );
                assert_eq!(sent, after["inputs"], "{key:?}: registered as held");
            }
            outputs.push((
                MockOptions {
                    stack: shard.stack.clone(),
                    ..MockOptions::default()
                }
                .stack_reference_name(),
                recorded.stack_outputs().unwrap_or_default(),
            ));
        }
        // The next wave reads this one's outputs.
        known.stacks.extend(outputs);
    }
    // Values crossed from shard to shard through stack references.
    assert!(reads > 0, "no shard read another's outputs");
    // Every resource of the single stack went to exactly one shard.
    let all: BTreeSet<(String, String)> = original
        .keys()
        .filter(|(t, _)| t != "pulumi:pulumi:Stack")
        .cloned()
        .collect();
    assert_eq!(seen, all);
}

#[test]
fn an_export_with_encrypted_secrets_is_refused_unless_allowed() {
    let small = reference_small();
    let exported = export_of(&register(&small), false);
    let dir = TempDir::new("split-state-ciphertext");
    let export = write(&dir, "export.json", &exported);
    let small_arg = small.to_str().expect("utf-8");
    let out = dir.0.join("shards");
    let out_arg = out.to_str().expect("utf-8");

    let split = |extra: &[&str]| {
        let args = ["shards", "split-state", &export, small_arg, out_arg];
        deploy(&[&args[..], extra].concat())
    };

    let refused = split(&[]);
    assert_eq!(refused.status.code(), Some(1));
    let message = text(&refused.stderr);
    assert!(message.contains("--show-secrets"), "{message}");
    assert!(!Path::new(out_arg).exists(), "nothing written");

    let allowed = split(&["--allow-ciphertext"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stderr));
    assert!(out.join("organisation.json").exists());
    // Single-stack layout: the summary reminds to choose the sharded one.
    assert!(
        text(&allowed.stderr).contains("layout = \"stack-per-dataset\""),
        "{}",
        text(&allowed.stderr)
    );

    // A second run would overwrite: refused, naming a file.
    let again = split(&["--allow-ciphertext"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("would overwrite"),
        "{}",
        text(&again.stderr)
    );
}
