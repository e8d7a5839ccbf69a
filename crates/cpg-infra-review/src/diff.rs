//! What a change to the config does to the plan: resources added, removed and
//! changed (each changed input before and after, values only known at deploy time
//! compared by their definition), stack exports, and the effective access gained and
//! lost with the chain of groups that grants it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use cpg_infra::graph::{Function, Graph, Resource, ResourceId, Value};
use serde::Serialize;
use serde_json::Value as Json;

use crate::access::{Access, AccessGraph};
use crate::describe::{describe, escape_controls};
use crate::names::{Names, role_label, role_name};
use crate::replace::Action;
use crate::risk::AtRisk;

/// The version of the diff's JSON format.
pub const DIFF_FORMAT_VERSION: u64 = 1;

/// One input, option or export that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    /// `inputs.<key>`, `options.<name>` or, for an export, its name.
    pub path: String,
    /// The value before; `None` when it was absent.
    pub before: Option<Value>,
    /// The value after; `None` when it is absent.
    pub after: Option<Value>,
}

/// A resource present in both plans whose inputs or options differ.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// The resource.
    pub id: ResourceId,
    /// What differs, sorted by path.
    pub fields: Vec<FieldChange>,
}

/// A grant or membership one plan has and the other has not, with the labels of its
/// chain for people (a group's email rather than its logical name, a person's user
/// key beside their id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessChange {
    /// The access, with the chain in the plan that has it.
    #[serde(flatten)]
    pub access: Access,
    /// The principal's label.
    pub principal_label: String,
    /// The chain's labels.
    pub via: Vec<String>,
}

/// The difference between two plans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanDiff {
    /// Resources only the new plan has, sorted.
    pub added: Vec<Resource>,
    /// Resources only the old plan has, sorted.
    pub removed: Vec<Resource>,
    /// Resources both have that differ, sorted.
    pub changed: Vec<ResourceChange>,
    /// Stack exports added, removed or changed, sorted by name.
    pub exports: Vec<FieldChange>,
    /// Access the new plan gives that the old did not.
    pub access_gained: Vec<AccessChange>,
    /// Access the old plan gave that the new does not.
    pub access_lost: Vec<AccessChange>,
    /// For each changed data-bearing resource, what holds its data in the old plan
    /// (see [`crate::risk`]).
    pub holders: BTreeMap<ResourceId, String>,
    /// Whether access was left out of the comparison (a plan against a stack
    /// export, see [`crate::state`]): the formats then say nothing of access.
    pub without_access: bool,
}

impl PlanDiff {
    /// The difference from `old` to `new`, people named by their ids.
    pub fn between(old: &Graph, new: &Graph) -> PlanDiff {
        PlanDiff::between_named(old, new, &Names::default())
    }

    /// The difference from `old` to `new`, people named as `names` does (see
    /// [`AccessGraph::with_names`]).
    pub fn between_named(old: &Graph, new: &Graph, names: &Names) -> PlanDiff {
        let mut diff = PlanDiff::without_resources(old, new, names);
        diff.compare_resources(
            sorted(old.resources().iter().collect()),
            sorted(new.resources().iter().collect()),
            Resource::clone,
        );
        diff
    }

    /// [`PlanDiff::between_named`], letting go of the plans as it goes: the
    /// resources added and removed are moved out of them rather than copied, and
    /// each plan's access analysis is dropped before the resources are compared.
    /// What a review of two large organisations holds at its peak is then about
    /// the two plans, not the plans and a copy of them.
    pub fn between_owned(old: Graph, new: Graph, names: &Names) -> PlanDiff {
        let mut diff = PlanDiff::without_resources(&old, &new, names);
        diff.compare_resources(
            sorted(old.into_resources()),
            sorted(new.into_resources()),
            |r| r,
        );
        diff
    }

    /// The exports and access that differ from `old` to `new`, and no resources
    /// yet.
    fn without_resources(old: &Graph, new: &Graph, names: &Names) -> PlanDiff {
        let (old_access, new_access) = (
            AccessGraph::with_names(old, names.clone()),
            AccessGraph::with_names(new, names.clone()),
        );
        let (access_gained, access_lost) = access_changes(&old_access, &new_access);
        PlanDiff {
            exports: map_fields("", old.exports(), new.exports()),
            access_gained,
            access_lost,
            ..PlanDiff::default()
        }
    }

