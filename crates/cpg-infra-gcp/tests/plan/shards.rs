//! Generated organisations cut into shards: every resource in exactly one shard,
//! the shard graphs together are the graph, each shard graph uses only its own
//! resources, and the cut is the same every time.

use std::collections::BTreeSet;

use cpg_infra::driver::{Built, CpgInfrastructure};
use cpg_infra::graph::ResourceId;
use cpg_infra::shard::{STACK_REFERENCE_TYPE, ShardPlan, StackContext};
use cpg_infra::synthetic::{Features, synthetic_config_with};
use cpg_infra_gcp::GcpProvider;
use proptest::prelude::*;

use super::support::features;

fn build(datasets: usize, seed: u64, features: Features) -> Result<Built, TestCaseError> {
    let config = synthetic_config_with(datasets, seed, features);
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build_with_log()
        .map_err(|e| TestCaseError::fail(format!("build: {e:?}")))
}

/// The properties every cut has.
fn check_cut(built: &Built, plan: &ShardPlan) -> Result<(), TestCaseError> {
    let all: BTreeSet<ResourceId> = built
        .graph
        .resources()
        .iter()
        .map(|r| r.id.clone())
        .collect();
    let mut placed = BTreeSet::new();
    for shard in plan.shards() {
        for id in &shard.resources {
            prop_assert!(placed.insert(id.clone()), "{} in two shards", id);
            prop_assert_eq!(
                plan.stack_of_resource(&id.type_token, &id.name),
                Some(shard.stack.as_str())
            );
        }
        for names in shard.reads.values() {
            prop_assert!(names.keys().all(|name| !name.contains('.')), "{:?}", names);
        }
    }
    prop_assert_eq!(&placed, &all);
    let context = StackContext::new("acme", "infra");
    let mut union = BTreeSet::new();
    for index in 0..plan.shards().len() {
        let graph = plan
            .shard_graph(&built.graph, index, &context)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for resource in graph.resources() {
            if resource.id.type_token.as_ref() != STACK_REFERENCE_TYPE {
                prop_assert!(union.insert(resource.id.clone()));
            }
            for used in resource.inputs.values().flat_map(|v| v.dependencies()) {
                prop_assert!(
                    graph.get(&used).is_some(),
                    "{} uses {} of another shard",
                    resource.id,
                    used
                );
            }
            for used in &resource.options.depends_on {
                prop_assert!(
                    graph.get(used).is_some(),
                    "{} depends on {}",
                    resource.id,
                    used
                );
            }
        }
        for (name, value) in graph.exports() {
            for used in value.dependencies() {
                prop_assert!(graph.get(&used).is_some(), "export {} uses {}", name, used);
            }
        }
    }
    prop_assert_eq!(union, all);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn generated_organisations_cut_into_closed_shards(
        datasets in 1usize..12,
        seed in any::<u64>(),
        features in features(),
    ) {
        let built = build(datasets, seed, features)?;
        let plan = ShardPlan::new(&built.graph, &built.origins)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_cut(&built, &plan)?;
        // Deterministic: the same config cuts the same way.
        let again = build(datasets, seed, features)?;
        let replan = ShardPlan::new(&again.graph, &again.origins)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(plan.shards(), replan.shards());
        prop_assert_eq!(plan.waves(), replan.waves());
    }
}

/// The shard of the resource `type_token::name` of the reference's small config.
fn stack_of<'p>(plan: &'p ShardPlan, type_token: &str, name: &str) -> Option<&'p str> {
    plan.stack_of_resource(type_token, name)
}

#[test]
fn the_small_organisation_is_cut_by_the_documented_rule() {
    let config = super::support::load(&super::support::reference_dir().join("small"));
    let built = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build_with_log()
        .expect("builds");
    let plan = ShardPlan::new(&built.graph, &built.origins).expect("acyclic");
    let stacks: Vec<&str> = plan.shards().iter().map(|s| s.stack.as_str()).collect();
    assert_eq!(
        stacks,
        [
            "organisation",
            "dataset-common",
            "dataset-fewgenomes",
            "dataset-validation",
            "after-datasets"
        ]
    );
    let object = "gcp:storage/bucketObject:BucketObject";
    // A dependant's group nested in the common dataset's: the dependant's shard.
    assert_eq!(
        stack_of(
            &plan,
            "cpg:google:GroupMembership",
            "fewgenomes-gcp-transitive-analysis-in-common-analysis"
        ),
        Some("dataset-fewgenomes")
    );
    // A dataset's own members cache stays with it; one gathering members from
    // later datasets (a dependant's accounts in its dependency's group) comes
    // after them.
    assert_eq!(
        stack_of(&plan, object, "validation-web-access-group-cache-members"),
        Some("dataset-validation")
    );
    assert_eq!(
        stack_of(&plan, object, "fewgenomes-web-access-group-cache-members"),
        Some("after-datasets")
    );
    assert_eq!(
        stack_of(&plan, object, "common-analysis-group-cache-members"),
        Some("after-datasets")
    );
    assert_eq!(
        stack_of(&plan, object, "infrastructure-config"),
        Some("after-datasets")
    );
    assert_eq!(
        stack_of(
            &plan,
            "gcp:storage/bucket:Bucket",
            "common-gcp-cpg-members-group-cache-bucket"
        ),
        Some("organisation")
    );
    assert_eq!(
        plan.stack_of_export("members-cache-bucket"),
        Some("organisation")
    );
    assert_eq!(plan.waves().len(), 5);
}
