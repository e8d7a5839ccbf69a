//! `toml.dumps` (toml 0.10.2), as lines: a table's values under its header, and
//! tables breadth-first (every table one level deep, then every table two levels
//! deep, …), leaving out the headers of tables with nothing but sub-tables.

use super::string::{dump_str, quote_key, read_basic_string, read_key};
use super::{Dict, Py, Slot, unsupported};
use crate::graph::EvaluateError;
use crate::graph::evaluate::python::float_repr;

/// A table `toml.dumps` has still to write.
struct Section<'a> {
    path: Vec<String>,
    header: String,
    dict: &'a Dict,
}

/// `toml.dumps(config)`, as lines.
pub(super) fn dumps(config: &Dict) -> Result<Vec<Slot>, EvaluateError> {
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
) -> Result<Vec<Section<'a>>, EvaluateError> {
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
fn dump_value(value: &Py) -> Result<String, EvaluateError> {
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

#[cfg(test)]
mod tests {
    use super::super::super::testing::{text, toml};
    use crate::graph::Value;

    // --- Against strings from Python 3.11 with toml 0.10.2, toml-sort 0.25.0 and
    // cpg-utils 5.8.1. The Python dicts were built with their keys in descending
    // order, as the evaluation takes a map's keys.

    #[test]
    fn toml_nested_tables_and_dotted_sections() {
        let value = Value::map([
            ("top", Value::from("level")),
            (
                "storage",
                Value::map([
                    (
                        "default",
                        Value::map([
                            ("default", Value::from("gs://a-main")),
                            ("analysis", Value::from("gs://a-main-analysis")),
                            (
                                "test",
                                Value::map([
                                    ("default", Value::from("gs://a-test")),
                                    ("web", Value::from("gs://a-test-web")),
                                ]),
                            ),
                        ]),
                    ),
                    (
                        "a",
                        Value::map([
                            ("default", Value::from("gs://a-main")),
                            (
                                "test",
                                Value::map([("default", Value::from("gs://a-test"))]),
                            ),
                        ]),
                    ),
                ]),
            ),
            (
                "only",
                Value::map([(
                    "sub",
                    Value::map([("deep", Value::map([("x", Value::Int(1))]))]),
                )]),
            ),
            ("empty", Value::map::<&str>([])),
            ("nulls", Value::map([("gone", Value::Null)])),
        ]);
        let expected = "top = \"level\"\n\n[empty]\n\n[nulls]\n\n[only.sub.deep]\nx = 1\n\n\
[storage.a]\ndefault = \"gs://a-main\"\n\n[storage.a.test]\ndefault = \"gs://a-test\"\n\n\
[storage.default]\nanalysis = \"gs://a-main-analysis\"\ndefault = \"gs://a-main\"\n\n\
[storage.default.test]\ndefault = \"gs://a-test\"\nweb = \"gs://a-test-web\"\n";
        assert_eq!(text(toml(value, &[])), expected);
    }

    #[test]
    fn toml_scalars_quotes_unicode_and_arrays() {
        let value = Value::map([
            ("int", Value::Int(-42)),
            ("big", Value::Int(i64::MAX)),
            ("yes", Value::Bool(true)),
            ("no", Value::Bool(false)),
            ("float", Value::Float(0.1)),
            ("huge", Value::Float(1e16)),
            ("tiny", Value::Float(1e-5)),
            ("whole", Value::Float(3.0)),
            ("quote", Value::from("say \"hi\"")),
            ("apostrophe", Value::from("it's")),
            ("both", Value::from("both ' and \"")),
            ("unicode", Value::from("ünïcødé 日本 😀")),
            ("escapes", Value::from("tab\there\nnl\\")),
            (
                "list",
                Value::List(vec![
                    Value::Int(1),
                    Value::from("x"),
                    Value::List(vec![]),
                    Value::Null,
                ]),
            ),
            ("empty", Value::List(vec![])),
            ("a.b", Value::Int(1)),
            ("ü", Value::Int(2)),
            ("", Value::Int(3)),
            (
                "users",
                Value::map([
                    ("alice.smith", Value::map([("id", Value::from("a@x.org"))])),
                    ("bob", Value::map([("id", Value::from("b@x.org"))])),
                ]),
            ),
        ]);
        let expected = r#""" = 3
"a.b" = 1
apostrophe = "it's"
big = 9223372036854775807
both = "both ' and \""
empty = []
escapes = "tab\there\nnl\\"
float = 0.1
huge = 1e+16
int = -42
list = [1, "x", [], "None"]
no = false
quote = "say \"hi\""
tiny = 1e-5
unicode = "ünïcødé 日本 😀"
whole = 3.0
yes = true
"ü" = 2

[users."alice.smith"]
id = "a@x.org"

[users.bob]
id = "b@x.org"
"#;
        assert_eq!(text(toml(value, &[])), expected);
    }
}
