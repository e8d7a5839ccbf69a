//! `deploy access`: effective access, read from the plan.

use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

use cpg_infra::config::Config;
use cpg_infra::config::suggest::Suggestion;
use cpg_infra::graph::{Graph, Resource, ResourceId, Value};
use cpg_infra_review::access::{Access, AccessGraph, Principal};
use cpg_infra_review::describe::escape_controls;
use cpg_infra_review::names::{Names, role_label};
use cpg_infra_review::picture::{NodeKind, Picture};
use cpg_infra_review::stream::Text;

/// What to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Everyone's access.
    Everyone,
    /// One person's: a user key from `cpg.toml`, or an identity (email, Hail username).
    Person(String),
    /// Everyone who reaches a resource, given as `type::name`.
    Resource(String),
    /// Everyone who reaches the bucket of this name.
    Bucket(String),
    /// A dataset's groups as a picture.
    Dataset {
        /// The dataset.
        dataset: String,
        /// The picture's format.
        format: PictureFormat,
    },
}

/// The text format of a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PictureFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// Text for people: each group with its members, the groups it is in and what
    /// it grants.
    Text,
}

/// Why a question about the config or its plan (`access`, `plan --dataset`,
/// `--type`, `--show`) has no answer.
#[derive(Debug, thiserror::Error)]
pub enum QuestionError {
    /// `--person` names no user and no identity with access.
    #[error(
        "{person:?} is neither a user key in the config nor an identity the plan gives access to{suggestion}"
    )]
    UnknownPerson {
        /// What was asked.
        person: String,
        /// The nearest user key.
        suggestion: Suggestion,
    },
    /// `--resource` is not `type::name`.
    #[error("{0:?} is not a resource as type::name")]
    NotAResourceId(String),
    /// `--resource` names no resource of the plan.
    #[error("the plan has no resource {resource}{suggestion}")]
    UnknownResource {
        /// What was asked.
        resource: String,
        /// The nearest resource of the plan, as type::name.
        suggestion: Suggestion,
    },
    /// `--bucket` names no bucket of the plan.
    #[error("the plan has no bucket named {bucket:?}{suggestion}")]
    UnknownBucket {
        /// What was asked.
        bucket: String,
        /// The nearest bucket name.
        suggestion: Suggestion,
    },
    /// `plan --type` names no type the plan has.
    #[error("the plan has no resource of type {token:?}{suggestion}")]
    UnknownType {
        /// What was asked.
        token: String,
        /// The nearest type token of the plan.
        suggestion: Suggestion,
    },
    /// `--dataset` names no dataset of the config.
    #[error("the config has no dataset {dataset:?}{suggestion}")]
    UnknownDataset {
        /// What was asked.
        dataset: String,
        /// The nearest dataset name.
        suggestion: Suggestion,
    },
}

/// Runs `deploy access <dir>`, planning as `deploy plan` does with the plugins from
/// `plugins_dir`: 0 when answered, 1 when the config is invalid or the query names
/// nothing the plan knows.
pub fn run(dir: &Path, query: &Query, json: bool, plugins_dir: Option<&Path>) -> ExitCode {
    let Some((config, graph)) = crate::build(dir, plugins_dir, false) else {
        return ExitCode::from(1);
    };
    let names = Names::from_config(&config.infrastructure);
    let access = AccessGraph::with_names(&graph, names);
    let answer = answer(&config, &graph, &access, query);
    // Written without the config and the plan: only the answer is held.
    drop((config, graph));
    match answer {
        Ok(Answer::Picture(text)) => crate::emit(&text),
        Ok(Answer::Everyone) => write_access(&access, || access.each_effective(), json),
        Ok(Answer::Entries(entries)) => write_access(&access, || entries.iter().cloned(), json),
        Err(error) => crate::diagnostics::fail(&error),
    }
}

/// The answer to a query.
enum Answer {
    /// A dataset's picture, as text to print.
    Picture(String),
    /// Everyone's access, made as it is written, a principal at a time.
    Everyone,
    /// Access, to write as text or JSON.
    Entries(Vec<Access>),
}