    /// Adds the resources only `new` has, only `old` has and both have but
    /// differently, both sorted by id (see [`sorted`]); `owned` makes a
    /// resource to keep of one of theirs.
    fn compare_resources<R: std::borrow::Borrow<Resource>>(
        &mut self,
        old: Vec<R>,
        new: Vec<R>,
        owned: impl Fn(R) -> Resource,
    ) {
        let (mut old, mut new) = (old.into_iter().peekable(), new.into_iter().peekable());
        loop {
            let order = match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(o), Some(n)) => o.borrow().id.cmp(&n.borrow().id),
            };
            match (
                old.next_if(|_| order.is_le()),
                new.next_if(|_| order.is_ge()),
            ) {
                (Some(before), Some(after)) => {
                    let (before, after) = (before.borrow(), after.borrow());
                    let fields = resource_fields(before, after);
                    if !fields.is_empty() {
                        if let Some(holder) = crate::risk::holder_of(before) {
                            self.holders.insert(after.id.clone(), holder);
                        }
                        self.changed.push(ResourceChange {
                            id: after.id.clone(),
                            fields,
                        });
                    }
                }
                (Some(before), None) => self.removed.push(owned(before)),
                (None, Some(after)) => self.added.push(owned(after)),
                (None, None) => break,
            }
        }
    }

    /// Whether the plans are the same.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.exports.is_empty()
            && self.access_gained.is_empty()
            && self.access_lost.is_empty()
    }

    /// The one-line count: `N to add, N to change, N to replace, N to destroy`
    /// (changed in place, replaced: see [`crate::replace`]).
    pub fn counts(&self) -> String {
        format!(
            "{} to add, {} to change, {} to replace, {} to destroy",
            self.added.len(),
            self.updated_count(),
            self.replaced().len(),
            self.removed.len()
        )
    }

    /// The difference for people, coloured with ANSI escapes when `colour`.
    pub fn to_text(&self, colour: bool) -> String {
        let mut out = String::new();
        // Writing to a string cannot fail.
        let _ = self.write_text(colour, &mut out);
        out
    }

    /// Writes [`PlanDiff::to_text`] to `out` a line at a time, never holding the
    /// whole text; the first error of `out` ends the writing.
    pub fn write_text(&self, colour: bool, out: &mut impl Write) -> std::fmt::Result {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\u{1b}[{code}m{text}\u{1b}[0m")
            } else {
                text.to_owned()
            }
        };
        let (green, red, yellow, dim) = ("32", "31", "33", "2");
        let at_risk = self.data_at_risk();
        if !at_risk.is_empty() {
            let head = format!("data at risk: {} destroyed or replaced", at_risk.len());
            writeln!(out, "{}", paint(red, &head))?;
            for risk in &at_risk {
                let mut line = format!(
                    "! {} {}: {}",
                    risk.loss.name(),
                    safe(&risk.id),
                    safe(&risk.holder())
                );
                if !risk.because.is_empty() {
                    let _ = write!(line, " (changes {})", risk.because.join(", "));
                }
                writeln!(out, "{}", paint(red, &line))?;
            }
            out.write_char('\n')?;
        }
        writeln!(out, "resources: {}", self.counts())?;
        for resource in &self.added {
            writeln!(
                out,
                "{}",
                paint(green, &format!("+ {}", safe(&resource.id)))
            )?;
            for (key, value) in &resource.inputs {
                writeln!(out, "    {}: {}", safe(key), named(value))?;
            }
        }
        for change in &self.changed {
            let header = match change.action() {
                Action::Replace { because } => paint(
                    red,
                    &format!("-/+ {} (replace: {})", safe(&change.id), because.join(", ")),
                ),
                Action::Update | Action::Unknown => {
                    paint(yellow, &format!("~ {}", safe(&change.id)))
                }
            };
            writeln!(out, "{header}")?;
            for field in &change.fields {
                write_field_text(out, field, &paint)?;
            }
        }
        for resource in &self.removed {
            writeln!(out, "{}", paint(red, &format!("- {}", safe(&resource.id))))?;
        }
        if !self.exports.is_empty() {
            writeln!(out, "\nexports: {} changed", self.exports.len())?;
            for field in &self.exports {
                write_field_text(out, field, &paint)?;
            }
        }
        if self.without_access {
            return Ok(());
        }
        writeln!(
            out,
            "\naccess: {} gained, {} lost",
            self.access_gained.len(),
            self.access_lost.len()
        )?;
        for (sign, code, changes) in [
            ("+", green, &self.access_gained),
            ("-", red, &self.access_lost),
        ] {
            for change in changes {
                let line = format!(
                    "{sign} {}: {} on {}",
                    safe(&change.principal_label),
                    safe(&role_label(&change.access.role)),
                    safe(&change.access.resource)
                );
                writeln!(out, "{}", paint(code, &line))?;
                let how = if change.via.len() > 1 {
                    format!("    via {}", via(change))
                } else {
                    "    directly".to_owned()
                };
                writeln!(out, "{}", paint(dim, &how))?;
            }
        }
        Ok(())
    }

    /// The difference as a JSON document for programs.
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "format_version": DIFF_FORMAT_VERSION,
            "summary": self.summary_json(),
            "data_at_risk": self.data_at_risk().iter().map(AtRisk::to_json).collect::<Vec<_>>(),
            "added": self.added.iter().map(resource_json).collect::<Vec<_>>(),
            "removed": self.removed.iter().map(resource_json).collect::<Vec<_>>(),
            "changed": self.changed.iter().map(change_json).collect::<Vec<_>>(),
            "exports": self.exports.iter().map(field_json).collect::<Vec<_>>(),
            "access_gained": self.access_gained,
            "access_lost": self.access_lost,
        })
    }

    /// Writes [`PlanDiff::to_json`] as pretty JSON and a newline to `out`, byte for
    /// byte as `serde_json::to_string_pretty` prints it, making one element of each
    /// list at a time rather than the whole document.
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let at_risk = self.data_at_risk();
        crate::stream::write_json_pretty(
            out,
            &JsonDocument {
                diff: self,
                at_risk: &at_risk,
            },
        )
    }

    /// The `summary` object of the JSON document.
    fn summary_json(&self) -> Json {
        serde_json::json!({
            "add": self.added.len(),
            "change": self.changed.len(),
            "update": self.updated_count(),
            "replace": self.replaced().len(),
            "destroy": self.removed.len(),
            "data_at_risk": self.data_at_risk().len(),
            "access_gained": self.access_gained.len(),
            "access_lost": self.access_lost.len(),
        })
    }
}

