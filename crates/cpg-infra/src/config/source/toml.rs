//! Reads TOML into a [`Node`] tree.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::yaml::MAX_DEPTH;
use super::{Key, Node, NodeValue, SyntaxError};
use crate::python::toml::first_position;

/// Turns byte offsets into 1-based line numbers.
pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub(super) fn line(&self, offset: usize) -> u32 {
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

/// Parses a TOML document. A key defined twice is a syntax error, as TOML requires.
pub fn parse_toml(text: &str) -> Result<Node, SyntaxError> {
    let lines = LineIndex::new(text);
    let table = DeTable::parse(text).map_err(|error| SyntaxError {
        message: error.message().trim().to_owned(),
        line: error.span().map(|span| lines.line(span.start)),
        duplicate: None,
    })?;
    let line = lines.line(table.span().start);
    let value = table_value(table.get_ref(), &lines, 0).map_err(|line| SyntaxError {
        message: "tables and arrays are nested too deeply".to_owned(),
        line: Some(line),
        duplicate: None,
    })?;
    Ok(Node::new(value, line))
}

/// Converts a table, its entries in file order: by where each key first appears (the
/// parser's tables are sorted by key). `Err` holds the line where nesting went past
/// [`MAX_DEPTH`].
fn table_value(table: &DeTable<'_>, lines: &LineIndex, depth: usize) -> Result<NodeValue, u32> {
    let mut entries = Vec::with_capacity(table.len());
    for (key, value) in table.iter() {
        let position = first_position(key, value);
        let key = Key {
            name: key.get_ref().to_string(),
            line: lines.line(key.span().start),
        };
        entries.push((position, key, node(value, lines, depth + 1)?));
    }
    entries.sort_by_key(|(position, ..)| *position);
    Ok(NodeValue::Map(
        entries
            .into_iter()
            .map(|(_, key, value)| (key, value))
            .collect(),
    ))
}

fn node(value: &Spanned<DeValue<'_>>, lines: &LineIndex, depth: usize) -> Result<Node, u32> {
    let line = lines.line(value.span().start);
    if depth > MAX_DEPTH {
        return Err(line);
    }
    let value = match value.get_ref() {
        DeValue::String(s) => NodeValue::Str(s.to_string()),
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            match i64::from_str_radix(&digits, i.radix()) {
                Ok(n) => NodeValue::Int(n),
                // Out of range for i64: keep the magnitude as a float so decoding
                // reports a wrong type rather than a wrong number.
                Err(_) => NodeValue::Float(digits.parse().unwrap_or(f64::INFINITY)),
            }
        }
        DeValue::Float(f) => NodeValue::Float(parse_toml_float(f.as_str())),
        DeValue::Boolean(b) => NodeValue::Bool(*b),
        DeValue::Datetime(d) => NodeValue::Datetime(d.to_string()),
        DeValue::Array(items) => NodeValue::Seq(
            items
                .iter()
                .map(|item| node(item, lines, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        DeValue::Table(table) => table_value(table, lines, depth)?,
    };
    Ok(Node::new(value, line))
}

fn parse_toml_float(text: &str) -> f64 {
    let text = text.replace('_', "");
    match text.trim_start_matches(['+', '-']) {
        "inf" if text.starts_with('-') => f64::NEG_INFINITY,
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => text.parse().unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_nesting() {
        let node = parse_toml("a = 1\n\n[b]\nc = \"x\"\nd = [true, 2.5]\n").expect("valid");
        let (key, a) = node.get("a").expect("a");
        assert_eq!((key.line, &a.value), (1, &NodeValue::Int(1)));
        let (_, b) = node.get("b").expect("b");
        let (key, c) = b.get("c").expect("c");
        assert_eq!(key.line, 4);
        assert_eq!(c.value, NodeValue::Str("x".into()));
        let (_, d) = b.get("d").expect("d");
        assert_eq!(d.line, 5);
    }

    #[test]
    fn duplicate_key_is_an_error_with_a_line() {
        let error = parse_toml("a = 1\na = 2\n").expect_err("duplicate");
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("a = {}1{}\n", "[".repeat(500), "]".repeat(500));
        assert!(parse_toml(&text).is_err());
    }

    #[test]
    fn radix_and_underscores() {
        let node = parse_toml("a = 0x1F\nb = 1_000\nc = -3\n").expect("valid");
        assert_eq!(
            node.get("a").map(|(_, v)| &v.value),
            Some(&NodeValue::Int(31))
        );
        assert_eq!(
            node.get("b").map(|(_, v)| &v.value),
            Some(&NodeValue::Int(1000))
        );
        assert_eq!(
            node.get("c").map(|(_, v)| &v.value),
            Some(&NodeValue::Int(-3))
        );
    }
}
