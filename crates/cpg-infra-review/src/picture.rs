//! A dataset's access as a picture: its groups, how they nest, who is in them and what
//! each grants, as Graphviz DOT or Mermaid flowchart text. People are shown by the
//! config's user keys where the access graph has them, Azure built-in roles by name;
//! each picture carries a legend of its node shapes and edge styles.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use cpg_infra::graph::ResourceId;

use crate::access::{AccessGraph, Principal};
use crate::describe::escape_controls;
use crate::names::role_label;

/// The label of a membership edge.
const MEMBER: &str = "member";

/// What each node shape and edge style stands for, in the order the legend shows
/// them.
const LEGEND: [(NodeKind, &str); 4] = [
    (NodeKind::Group, "the dataset's group"),
    (NodeKind::OtherGroup, "another group"),
    (NodeKind::Member, "person or machine account"),
    (NodeKind::Resource, "resource"),
];

/// What a node of the picture stands for; each is drawn in its own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// One of the dataset's own groups.
    Group,
    /// A group of another dataset or of the organisation.
    OtherGroup,
    /// A person, machine account or other identity.
    Member,
    /// A resource a group holds a role on.
    Resource,
}

/// A node: what it stands for and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// What it stands for.
    pub kind: NodeKind,
    /// The text shown.
    pub label: String,
}

/// The picture: nodes keyed by what they stand for (`type::name` or an identity), and
/// edges (from, to, label): member → group for memberships, group → resource with the
/// role for grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Picture {
    /// The picture's title.
    pub title: String,
    /// Every node.
    pub nodes: BTreeMap<String, Node>,
    /// Every edge.
    pub edges: BTreeSet<(String, String, String)>,
}

impl Picture {
    /// The picture of `dataset`: the declared groups whose logical name starts with
    /// `{dataset}-` (and not with the name of a longer dataset in `datasets`), their
    /// direct members, the groups they are direct members of, and their grants.
    pub fn of_dataset(access: &AccessGraph, dataset: &str, datasets: &[String]) -> Picture {
        let prefix = format!("{dataset}-");
        let longer: Vec<String> = datasets
            .iter()
            .filter(|d| d.len() > dataset.len() && d.starts_with(&prefix))
            .map(|d| format!("{d}-"))
            .collect();
        let owns = |principal: &Principal| match principal {
            Principal::Resource(id) => {
                id.name.starts_with(&prefix) && !longer.iter().any(|l| id.name.starts_with(l))
            }
            Principal::Id(_) => false,
        };
        let groups: BTreeSet<&Principal> =
            access.groups().into_iter().filter(|p| owns(p)).collect();
        let mut picture = Picture {
            title: format!("access to {dataset}"),
            ..Picture::default()
        };
        let node = |picture: &mut Picture, principal: &Principal| -> String {
            let key = principal.to_string();
            let kind = if groups.contains(principal) {
                NodeKind::Group
            } else if access.is_group(principal) {
                NodeKind::OtherGroup
            } else {
                NodeKind::Member
            };
            picture.nodes.entry(key.clone()).or_insert(Node {
                kind,
                label: access.label(principal),
            });
            key
        };
        for group in &groups {
            let to = node(&mut picture, group);
            for member in access.members_of(group) {
                let from = node(&mut picture, member);
                picture.edges.insert((from, to.clone(), MEMBER.into()));
            }
            for parent in access.groups_of(group) {
                let parent = node(&mut picture, parent);
                picture.edges.insert((to.clone(), parent, MEMBER.into()));
            }
            for grant in access.grants_of(group) {
                let resource = resource_node(&mut picture, &grant.resource);
                picture
                    .edges
                    .insert((to.clone(), resource, role_label(&grant.role)));
            }
        }
        picture
    }

    /// Whether the picture shows nothing.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node ids for the text formats: `n0`, `n1`, … in key order.
    fn ids(&self) -> BTreeMap<&str, String> {
        self.nodes
            .keys()
            .enumerate()
            .map(|(i, key)| (key.as_str(), format!("n{i}")))
            .collect()
    }

    /// The edges with those between the same two nodes drawn as one, their labels
    /// in order: a group holding several roles on a resource is one arrow.
    fn merged_edges(&self) -> BTreeMap<(&str, &str), Vec<&str>> {
        let mut merged: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for (from, to, label) in &self.edges {
            merged
                .entry((from.as_str(), to.as_str()))
                .or_default()
                .push(label.as_str());
        }
        merged
    }

