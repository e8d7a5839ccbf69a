//! A plan against a stack export for people (text, Markdown) and programs (JSON):
//! the diff's formats, headed by the export compared and followed by what was not
//! compared.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use cpg_infra::graph::ResourceId;
use serde_json::Value as Json;

use super::{NotComparedBecause, StateDiff};
use crate::describe::escape_controls;
use crate::diff::code;
use crate::markdown::MARKDOWN_LIMIT;

/// The inputs not compared of one resource, for one reason.
struct Group<'a> {
    id: &'a ResourceId,
    because: NotComparedBecause,
    paths: Vec<&'a str>,
}

impl StateDiff {
    /// What was not compared, by resource and reason.
    fn not_compared_groups(&self) -> Vec<Group<'_>> {
        let mut groups: BTreeMap<(&ResourceId, NotComparedBecause), Vec<&str>> = BTreeMap::new();
        for n in &self.not_compared {
            groups.entry((&n.id, n.because)).or_default().push(&n.path);
        }
        groups
            .into_iter()
            .map(|((id, because), paths)| Group { id, because, paths })
            .collect()
    }

    /// How many resources have inputs not compared.
    fn not_compared_resources(&self) -> usize {
        let ids: BTreeSet<&ResourceId> = self.not_compared.iter().map(|n| &n.id).collect();
        ids.len()
    }

    /// `N inputs of M resources`.
    fn not_compared_count(&self) -> String {
        format!(
            "{} inputs of {} resources",
            self.not_compared.len(),
            self.not_compared_resources()
        )
    }

    /// What the export's Python dynamic resources were read as, when it had any.
    fn moved_note(&self) -> Option<String> {
        (self.export.moved > 0).then(|| {
            format!(
                "its {} Python dynamic resources read as their cpg: types, as \
                 `deploy migrate-state` moves them",
                self.export.moved
            )
        })
    }

    /// The comparison for people, coloured with ANSI escapes when `colour`: the
    /// export compared, the diff's text (without access), then each resource's
    /// inputs not compared and why.
    pub fn to_text(&self, colour: bool) -> String {
        let mut head = format!(
            "compared with {} (stack {}/{}, {} resources)",
            self.export.file,
            self.export.stack.project,
            self.export.stack.stack,
            self.export.resources
        );
        if let Some(note) = self.moved_note() {
            let _ = write!(head, "; {note}");
        }
        let mut out = format!("{}\n\n", escape_controls(&head));
        out.push_str(&self.diff.to_text(colour));
        if !self.not_compared.is_empty() {
            let _ = writeln!(out, "\nnot compared: {}", self.not_compared_count());
            for group in self.not_compared_groups() {
                let line = format!(
                    "? {}: {} ({})",
                    group.id,
                    group.paths.join(", "),
                    group.because.describe()
                );
                let _ = writeln!(out, "{}", escape_controls(&line));
            }
        }
        out
    }

    /// The comparison as Markdown for a pull request, within [`MARKDOWN_LIMIT`]
    /// characters: the diff's Markdown with the export compared under its heading,
    /// and the inputs not compared collapsed at the end (left out, with a note,
    /// when they do not fit).
    pub fn to_markdown(&self) -> String {
        let mut compared = format!(
            "Compared with {} (stack {}, {} resources)",
            code(&self.export.file),
            code(&format!(
                "{}/{}",
                self.export.stack.project, self.export.stack.stack
            )),
            self.export.resources
        );
        if let Some(note) = self.moved_note() {
            let _ = write!(compared, "; {note}");
        }
        compared.push_str(".\n\n");
        let mut tail = String::new();
        if !self.not_compared.is_empty() {
            let mut body = String::new();
            for group in self.not_compared_groups() {
                let paths: Vec<String> = group.paths.iter().map(|p| code(p)).collect();
                let _ = writeln!(
                    body,
                    "- {}: {} ({})",
                    code(&group.id.to_string()),
                    paths.join(", "),
                    group.because.describe()
                );
            }
            let _ = write!(
                tail,
                "<details><summary>Not compared ({})</summary>\n\n{body}\n</details>\n\n",
                self.not_compared_count()
            );
        }
        let chars = |text: &str| text.chars().count();
        let room = MARKDOWN_LIMIT.saturating_sub(chars(&compared));
        let diff = self.diff.to_markdown_within(room);
        let tail = if tail.is_empty() || chars(&diff) + chars(&tail) <= room {
            tail
        } else {
            format!(
                "> **Left out to stay within {MARKDOWN_LIMIT} characters:** Not compared ({}). \
                 Run `deploy diff --state <export> <config>` for all of it as text.\n",
                self.not_compared_count()
            )
        };
        let diff = if chars(&diff) + chars(&tail) <= room {
            diff
        } else {
            self.diff
                .to_markdown_within(room.saturating_sub(chars(&tail)))
        };
        // The export compared goes under the diff's heading.
        match diff.split_once("\n\n") {
            Some((heading, rest)) => format!("{heading}\n\n{compared}{rest}{tail}"),
            None => format!("{compared}{diff}{tail}"),
        }
    }

    /// The comparison as JSON: the diff's document without the access fields, plus
    /// `state` (`file`, `project`, `stack`, `resources`, `moved`),
    /// `summary.not_compared`, and `not_compared`: `{"resource", "path",
    /// "because"}`, `because` being `after_deploy` or `encrypted`.
    pub fn to_json(&self) -> Json {
        let mut document = self.diff.to_json();
        if let Some(object) = document.as_object_mut() {
            object.remove("access_gained");
            object.remove("access_lost");
            if let Some(summary) = object.get_mut("summary").and_then(Json::as_object_mut) {
                summary.remove("access_gained");
                summary.remove("access_lost");
                summary.insert("not_compared".into(), self.not_compared.len().into());
            }
            object.insert(
                "state".into(),
                serde_json::json!({
                    "file": self.export.file,
                    "project": self.export.stack.project,
                    "stack": self.export.stack.stack,
                    "resources": self.export.resources,
                    "moved": self.export.moved,
                }),
            );
            let not_compared: Vec<Json> = self
                .not_compared
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "resource": n.id.to_string(),
                        "path": n.path,
                        "because": match n.because {
                            NotComparedBecause::AfterDeploy => "after_deploy",
                            NotComparedBecause::Encrypted => "encrypted",
                        },
                    })
                })
                .collect();
            object.insert("not_compared".into(), not_compared.into());
        }
        document
    }
}
