//! Python's `json.dumps` with its default arguments, piece by piece: `", "` and
//! `": "` separators, `ensure_ascii`, `NaN` and `Infinity`, floats as `repr`.
//!
//! Each function appends one piece to `out`; a caller with its own tree of values
//! walks it and writes each node with these, so every `json.dumps` text is written
//! by the same rules.

use super::repr::float_repr;

/// `None`.
pub(crate) const NULL: &str = "null";

/// A `bool`: `true` or `false`.
pub(crate) fn write_bool(value: bool, out: &mut String) {
    out.push_str(if value { "true" } else { "false" });
}

/// A float: `NaN`, `Infinity`, `-Infinity`, or its `repr`.
pub(crate) fn write_float(x: f64, out: &mut String) {
    if x.is_nan() {
        out.push_str("NaN");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        out.push_str(&float_repr(x));
    }
}

/// A string with `ensure_ascii`: everything outside space..`~` escaped.
pub(crate) fn write_str(s: &str, out: &mut String) {
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

/// A list: `[a, b]`, each item written by `write_item`.
pub(crate) fn write_list<T>(
    items: impl IntoIterator<Item = T>,
    out: &mut String,
    mut write_item: impl FnMut(T, &mut String),
) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_item(item, out);
    }
    out.push(']');
}

/// A dict whose keys come in the given order: `{"k": v}`, each value written by
/// `write_value`.
pub(crate) fn write_dict<'k, T>(
    entries: impl IntoIterator<Item = (&'k str, T)>,
    out: &mut String,
    mut write_value: impl FnMut(T, &mut String),
) {
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_str(key, out);
        out.push_str(": ");
        write_value(value, out);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_as_json_dumps_writes_them() {
        let mut out = String::new();
        write_dict(
            [("é", 1e-5), ("nan", f64::NAN), ("inf", f64::NEG_INFINITY)],
            &mut out,
            write_float,
        );
        // json.dumps({"é": 1e-05, "nan": float("nan"), "inf": float("-inf")})
        assert_eq!(out, r#"{"\u00e9": 1e-05, "nan": NaN, "inf": -Infinity}"#);
        let mut out = String::new();
        write_list([true, false], &mut out, write_bool);
        assert_eq!(out, "[true, false]");
        let mut out = String::new();
        write_str("\u{8}\u{c}😀", &mut out);
        assert_eq!(out, r#""\b\f\ud83d\ude00""#);
    }
}
