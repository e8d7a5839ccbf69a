use super::*;
use crate::driver::Origins;
use crate::graph::{Graph, Resource, Value};

fn dataset(name: &str) -> Origin {
    Origin::Dataset(name.to_owned())
}

/// A resource of a test graph: its name, its origin, the `(resource, property)`
/// outputs its inputs use, and what it depends on.
type Spec<'a> = (&'a str, Origin, &'a [(&'a str, &'a str)], &'a [&'a str]);

/// A graph and its origins from the resources' specs.
fn graph(resources: &[Spec<'_>]) -> (Graph, Origins) {
    let mut graph = Graph::new();
    let mut origins = Origins::default();
    for (name, origin, uses, after) in resources {
        let mut resource = Resource::new("t:m:R", name);
        for (i, (used, property)) in uses.iter().enumerate() {
            resource = resource.input(
                format!("in{i}"),
                Value::output(&ResourceId::new("t:m:R", used), *property),
            );
        }
        resource = resource.depends_on(after.iter().map(|a| ResourceId::new("t:m:R", a)));
        let id = graph.declare(resource).expect("declare");
        origins.set_resource(id, origin.clone());
    }
    (graph, origins)
}

fn id(name: &str) -> ResourceId {
    ResourceId::new("t:m:R", name)
}

fn stacks(plan: &ShardPlan) -> Vec<&str> {
    plan.shards().iter().map(|s| s.stack.as_str()).collect()
}

#[test]
fn organisation_resources_using_datasets_come_after_them() {
    let (graph, origins) = graph(&[
        ("bucket", Origin::Organisation, &[], &[]),
        ("a", dataset("a"), &[("bucket", "name")], &[]),
        // Uses a dataset's output: after the datasets, and so does its user.
        ("list", Origin::Organisation, &[("a", "email")], &[]),
        ("config", Origin::Organisation, &[("list", "id")], &[]),
        ("b", dataset("b"), &[], &["a"]),
    ]);
    let plan = ShardPlan::new(&graph, &origins).expect("acyclic");
    assert_eq!(
        stacks(&plan),
        ["organisation", "dataset-a", "dataset-b", "after-datasets"]
    );
    assert_eq!(
        plan.stack_of_resource("t:m:R", "list"),
        Some("after-datasets")
    );
    assert_eq!(
        plan.stack_of_resource("t:m:R", "config"),
        Some("after-datasets")
    );
    assert_eq!(
        plan.stack_of_resource("t:m:R", "bucket"),
        Some("organisation")
    );
    assert_eq!(plan.stack_of_resource("t:m:R", "none"), None);
    // a reads the bucket's name; b only comes after a.
    let a = plan.shard(1);
    assert_eq!(
        a.reads[&0].keys().collect::<Vec<_>>(),
        ["t:m:R::bucket::name"]
    );
    assert_eq!(plan.shard(2).after, [1]);
    assert!(plan.shard(2).reads.is_empty());
    assert_eq!(plan.waves(), [vec![0], vec![1], vec![2, 3]]);
    assert_eq!(
        plan.stack_of_export("t:m:R::bucket::name"),
        Some("organisation")
    );
}

#[test]
fn a_cycle_between_shards_names_its_resources() {
    let (graph, origins) = graph(&[
        ("a1", dataset("a"), &[("b1", "id")], &[]),
        ("b1", dataset("b"), &[("a2", "id")], &[]),
        ("a2", dataset("a"), &[], &[]),
    ]);
    let error = ShardPlan::new(&graph, &origins).expect_err("a cycle");
    assert_eq!(
        error.to_string(),
        "shards need each other: t:m:R::a1 (dataset-a) uses t:m:R::b1 (dataset-b), \
         t:m:R::b1 (dataset-b) uses t:m:R::a2 (dataset-a)"
    );
}

#[test]
fn an_unknown_stack_lists_the_valid_ones() {
    let (graph, origins) = graph(&[
        ("o", Origin::Organisation, &[], &[]),
        ("a", dataset("a"), &[], &[]),
    ]);
    let plan = ShardPlan::new(&graph, &origins).expect("acyclic");
    assert_eq!(plan.shard_for_stack("dataset-a"), Ok(1));
    assert_eq!(
        plan.shard_for_stack("dataset-b")
            .expect_err("unknown")
            .to_string(),
        "no shard is deployed to stack \"dataset-b\"; the stacks are: organisation, dataset-a"
    );
}

#[test]
fn a_whole_resource_across_shards_is_an_error() {
    let (graph, origins) = graph(&[
        ("o", Origin::Organisation, &[], &[]),
        ("a", dataset("a"), &[("o", "")], &[]),
    ]);
    let error = ShardPlan::new(&graph, &origins).expect_err("whole resource");
    assert!(matches!(
        error,
        ShardError::WholeResourceAcrossShards { .. }
    ));
}

#[test]
fn export_names_escape_dots() {
    let output = OutputRef {
        resource: ResourceId::new("t:m:R", "a.b%c"),
        property: "groupKey.id".into(),
    };
    assert_eq!(export_name(&output), "t:m:R::a%2Eb%25c::groupKey%2Eid");
}

#[test]
fn a_shard_graph_reads_other_shards_through_stack_references() {
    let (mut graph, mut origins) = graph(&[
        ("bucket", Origin::Organisation, &[], &[]),
        ("a", dataset("a"), &[("bucket", "name")], &["bucket"]),
    ]);
    graph
        .export("a-id", Value::output(&id("a"), "id"))
        .expect("export");
    origins.set_export("a-id", dataset("a"));
    let plan = ShardPlan::new(&graph, &origins).expect("acyclic");
    let context = StackContext::new("acme", "infra");
    let a = plan
        .shard_graph(&graph, 1, &context)
        .expect("the shard graph");
    let reference = ResourceId::new(STACK_REFERENCE_TYPE, "acme/infra/organisation");
    let read = a.get(&reference).expect("a stack reference");
    assert_eq!(read.options.id.as_deref(), Some("acme/infra/organisation"));
    assert_eq!(read.inputs["name"], Value::from("acme/infra/organisation"));
    let resource = a.get(&id("a")).expect("the shard's resource");
    assert_eq!(
        resource.inputs["in0"],
        Value::output(&reference, "outputs.t:m:R::bucket::name")
    );
    assert!(
        resource.options.depends_on.is_empty(),
        "dropped across shards"
    );
    assert_eq!(a.exports().keys().collect::<Vec<_>>(), ["a-id"]);
    let organisation = plan.shard_graph(&graph, 0, &context).expect("shard graph");
    assert_eq!(
        organisation.exports().get("t:m:R::bucket::name"),
        Some(&Value::output(&id("bucket"), "name"))
    );
    assert!(organisation.get(&id("a")).is_none());
}
