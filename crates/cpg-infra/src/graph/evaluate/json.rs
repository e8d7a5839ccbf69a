//! The `json` function: Python's `json.dumps` with its default arguments.

use super::python::float_repr;
use crate::graph::Value;

/// `json.dumps(value)`: `", "` and `": "` separators, non-ASCII escaped.
pub(crate) fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// `json.dumps` of a dict whose keys keep the given order (Python dicts keep insertion
/// order; the graph's maps are sorted). Values are rendered as [`dumps`] renders them.
pub(crate) fn dumps_object(entries: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (key, item)) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        string(key, &mut out);
        out.push_str(": ");
        write(item, &mut out);
    }
    out.push('}');
    out
}

/// Appends `value` as `json.dumps` writes it.
fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Float(x) if x.is_nan() => out.push_str("NaN"),
        Value::Float(x) if x.is_infinite() => {
            out.push_str(if *x > 0.0 { "Infinity" } else { "-Infinity" });
        }
        Value::Float(x) => out.push_str(&float_repr(*x)),
        Value::String(s) => string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(key, out);
                out.push_str(": ");
                write(item, out);
            }
            out.push('}');
        }
        Value::Secret(inner) => write(inner, out),
        // Evaluation leaves no outputs, invokes or functions; these and assets are
        // rendered as their plan form.
        Value::Output(_)
        | Value::Invoke(_)
        | Value::Function(_)
        | Value::Asset(_)
        | Value::Archive(_) => {
            out.push_str(&value.to_json().to_string());
        }
    }
}

/// A string with `ensure_ascii`: everything outside space..`~` escaped.
fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::testing::text;
    use crate::graph::{Function, Value};

    #[test]
    fn json_like_python() {
        let value = Value::map([
            (
                "dropboxes",
                Value::List(vec![Value::map([
                    ("id", Value::from("d1")),
                    ("uploaders", Value::strings(["a@x.org", "b@x.org"])),
                    ("move_to_bucket", Value::Null),
                    ("notify", Value::Bool(true)),
                    ("days", Value::Int(30)),
                    ("ratio", Value::Float(1e-5)),
                    ("big", Value::Float(1e16)),
                    ("nan", Value::Float(f64::NAN)),
                    ("inf", Value::Float(f64::NEG_INFINITY)),
                    ("text", Value::from("é \"q\" \\ \n\t\u{7f}\u{1}😀")),
                ])]),
            ),
            ("empty", Value::map::<&str>([])),
            ("none", Value::List(vec![])),
        ]);
        // json.dumps of the same dict, keys in sorted order.
        let expected = r#"{"dropboxes": [{"big": 1e+16, "days": 30, "id": "d1", "inf": -Infinity, "move_to_bucket": null, "nan": NaN, "notify": true, "ratio": 1e-05, "text": "\u00e9 \"q\" \\ \n\t\u007f\u0001\ud83d\ude00", "uploaders": ["a@x.org", "b@x.org"]}], "empty": {}, "none": []}"#;
        assert_eq!(
            text(Value::Function(Function::Json(Box::new(value)))),
            expected
        );
    }
}
