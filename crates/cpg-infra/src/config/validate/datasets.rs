//! Rules on datasets and the dependencies between them.

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, Findings, path};
use crate::config::diagnostic::Problem;
use crate::config::names::CloudName;
use crate::config::source::KeyPath;
use crate::config::suggest::Suggestion;

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    check_names(cx, findings);
    check_common(cx, findings);
    check_dependency_targets(cx, findings);
    for cycle in dependency_cycles(cx) {
        let first = cycle[0].clone();
        let second = &cycle[1];
        let dataset = cx.by_name[first.as_str()];
        let (key, index) = dependency_entries(dataset)
            .find(|(_, _, target)| *target == second)
            .map(|(key, index, _)| (key, index))
            .unwrap_or(("depends_on", 0));
        findings.dataset(
            &first,
            path(&[key]).index(index),
            Problem::DependencyCycle { cycle },
        );
    }
}

/// Dataset names become parts of bucket, group and account names: a name the clouds
/// can never use is an error here.
fn name_problem(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Some("it is empty");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'_')
    {
        return Some("use lowercase letters, digits and hyphens only");
    }
    None
}

/// What some clouds refuse in a name the reference accepts: an `_`, or a hyphen at
/// either end. Refused only where a component makes a cloud name of it.
fn awkward_name(name: &str) -> Option<&'static str> {
    if name.contains('_') {
        Some("it holds \"_\"")
    } else if name.starts_with('-') {
        Some("it starts with a hyphen")
    } else if name.ends_with('-') {
        Some("it ends with a hyphen")
    } else {
        None
    }
}

/// The components that turn a dataset name into a GCP name that refuses `_` or an
/// edge hyphen, each with the name it makes: the notebooks component's service
/// account (`notebook-{dataset}`), and the storage component's buckets when the
/// storage prefix is empty (a bucket name starts with a letter or digit).
fn awkward_name_users(cx: &Context<'_>, dataset: &crate::config::CpgDatasetConfig) -> Vec<String> {
    let name = &dataset.dataset;
    let mut users = Vec::new();
    if !dataset.deploy_locations.contains(&CloudName::Gcp) {
        return users;
    }
    if dataset.has_component(CloudName::Gcp, crate::config::Component::Notebooks)
        && (name.contains('_') || name.ends_with('-'))
    {
        users.push(format!(
            "the notebooks component on gcp makes the service account id \"notebook-{name}\", \
             which GCP refuses (lowercase letters, digits and hyphens, not ending with a hyphen)"
        ));
    }
    let prefix = cx
        .infra
        .gcp
        .as_ref()
        .map(|gcp| gcp.dataset_storage_prefix.as_str());
    if dataset.has_component(CloudName::Gcp, crate::config::Component::Storage)
        && prefix == Some("")
        && name.starts_with('-')
    {
        users.push(format!(
            "the storage component on gcp makes the bucket \"{name}-main\", which GCP refuses \
             (a bucket name starts with a letter or digit)"
        ));
    }
    users
}

fn check_names(cx: &Context<'_>, findings: &mut Findings) {
    let mut seen = BTreeSet::new();
    for dataset in cx.datasets {
        let name = &dataset.dataset;
        if !seen.insert(name.as_str()) {
            findings.dataset(
                name,
                KeyPath::root(),
                Problem::DuplicateDataset { name: name.clone() },
            );
        }
        if let Some(reason) = name_problem(name) {
            findings.dataset(
                name,
                path(&["dataset"]),
                Problem::InvalidDatasetName {
                    name: name.clone(),
                    reason: reason.into(),
                },
            );
        } else if let Some(reason) = awkward_name(name) {
            let users = awkward_name_users(cx, dataset);
            if users.is_empty() {
                findings.dataset(
                    name,
                    path(&["dataset"]),
                    Problem::Questionable {
                        message: format!(
                            "dataset name {name:?}: {reason}, which the components it has \
                             accept but GCP service account ids and Azure names refuse"
                        ),
                    },
                );
            }
            for user in users {
                findings.dataset(
                    name,
                    path(&["dataset"]),
                    Problem::InvalidDatasetName {
                        name: name.clone(),
                        reason: format!("{reason}, and {user}"),
                    },
                );
            }
        }
    }
}

fn check_common(cx: &Context<'_>, findings: &mut Findings) {
    let common = &cx.infra.common_dataset;
    match cx.by_name.get(common.as_str()) {
        None => findings.infra(
            path(&["common_dataset"]),
            Problem::UnknownDataset {
                name: common.clone(),
                suggestion: Suggestion::closest(common, cx.dataset_names()),
            },
        ),
        Some(dataset) if !dataset.deploy_locations.contains(&CloudName::Gcp) => findings.dataset(
            common,
            path(&["deploy_locations"]),
            Problem::Rule {
                message: "the common dataset hosts the organisation-wide GCP resources, so it must deploy to gcp".into(),
            },
        ),
        Some(_) => {}
    }
}

/// Every `depends_on` and `depends_on_readonly` entry: (key, index, target).
fn dependency_entries(
    dataset: &crate::config::CpgDatasetConfig,
) -> impl Iterator<Item = (&'static str, usize, &String)> {
    let full = dataset
        .depends_on
        .iter()
        .enumerate()
        .map(|(i, t)| ("depends_on", i, t));
    let readonly = dataset
        .depends_on_readonly
        .iter()
        .enumerate()
        .map(|(i, t)| ("depends_on_readonly", i, t));
    full.chain(readonly)
}

