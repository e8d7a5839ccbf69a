//! The plan for people: counts per type and per dataset, then every resource; or
//! only one dataset's or one type's resources; or one resource's inputs.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write;

use cpg_infra::config::suggest::Suggestion;
use cpg_infra::graph::Graph;
use cpg_infra_review::describe::{describe, escape_controls};

use crate::access::{QuestionError, check_dataset, resource};

/// Which resources the summary lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only the resources of this dataset.
    pub dataset: Option<String>,
    /// Only the resources of this type token.
    pub type_token: Option<String>,
}

/// Checks that `filter` names a dataset of `datasets` and a type of `graph`.
pub fn check(graph: &Graph, datasets: &[String], filter: &Filter) -> Result<(), QuestionError> {
    if let Some(dataset) = &filter.dataset {
        check_dataset(datasets, dataset)?;
    }
    if let Some(token) = &filter.type_token {
        let tokens: BTreeSet<&str> = graph
            .resources()
            .iter()
            .map(|r| &*r.id.type_token)
            .collect();
        if !tokens.contains(token.as_str()) {
            return Err(QuestionError::UnknownType {
                token: token.clone(),
                suggestion: Suggestion::closest(token, tokens),
            });
        }
    }
    Ok(())
}

/// One resource for people: its id, each input (secrets as `[secret]`, never their
/// contents) and its options (first, for a resource read rather than managed, the
/// id it is read by).
pub fn show(graph: &Graph, text: &str) -> Result<String, QuestionError> {
    let resource = resource(graph, text)?;
    let mut out = format!("{}\n\ninputs:\n", escape_controls(&resource.id.to_string()));
    for (key, value) in &resource.inputs {
        let _ = writeln!(out, "  {}: {}", escape_controls(key), describe(value));
    }
    let options = &resource.options;
    let _ = writeln!(out, "\noptions:");
    if let Some(id) = &options.id {
        let _ = writeln!(out, "  read, not managed, by id: {}", escape_controls(id));
    }
    if let Some(parent) = &options.parent {
        let _ = writeln!(out, "  parent: {}", escape_controls(&parent.to_string()));
    }
    for dependency in &options.depends_on {
        let _ = writeln!(
            out,
            "  depends on: {}",
            escape_controls(&dependency.to_string())
        );
    }
    let _ = writeln!(out, "  protect: {}", options.protect);
    if !options.ignore_changes.is_empty() {
        let _ = writeln!(
            out,
            "  ignore changes: {}",
            options.ignore_changes.join(", ")
        );
    }
    if options.delete_before_replace {
        let _ = writeln!(out, "  delete before replace: true");
    }
    Ok(out)
}

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

/// Renders the summary of the resources `filter` keeps; the exports only without
/// a filter.
pub fn render(graph: &Graph, datasets: &[String], filter: &Filter) -> String {
    let datasets: HashSet<&str> = datasets.iter().map(String::as_str).collect();
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_dataset: BTreeMap<&str, usize> = BTreeMap::new();
    let mut resources: Vec<(&str, &str)> = Vec::new();
    for resource in graph.resources() {
        let dataset = owner(&resource.id.name, &datasets);
        if filter.dataset.as_deref().is_some_and(|d| d != dataset)
            || filter
                .type_token
                .as_deref()
                .is_some_and(|t| t != &*resource.id.type_token)
        {
            continue;
        }
        *by_type.entry(&resource.id.type_token).or_default() += 1;
        *by_dataset.entry(dataset).or_default() += 1;
        resources.push((&resource.id.type_token, &resource.id.name));
    }
    resources.sort();
    let mut out = String::new();
    if *filter != Filter::default() {
        let _ = writeln!(out, "{} of {} resources\n", resources.len(), graph.len());
    } else {
        let _ = writeln!(
            out,
            "{} resources, {} exports\n",
            graph.len(),
            graph.exports().len()
        );
    }
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
    if *filter == Filter::default() {
        let _ = writeln!(out, "\nexports:");
        for name in graph.exports().keys() {
            let _ = writeln!(out, "  {name}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use cpg_infra::graph::{Resource, ResourceOptions};

    use super::*;

    #[test]
    fn a_read_resource_shows_the_id_it_is_read_by() {
        let mut graph = Graph::new();
        let stack = "organization/cpg/p";
        graph
            .declare(
                Resource::new(cpg_infra::shard::STACK_REFERENCE_TYPE, stack)
                    .input("name", stack)
                    .options(ResourceOptions {
                        id: Some(stack.to_owned()),
                        ..ResourceOptions::default()
                    }),
            )
            .expect("declared");
        let shown = show(&graph, &format!("pulumi:pulumi:StackReference::{stack}")).expect("shown");
        assert!(
            shown.contains("\noptions:\n  read, not managed, by id: organization/cpg/p\n"),
            "{shown}"
        );
    }
}