/// The diff's JSON document, its lists made an element at a time: the keys in the
/// sorted order a [`Json`] object keeps them in.
struct JsonDocument<'a> {
    diff: &'a PlanDiff,
    at_risk: &'a [AtRisk],
}

impl Serialize for JsonDocument<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use crate::stream::{Each, each_value};
        use serde::ser::SerializeMap;
        let diff = self.diff;
        let mut map = serializer.serialize_map(Some(9))?;
        map.serialize_entry("access_gained", &each_value(&diff.access_gained))?;
        map.serialize_entry("access_lost", &each_value(&diff.access_lost))?;
        map.serialize_entry("added", &Each(|| diff.added.iter().map(resource_json)))?;
        map.serialize_entry("changed", &Each(|| diff.changed.iter().map(change_json)))?;
        map.serialize_entry(
            "data_at_risk",
            &Each(|| self.at_risk.iter().map(AtRisk::to_json)),
        )?;
        map.serialize_entry("exports", &Each(|| diff.exports.iter().map(field_json)))?;
        map.serialize_entry("format_version", &DIFF_FORMAT_VERSION)?;
        map.serialize_entry("removed", &Each(|| diff.removed.iter().map(resource_json)))?;
        map.serialize_entry("summary", &diff.summary_json())?;
        map.end()
    }
}

/// An added or removed resource in the JSON document, secrets redacted.
fn resource_json(resource: &Resource) -> Json {
    redacted(resource.to_json())
}

/// A changed input, option or export in the JSON document, secrets redacted.
fn field_json(field: &FieldChange) -> Json {
    serde_json::json!({
        "path": field.path,
        "before": field.before.as_ref().map(|v| redacted(v.to_json())),
        "after": field.after.as_ref().map(|v| redacted(v.to_json())),
    })
}

