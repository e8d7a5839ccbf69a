//! Builders the unit tests of the review share.

use cpg_infra::graph::{Graph, Resource};

/// A graph declaring `resources`, in order.
pub(crate) fn graph(resources: Vec<Resource>) -> Graph {
    let mut graph = Graph::new();
    for resource in resources {
        graph.declare(resource).expect("declare");
    }
    graph
}

/// A bucket with logical name `name`, named `cpg-<name>`, in `location`.
pub(crate) fn bucket(name: &str, location: &str) -> Resource {
    Resource::new("gcp:storage/bucket:Bucket", name)
        .input("name", format!("cpg-{name}"))
        .input("location", location)
}
