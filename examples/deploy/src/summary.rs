//! The plan for people: counts per type and per dataset, then every resource.

use std::collections::BTreeMap;
use std::fmt::Write;

use cpg_infra::graph::Graph;

/// The dataset a resource belongs to, judged by its name; organisation-wide
/// otherwise.
fn owner<'a>(name: &str, datasets: &'a [String]) -> &'a str {
    datasets
        .iter()
        .filter(|d| {
            name.starts_with(&format!("{d}-"))
                || name.contains(&format!("-{d}-"))
                || name.ends_with(&format!("-{d}"))
        })
        .max_by_key(|d| d.len())
        .map_or("(organisation)", String::as_str)
}

/// Renders the summary.
pub fn render(graph: &Graph, datasets: &[String]) -> String {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_dataset: BTreeMap<&str, usize> = BTreeMap::new();
    let mut resources: Vec<(&str, &str)> = Vec::new();
    for resource in graph.resources() {
        *by_type.entry(&resource.id.type_token).or_default() += 1;
        *by_dataset
            .entry(owner(&resource.id.name, datasets))
            .or_default() += 1;
        resources.push((&resource.id.type_token, &resource.id.name));
    }
    resources.sort();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} resources, {} exports\n",
        graph.len(),
        graph.exports().len()
    );
    let _ = writeln!(out, "by type:");
    for (token, count) in &by_type {
        let _ = writeln!(out, "  {count:5}  {token}");
    }
    let _ = writeln!(out, "\nby dataset:");
    for (dataset, count) in &by_dataset {
        let _ = writeln!(out, "  {count:5}  {dataset}");
    }
    let _ = writeln!(out, "\nresources:");
    for (token, name) in resources {
        let _ = writeln!(out, "  {token}  {name}");
    }
    let _ = writeln!(out, "\nexports:");
    for name in graph.exports().keys() {
        let _ = writeln!(out, "  {name}");
    }
    out
}