/// A changed resource in the JSON document: its action, why it is replaced, and
/// what differs.
fn change_json(change: &ResourceChange) -> Json {
    let action = change.action();
    let because = match &action {
        Action::Replace { because } => because.clone(),
        Action::Update | Action::Unknown => Vec::new(),
    };
    serde_json::json!({
        "resource": change.id.to_string(),
        "action": action.name(),
        "because": because,
        "fields": change.fields.iter().map(field_json).collect::<Vec<_>>(),
    })
}

/// `resources` sorted by id.
fn sorted<R: std::borrow::Borrow<Resource>>(mut resources: Vec<R>) -> Vec<R> {
    resources.sort_by(|a, b| a.borrow().id.cmp(&b.borrow().id));
    resources
}

/// The access `new` gives that `old` did not, and the access `old` gave that `new`
/// does not: each in the order of [`AccessGraph::effective`], labelled by the
/// graph that has it. Compared a principal at a time (both lists are sorted by
/// principal first), so that neither plan's whole effective access is held.
fn access_changes(old: &AccessGraph, new: &AccessGraph) -> (Vec<AccessChange>, Vec<AccessChange>) {
    let labelled = |access: &Access, graph: &AccessGraph| AccessChange {
        principal_label: graph.label(&access.principal),
        via: access.chain.iter().map(|p| graph.label(p)).collect(),
        access: access.clone(),
    };
    // Of `ours`, what `theirs` (of the same principal) has not.
    let only_in = |ours: &[Access], theirs: &[Access], graph: &AccessGraph| {
        let keys: BTreeSet<_> = theirs.iter().map(Access::key).collect();
        ours.iter()
            .filter(|a| !keys.contains(&a.key()))
            .map(|a| labelled(a, graph))
            .collect::<Vec<_>>()
    };
    let (mut gained, mut lost) = (Vec::new(), Vec::new());
    let (old_principals, new_principals) = (old.principals(), new.principals());
    let (mut olds, mut news) = (
        old_principals.iter().peekable(),
        new_principals.iter().peekable(),
    );
    loop {
        let order = match (olds.peek(), news.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(o), Some(n)) => o.cmp(n),
        };
        let before = match order {
            std::cmp::Ordering::Greater => Vec::new(),
            _ => olds.next().map_or_else(Vec::new, |p| old.access_of(p)),
        };
        let after = match order {
            std::cmp::Ordering::Less => Vec::new(),
            _ => news.next().map_or_else(Vec::new, |p| new.access_of(p)),
        };
        gained.extend(only_in(&after, &before, new));
        lost.extend(only_in(&before, &after, old));
    }
    (gained, lost)
}

/// The inputs and options of two versions of a resource that differ.
fn resource_fields(old: &Resource, new: &Resource) -> Vec<FieldChange> {
    let mut fields = map_fields("inputs.", &old.inputs, &new.inputs);
    let (before, after) = (old.options.to_json(), new.options.to_json());
    if before != after {
        let empty = serde_json::Map::new();
        let before = before.as_object().unwrap_or(&empty);
        let after = after.as_object().unwrap_or(&empty);
        let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for name in names {
            if before.get(name) != after.get(name) {
                fields.push(FieldChange {
                    path: format!("options.{name}"),
                    before: before.get(name).map(json_value),
                    after: after.get(name).map(json_value),
                });
            }
        }
    }
    fields
}

/// The entries of two maps that differ, keys prefixed with `prefix`.
fn map_fields(
    prefix: &str,
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
) -> Vec<FieldChange> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|key| before.get(*key).map(normalised) != after.get(*key).map(normalised))
        .map(|key| FieldChange {
            path: format!("{prefix}{key}"),
            before: before.get(key).cloned(),
            after: after.get(key).cloned(),
        })
        .collect()
}

/// `items` normalised and in one canonical order (by their JSON text), without
/// repeats when `dedup`: the order of a list the engine sorts does not matter.
fn in_order(items: &[Value], dedup: bool) -> Vec<Value> {
    let mut keyed: Vec<(String, Value)> = items
        .iter()
        .map(normalised)
        .map(|v| (v.to_json().to_string(), v))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    if dedup {
        keyed.dedup_by(|a, b| a.0 == b.0);
    }
    keyed.into_iter().map(|(_, v)| v).collect()
}