/// Writes the access `entries` makes to standard output, as JSON or for people.
fn write_access<I>(access: &AccessGraph, entries: impl Fn() -> I, json: bool) -> ExitCode
where
    I: Iterator<Item = Access>,
{
    crate::stream("write the access", |out| {
        if json {
            return cpg_infra_review::access::write_json(entries, out);
        }
        let mut out = Text::new(out);
        let written = text(access, entries(), &mut out);
        out.finish(written).map(drop)
    })
}

/// The answer to `query`, or why there is none.
fn answer(
    config: &Config,
    graph: &Graph,
    access: &AccessGraph,
    query: &Query,
) -> Result<Answer, QuestionError> {
    let entries: Vec<Access> = match query {
        Query::Everyone => return Ok(Answer::Everyone),
        Query::Person(person) => {
            let principals = person_principals(config, access, person);
            let entries: Vec<Access> = principals
                .iter()
                .flat_map(|p| access.access_of(p))
                .collect();
            if entries.is_empty() && !config.infrastructure.users.contains_key(person) {
                let suggestion = Suggestion::closest(
                    person,
                    config.infrastructure.users.keys().map(String::as_str),
                );
                return Err(QuestionError::UnknownPerson {
                    person: person.clone(),
                    suggestion,
                });
            }
            entries
        }
        Query::Resource(text) => {
            let Some((token, name)) = text.split_once("::") else {
                return Err(QuestionError::NotAResourceId(text.clone()));
            };
            let id = ResourceId::new(token, name);
            let entries = access.who_reaches(&id);
            if entries.is_empty() && graph.get(&id).is_none() {
                return Err(unknown_resource(graph, text));
            }

            entries
        }
        Query::Bucket(name) => {
            let id = bucket_named(graph, name)
                .unwrap_or_else(|| ResourceId::new(cpg_infra_gcp::tokens::BUCKET, name));
            let entries = access.who_reaches(&id);
            if entries.is_empty() && graph.get(&id).is_none() {
                return Err(QuestionError::UnknownBucket {
                    bucket: name.clone(),
                    suggestion: Suggestion::closest(name, bucket_names(graph)),
                });
            }
            entries
        }
        Query::Dataset { dataset, format } => {
            let names: Vec<String> = config.datasets.iter().map(|d| d.dataset.clone()).collect();
            check_dataset(&names, dataset)?;
            let picture = Picture::of_dataset(access, dataset, &names);
            return Ok(Answer::Picture(match format {
                PictureFormat::Dot => picture.to_dot(),
                PictureFormat::Mermaid => picture.to_mermaid(),
                PictureFormat::Text => picture_text(&picture),
            }));
        }
    };
    Ok(Answer::Entries(entries))
}

/// The identities a person has in the plan: for a user key, each cloud identity and
/// Hail username; otherwise the identity given.
fn person_principals(config: &Config, access: &AccessGraph, person: &str) -> Vec<Principal> {
    let mut principals: Vec<Principal> = match config.infrastructure.users.get(person) {
        Some(user) => user
            .clouds
            .values()
            .flat_map(|identity| {
                std::iter::once(identity.id.as_str()).chain(identity.hail_batch_username.as_deref())
            })
            .map(|id| access.principal_named(id))
            .collect(),
        None => vec![access.principal_named(person)],
    };
    principals.sort();
    principals.dedup();
    principals
}

/// The resource `text` (as type::name) of the plan, or why there is none.
pub fn resource<'g>(graph: &'g Graph, text: &str) -> Result<&'g Resource, QuestionError> {
    let (token, name) = text
        .split_once("::")
        .ok_or_else(|| QuestionError::NotAResourceId(text.to_owned()))?;
    graph
        .get(&ResourceId::new(token, name))
        .ok_or_else(|| unknown_resource(graph, text))
}

/// `text` names no resource of the plan: say so, with the nearest one.
fn unknown_resource(graph: &Graph, text: &str) -> QuestionError {
    let ids: Vec<String> = graph.resources().iter().map(|r| r.id.to_string()).collect();
    QuestionError::UnknownResource {
        resource: text.to_owned(),
        suggestion: Suggestion::closest(text, ids.iter().map(String::as_str)),
    }
}

