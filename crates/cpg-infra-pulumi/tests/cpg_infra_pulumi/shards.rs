//! The program deployed as a stack per dataset: every shard run against the mock
//! engine in wave order, each run's stack outputs handed to the next runs' stack
//! references, registers in union exactly what the single stack registers; a
//! change to one dataset changes only its shard (and what comes after the
//! datasets); a dataset previewed before the stacks it reads were updated sees
//! their outputs as unknown.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cpg_infra::config::load_dir;
use cpg_infra::driver::{Built, CpgInfrastructure};
use cpg_infra::graph::{ResourceId, Value};
use cpg_infra::shard::{ShardError, ShardPlan, StackContext};
use cpg_infra_mock_engine::{MockOptions, ORGANIZATION, Recorded};
use cpg_infra_pulumi::proto::{LogSeverity, RegisterResourceRequest};
use cpg_infra_pulumi::{
    Deployed, MainError, ProgramOptions, PulumiMain, STACK_REFERENCE_TYPE, wire,
};
use cpg_infra_test_support::copy_dir;
use prost_types::Struct;

use super::support::{build, example_dir, mock_for, normalise, reference_dir};

/// The layout key that switches a config to a stack per dataset.
const SHARDED: &str = "\n[deploy]\nlayout = \"stack-per-dataset\"\n";

/// A copy of the config directory `dir` deployed as a stack per dataset.
fn sharded_copy(dir: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("temp dir");
    copy_dir(dir, copy.path());
    let toml = copy.path().join("cpg.toml");
    let text = std::fs::read_to_string(&toml).expect("cpg.toml");
    std::fs::write(&toml, text + SHARDED).expect("write cpg.toml");
    copy
}

/// Runs the program for the config `dir` against a mock deploying to `stack`
/// that answers for `built` and knows the stacks `stacks`.
fn run(
    dir: &Path,
    built: &Built,
    stack: &str,
    dry_run: bool,
    stacks: &BTreeMap<String, Struct>,
) -> (Result<Deployed, MainError>, Recorded) {
    let mock = mock_for(
        &built.graph,
        MockOptions {
            stack: stack.into(),
            dry_run,
            stacks: stacks.clone(),
            ..MockOptions::default()
        },
    );
    let config = load_dir(dir).expect("valid");
    let result = CpgInfrastructure::from_validated(config)
        .deploy_to(mock.settings(8), &ProgramOptions::default());
    (result, mock.recorded())
}

/// The name a stack reference reads `stack` by on the mock.
fn reference_name(stack: &str) -> String {
    MockOptions {
        stack: stack.into(),
        ..MockOptions::default()
    }
    .stack_reference_name()
}