/// `value` in a form where equal definitions are equal: the items of
/// `$sortedmembers` (which the engine sorts and de-duplicates) sorted and
/// de-duplicated by their JSON text.
fn normalised(value: &Value) -> Value {
    match value {
        Value::Function(Function::SortedMembers(items)) => {
            Value::Function(Function::SortedMembers(in_order(items, true)))
        }
        // Sorted when deploying: the order given does not matter, repeats do.
        Value::Function(Function::Sorted(items)) => {
            Value::Function(Function::Sorted(in_order(items, false)))
        }
        // Anything else with its values normalised; an asset or archive compares
        // by its contents' digests and paths, as it is.
        _ => value.map_children(normalised),
    }
}

/// A resource option (plain JSON) as a value.
fn json_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(json_value).collect()),
        Json::Object(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), json_value(v)))
                .collect(),
        ),
    }
}

/// The items of a list-like value (a list or `$sortedmembers`), described.
fn items(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::List(items) | Value::Function(Function::SortedMembers(items)) => {
            Some(items.iter().map(describe).collect())
        }
        _ => None,
    }
}

/// For two list-like values: the items removed and the items added.
fn list_delta(field: &FieldChange) -> Option<(Vec<String>, Vec<String>)> {
    let before = items(field.before.as_ref()?)?;
    let after = items(field.after.as_ref()?)?;
    let removed = before
        .iter()
        .filter(|i| !after.contains(i))
        .cloned()
        .collect();
    let added = after
        .iter()
        .filter(|i| !before.contains(i))
        .cloned()
        .collect();
    Some((removed, added))
}

/// Whether a change is to a secret whose text cannot be shown.
pub(crate) fn secret(field: &FieldChange) -> bool {
    let hides = |v: &Option<Value>| matches!(v, Some(Value::Secret(_)));
    hides(&field.before) || hides(&field.after)
}

fn shown(value: &Option<Value>) -> String {
    value.as_ref().map_or_else(|| "(absent)".to_owned(), named)
}

/// `value` described, with the name of the Azure built-in role it names, if any:
/// `/providers/…/roleDefinitions/2a2b9908-… (Storage Blob Data Reader)`.
fn named(value: &Value) -> String {
    let text = describe(value);
    match role_name(&text) {
        Some(name) => format!("{text} ({name})"),
        None => text,
    }
}

fn write_field_text(
    out: &mut impl Write,
    field: &FieldChange,
    paint: &dyn Fn(&str, &str) -> String,
) -> std::fmt::Result {
    if secret(field) && field.before.is_some() && field.after.is_some() {
        writeln!(out, "    {}: secret value changed", safe(&field.path))?;
    } else if let Some((removed, added)) = list_delta(field) {
        writeln!(out, "    {}:", safe(&field.path))?;
        for item in removed {
            writeln!(out, "      {}", paint("31", &format!("- {item}")))?;
        }
        for item in added {
            writeln!(out, "      {}", paint("32", &format!("+ {item}")))?;
        }
    } else {
        writeln!(
            out,
            "    {}: {} → {}",
            safe(&field.path),
            shown(&field.before),
            shown(&field.after)
        )?;
    }
    Ok(())
}

pub(crate) fn field_markdown(field: &FieldChange) -> String {
    if secret(field) && field.before.is_some() && field.after.is_some() {
        format!("{}: secret value changed", code(&safe(&field.path)))
    } else if let Some((removed, added)) = list_delta(field) {
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("added {}", code_list(&added)));
        }
        if !removed.is_empty() {
            parts.push(format!("removed {}", code_list(&removed)));
        }
        format!("{}: {}", code(&safe(&field.path)), parts.join("; "))
    } else {
        format!(
            "{}: {} → {}",
            code(&safe(&field.path)),
            code(&shown(&field.before)),
            code(&shown(&field.after))
        )
    }
}

pub(crate) fn via(change: &AccessChange) -> String {
    if change.via.len() > 1 {
        safe(&change.via.join(" → "))
    } else {
        "directly".to_owned()
    }
}

/// `value` as text whose control characters are escaped (see [`escape_controls`]).
fn safe(value: &impl std::fmt::Display) -> String {
    escape_controls(&value.to_string()).into_owned()
}

