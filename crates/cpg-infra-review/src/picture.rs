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

    /// Graphviz DOT text (`dot -Tsvg` draws it).
    pub fn to_dot(&self) -> String {
        let ids = self.ids();
        let mut out = String::new();
        let _ = writeln!(out, "digraph access {{");
        let _ = writeln!(out, "  label=\"{}\";", dot_escape(&self.title));
        let _ = writeln!(out, "  rankdir=LR;");
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
        for (from, to, label) in &self.edges {
            let _ = writeln!(
                out,
                "  {} -> {} [{}];",
                ids[from.as_str()],
                ids[to.as_str()],
                dot_edge(label)
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
        let _ = writeln!(out, "    legend2 -> legend0 [{}];", dot_edge(MEMBER));
        let _ = writeln!(out, "    legend0 -> legend3 [{}];", dot_edge("role"));
        let _ = writeln!(out, "    legend0 -> legend1 [{}];", dot_edge(MEMBER));
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
        for (from, to, label) in &self.edges {
            let arrow = if label == MEMBER { "-.->" } else { "-->" };
            let _ = writeln!(
                out,
                "  {} {arrow}|\"{}\"| {}",
                ids[from.as_str()],
                mermaid_escape(label),
                ids[to.as_str()]
            );
        }
        // The legend: one node of each shape, and a link of each style.
        let _ = writeln!(out, "  subgraph legend [\"legend\"]");
        for (i, (kind, meaning)) in LEGEND.iter().enumerate() {
            let _ = writeln!(out, "    {}", mermaid_node(&format!("legend{i}"), *kind, meaning));
        }
        let _ = writeln!(out, "    legend2 -.->|\"{MEMBER}\"| legend0");
        let _ = writeln!(out, "    legend0 -->|\"role\"| legend3");
        let _ = writeln!(out, "    legend0 -.->|\"{MEMBER}\"| legend1");
        let _ = writeln!(out, "  end");
        let own: Vec<&str> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.kind == NodeKind::Group)
            .map(|(k, _)| ids[k.as_str()].as_str())
            .chain(["legend0"])
            .collect();
        let _ = writeln!(out, "  classDef own fill:#dbeafe");
        let _ = writeln!(out, "  class {} own", own.join(","));
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

/// An edge's DOT attributes: a membership dashed, a role solid and labelled.
fn dot_edge(label: &str) -> String {
    if label == MEMBER {
        "style=dashed, arrowhead=empty".to_owned()
    } else {
        format!("label=\"{}\"", dot_escape(label))
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
}
