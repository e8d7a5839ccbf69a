//! toml-sort 0.25.0's pass over `toml.dumps`' lines, and the text it writes.
//!
//! Each table is sorted, children before parents: values by key, then sub-tables
//! by key. A table already in order is left where it is; one that is not is
//! gathered: its header, its sorted values, then each sub-table with everything
//! beneath it, at the place of its first line, pushing whatever else lay between
//! its lines after it.

use std::collections::HashMap;

use super::Slot;

/// toml-sort's pass: every table sorted, children before parents.
pub(super) fn sort_document(slots: &mut Vec<Slot>) {
    // Each table's keys in the order they first appear, and whether each is a
    // sub-table (has header lines) or a value.
    let mut order: HashMap<Vec<String>, Vec<(String, bool)>> = HashMap::new();
    for slot in slots.iter() {
        for depth in 0..slot.path.len() {
            let table = depth + 1 < slot.path.len() || slot.header;
            let keys = order.entry(slot.path[..depth].to_vec()).or_default();
            if !keys.iter().any(|(key, _)| *key == slot.path[depth]) {
                keys.push((slot.path[depth].clone(), table));
            }
        }
    }
    sort_table(&[], &order, slots);
}

/// Sorts the table at `path`, after its sub-tables; `order` holds each table's
/// keys in the order they first appear, and whether each is a sub-table.
fn sort_table(
    path: &[String],
    order: &HashMap<Vec<String>, Vec<(String, bool)>>,
    slots: &mut Vec<Slot>,
) {
    let Some(keys) = order.get(path) else { return };
    for (key, table) in keys {
        if *table {
            let mut child = path.to_vec();
            child.push(key.clone());
            sort_table(&child, order, slots);
        }
    }
    let mut values: Vec<&String> = keys.iter().filter(|k| !k.1).map(|k| &k.0).collect();
    let mut tables: Vec<&String> = keys.iter().filter(|k| k.1).map(|k| &k.0).collect();
    values.sort();
    tables.sort();
    let sorted: Vec<&String> = values.into_iter().chain(tables).collect();
    if sorted.iter().copied().eq(keys.iter().map(|k| &k.0)) {
        return;
    }
    gather(path, &sorted, slots);
}

/// Moves the table at `path` into `sorted` order: its header, then each key's
/// lines (values first), at the place of its first line; lines of other tables
/// that lay between its lines follow it.
fn gather(path: &[String], sorted: &[&String], slots: &mut Vec<Slot>) {
    let depth = path.len();
    let Some(first) = slots.iter().position(|s| s.path.starts_with(path)) else {
        return;
    };
    let mut before = Vec::with_capacity(slots.len());
    let mut header = Vec::new();
    let mut groups: Vec<(bool, usize, Vec<Slot>)> = Vec::new();
    let mut after = Vec::new();
    for (i, slot) in std::mem::take(slots).into_iter().enumerate() {
        if i < first {
            before.push(slot);
        } else if !slot.path.starts_with(path) {
            after.push(slot);
        } else if slot.path.len() == depth {
            header.push(slot);
        } else {
            let rank = sorted
                .iter()
                .position(|key| **key == slot.path[depth])
                .unwrap_or(sorted.len());
            let table = slot.header || slot.path.len() > depth + 1;
            match groups.iter_mut().find(|(_, r, _)| *r == rank) {
                Some((_, _, lines)) => lines.push(slot),
                None => groups.push((table, rank, vec![slot])),
            }
        }
    }
    groups.sort_by_key(|(table, rank, _)| (*table, *rank));
    *slots = before;
    slots.extend(header);
    slots.extend(groups.into_iter().flat_map(|(_, _, lines)| lines));
    slots.extend(after);
}

/// The text: a blank line before every header but the first line, then
/// toml-sort's `.strip() + "\n"`.
pub(super) fn write(slots: &[Slot]) -> String {
    let mut out = String::new();
    for slot in slots {
        if slot.header && !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&slot.text);
        out.push('\n');
    }
    format!("{}\n", out.trim())
}
