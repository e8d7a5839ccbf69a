//! `PlanDiff` on generated configs.

use std::collections::BTreeSet;

use cpg_infra::config::GroupName;
use cpg_infra::synthetic::synthetic_config;
use cpg_infra_review::access::Principal;
use cpg_infra_review::diff::PlanDiff;
use proptest::prelude::*;

use super::support::{add_member, people, plan};

const GROUPS: &[GroupName] = &[
    GroupName::DataManager,
    GroupName::Analysis,
    GroupName::MetadataAccess,
    GroupName::MetadataContribute,
    GroupName::WebAccess,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_plan_against_itself_is_empty(datasets in 1usize..5, seed in any::<u64>()) {
        let graph = plan(synthetic_config(datasets, seed)).expect("generated configs are valid");
        let diff = PlanDiff::between(&graph, &graph);
        prop_assert!(diff.is_empty(), "{}", diff.to_text(false));
    }

    #[test]
    fn adding_a_member_changes_only_that_persons_access(
        datasets in 1usize..5,
        seed in any::<u64>(),
        dataset in any::<usize>(),
        group in 0..GROUPS.len(),
        person in any::<usize>(),
    ) {
        let old_config = synthetic_config(datasets, seed);
        let people = people(&old_config);
        let person = &people[person % people.len()];
        let mut new_config = old_config.clone();
        add_member(&mut new_config, dataset, GROUPS[group], person);
        prop_assume!(new_config != old_config);
        let identities: BTreeSet<Principal> = new_config.infrastructure.users[person]
            .clouds
            .values()
            .flat_map(|c| [Some(c.id.to_lowercase()), c.hail_batch_username.clone()])
            .flatten()
            .map(Principal::Id)
            .collect();
        let Some(new) = plan(new_config) else {
            return Err(TestCaseError::reject("the addition made the config invalid"));
        };
        let old = plan(old_config).expect("generated configs are valid");
        let diff = PlanDiff::between(&old, &new);
        // The plans differ by what the diff says.
        let old_ids: BTreeSet<String> = old.resources().iter().map(|r| r.id.to_string()).collect();
        let new_ids: BTreeSet<String> = new.resources().iter().map(|r| r.id.to_string()).collect();
        let mut applied = old_ids.clone();
        for removed in &diff.removed {
            applied.remove(&removed.id.to_string());
        }
        applied.extend(diff.added.iter().map(|r| r.id.to_string()));
        prop_assert_eq!(applied, new_ids);
        prop_assert!(diff.removed.is_empty());
        prop_assert!(diff.access_lost.is_empty(), "{}", diff.to_text(false));
        // The membership is added; access is gained by the person and no one else
        // (possibly by no one, when another chain already reached the group).
        prop_assert!(!diff.added.is_empty());
        for gained in &diff.access_gained {
            prop_assert!(identities.contains(&gained.access.principal), "{:?}", gained);
        }
        // Every added resource names the person.
        for added in &diff.added {
            let named = added
                .inputs
                .values()
                .any(|v| identities.iter().any(|p| cpg_infra_review::describe::describe(v).to_lowercase().contains(&p.to_string())));
            prop_assert!(named, "{}", added.id);
        }
    }
}

/// `write_json` streams the document `to_json` builds, byte for byte, and
/// `write_text` the text of `to_text`: for a diff with additions, removals,
/// changes and access gained and lost.
#[test]
fn streamed_output_is_the_built_output() {
    let old = plan(synthetic_config(3, 42)).expect("generated configs are valid");
    let new = plan(synthetic_config(4, 43)).expect("generated configs are valid");
    for diff in [PlanDiff::between(&old, &new), PlanDiff::between(&new, &old)] {
        assert!(!diff.added.is_empty() && !diff.removed.is_empty() && !diff.changed.is_empty());
        assert!(!diff.access_gained.is_empty() && !diff.access_lost.is_empty());
        let built = serde_json::to_string_pretty(&diff.to_json()).expect("json") + "\n";
        let mut streamed = Vec::new();
        diff.write_json(&mut streamed).expect("written");
        assert_eq!(String::from_utf8(streamed).expect("utf-8"), built);
        for colour in [false, true] {
            let mut text = String::new();
            diff.write_text(colour, &mut text).expect("written");
            assert_eq!(text, diff.to_text(colour));
        }
    }
}

/// Access gained and lost, compared a principal at a time, are each plan's
/// effective access less the other's, in effective order.
#[test]
fn access_gained_and_lost_are_the_difference_of_the_effective_access() {
    use cpg_infra_review::access::{Access, AccessGraph};
    let old = plan(synthetic_config(3, 42)).expect("generated configs are valid");
    let new = plan(synthetic_config(4, 43)).expect("generated configs are valid");
    let (old_effective, new_effective) = (
        AccessGraph::from_graph(&old).effective(),
        AccessGraph::from_graph(&new).effective(),
    );
    let less = |ours: &[Access], theirs: &[Access]| -> Vec<Access> {
        let keys: BTreeSet<_> = theirs.iter().map(Access::key).collect();
        ours.iter()
            .filter(|a| !keys.contains(&a.key()))
            .cloned()
            .collect()
    };
    let diff = PlanDiff::between(&old, &new);
    let accesses = |changes: &[cpg_infra_review::diff::AccessChange]| -> Vec<Access> {
        changes.iter().map(|c| c.access.clone()).collect()
    };
    let (gained, lost) = (
        less(&new_effective, &old_effective),
        less(&old_effective, &new_effective),
    );
    assert!(!gained.is_empty() && !lost.is_empty());
    assert_eq!(accesses(&diff.access_gained), gained);
    assert_eq!(accesses(&diff.access_lost), lost);
}

/// Letting go of the plans as it compares them changes nothing in the diff.
#[test]
fn the_diff_of_owned_plans_is_the_diff_of_borrowed_ones() {
    let old = plan(synthetic_config(3, 42)).expect("generated configs are valid");
    let new = plan(synthetic_config(4, 43)).expect("generated configs are valid");
    let mut changed = synthetic_config(3, 42);
    changed.datasets.pop();
    let fewer = plan(changed).expect("generated configs are valid");
    let names = cpg_infra_review::names::Names::default();
    for (a, b) in [(&old, &new), (&new, &old), (&old, &fewer), (&old, &old)] {
        let borrowed = PlanDiff::between_named(a, b, &names);
        let owned = PlanDiff::between_owned(a.clone(), b.clone(), &names);
        assert_eq!(owned, borrowed);
    }
}
