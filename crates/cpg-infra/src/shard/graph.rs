//! The graph one shard's stack registers: its resources, a stack reference per
//! shard it reads from, and the exports other shards read.

use std::collections::BTreeMap;

use crate::graph::{Graph, OutputRef, Resource, ResourceId, ResourceOptions, Value};

use super::{ShardError, ShardIndex, ShardPlan};

/// The type token of a stack reference: a resource read (not managed) whose
/// `outputs` are another stack's exports.
pub const STACK_REFERENCE_TYPE: &str = "pulumi:pulumi:StackReference";

/// The Pulumi organisation and project the shards' stacks live in: a stack
/// reference names `<organization>/<project>/<stack>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackContext {
    /// The Pulumi organisation (`PULUMI_ORGANIZATION`; `organization` for a
    /// self-managed backend).
    pub organization: String,
    /// The Pulumi project (`PULUMI_PROJECT`).
    pub project: String,
}

impl StackContext {
    /// The stacks of `project` in `organization`.
    pub fn new(organization: impl Into<String>, project: impl Into<String>) -> Self {
        StackContext {
            organization: organization.into(),
            project: project.into(),
        }
    }

    /// The fully qualified name of `stack`, as a stack reference names it.
    pub fn qualified(&self, stack: &str) -> String {
        format!("{}/{}/{stack}", self.organization, self.project)
    }
}

impl ShardPlan {
    /// The graph the stack of shard `index` registers, cut from the whole
    /// `graph` this plan was made from:
    ///
    /// - a `pulumi:pulumi:StackReference` per shard it reads from, named (and with
    ///   input `name` and option `id`) `<organization>/<project>/<stack>`, read
    ///   rather than managed;
    /// - the shard's resources in declaration order, each use of another shard's
    ///   output replaced by the stack reference's `outputs.<export name>`, and
    ///   `dependsOn` on other shards dropped (the waves order the shards);
    /// - the graph's exports that belong to the shard (rewritten the same way), and
    ///   an export per output other shards read from it, under its
    ///   [`export_name`](super::export_name).
    pub fn shard_graph(
        &self,
        graph: &Graph,
        index: ShardIndex,
        context: &StackContext,
    ) -> Result<Graph, ShardError> {
        let shard = self.shard(index);
        let mut out = Graph::new();
        let mut references: BTreeMap<ShardIndex, ResourceId> = BTreeMap::new();
        for producer in shard.needs() {
            if !shard.reads.contains_key(&producer) {
                continue;
            }
            let name = context.qualified(&self.shard(producer).stack);
            let reference = Resource::new(STACK_REFERENCE_TYPE, &name)
                .input("name", name.as_str())
                .options(ResourceOptions {
                    id: Some(name.clone()),
                    ..ResourceOptions::default()
                });
            references.insert(producer, declare(&mut out, reference)?);
        }
        let rewrite = |value: &Value| self.rewrite(value, index, &references);
        for id in &shard.resources {
            let Some(resource) = graph.get(id) else {
                continue;
            };
            let mut resource = resource.clone();
            resource.inputs = resource
                .inputs
                .iter()
                .map(|(key, value)| (key.clone(), rewrite(value)))
                .collect();
            resource
                .options
                .depends_on
                .retain(|d| self.shard_of(d).is_none_or(|s| s == index));
            declare(&mut out, resource)?;
        }
        for name in &shard.exports {
            if let Some(value) = graph.exports().get(name) {
                export(&mut out, name, rewrite(value))?;
            }
        }
        let mut published: BTreeMap<&str, &OutputRef> = BTreeMap::new();
        for consumer in self.shards() {
            if let Some(outputs) = consumer.reads.get(&index) {
                published.extend(outputs.iter().map(|(k, v)| (k.as_str(), v)));
            }
        }
        for (name, output) in published {
            export(&mut out, name, Value::Output(output.clone()))?;
        }
        Ok(out)
    }

    /// `value` with each output of another shard read through that shard's stack
    /// reference.
    fn rewrite(
        &self,
        value: &Value,
        index: ShardIndex,
        references: &BTreeMap<ShardIndex, ResourceId>,
    ) -> Value {
        if let Value::Output(output) = value
            && let Some(producer) = self.shard_of(&output.resource)
            && producer != index
            && let Some(reference) = references.get(&producer)
        {
            return Value::Output(OutputRef {
                resource: reference.clone(),
                property: format!("outputs.{}", super::export_name(output)),
            });
        }
        value.map_children(|child| self.rewrite(child, index, references))
    }
}

/// Declares `resource` in a shard graph.
fn declare(graph: &mut Graph, resource: Resource) -> Result<ResourceId, ShardError> {
    Ok(graph.declare(resource)?)
}

/// Declares the export `name` in a shard graph: a graph's own export under the
/// name of an output another shard reads is an error.
fn export(graph: &mut Graph, name: &str, value: Value) -> Result<(), ShardError> {
    graph
        .export(name, value)
        .map_err(|_| ShardError::ExportClash(name.to_owned()))
}