    /// Graphviz DOT text (`dot -Tsvg` draws it).
    pub fn to_dot(&self) -> String {
        let ids = self.ids();
        let mut out = String::new();
        let _ = writeln!(out, "digraph access {{");
        let _ = writeln!(out, "  label=\"{}\";", dot_escape(&self.title));
        let _ = writeln!(out, "  rankdir=LR;");
        // Memberships into one group share a line; rows sit close together.
        let _ = writeln!(out, "  concentrate=true;");
        let _ = writeln!(out, "  nodesep=0.15;");
        let _ = writeln!(out, "  node [fontname=\"Helvetica\", fontsize=10];");
        let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];");
        for (key, node) in &self.nodes {
            let _ = writeln!(
                out,
                "  {} [label=\"{}\", {}];",
                ids[key.as_str()],
                dot_escape(&node.label),
                dot_style(node.kind)
            );
        }
        for ((from, to), labels) in self.merged_edges() {
            let _ = writeln!(
                out,
                "  {} -> {} [{}];",
                ids[from],
                ids[to],
                dot_edge(&labels)
            );
        }
        // The legend: one node of each shape, and an edge of each style.
        let _ = writeln!(out, "  subgraph cluster_legend {{");
        let _ = writeln!(out, "    label=\"legend\";");
        let _ = writeln!(out, "    style=dotted;");
        for (i, (kind, meaning)) in LEGEND.iter().enumerate() {
            let _ = writeln!(
                out,
                "    legend{i} [label=\"{meaning}\", {}];",
                dot_style(*kind)
            );
        }
        let _ = writeln!(out, "    legend2 -> legend0 [{}];", dot_edge(&[MEMBER]));
        let _ = writeln!(out, "    legend0 -> legend3 [{}];", dot_edge(&["role"]));
        let _ = writeln!(out, "    legend0 -> legend1 [{}];", dot_edge(&[MEMBER]));
        out.push_str("  }\n}\n");
        out
    }

    /// Mermaid flowchart text.
    pub fn to_mermaid(&self) -> String {
        let ids = self.ids();
        let mut out = String::new();
        let _ = writeln!(out, "---\ntitle: \"{}\"\n---", mermaid_escape(&self.title));
        let _ = writeln!(out, "flowchart LR");
        for (key, node) in &self.nodes {
            let _ = writeln!(
                out,
                "  {}",
                mermaid_node(&ids[key.as_str()], node.kind, &node.label)
            );
        }
        for ((from, to), labels) in self.merged_edges() {
            let arrow = if labels == [MEMBER] { "-.->" } else { "-->" };
            let escaped: Vec<String> = labels.iter().map(|l| mermaid_escape(l)).collect();
            let _ = writeln!(
                out,
                "  {} {arrow}|\"{}\"| {}",
                ids[from],
                escaped.join("<br>"),
                ids[to]
            );
        }
        // The legend: one node of each shape, and a link of each style.
        let _ = writeln!(out, "  subgraph legend [\"legend\"]");
        for (i, (kind, meaning)) in LEGEND.iter().enumerate() {
            let _ = writeln!(
                out,
                "    {}",
                mermaid_node(&format!("legend{i}"), *kind, meaning)
            );
        }
        let _ = writeln!(out, "    legend2 -.->|\"{MEMBER}\"| legend0");
        let _ = writeln!(out, "    legend0 -->|\"role\"| legend3");
        let _ = writeln!(out, "    legend0 -.->|\"{MEMBER}\"| legend1");
        let _ = writeln!(out, "  end");
        // The dataset's groups filled, other groups dashed, as in DOT.
        for (class, kind, style, legend) in [
            ("own", NodeKind::Group, "fill:#dbeafe", "legend0"),
            (
                "other",
                NodeKind::OtherGroup,
                "stroke-dasharray:4 3",
                "legend1",
            ),
        ] {
            let members: Vec<&str> = self
                .nodes
                .iter()
                .filter(|(_, n)| n.kind == kind)
                .map(|(k, _)| ids[k.as_str()].as_str())
                .chain([legend])
                .collect();
            let _ = writeln!(out, "  classDef {class} {style}");
            let _ = writeln!(out, "  class {} {class}", members.join(","));
        }
        out
    }
}

/// A node's DOT attributes: its shape and fill by what it stands for.
fn dot_style(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Group => "shape=box, style=\"rounded,filled\", fillcolor=\"#dbeafe\"",
        NodeKind::OtherGroup => "shape=box, style=\"rounded,dashed\"",
        NodeKind::Member => "shape=ellipse",
        NodeKind::Resource => "shape=cylinder, style=filled, fillcolor=\"#fef3c7\"",
    }
}

/// An edge's DOT attributes: a membership dashed, roles solid and labelled, one
/// per line.
fn dot_edge(labels: &[&str]) -> String {
    if labels == [MEMBER] {
        "style=dashed, arrowhead=empty".to_owned()
    } else {
        let escaped: Vec<String> = labels.iter().map(|l| dot_escape(l)).collect();
        format!("label=\"{}\"", escaped.join("\\n"))
    }
}

