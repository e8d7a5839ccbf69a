//! `toml.dumps` (toml 0.10.2), as lines: a table's values under its header, and
//! tables breadth-first (every table one level deep, then every table two levels
//! deep, …), leaving out the headers of tables with nothing but sub-tables.

use super::string::{dump_str, quote_key, read_basic_string, read_key};
use super::{Slot, TomlError, unsupported};
use crate::python::repr::float_repr;
use crate::python::{Dict, Py};

/// A table `toml.dumps` has still to write.
struct Section<'a> {
    path: Vec<String>,
    header: String,
    dict: &'a Dict,
}

/// `toml.dumps(config)`, as lines.
pub(super) fn dumps(config: &Dict) -> Result<Vec<Slot>, TomlError> {
    let mut slots = Vec::new();
    let mut sections = dump_table(config, &[], "", &mut slots)?;
    while !sections.is_empty() {
        let mut deeper = Vec::new();
        for section in sections {
            let mut values = Vec::new();
            let sub_tables = dump_table(section.dict, &section.path, &section.header, &mut values)?;
            // A header only for tables with values, or with nothing at all.
            if !values.is_empty() || sub_tables.is_empty() {
                slots.push(Slot {
                    path: section.path,
                    header: true,
                    text: format!("[{}]", section.header),
                });
                slots.extend(values);
            }
            deeper.extend(sub_tables);
        }
        sections = deeper;
    }
    Ok(slots)
}

/// Writes a table's value lines (in insertion order, `None` left out) and
/// returns its sub-tables.
fn dump_table<'a>(
    dict: &'a Dict,
    path: &[String],
    header: &str,
    values: &mut Vec<Slot>,
) -> Result<Vec<Section<'a>>, TomlError> {
    let mut sub_tables = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (key, value) in &dict.0 {
        if matches!(value, Py::None) {
            continue;
        }
        let quoted = quote_key(key)?;
        let name = read_key(&quoted)?;
        if names.contains(&name) {
            return Err(unsupported(format!(
                "two keys written as {quoted} in one table"
            )));
        }
        names.push(name.clone());
        let mut child = path.to_vec();
        child.push(name);
        match value {
            Py::Dict(dict) => sub_tables.push(Section {
                path: child,
                header: if header.is_empty() {
                    quoted
                } else {
                    format!("{header}.{quoted}")
                },
                dict,
            }),
            other => values.push(Slot {
                path: child,
                header: false,
                text: format!("{quoted} = {}", dump_value(other)?),
            }),
        }
    }
    Ok(sub_tables)
}

/// A value as toml-sort writes `toml.dumps`'s text back: arrays as
/// `[a, b]` (`toml.dumps` wrote `[ a, b,]`).
fn dump_value(value: &Py) -> Result<String, TomlError> {
    Ok(match value {
        // `toml.dumps` writes `str(None)` for a `None` inside an array.
        Py::None => "\"None\"".into(),
        Py::Bool(b) => if *b { "true" } else { "false" }.into(),
        Py::Int(n) => n.to_string(),
        Py::Float(x) => float_repr(*x)
            .replacen("e+0", "e+", 1)
            .replacen("e-0", "e-", 1),
        Py::Str(s) => {
            let quoted = dump_str(s)?;
            read_basic_string(&quoted).ok_or_else(|| {
                unsupported(format!(
                    "{s:?}: the reference writes it as {quoted}, not TOML"
                ))
            })?;
            quoted
        }
        Py::List(items) => {
            if items.iter().any(|item| matches!(item, Py::Dict(_))) {
                return Err(unsupported("tables inside arrays"));
            }
            let items = items
                .iter()
                .map(dump_value)
                .collect::<Result<Vec<_>, _>>()?;
            format!("[{}]", items.join(", "))
        }
        Py::Dict(_) => return Err(unsupported("tables inside arrays")),
    })
}
