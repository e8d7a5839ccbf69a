//! The `json` function: Python's `json.dumps` of a [`Value`] with its default
//! arguments, written with [`python::json`](crate::python::json)'s pieces.

use crate::graph::Value;
use crate::python::json::{NULL, write_bool, write_dict, write_float, write_list, write_str};

/// `json.dumps(value)`: `", "` and `": "` separators, non-ASCII escaped.
pub(crate) fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// `json.dumps` of a dict whose keys keep the given order (Python dicts keep insertion
/// order; the graph's maps are sorted). Values are rendered as [`dumps`] renders them.
pub(crate) fn dumps_object(entries: &[(&str, Value)]) -> String {
    let mut out = String::new();
    write_dict(
        entries.iter().map(|(key, item)| (*key, item)),
        &mut out,
        write,
    );
    out
}

/// Appends `value` as `json.dumps` writes it.
fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str(NULL),
        Value::Bool(b) => write_bool(*b, out),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Float(x) => write_float(*x, out),
        Value::String(s) => write_str(s, out),
        Value::List(items) => write_list(items, out, write),
        Value::Map(entries) => write_dict(
            entries.iter().map(|(key, item)| (key.as_str(), item)),
            out,
            write,
        ),
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