/// Runs every shard of the sharded config `dir` in an update, wave by wave, each
/// run's stack outputs handed to the later runs; what each run recorded, by
/// stack. Checks that each run registered exactly its shard's resources, read
/// one stack reference per stack it reads from, and said in the engine's log
/// which shard it deployed.
fn run_every_shard(dir: &Path, built: &Built, plan: &ShardPlan) -> BTreeMap<String, Recorded> {
    let mut stacks = BTreeMap::new();
    let mut runs = BTreeMap::new();
    for wave in plan.waves() {
        let mut outputs = Vec::new();
        for &index in wave {
            let shard = plan.shard(index);
            let (result, recorded) = run(dir, built, &shard.stack, false, &stacks);
            let deployed = result.unwrap_or_else(|error| panic!("{}: {error:?}", shard.stack));
            assert_eq!(
                (deployed.resources, deployed.reads),
                (shard.resources.len(), shard.reads.len()),
                "{}",
                shard.stack
            );
            let registered: Vec<ResourceId> = recorded.registrations[1..]
                .iter()
                .map(|r| ResourceId::new(r.r#type.as_str(), r.name.as_str()))
                .collect();
            assert_eq!(
                registered.iter().collect::<BTreeSet<_>>(),
                shard.resources.iter().collect::<BTreeSet<_>>(),
                "{}: its shard's resources",
                shard.stack
            );
            let read: BTreeSet<String> = recorded.reads.iter().map(|r| r.name.clone()).collect();
            let expected: BTreeSet<String> = shard
                .reads
                .keys()
                .map(|&producer| reference_name(&plan.shard(producer).stack))
                .collect();
            assert_eq!(read, expected, "{}: its stack references", shard.stack);
            assert!(
                recorded.reads.iter().all(|r| r.source_position.is_none()),
                "{}: a stack reference is no part of the config",
                shard.stack
            );
            let said = format!("stack {:?}: shard {} of", shard.stack, index + 1);
            assert!(
                recorded.logs.iter().any(|l| l.severity == LogSeverity::Info as i32
                    && l.message.starts_with(&said)),
                "{}: {:?}",
                shard.stack,
                recorded.logs
            );
            outputs.push((
                reference_name(&shard.stack),
                recorded.stack_outputs().unwrap_or_default(),
            ));
            runs.insert(shard.stack.clone(), recorded);
        }
        // The stacks of a wave need only earlier waves.
        stacks.extend(outputs);
    }
    runs
}

/// `urn:pulumi:<stack>::<rest>` with the stack left out, so that URNs of one
/// resource in two stacks compare equal; the root stack (named after its stack)
/// is `<root>`.
fn unstacked(urn: &str) -> String {
    if urn.contains("::pulumi:pulumi:Stack::") {
        return "<root>".to_owned();
    }
    match urn
        .strip_prefix("urn:pulumi:")
        .and_then(|rest| rest.split_once("::"))
    {
        Some((_, rest)) => format!("urn:pulumi:*::{rest}"),
        None => urn.to_owned(),
    }
}

/// The resource a URN names: `urn:pulumi:<stack>::<project>::<type>::<name>`,
/// the type qualified by its parents' (`parent$type`).
fn resource_of(urn: &str) -> ResourceId {
    let parts: Vec<&str> = urn.splitn(4, "::").collect();
    let [_, _, qualified, name] = parts[..] else {
        panic!("not a URN: {urn}");
    };
    let type_token = qualified.rsplit('$').next().unwrap_or(qualified);
    ResourceId::new(type_token, name)
}

/// A registration as it compares across stacks: URNs without their stack, only
/// the dependencies `keep` keeps (sorted; a property left with none is left
/// out), the source position's file by its name (the shards' config is a copy
/// elsewhere), and the inputs as normalised JSON (URNs in resource references
/// without their stack).
fn comparable(
    request: &RegisterResourceRequest,
    keep: impl Fn(&str) -> bool,
) -> (RegisterResourceRequest, String) {
    let mut request = request.clone();
    let object = request.object.take().unwrap_or_default();
    let fields: serde_json::Map<String, serde_json::Value> = object
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), normalise(&wire::to_json(v))))
        .collect();
    let inputs = unstacked_all(&serde_json::Value::Object(fields).to_string());
    let filter = |urns: &[String]| -> Vec<String> {
        let mut kept: Vec<String> = urns
            .iter()
            .filter(|u| keep(u))
            .map(|u| unstacked(u))
            .collect();
        kept.sort();
        kept
    };
    request.dependencies = filter(&request.dependencies);
    request.property_dependencies = request
        .property_dependencies
        .iter()
        .filter_map(|(key, deps)| {
            let urns = filter(&deps.urns);
            (!urns.is_empty()).then(|| (key.clone(), urns))
        })
        .map(|(key, urns)| {
            (
                key,
                cpg_infra_pulumi::proto::register_resource_request::PropertyDependencies { urns },
            )
        })
        .collect();
    request.parent = unstacked(&request.parent);
    request.provider = unstacked(&request.provider);
    request.deleted_with = unstacked(&request.deleted_with);
    if let Some(position) = &mut request.source_position {
        let name = position.uri.rsplit('/').next().unwrap_or_default();
        position.uri = name.to_owned();
    }
    (request, inputs)
}

