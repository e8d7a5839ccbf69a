//! A plan difference as Markdown for a pull request comment: a summary first
//! (counts, data at risk, secrets changed, access gained and lost per person), then
//! the details in collapsed `<details>` blocks. Secret changes are counted, never
//! listed. The whole stays under a character limit ([`MARKDOWN_LIMIT`], below
//! GitHub's 65,536 for a comment): past it, whole sections are left out, last first,
//! and a closing note names them and how to see everything.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::diff::{
    AccessChange, PlanDiff, ResourceChange, cell, code, code_cell, field_markdown, secret, via,
};
use crate::names::role_label;
use crate::replace::Action;

/// The most characters `deploy diff --markdown` writes.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// One part of the Markdown: what the note calls it when it is left out, and its
/// text.
struct Section {
    title: String,
    text: String,
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

impl PlanDiff {
    /// The difference as Markdown for a pull request, within [`MARKDOWN_LIMIT`]
    /// characters.
    pub fn to_markdown(&self) -> String {
        self.to_markdown_within(MARKDOWN_LIMIT)
    }

    /// The difference as Markdown in at most `limit` characters (as long as the
    /// headline and the note fit): sections that do not fit are left out whole, and a
    /// note at the end names them.
    pub fn to_markdown_within(&self, limit: usize) -> String {
        let head = format!("### Infrastructure: {}\n\n", self.counts());
        let sections = self.markdown_sections();
        let mut kept: Vec<bool> = Vec::with_capacity(sections.len());
        let mut used = chars(&head);
        for section in &sections {
            let fits = used + chars(&section.text) <= limit;
            if fits {
                used += chars(&section.text);
            }
            kept.push(fits);
        }
        // Make room for the note, dropping kept sections from the end.
        loop {
            let note = left_out_note(&sections, &kept, limit);
            if used + chars(&note) <= limit {
                break;
            }
            let Some(last) = kept.iter().rposition(|k| *k) else {
                break;
            };
            kept[last] = false;
            used -= chars(&sections[last].text);
        }
        let mut out = head;
        for (section, keep) in sections.iter().zip(&kept) {
            if *keep {
                out.push_str(&section.text);
            }
        }
        out.push_str(&left_out_note(&sections, &kept, limit));
        out
    }

    fn markdown_sections(&self) -> Vec<Section> {
        let mut sections = Vec::new();
        let at_risk = self.data_at_risk();
        if !at_risk.is_empty() {
            let mut text = format!(
                "#### Data at risk: {} destroyed or replaced\n\n| | resource | holds | because |\n|---|---|---|---|\n",
                at_risk.len()
            );
            for risk in &at_risk {
                let because: Vec<String> = risk.because.iter().map(|b| code(b)).collect();
                let _ = writeln!(
                    text,
                    "| **{}** | {} | {} {} | {} |",
                    risk.loss.name(),
                    code_cell(&risk.id.to_string()),
                    risk.kind,
                    code_cell(&risk.holds),
                    cell(&because.join(", ")),
                );
            }
            text.push('\n');
            sections.push(Section {
                title: format!("Data at risk ({} resources)", at_risk.len()),
                text,
            });
        }
        let secrets = self
            .changed
            .iter()
            .flat_map(|c| &c.fields)
            .chain(&self.exports)
            .filter(|f| secret(f))
            .count();
        if secrets > 0 {
            sections.push(Section {
                title: "Secrets".into(),
                text: format!("Secret values changed: {secrets} (not shown).\n\n"),
            });
        }
        if !self.without_access {
            sections.push(self.access_summary());
        }
        let replaced = self.replaced();
        if !replaced.is_empty() {
            let mut text = String::new();
            for (change, because) in &replaced {
                let because: Vec<String> = because.iter().map(|b| code(b)).collect();
                let _ = writeln!(
                    text,
                    "- {} (because {} changes)",
                    code(&change.id.to_string()),
                    because.join(", ")
                );
                fields_markdown(&mut text, change);
            }
            sections.push(details("Replaced", replaced.len(), "resources", &text));
        }
        let (shown, secret_only): (Vec<&ResourceChange>, Vec<&ResourceChange>) = self
            .changed
            .iter()
            .filter(|c| !matches!(c.action(), Action::Replace { .. }))
            .partition(|c| c.fields.iter().any(|f| !secret(f)));
        if !shown.is_empty() || !secret_only.is_empty() {
            let mut text = String::new();
            for change in &shown {
                let _ = writeln!(text, "- {}", code(&change.id.to_string()));
                fields_markdown(&mut text, change);
            }
            if !secret_only.is_empty() {
                let _ = writeln!(
                    text,
                    "\n{} more change only secret values (not shown).",
                    secret_only.len()
                );
            }
            let count = shown.len() + secret_only.len();
            sections.push(details("Changed", count, "resources", &text));
        }
        for (title, list) in [("Destroyed", &self.removed), ("Added", &self.added)] {
            if !list.is_empty() {
                let mut text = String::new();
                for resource in list {
                    let _ = writeln!(text, "- {}", code(&resource.id.to_string()));
                }
                sections.push(details(title, list.len(), "resources", &text));
            }
        }
        let exports: Vec<String> = self
            .exports
            .iter()
            .filter(|f| !secret(f))
            .map(|f| format!("- {}\n", field_markdown(f)))
            .collect();
        if !exports.is_empty() {
            sections.push(details(
                "Stack exports",
                exports.len(),
                "exports",
                &exports.concat(),
            ));
        }
        for (title, changes) in [
            ("Access gained", &self.access_gained),
            ("Access lost", &self.access_lost),
        ] {
            if !changes.is_empty() {
                sections.push(details(
                    title,
                    changes.len(),
                    "grants",
                    &access_table(changes),
                ));
            }
        }
        sections
    }

