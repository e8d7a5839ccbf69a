//! Targets for a Pulumi preview: the URNs of every resource a change adds, changes
//! (updates or replaces) or removes, so that `pulumi preview --target …` looks at
//! only what the change touches.

use std::collections::BTreeSet;

use cpg_infra::graph::Graph;

use crate::diff::PlanDiff;
use crate::urn::{StackName, UrnError, qualified_type};

impl PlanDiff {
    /// The URNs, in `stack`, of every resource this difference from `old` to `new`
    /// adds, changes or removes: sorted, each once. Added and changed resources
    /// take their URN from `new` (their parents there), removed ones from `old`.
    ///
    /// # Errors
    ///
    /// When a resource's parent is not in its plan (see [`qualified_type`]).
    pub fn targets(
        &self,
        old: &Graph,
        new: &Graph,
        stack: &StackName,
    ) -> Result<Vec<String>, UrnError> {
        let mut urns = BTreeSet::new();
        let after = self
            .added
            .iter()
            .map(|r| &r.id)
            .chain(self.changed.iter().map(|c| &c.id));
        for id in after {
            urns.insert(stack.urn(&qualified_type(new, id)?, &id.name));
        }
        for resource in &self.removed {
            let id = &resource.id;
            urns.insert(stack.urn(&qualified_type(old, id)?, &id.name));
        }
        Ok(urns.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpg_infra::graph::{Resource, ResourceOptions};

    fn graph(resources: &[Resource]) -> Graph {
        let mut graph = Graph::new();
        for r in resources {
            graph.declare(r.clone()).expect("declare");
        }
        graph
    }

    #[test]
    fn added_changed_and_removed_resources_are_targets_and_nothing_else() {
        let bucket = |name: &str, location: &str| {
            Resource::new("gcp:storage/bucket:Bucket", name).input("location", location)
        };
        let parent = Resource::new("cpg:x:Component", "c");
        let child = |location: &str| {
            bucket("child", location).options(ResourceOptions {
                parent: Some(parent.id.clone()),
                ..ResourceOptions::default()
            })
        };
        let old = graph(&[
            bucket("same", "x"),
            bucket("gone", "x"),
            bucket("moved", "x"),
            parent.clone(),
            child("x"),
        ]);
        let new = graph(&[
            bucket("same", "x"),
            bucket("new", "x"),
            bucket("moved", "y"),
            parent.clone(),
            child("y"),
        ]);
        let diff = PlanDiff::between(&old, &new);
        let stack: StackName = "acme/datasets/prod".parse().expect("stack");
        let targets = diff.targets(&old, &new, &stack).expect("targets");
        assert_eq!(
            targets,
            [
                "urn:pulumi:prod::datasets::cpg:x:Component$gcp:storage/bucket:Bucket::child",
                "urn:pulumi:prod::datasets::gcp:storage/bucket:Bucket::gone",
                "urn:pulumi:prod::datasets::gcp:storage/bucket:Bucket::moved",
                "urn:pulumi:prod::datasets::gcp:storage/bucket:Bucket::new",
            ]
        );
        assert!(
            PlanDiff::between(&old, &old)
                .targets(&old, &old, &stack)
                .expect("none")
                .is_empty()
        );
    }
}
