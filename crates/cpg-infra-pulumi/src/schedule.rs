//! What waits for what: every resource waits for the resources and data sources
//! its inputs and options use; every data source for the resources its arguments
//! use. Checked before anything is registered: every reference is declared and
//! nothing waits for itself.

use std::collections::{BTreeSet, HashMap, VecDeque};

use cpg_infra::graph::{Graph, Invoke, ResourceId, Value};

use crate::error::DeployError;
use crate::resolve::invoke_key;

/// A resource (`0..resources`) or a data-source call (`resources..`).
pub(crate) type Node = usize;

/// The dependency structure of a graph.
pub(crate) struct Schedule<'g> {
    /// The graph's resources, in declaration order.
    pub(crate) resources: usize,
    /// The distinct data-source calls, in order of first use.
    pub(crate) invokes: Vec<&'g Invoke>,
    /// For each node, how many nodes it waits for.
    pub(crate) waits: Vec<usize>,
    /// For each node, the nodes that wait for it.
    pub(crate) dependants: Vec<Vec<Node>>,
    /// For each data-source call, the first resource that uses it.
    pub(crate) first_user: Vec<ResourceId>,
}

/// Every data-source call inside `value`, each before those in its arguments.
fn invokes_in<'v>(value: &'v Value, found: &mut Vec<&'v Invoke>) {
    found.extend(value.walk().filter_map(|v| match v {
        Value::Invoke(invoke) => Some(invoke),
        _ => None,
    }));
}

impl<'g> Schedule<'g> {
    /// The schedule of `graph`, or the first undeclared reference or a cycle.
    pub(crate) fn new(graph: &'g Graph) -> Result<Self, DeployError> {
        let resources = graph.resources();
        let mut invokes: Vec<&Invoke> = Vec::new();
        let mut invoke_index: HashMap<String, usize> = HashMap::new();
        let mut first_user = Vec::new();
        let mut edges: Vec<BTreeSet<Node>> = Vec::new();
        let lookup = |owner: &ResourceId, id: &ResourceId| -> Result<usize, DeployError> {
            graph
                .position(id)
                .ok_or_else(|| DeployError::UnknownReference {
                    resource: owner.clone(),
                    missing: id.clone(),
                })
        };
        for resource in resources {
            let mut waits = BTreeSet::new();
            let mut used = Vec::new();
            for value in resource.inputs.values() {
                for id in value.dependencies() {
                    waits.insert(lookup(&resource.id, &id)?);
                }
                invokes_in(value, &mut used);
            }
            let options = &resource.options;
            for id in options
                .depends_on
                .iter()
                .chain(&options.parent)
                .chain(&options.provider)
            {
                waits.insert(lookup(&resource.id, id)?);
            }
            for invoke in used {
                let key = invoke_key(invoke);
                let k = match invoke_index.get(&key) {
                    Some(k) => *k,
                    None => {
                        invoke_index.insert(key, invokes.len());
                        invokes.push(invoke);
                        first_user.push(resource.id.clone());
                        invokes.len() - 1
                    }
                };
                waits.insert(resources.len() + k);
            }
            edges.push(waits);
        }
        // Data sources wait for what their arguments use (other data sources are
        // found above, as every invoke nested in an input is listed there).
        for (k, invoke) in invokes.iter().enumerate() {
            let args = Value::Map(invoke.args.clone());
            let mut waits = BTreeSet::new();
            for id in args.dependencies() {
                waits.insert(lookup(&first_user[k], &id)?);
            }
            let mut nested = Vec::new();
            for arg in invoke.args.values() {
                invokes_in(arg, &mut nested);
            }
            for inner in nested {
                if let Some(j) = invoke_index.get(&invoke_key(inner)) {
                    waits.insert(resources.len() + j);
                }
            }
            edges.push(waits);
        }
        let nodes = edges.len();
        let mut dependants = vec![Vec::new(); nodes];
        let mut waits = vec![0; nodes];
        for (node, on) in edges.iter().enumerate() {
            waits[node] = on.len();
            for &dep in on {
                dependants[dep].push(node);
            }
        }
        let schedule = Schedule {
            resources: resources.len(),
            invokes,
            waits,
            dependants,
            first_user,
        };
        schedule.check_acyclic(graph)?;
        Ok(schedule)
    }