/// A Mermaid node `id` of `kind`'s shape with `label` (escaped here).
fn mermaid_node(id: &str, kind: NodeKind, label: &str) -> String {
    let label = mermaid_escape(label);
    match kind {
        NodeKind::Group | NodeKind::OtherGroup => format!("{id}[\"{label}\"]"),
        NodeKind::Member => format!("{id}([\"{label}\"])"),
        NodeKind::Resource => format!("{id}[(\"{label}\")]"),
    }
}

fn resource_node(picture: &mut Picture, id: &ResourceId) -> String {
    let key = id.to_string();
    let kind = id.type_token.rsplit(':').next().unwrap_or(&id.type_token);
    picture.nodes.entry(key.clone()).or_insert(Node {
        kind: NodeKind::Resource,
        label: format!("{kind} {}", id.name),
    });
    key
}

/// Text for a DOT quoted string.
fn dot_escape(text: &str) -> String {
    escape_controls(text)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Text for a Mermaid quoted label: quotes and the characters Mermaid reads as markup
/// become entity codes.
fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape_controls(text).chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_for_each_format() {
        assert_eq!(dot_escape("a \"b\" \\ c"), "a \\\"b\\\" \\\\ c");
        assert_eq!(
            mermaid_escape("a \"b\" #1 <x>"),
            "a #quot;b#quot; #35;1 #lt;x#gt;"
        );
    }

    #[test]
    fn labels_never_carry_raw_control_characters() {
        let hostile = "mallory\n+ ceo\u{1b}[2J\u{0}";
        let dot = dot_escape(hostile);
        assert_eq!(dot, "mallory\\\\n+ ceo\\\\u{1b}[2J\\\\0");
        let mermaid = mermaid_escape(hostile);
        assert_eq!(mermaid, "mallory\\n+ ceo\\u{1b}[2J\\0");
        assert!(!dot.chars().chain(mermaid.chars()).any(char::is_control));
    }

    /// A dataset group with a person the config knows and two Azure roles on one
    /// container.
    fn picture() -> Picture {
        use cpg_infra::graph::{Graph, Resource, Value};
        use cpg_infra_azure::{roles, tokens as azure};
        let mut graph = Graph::new();
        let group = graph
            .declare(
                Resource::new(azure::GROUP, "ds-azure-analysis-group")
                    .input("displayName", "ds-analysis"),
            )
            .expect("group");
        let container = graph
            .declare(Resource::new(azure::BLOB_CONTAINER, "ds-azure-main"))
            .expect("container");
        for (name, role) in [("r", roles::BLOB_READER), ("w", roles::BLOB_CONTRIBUTOR)] {
            graph
                .declare(
                    Resource::new(azure::ROLE_ASSIGNMENT, name)
                        .input("principalId", Value::output(&group, "id"))
                        .input("roleDefinitionId", roles::definition(role))
                        .input("scope", Value::output(&container, "id")),
                )
                .expect("assignment");
        }
        graph
            .declare(
                Resource::new(azure::GROUP_MEMBER, "ann")
                    .input("groupObjectId", Value::output(&group, "id"))
                    .input("memberObjectId", "0000aaaa-0000-4000-8000-000000000001"),
            )
            .expect("member");
        let names = crate::names::Names::from_identities([(
            "ann",
            "0000aaaa-0000-4000-8000-000000000001",
            None,
        )]);
        let access = AccessGraph::with_names(&graph, names);
        Picture::of_dataset(&access, "ds", &["ds".to_owned()])
    }

    #[test]
    fn pictures_name_people_and_roles_and_carry_a_legend() {
        let dot = picture().to_dot();
        assert!(
            dot.contains("[label=\"ann (0000aaaa-0000-4000-8000-000000000001)\", shape=ellipse]"),
            "{dot}"
        );
        // Two roles on one container: one arrow, a role a line.
        assert!(
            dot.contains("[label=\"Storage Blob Data Contributor\\nStorage Blob Data Reader\"]"),
            "{dot}"
        );
        assert!(dot.contains("[style=dashed, arrowhead=empty]"), "{dot}");
        assert!(!dot.contains("roleDefinitions"), "{dot}");
        for meaning in LEGEND.iter().map(|(_, m)| m) {
            assert!(
                dot.contains(&format!("[label=\"{meaning}\"")),
                "{meaning}: {dot}"
            );
        }
        assert!(dot.contains("subgraph cluster_legend {"), "{dot}");
        let mermaid = picture().to_mermaid();
        assert!(
            mermaid.contains("subgraph legend [\"legend\"]"),
            "{mermaid}"
        );
        assert!(
            mermaid.contains("legend2 -.->|\"member\"| legend0"),
            "{mermaid}"
        );
        assert!(
            mermaid.contains("|\"Storage Blob Data Contributor<br>Storage Blob Data Reader\"|"),
            "{mermaid}"
        );
        assert!(
            mermaid.contains("([\"ann (0000aaaa-0000-4000-8000-000000000001)\"])"),
            "{mermaid}"
        );
    }
}
