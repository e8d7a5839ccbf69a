//! The merge inputs: TOML texts read as `toml.loads` reads them, each table's keys
//! in the order they first appear in the text.

use ::toml::Spanned;
use ::toml::de::{DeString, DeTable, DeValue};

use super::{TomlError, unsupported};
use crate::python::{Dict, Py};

/// `toml.loads(text)`: tables keep the order their keys first appear in.
pub(super) fn parse(index: usize, text: &str) -> Result<Dict, TomlError> {
    let table = DeTable::parse(text).map_err(|e| TomlError::Invalid {
        index,
        message: e.message().to_owned(),
    })?;
    dict_from_table(table.get_ref())
}

/// A table's entries, ordered by where each key first appears in the text.
fn dict_from_table(table: &DeTable<'_>) -> Result<Dict, TomlError> {
    let mut entries = table
        .iter()
        .map(|(key, value)| {
            Ok((
                first_position(key, value),
                key.get_ref().to_string(),
                py_from_toml(value.get_ref())?,
            ))
        })
        .collect::<Result<Vec<_>, TomlError>>()?;
    entries.sort_by_key(|(position, _, _)| *position);
    Ok(Dict(
        entries
            .into_iter()
            .map(|(_, key, value)| (key, value))
            .collect(),
    ))
}

/// A TOML value as `toml.loads` reads it.
fn py_from_toml(value: &DeValue<'_>) -> Result<Py, TomlError> {
    Ok(match value {
        DeValue::String(s) => Py::Str(s.to_string()),
        DeValue::Integer(n) => Py::Int(
            i64::from_str_radix(n.as_str(), n.radix())
                .map_err(|_| unsupported(format!("the integer {n} (beyond 64 bits)")))?,
        ),
        DeValue::Float(x) if x.as_str().contains("nan") => Py::Float(f64::NAN),
        DeValue::Float(x) => {
            let parsed: f64 = x
                .as_str()
                .parse()
                .map_err(|_| unsupported(format!("the float {x}")))?;
            // toml 0.10.2 negates with `0 - x`, so `-0.0` reads as `0.0`.
            Py::Float(if parsed == 0.0 { 0.0 } else { parsed })
        }
        DeValue::Boolean(b) => Py::Bool(*b),
        DeValue::Datetime(d) => return Err(unsupported(format!("the date-time {d}"))),
        DeValue::Array(items) => Py::List(
            items
                .iter()
                .map(|item| py_from_toml(item.get_ref()))
                .collect::<Result<_, _>>()?,
        ),
        DeValue::Table(table) => Py::Dict(dict_from_table(table)?),
    })
}

/// Where a key first appears in the text: its own span, or an earlier line of a
/// table beneath it (`[a.b]` before `[a]`). The parser sorts a table's keys;
/// ordering them by this gives the order of the text, as `toml.loads` keeps it.
pub(crate) fn first_position(key: &Spanned<DeString<'_>>, value: &Spanned<DeValue<'_>>) -> usize {
    let own = key.span().start.min(value.span().start);
    match value.get_ref() {
        DeValue::Table(table) => table
            .iter()
            .map(|(k, v)| first_position(k, v))
            .fold(own, usize::min),
        _ => own,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_keeps_the_texts_order() {
        let dict =
            parse(0, "z = 1\na = 2\n[y.q]\nk = 1\n[b]\nk = 2\n[y]\nk = 3\n").expect("parses");
        let keys: Vec<&str> = dict.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "a", "y", "b"]);
    }
}