fn check_dependency_targets(cx: &Context<'_>, findings: &mut Findings) {
    for dataset in cx.datasets {
        // Every dataset joins the common dataset's groups on each of its clouds.
        if dataset.dataset != cx.infra.common_dataset
            && let Some(common) = cx.by_name.get(cx.infra.common_dataset.as_str())
        {
            for (i, cloud) in dataset.deploy_locations.iter().enumerate() {
                if !common.deploy_locations.contains(cloud) {
                    findings.dataset(
                        &dataset.dataset,
                        path(&["deploy_locations"]).index(i),
                        Problem::Rule {
                            message: format!(
                                "the common dataset {:?} does not deploy to {cloud}, so this dataset's {cloud} groups have nothing to join",
                                common.dataset
                            ),
                        },
                    );
                }
            }
        }
        // A dataset listed twice in one list, or in both, is wired as the reference
        // wires it (the second listing changes nothing), with a warning.
        let mut listed = std::collections::BTreeSet::new();
        for (key, index, target) in dependency_entries(dataset) {
            if !listed.insert((key, target.as_str())) {
                findings.dataset(
                    &dataset.dataset,
                    path(&[key]).index(index),
                    Problem::Repeated {
                        what: "dependency".into(),
                        name: target.clone(),
                    },
                );
            } else if key == "depends_on_readonly"
                && listed.contains(&("depends_on", target.as_str()))
            {
                findings.dataset(
                    &dataset.dataset,
                    path(&[key]).index(index),
                    Problem::DependencyInBothLists {
                        dataset: target.clone(),
                    },
                );
            }
            if let Some(dependency) = cx.by_name.get(target.as_str()) {
                for cloud in &dataset.deploy_locations {
                    if !dependency.deploy_locations.contains(cloud) {
                        findings.dataset(
                            &dataset.dataset,
                            path(&[key]).index(index),
                            Problem::Rule {
                                message: format!(
                                    "dataset {target:?} does not deploy to {cloud}, which this dataset deploys to and needs its groups on"
                                ),
                            },
                        );
                    }
                }
            }
            if !cx.by_name.contains_key(target.as_str()) {
                findings.dataset(
                    &dataset.dataset,
                    path(&[key]).index(index),
                    Problem::UnknownDataset {
                        name: target.clone(),
                        suggestion: Suggestion::closest(target, cx.dataset_names()),
                    },
                );
            }
        }
    }
}

/// Each dependency cycle once, starting from its smallest name, the first name
/// repeated at the end.
pub(crate) fn dependency_cycles(cx: &Context<'_>) -> Vec<Vec<String>> {
    let edges: BTreeMap<&str, Vec<&str>> = cx
        .by_name
        .iter()
        .map(|(name, dataset)| {
            // Every dataset also depends on the common dataset.
            let common = cx.infra.common_dataset.as_str();
            let implicit = (*name != common).then_some(common);
            let targets = dependency_entries(dataset)
                .map(|(_, _, t)| t.as_str())
                .chain(implicit)
                .filter(|t| cx.by_name.contains_key(t))
                .collect();
            (*name, targets)
        })
        .collect();

    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Unseen,
        OnPath,
        Done,
    }
    let mut state: BTreeMap<&str, State> = edges.keys().map(|k| (*k, State::Unseen)).collect();
    let mut cycles = BTreeSet::new();

    for start in edges.keys() {
        if state[start] != State::Unseen {
            continue;
        }
        // Iterative depth-first search; `stack` is the current path with the index of
        // the next edge to follow from each node.
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        state.insert(start, State::OnPath);
        while let Some((node, next)) = stack.last_mut() {
            let targets = &edges[*node];
            if *next == targets.len() {
                state.insert(*node, State::Done);
                stack.pop();
                continue;
            }
            let target = targets[*next];
            *next += 1;
            match state[target] {
                State::Unseen => {
                    state.insert(target, State::OnPath);
                    stack.push((target, 0));
                }
                State::OnPath => {
                    let from = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        stack[from..].iter().map(|(n, _)| (*n).to_owned()).collect();
                    // Start at the smallest dataset whose edge to the next is written in
                    // the config (not the implicit one to common), so the cycle can be
                    // reported at that entry.
                    let explicit = |i: usize| {
                        let next = &cycle[(i + 1) % cycle.len()];
                        cx.by_name
                            .get(cycle[i].as_str())
                            .is_some_and(|d| dependency_entries(d).any(|(_, _, t)| t == next))
                    };
                    let start = (0..cycle.len())
                        .filter(|i| explicit(*i))
                        .min_by(|a, b| cycle[*a].cmp(&cycle[*b]))
                        .unwrap_or(0);
                    cycle.rotate_left(start);
                    cycle.push(cycle[0].clone());
                    cycles.insert(cycle);
                }
                State::Done => {}
            }
        }
    }
    cycles.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_name_rules() {
        assert_eq!(name_problem("fewgenomes"), None);
        assert_eq!(name_problem("tob-wgs2"), None);
        assert!(name_problem("").is_some());
        assert!(name_problem("Few").is_some());
        assert_eq!(name_problem("1kg"), None);
        assert_eq!(name_problem("-kg"), None);
        assert_eq!(name_problem("few_genomes"), None);
        assert_eq!(name_problem("few-"), None);
        assert!(awkward_name("-kg").is_some());
        assert!(awkward_name("few_genomes").is_some());
        assert!(awkward_name("few-").is_some());
        assert_eq!(awkward_name("few-genomes"), None);
    }
}
