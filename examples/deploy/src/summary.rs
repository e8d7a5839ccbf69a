//! The plan for people: counts per type and per dataset, then every resource.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use cpg_infra::graph::Graph;

/// The dataset a resource belongs to: the dataset its name starts with (as
/// `{dataset}-{cloud}-…` names do), else the longest dataset name that is a run of
/// whole `-`-separated parts of it (`metamist-project-{dataset}`, …);
/// organisation-wide otherwise.
fn owner<'a>(name: &str, datasets: &HashSet<&'a str>) -> &'a str {
    let parts: Vec<&str> = name.split('-').collect();
    let mut prefix: Option<&'a str> = None;
    let mut anywhere: Option<&'a str> = None;
    for start in 0..parts.len() {
        for end in start + 1..=parts.len() {
            let candidate = parts[start..end].join("-");
            let Some(found) = datasets.get(candidate.as_str()) else {
                continue;
            };
            let best = if start == 0 {
                &mut prefix
            } else {
                &mut anywhere
            };
            if best.is_none_or(|b| found.len() > b.len()) {
                *best = Some(found);
            }
        }
    }
    prefix.or(anywhere).unwrap_or("(organisation)")
}

/// Renders the summary.
pub fn render(graph: &Graph, datasets: &[String]) -> String {
    let datasets: HashSet<&str> = datasets.iter().map(String::as_str).collect();
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_dataset: BTreeMap<&str, usize> = BTreeMap::new();
    let mut resources: Vec<(&str, &str)> = Vec::new();
    for resource in graph.resources() {
        *by_type.entry(&resource.id.type_token).or_default() += 1;
        *by_dataset
            .entry(owner(&resource.id.name, &datasets))
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