/// `dataset` when the config has it; otherwise why not, with the nearest name.
pub fn check_dataset(datasets: &[String], dataset: &str) -> Result<(), QuestionError> {
    if datasets.iter().any(|d| d == dataset) {
        return Ok(());
    }
    Err(QuestionError::UnknownDataset {
        dataset: dataset.to_owned(),
        suggestion: Suggestion::closest(dataset, datasets.iter().map(String::as_str)),
    })
}

/// The declared bucket whose `name` input is `name`.
fn bucket_named(graph: &Graph, name: &str) -> Option<ResourceId> {
    graph
        .resources()
        .iter()
        .find(|r| {
            r.id.type_token.ends_with("/bucket:Bucket")
                && r.inputs.get("name").and_then(Value::as_str) == Some(name)
        })
        .map(|r| r.id.clone())
}

/// The `name` input of every declared bucket.
fn bucket_names(graph: &Graph) -> impl Iterator<Item = &str> {
    graph
        .resources()
        .iter()
        .filter(|r| r.id.type_token.ends_with("/bucket:Bucket"))
        .filter_map(|r| r.inputs.get("name").and_then(Value::as_str))
}

/// A dataset's picture for people: each of its groups, with its direct members,
/// the groups it is a member of, and each role it grants on each resource.
fn picture_text(picture: &Picture) -> String {
    let label = |key: &str| {
        escape_controls(
            picture
                .nodes
                .get(key)
                .map_or(key, |node| node.label.as_str()),
        )
        .into_owned()
    };
    let mut out = format!("{}\n", escape_controls(&picture.title));
    for (key, node) in &picture.nodes {
        if node.kind != NodeKind::Group {
            continue;
        }
        let _ = writeln!(out, "\n{}", label(key));
        let members: Vec<String> = picture
            .edges
            .iter()
            .filter(|(_, to, role)| to == key && role == "member")
            .map(|(from, _, _)| label(from))
            .collect();
        let _ = writeln!(out, "  members: {}", list_or_none(&members));
        let parents: Vec<String> = picture
            .edges
            .iter()
            .filter(|(from, to, role)| {
                from == key
                    && role == "member"
                    && picture
                        .nodes
                        .get(to)
                        .is_some_and(|n| n.kind != NodeKind::Resource)
            })
            .map(|(_, to, _)| label(to))
            .collect();
        let _ = writeln!(out, "  member of: {}", list_or_none(&parents));
        for (_, to, role) in picture.edges.iter().filter(|(from, to, _)| {
            from == key
                && picture
                    .nodes
                    .get(to)
                    .is_some_and(|n| n.kind == NodeKind::Resource)
        }) {
            let _ = writeln!(out, "  {} on {}", escape_controls(role), label(to));
        }
    }
    if picture.is_empty() {
        out.push_str("no groups\n");
    }
    out
}

/// `items` joined by commas, or `none`.
fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The answer for people, written to `out` a line at a time: per principal, each
/// role on each resource and the chain that grants it.
fn text(
    access: &AccessGraph,
    entries: impl Iterator<Item = Access>,
    out: &mut impl Write,
) -> std::fmt::Result {
    let mut current: Option<Principal> = None;
    for entry in entries {
        if current.as_ref() != Some(&entry.principal) {
            if current.is_some() {
                out.write_char('\n')?;
            }
            writeln!(out, "{}", escape_controls(&access.label(&entry.principal)))?;
            current = Some(entry.principal.clone());
        }
        writeln!(
            out,
            "  {} on {}",
            escape_controls(&role_label(&entry.role)),
            escape_controls(&entry.resource.to_string())
        )?;
        if entry.chain.len() > 1 {
            let chain: Vec<String> = entry.chain.iter().map(|p| access.label(p)).collect();
            writeln!(out, "    via {}", escape_controls(&chain.join(" → ")))?;
        } else {
            writeln!(out, "    directly")?;
        }
    }
    if current.is_none() {
        out.write_str("no access\n")?;
    }
    Ok(())
}