    /// Kahn's algorithm: a node never freed waits, directly or not, for itself.
    fn check_acyclic(&self, graph: &Graph) -> Result<(), DeployError> {
        let mut waits = self.waits.clone();
        let mut ready: VecDeque<Node> = (0..waits.len()).filter(|n| waits[*n] == 0).collect();
        let mut done = 0;
        while let Some(node) = ready.pop_front() {
            done += 1;
            for &next in &self.dependants[node] {
                waits[next] -= 1;
                if waits[next] == 0 {
                    ready.push_back(next);
                }
            }
        }
        if done == waits.len() {
            return Ok(());
        }
        let mut stuck: Vec<ResourceId> = (0..self.resources)
            .filter(|n| waits[*n] > 0)
            .map(|n| graph.resources()[n].id.clone())
            .collect();
        stuck.sort();
        Err(DeployError::Cycle { resources: stuck })
    }

    /// The nodes that wait for nothing, resources first in declaration order.
    pub(crate) fn initially_ready(&self) -> Vec<Node> {
        (0..self.waits.len())
            .filter(|n| self.waits[*n] == 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use cpg_infra::graph::{Resource, ResourceOptions};

    use super::*;

    fn bucket(name: &str) -> Resource {
        Resource::new("gcp:storage/bucket:Bucket", name).input("name", name)
    }

    #[test]
    fn resources_wait_for_outputs_options_and_invokes() {
        let mut graph = Graph::new();
        let a = graph.declare(bucket("a")).expect("a");
        let b = graph.declare(bucket("b")).expect("b");
        let org = Invoke {
            token: "gcp:organizations/getOrganization:getOrganization".into(),
            args: BTreeMap::from([("domain".to_owned(), Value::from("example.org"))]),
            property: "orgId".into(),
        };
        graph
            .declare(
                Resource::new("t:m:M", "m")
                    .input("bucket", Value::output(&a, "name"))
                    .input("org", Value::Invoke(org.clone()))
                    .input("again", Value::Invoke(org))
                    .options(ResourceOptions {
                        parent: Some(b.clone()),
                        ..ResourceOptions::depends_on([a.clone()])
                    }),
            )
            .expect("m");
        let schedule = Schedule::new(&graph).expect("acyclic");
        assert_eq!(schedule.invokes.len(), 1, "one call per distinct invoke");
        assert_eq!(schedule.waits, vec![0, 0, 3, 0]);
        assert_eq!(schedule.initially_ready(), vec![0, 1, 3]);
        assert_eq!(schedule.dependants[0], vec![2]);
        assert_eq!(schedule.dependants[3], vec![2]);
        assert_eq!(schedule.first_user[0].name.as_ref(), "m");
    }

    #[test]
    fn an_undeclared_reference_is_an_error() {
        let mut graph = Graph::new();
        let ghost = ResourceId::new("gcp:storage/bucket:Bucket", "ghost");
        graph
            .declare(Resource::new("t:m:M", "m").input("b", Value::output(&ghost, "name")))
            .expect("m");
        let error = Schedule::new(&graph).err().expect("undeclared");
        assert_eq!(
            error.to_string(),
            "t:m:M::m refers to gcp:storage/bucket:Bucket::ghost, which is not declared"
        );
    }

    #[test]
    fn a_cycle_is_an_error_naming_its_resources() {
        let mut graph = Graph::new();
        let a = ResourceId::new("t:m:M", "a");
        let b = ResourceId::new("t:m:M", "b");
        graph
            .declare(Resource::new("t:m:M", "a").depends_on([b.clone()]))
            .expect("a");
        graph
            .declare(Resource::new("t:m:M", "b").input("x", Value::output(&a, "id")))
            .expect("b");
        graph.declare(bucket("free")).expect("free");
        let error = Schedule::new(&graph).err().expect("cycle");
        assert_eq!(
            error.to_string(),
            "resources wait for each other: t:m:M::a, t:m:M::b"
        );
    }
}