    /// Access gained and lost, counted per person: by user key where the config
    /// knows the principal, else by its label.
    fn access_summary(&self) -> Section {
        let mut text = format!(
            "#### Access: {} gained, {} lost\n\n",
            self.access_gained.len(),
            self.access_lost.len()
        );
        let who = |change: &'_ AccessChange| -> String {
            change
                .access
                .user
                .clone()
                .unwrap_or_else(|| change.principal_label.clone())
        };
        let mut people: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for change in &self.access_gained {
            people.entry(who(change)).or_default().0 += 1;
        }
        for change in &self.access_lost {
            people.entry(who(change)).or_default().1 += 1;
        }
        if !people.is_empty() {
            text.push_str("| who | gained | lost |\n|---|---|---|\n");
            for (who, (gained, lost)) in &people {
                let _ = writeln!(text, "| {} | {gained} | {lost} |", cell(who));
            }
            text.push('\n');
        }
        Section {
            title: format!("Access per person ({} principals)", people.len()),
            text,
        }
    }
}

fn fields_markdown(out: &mut String, change: &ResourceChange) {
    for field in change.fields.iter().filter(|f| !secret(f)) {
        let _ = writeln!(out, "  - {}", field_markdown(field));
    }
}

/// A collapsed block titled `Title (N)`.
fn details(title: &str, count: usize, what: &str, body: &str) -> Section {
    Section {
        title: format!("{title} ({count} {what})"),
        text: format!("<details><summary>{title} ({count})</summary>\n\n{body}\n</details>\n\n"),
    }
}

fn access_table(changes: &[AccessChange]) -> String {
    let mut text = String::from("| who | role | on | via |\n|---|---|---|---|\n");
    for change in changes {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} |",
            cell(&change.principal_label),
            code_cell(&role_label(&change.access.role)),
            code_cell(&change.access.resource.to_string()),
            cell(&via(change)),
        );
    }
    text
}

/// The closing note naming the sections left out, or nothing.
fn left_out_note(sections: &[Section], kept: &[bool], limit: usize) -> String {
    let left: Vec<&str> = sections
        .iter()
        .zip(kept)
        .filter(|(_, keep)| !**keep)
        .map(|(s, _)| s.title.as_str())
        .collect();
    if left.is_empty() {
        return String::new();
    }
    format!(
        "> **Left out to stay within {limit} characters:** {}. Run `deploy diff <old> <new>` \
         for all of it as text, or with `--json` for programs.\n",
        left.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use cpg_infra::graph::Value;

    use super::*;
    use crate::test_support::{bucket, graph};

    #[test]
    fn summary_comes_first_and_details_are_collapsed() {
        let old = graph(vec![bucket("a", "x"), bucket("b", "x")]);
        let new = graph(vec![
            bucket("a", "y"),
            bucket("c", "x").input("key", Value::from("s").secret()),
        ]);
        let markdown = PlanDiff::between(&old, &new).to_markdown();
        assert!(
            markdown.starts_with(
                "### Infrastructure: 1 to add, 0 to change, 1 to replace, 1 to destroy\n\n\
                 #### Data at risk: 2 destroyed or replaced\n"
            ),
            "{markdown}"
        );
        assert!(
            markdown
                .contains("| **destroy** | `gcp:storage/bucket:Bucket::b` | bucket `cpg-b` |  |"),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "| **replace** | `gcp:storage/bucket:Bucket::a` | bucket `cpg-a` | `location` |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("<details><summary>Replaced (1)</summary>"),
            "{markdown}"
        );
        assert!(!markdown.contains("Left out"), "{markdown}");
    }

    #[test]
    fn secret_changes_are_counted_not_listed() {
        let old = graph(vec![
            bucket("a", "x").input("key", Value::from("one").secret()),
        ]);
        let new = graph(vec![
            bucket("a", "x").input("key", Value::from("two").secret()),
        ]);
        let markdown = PlanDiff::between(&old, &new).to_markdown();
        assert!(
            markdown.contains("Secret values changed: 1 (not shown).\n"),
            "{markdown}"
        );
        assert!(!markdown.contains("inputs.key"), "{markdown}");
        assert!(
            markdown.contains("<summary>Changed (1)</summary>\n\n\n1 more change only secret values (not shown).\n"),
            "{markdown}"
        );
    }

    #[test]
    fn past_the_limit_whole_sections_are_left_out_with_a_note() {
        let old = graph((0..40).map(|i| bucket(&format!("b{i}"), "x")).collect());
        let new = graph(vec![]);
        let diff = PlanDiff::between(&old, &new);
        let full = diff.to_markdown();
        assert!(full.contains("<summary>Destroyed (40)</summary>"), "{full}");
        let limit = chars(&full) - 10;
        let cut = diff.to_markdown_within(limit);
        assert!(chars(&cut) <= limit, "{} > {limit}", chars(&cut));
        // The last section went whole; the summary stayed.
        assert!(!cut.contains("<summary>Destroyed"), "{cut}");
        assert!(!cut.contains("`gcp:storage/bucket:Bucket::b39`\n"), "{cut}");
        assert!(
            cut.contains("#### Data at risk: 40 destroyed or replaced"),
            "{cut}"
        );
        assert!(
            cut.ends_with(&format!(
                "> **Left out to stay within {limit} characters:** Destroyed (40 resources). \
                 Run `deploy diff <old> <new>` for all of it as text, or with `--json` for programs.\n"
            )),
            "{cut}"
        );
    }
}