/// Inline code that survives any backticks in `text`, control characters escaped.
pub(crate) fn code(text: &str) -> String {
    let text = escape_controls(text);
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

pub(crate) fn code_list(items: &[String]) -> String {
    items.iter().map(|i| code(i)).collect::<Vec<_>>().join(", ")
}

/// Text for a Markdown table cell, control characters escaped.
pub(crate) fn cell(text: &str) -> String {
    escape_controls(text).replace('|', "\\|")
}

pub(crate) fn code_cell(text: &str) -> String {
    cell(&code(text))
}

/// `json` with every secret's contents replaced by `[secret]`.
fn redacted(json: Json) -> Json {
    match json {
        Json::Object(entries) if entries.len() == 1 && entries.contains_key("$secret") => {
            serde_json::json!({ "$secret": "[secret]" })
        }
        Json::Object(entries) => {
            Json::Object(entries.into_iter().map(|(k, v)| (k, redacted(v))).collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(redacted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{bucket, graph};

    #[test]
    fn a_plan_against_itself_is_empty() {
        let plan = graph(vec![bucket("a", "x")]);
        let diff = PlanDiff::between(&plan, &plan);
        assert!(diff.is_empty());
        assert_eq!(
            diff.counts(),
            "0 to add, 0 to change, 0 to replace, 0 to destroy"
        );
    }

    #[test]
    fn added_removed_and_changed_inputs_are_reported() {
        let old = graph(vec![bucket("a", "x"), bucket("b", "x")]);
        let new = graph(vec![bucket("a", "y"), bucket("c", "x")]);
        let diff = PlanDiff::between(&old, &new);
        assert_eq!(diff.added.len(), 1);
        assert_eq!(&*diff.added[0].id.name, "c");
        assert_eq!(&*diff.removed[0].id.name, "b");
        assert_eq!(diff.changed.len(), 1);
        let field = &diff.changed[0].fields[0];
        assert_eq!(field.path, "inputs.location");
        assert_eq!(field.before, Some(Value::from("x")));
        assert_eq!(field.after, Some(Value::from("y")));
        let text = diff.to_text(false);
        // A bucket's location cannot change in place: it is replaced, and its data
        // is at risk.
        assert!(
            text.contains(
                "-/+ gcp:storage/bucket:Bucket::a (replace: location)\n    inputs.location: x → y\n"
            ),
            "{text}"
        );
        assert!(
            text.starts_with(
                "data at risk: 2 destroyed or replaced\n\
                 ! destroy gcp:storage/bucket:Bucket::b: bucket cpg-b\n\
                 ! replace gcp:storage/bucket:Bucket::a: bucket cpg-a (changes location)\n\n\
                 resources: 1 to add, 0 to change, 1 to replace, 1 to destroy\n"
            ),
            "{text}"
        );
        let labels = graph(vec![
            bucket("a", "y").input("labels", Value::strings(["l"])),
        ]);
        let updated = PlanDiff::between(&graph(vec![bucket("a", "y")]), &labels);
        assert!(updated.data_at_risk().is_empty());
        assert!(
            updated
                .to_text(false)
                .contains("resources: 0 to add, 1 to change, 0 to replace, 0 to destroy\n~ gcp:storage/bucket:Bucket::a\n"),
            "{}",
            updated.to_text(false)
        );
        assert!(!diff.to_text(false).contains('\u{1b}'));
        assert!(
            diff.to_text(true)
                .contains("\u{1b}[32m+ gcp:storage/bucket:Bucket::c")
        );
    }

    #[test]
    fn unknown_values_compare_by_definition() {
        let project = Resource::new("gcp:organizations/project:Project", "p");
        let other = Resource::new("gcp:organizations/project:Project", "q");
        let in_project =
            |p: &Resource| bucket("a", "x").input("project", Value::output(&p.id, "projectId"));
        let old = graph(vec![project.clone(), other.clone(), in_project(&project)]);
        let same = graph(vec![project.clone(), other.clone(), in_project(&project)]);
        assert!(PlanDiff::between(&old, &same).is_empty());
        let moved = graph(vec![project, other.clone(), in_project(&other)]);
        let diff = PlanDiff::between(&old, &moved);
        let text = diff.to_text(false);
        assert!(
            text.contains("inputs.project: ${gcp:organizations/project:Project::p.projectId} → ${gcp:organizations/project:Project::q.projectId}"),
            "{text}"
        );
    }

    #[test]
    fn secrets_are_reported_changed_but_never_shown() {
        let old = graph(vec![
            bucket("a", "x").input("key", Value::from("old key").secret()),
        ]);
        let new = graph(vec![
            bucket("a", "x").input("key", Value::from("new key").secret()),
        ]);
        let diff = PlanDiff::between(&old, &new);
        assert_eq!(diff.changed.len(), 1);
        for text in [
            diff.to_text(false),
            diff.to_markdown(),
            diff.to_json().to_string(),
        ] {
            assert!(
                !text.contains("old key") && !text.contains("new key"),
                "{text}"
            );
        }
        assert!(
            diff.to_text(false)
                .contains("inputs.key: secret value changed")
        );
    }

    #[test]
    fn list_inputs_show_the_items_added_and_removed() {
        let old = graph(vec![
            bucket("a", "x").input("members", Value::strings(["p", "q"])),
        ]);
        let new = graph(vec![
            bucket("a", "x").input("members", Value::strings(["q", "r"])),
        ]);
        let diff = PlanDiff::between(&old, &new);
        let text = diff.to_text(false);
        assert!(
            text.contains("    inputs.members:\n      - p\n      + r\n"),
            "{text}"
        );
        let markdown = diff.to_markdown();
        assert!(
            markdown.contains("  - `inputs.members`: added `r`; removed `p`"),
            "{markdown}"
        );
    }

    #[test]
    fn sorted_members_in_another_order_are_no_change() {
        let members = |items: &[&str]| {
            Value::Function(Function::SortedMembers(
                items.iter().map(|i| Value::from(*i)).collect(),
            ))
            .secret()
        };
        let old = graph(vec![bucket("a", "x").input("m", members(&["p", "q"]))]);
        let same = graph(vec![bucket("a", "x").input("m", members(&["q", "p", "q"]))]);
        assert!(PlanDiff::between(&old, &same).is_empty());
        let more = graph(vec![bucket("a", "x").input("m", members(&["q", "p", "r"]))]);
        assert_eq!(PlanDiff::between(&old, &more).changed.len(), 1);
    }

    #[test]
    fn markdown_table_cells_escape_pipes() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(code("a`b"), "`` a`b ``");
    }

    #[test]
    fn access_changes_name_people_and_roles_and_json_keeps_the_ids() {
        use cpg_infra_azure::{roles, tokens as azure};
        let container = Resource::new(azure::BLOB_CONTAINER, "ds-main");
        let reader = roles::definition(roles::BLOB_READER);
        let grant = Resource::new(azure::ROLE_ASSIGNMENT, "ann-reads")
            .input("principalId", "0000aaaa-0000-4000-8000-000000000001")
            .input("roleDefinitionId", reader.as_str())
            .input("scope", Value::output(&container.id, "id"));
        let old = graph(vec![container.clone()]);
        let new = graph(vec![container, grant]);
        let names = Names::from_identities([("ann", "0000aaaa-0000-4000-8000-000000000001", None)]);
        let diff = PlanDiff::between_named(&old, &new, &names);
        let text = diff.to_text(false);
        assert!(
            text.contains("+ ann (0000aaaa-0000-4000-8000-000000000001): Storage Blob Data Reader on azure-native:storage:BlobContainer::ds-main\n    directly\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "    roleDefinitionId: {reader} (Storage Blob Data Reader)\n"
            )),
            "{text}"
        );
        let markdown = diff.to_markdown();
        assert!(markdown.contains("| ann | 1 | 0 |"), "{markdown}");
        assert!(
            markdown.contains(
                "| ann (0000aaaa-0000-4000-8000-000000000001) | `Storage Blob Data Reader` |"
            ),
            "{markdown}"
        );
        let json = diff.to_json();
        let gained = &json["access_gained"][0];
        assert_eq!(gained["principal"], "0000aaaa-0000-4000-8000-000000000001");
        assert_eq!(gained["user"], "ann");
        assert_eq!(gained["role"], reader.as_str());
        assert_eq!(gained["role_name"], "Storage Blob Data Reader");
        // Unnamed, an id stays as it is.
        let plain = PlanDiff::between(&old, &new).to_text(false);
        assert!(
            plain.contains("+ 0000aaaa-0000-4000-8000-000000000001: Storage Blob Data Reader on"),
            "{plain}"
        );
    }
}