/// `text` with every URN's stack left out ([`unstacked`]).
fn unstacked_all(text: &str) -> String {
    const PREFIX: &str = "urn:pulumi:";
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(PREFIX) {
        let after = &rest[start + PREFIX.len()..];
        out.push_str(&rest[..start]);
        out.push_str(PREFIX);
        match after.find("::") {
            Some(end) => {
                out.push('*');
                rest = &after[end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// The registrations of the single stack's run, each comparable, by resource;
/// dependencies on resources of other shards are left out.
fn single_registrations(
    recorded: &Recorded,
    plan: &ShardPlan,
) -> BTreeMap<ResourceId, (RegisterResourceRequest, String)> {
    recorded.registrations[1..]
        .iter()
        .map(|request| {
            let id = ResourceId::new(request.r#type.as_str(), request.name.as_str());
            let shard = plan.shard_of(&id);
            let same_shard = |urn: &str| plan.shard_of(&resource_of(urn)) == shard;
            (id, comparable(request, same_shard))
        })
        .collect()
}

/// The registrations of every shard's run, each comparable, by resource (each
/// once); dependencies on stack references are left out.
fn union_registrations(
    runs: &BTreeMap<String, Recorded>,
) -> BTreeMap<ResourceId, (RegisterResourceRequest, String)> {
    let mut union = BTreeMap::new();
    for (stack, recorded) in runs {
        for request in &recorded.registrations[1..] {
            let id = ResourceId::new(request.r#type.as_str(), request.name.as_str());
            let own = |urn: &str| *resource_of(urn).type_token != *STACK_REFERENCE_TYPE;
            let previous = union.insert(id.clone(), comparable(request, own));
            assert!(
                previous.is_none(),
                "{id} registered twice (again by {stack})"
            );
        }
    }
    union
}

/// The single stack of `dir` and every shard of it run in waves register the
/// same resources, with the same inputs and options (but for dependencies on
/// other shards), each once; the single stack's exports are all exported by
/// the shards, with the same values.
fn assert_union_is_the_single_stack(dir: &Path) {
    let built = build(dir);
    let plan = ShardPlan::new(&built.graph, &built.origins).expect("shards");
    assert!(plan.shards().len() > 2, "a shard per dataset");
    let (single, recorded) = run(dir, &built, "test", false, &BTreeMap::new());
    let single = single.expect("the single stack deploys");
    assert_eq!(single.reads, 0, "the single stack reads no stack");
    let sharded = sharded_copy(dir);
    let runs = run_every_shard(sharded.path(), &built, &plan);
    assert_eq!(runs.len(), plan.shards().len(), "every shard ran once");

    let expected = single_registrations(&recorded, &plan);
    let union = union_registrations(&runs);
    assert_eq!(
        union.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the same resources"
    );
    let mut crossed = 0;
    for (id, (request, inputs)) in &expected {
        let (got, got_inputs) = &union[id];
        assert_eq!(got_inputs, inputs, "{id}: inputs");
        assert_eq!(got, request, "{id}: options");
        crossed += usize::from(built.graph.get(id).is_some_and(|resource| {
            resource.inputs.values().flat_map(Value::walk).any(|v| {
                    matches!(v, Value::Output(o) if plan.shard_of(&o.resource) != plan.shard_of(id))
                })
        }));
    }
    assert!(crossed > 0, "some inputs came through stack references");

    let exports = recorded.stack_outputs().unwrap_or_default();
    assert!(!exports.fields.is_empty(), "the single stack exports");
    for (name, value) in &exports.fields {
        let exported: Vec<&String> = runs
            .iter()
            .filter(|(_, r)| {
                r.stack_outputs()
                    .and_then(|o| o.fields.get(name).cloned())
                    .is_some_and(|v| {
                        normalise(&wire::to_json(&v)) == normalise(&wire::to_json(value))
                    })
            })
            .map(|(stack, _)| stack)
            .collect();
        assert_eq!(
            exported.len(),
            1,
            "export {name}: once, the same: {exported:?}"
        );
        assert_eq!(
            Some(exported[0].as_str()),
            plan.stack_of_export(name),
            "{name}"
        );
    }
    for (stack, recorded) in &runs {
        for name in recorded.stack_outputs().unwrap_or_default().fields.keys() {
            assert!(
                exports.fields.contains_key(name)
                    || plan.stack_of_export(name) == Some(stack.as_str()),
                "{stack}: export {name} is neither the single stack's nor read by a shard"
            );
        }
    }
}

#[test]
fn the_example_shards_run_in_waves_register_the_single_stack() {
    assert_union_is_the_single_stack(&example_dir());
}

#[test]
fn the_reference_shards_run_in_waves_register_the_single_stack() {
    assert_union_is_the_single_stack(&reference_dir().join("small"));
}

#[test]
fn a_stack_that_is_no_shard_is_logged_with_the_valid_stacks_and_nothing_is_registered() {
    let dir = example_dir();
    let built = build(&dir);
    let sharded = sharded_copy(&dir);
    let (result, recorded) = run(sharded.path(), &built, "staging", false, &BTreeMap::new());
    let error = result.expect_err("no such shard");
    let MainError::Shard { stack, source } = &error else {
        panic!("{error:?}");
    };
    let ShardError::UnknownStack { valid, .. } = &**source else {
        panic!("{source:?}");
    };
    assert_eq!(stack, "staging");
    assert!(valid.iter().any(|s| s == "dataset-cardiac"), "{valid:?}");
    assert!(recorded.registrations.is_empty(), "nothing registered");
    let errors: Vec<&str> = recorded
        .logs
        .iter()
        .filter(|l| l.severity == LogSeverity::Error as i32)
        .map(|l| l.message.as_str())
        .collect();
    assert!(
        errors.iter().any(|m| m.contains("\"staging\"")
            && m.contains("organisation, ")
            && m.contains("dataset-cardiac")
            && m.contains("after-datasets")),
        "{errors:?}"
    );
}

/// Every shard's registrations of a run, comparable, by stack.
fn per_shard(
    runs: &BTreeMap<String, Recorded>,
) -> BTreeMap<&str, Vec<(RegisterResourceRequest, String)>> {
    runs.iter()
        .map(|(stack, recorded)| {
            let mut requests: Vec<_> = recorded.registrations[1..]
                .iter()
                .map(|r| comparable(r, |_| true))
                .collect();
            requests.sort_by(|a, b| (&a.0.r#type, &a.0.name).cmp(&(&b.0.r#type, &b.0.name)));
            (stack.as_str(), requests)
        })
        .collect()
}

#[test]
fn a_change_to_one_datasets_members_changes_only_its_shard_and_after_the_datasets() {
    let sharded = sharded_copy(&example_dir());
    let built = build(sharded.path());
    let plan = ShardPlan::new(&built.graph, &built.origins).expect("shards");
    let before = run_every_shard(sharded.path(), &built, &plan);

    // study2 (which no dataset depends on) loses an analyst.
    let members = sharded.path().join("datasets/study2/members.yaml");
    let text = std::fs::read_to_string(&members).expect("members");
    let edited = text.replace("- mira.okafor\n", "");
    assert_ne!(edited, text, "the member was listed");
    std::fs::write(&members, edited).expect("write members");
    let built_after = build(sharded.path());
    let plan_after = ShardPlan::new(&built_after.graph, &built_after.origins).expect("shards");
    assert_eq!(
        plan_after
            .shards()
            .iter()
            .map(|s| &s.stack)
            .collect::<Vec<_>>(),
        plan.shards().iter().map(|s| &s.stack).collect::<Vec<_>>(),
        "the same stacks"
    );
    let after = run_every_shard(sharded.path(), &built_after, &plan_after);

    let (before, after) = (per_shard(&before), per_shard(&after));
    let changed: Vec<&str> = before
        .iter()
        .filter(|(stack, requests)| after.get(*stack) != Some(requests))
        .map(|(stack, _)| *stack)
        .collect();
    assert!(changed.contains(&"dataset-study2"), "{changed:?}");
    for stack in &changed {
        assert!(
            ["dataset-study2", "after-datasets"].contains(stack),
            "{stack} changed too: {changed:?}"
        );
    }
}

#[test]
fn a_dataset_previewed_before_the_stacks_it_reads_were_updated_sees_their_outputs_unknown() {
    let dir = example_dir();
    let built = build(&dir);
    let plan = ShardPlan::new(&built.graph, &built.origins).expect("shards");
    let index = plan
        .shard_for_stack("dataset-cardiac")
        .expect("cardiac's shard");
    assert!(
        !plan.shard(index).reads.is_empty(),
        "cardiac reads other stacks"
    );
    // Every stack exists (`pulumi stack init`) but none was updated yet.
    let stacks: BTreeMap<String, Struct> = plan
        .shards()
        .iter()
        .map(|s| (reference_name(&s.stack), Struct::default()))
        .collect();
    let sharded = sharded_copy(&dir);
    let (result, recorded) = run(sharded.path(), &built, "dataset-cardiac", true, &stacks);
    let deployed = result.expect("the preview succeeds");
    assert_eq!(deployed.resources, plan.shard(index).resources.len());

    let context = StackContext::new(ORGANIZATION, "cpg");
    let graph = plan
        .shard_graph(&built.graph, index, &context)
        .expect("shard graph");
    let mut unknown = 0;
    for resource in graph.resources() {
        for (key, value) in &resource.inputs {
            let crosses = value.walk().any(|v| {
                matches!(v, Value::Output(o) if *o.resource.type_token == *STACK_REFERENCE_TYPE)
            });
            if !crosses {
                continue;
            }
            let request = recorded.registrations[1..]
                .iter()
                .find(|r| *r.r#type == *resource.id.type_token && *r.name == *resource.id.name)
                .unwrap_or_else(|| panic!("{} registered", resource.id));
            let sent = &request.object.as_ref().expect("inputs").fields[key];
            assert!(
                wire::contains_unknown(sent),
                "{}: {key} is unknown, sent {:?}",
                resource.id,
                wire::to_json(sent)
            );
            unknown += 1;
        }
    }
    assert!(unknown > 0, "some inputs cross from other stacks");
}
