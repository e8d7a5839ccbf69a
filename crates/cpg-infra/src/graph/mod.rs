//! The resource graph: every resource the infrastructure declares, and the stack's
//! exports. Pure data: deterministic, serialisable, and independent of any engine.

mod asset;
mod evaluate;
mod plan;
mod read;
mod resource;
mod value;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;
#[cfg(test)]
use serde_json::json;

pub use asset::{
    Archive, ArchiveError, Asset, Digest256, SourceDir, SourceError, check_asset_paths,
};
pub(crate) use evaluate::json_dumps_object;
pub use evaluate::{EvaluateError, Resolver, python_json_dumps, sort_members};
pub use plan::Plan;
pub use read::ReadError;
pub use resource::{Alias, AliasParent, Resource, ResourceId, ResourceOptions};
pub use value::{Children, Function, Invoke, OutputRef, Value, Walk};

/// The version of the plan's JSON format.
pub const PLAN_FORMAT_VERSION: u64 = 1;

/// Declaring something twice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A resource of this type and name exists already.
    #[error("resource {0} is declared twice")]
    DuplicateResource(ResourceId),
    /// A stack export of this name exists already.
    #[error("stack export {0:?} is declared twice")]
    DuplicateExport(String),
}

/// The resources and exports of a stack, in declaration order.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    resources: Vec<Resource>,
    index: HashMap<ResourceId, usize>,
    exports: BTreeMap<String, Value>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Graph::default()
    }

    /// Declares a resource and returns its id; a second resource with the same type
    /// and name is an error, never an overwrite.
    pub fn declare(&mut self, resource: Resource) -> Result<ResourceId, GraphError> {
        if self.index.contains_key(&resource.id) {
            return Err(GraphError::DuplicateResource(resource.id));
        }
        let id = resource.id.clone();
        self.index.insert(id.clone(), self.resources.len());
        self.resources.push(resource);
        Ok(id)
    }

    /// Declares a stack export.
    pub fn export(&mut self, name: impl Into<String>, value: Value) -> Result<(), GraphError> {
        let name = name.into();
        if self.exports.contains_key(&name) {
            return Err(GraphError::DuplicateExport(name));
        }
        self.exports.insert(name, value);
        Ok(())
    }

    /// The resource with `id`.
    pub fn get(&self, id: &ResourceId) -> Option<&Resource> {
        self.index.get(id).map(|i| &self.resources[*i])
    }

    /// Where the resource with `id` stands in [`resources`](Self::resources).
    pub fn position(&self, id: &ResourceId) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Every resource, in declaration order.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// Every resource, in declaration order, the graph let go: for a reader done
    /// with the graph that keeps its resources without copying them.
    pub fn into_resources(self) -> Vec<Resource> {
        self.resources
    }

    /// The stack's exports.
    pub fn exports(&self) -> &BTreeMap<String, Value> {
        &self.exports
    }

    /// The number of resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// Whether no resource is declared.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The plan as one JSON document: `format_version`, the resources sorted by
    /// (type, name), and the exports. [`Plan`] writes the same document without
    /// building it in memory first.
    pub fn to_plan_json(&self) -> Json {
        serde_json::to_value(Plan(self)).unwrap_or(Json::Null)
    }

    /// The plan document of this graph, to serialise.
    pub fn plan(&self) -> Plan<'_> {
        Plan(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaring_twice_is_an_error() {
        let mut graph = Graph::new();
        graph
            .declare(Resource::new("gcp:storage/bucket:Bucket", "b"))
            .expect("first");
        let error = graph
            .declare(Resource::new("gcp:storage/bucket:Bucket", "b"))
            .expect_err("second");
        assert_eq!(
            error.to_string(),
            "resource gcp:storage/bucket:Bucket::b is declared twice"
        );
        // Same name, other type: a different resource.
        graph
            .declare(Resource::new("gcp:cloudidentity/group:Group", "b"))
            .expect("other type");
        assert_eq!(graph.len(), 2);
    }

    #[test]
    fn exports_are_declared_once() {
        let mut graph = Graph::new();
        graph.export("x", Value::from("1")).expect("first");
        assert!(graph.export("x", Value::from("2")).is_err());
    }

    #[test]
    fn plan_sorts_resources_and_marks_unknowns() {
        let mut graph = Graph::new();
        let bucket = graph
            .declare(Resource::new("gcp:storage/bucket:Bucket", "z").input("name", "bucket-z"))
            .expect("bucket");
        graph
            .declare(
                Resource::new("gcp:storage/bucketIAMMember:BucketIAMMember", "a")
                    .input("bucket", Value::output(&bucket, "name"))
                    .input("absent", Value::Null)
                    .depends_on([bucket.clone()]),
            )
            .expect("member");
        let plan = graph.to_plan_json();
        assert_eq!(plan["format_version"], 1);
        assert_eq!(plan["resources"][0]["name"], "z");
        let member = &plan["resources"][1];
        assert_eq!(
            member["inputs"]["bucket"],
            json!({"$output": {"resource": "gcp:storage/bucket:Bucket::z", "property": "name"}})
        );
        assert!(member["inputs"].get("absent").is_none());
        assert_eq!(
            member["options"]["dependsOn"][0],
            "gcp:storage/bucket:Bucket::z"
        );
    }

    #[test]
    fn streamed_plan_equals_the_json_tree() {
        let mut graph = Graph::new();
        let bucket = graph
            .declare(Resource::new("gcp:storage/bucket:Bucket", "b").input("name", "x"))
            .expect("bucket");
        let mut member = Resource::new("t:m:M", "m")
            .input(
                "bucket",
                Value::concat([Value::from("gs://"), Value::output(&bucket, "name")]),
            )
            .input("content", Value::from("s").secret())
            .depends_on([bucket.clone()]);
        member.options.ignore_changes.push("x".into());
        member.options.aliases.push(Alias {
            name: Some("old".into()),
            ..Alias::default()
        });
        graph.declare(member).expect("member");
        graph
            .export("e", Value::output(&bucket, "name"))
            .expect("export");
        let streamed = serde_json::to_string_pretty(&graph.plan()).expect("stream");
        let tree = serde_json::to_string_pretty(&graph.to_plan_json()).expect("tree");
        assert_eq!(streamed, tree);
        assert!(streamed.contains("\"$concat\""));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let value = Value::from("key material").secret();
        assert_eq!(format!("{value:?}"), "Secret(<redacted>)");
    }
}
