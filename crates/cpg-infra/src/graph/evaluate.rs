//! Evaluating a [`Value`] once the deploy-time values it refers to are known.
//!
//! A [`Resolver`] supplies other resources' outputs and data-source results;
//! [`Value::evaluate`] substitutes them and computes every [`Function`] the way the
//! Python reference (`cpg-infrastructure`) computed it, byte for byte where the
//! graph carries enough information (see each function below).
//!
//! Secrets stay secrets: a [`Value::Secret`] evaluates to a secret around its
//! evaluated value, and a function applied to anything secret gives a secret result
//! (as Pulumi's `apply` does).

use std::collections::HashMap;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::resource::ResourceId;
use super::value::{Function, Invoke, OutputRef, Value};
use crate::driver::naming::sort_members;

/// Supplies the values known only at deploy time.
pub trait Resolver {
    /// The value of another resource's output property, or `None` while it is not
    /// known. The value returned must itself be known (no outputs, invokes or
    /// functions inside); it is used as is.
    fn output(&self, output: &OutputRef) -> Option<Value>;

    /// The used property of a data source's result, or `None` while it is not known.
    /// `invoke` is as declared: its arguments may themselves be unknown values. The
    /// value returned must be known; it is used as is.
    fn invoke(&self, invoke: &Invoke) -> Option<Value>;
}

/// Why a value could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluateError {
    /// The resolver does not know a resource's output.
    #[error("output {property:?} of {resource} is not known")]
    UnresolvedOutput {
        /// The resource.
        resource: ResourceId,
        /// The property path.
        property: String,
    },
    /// The resolver does not know a data source's result.
    #[error("property {property:?} of data source {token} is not known")]
    UnresolvedInvoke {
        /// The data source's token.
        token: String,
        /// The property of its result.
        property: String,
    },
    /// A function was applied to a value of the wrong kind.
    #[error("{function} expects {expected}, got {found}")]
    WrongArgument {
        /// The function, as the plan names it (`concat`, `toml`, …).
        function: &'static str,
        /// What it expects.
        expected: &'static str,
        /// What it got.
        found: &'static str,
    },
    /// `base64decode` got text that is not base64 (as Python's `base64.b64decode`
    /// judges it).
    #[error("base64decode: {reason}")]
    InvalidBase64 {
        /// Python's reason.
        reason: String,
    },
    /// `base64decode` decoded bytes that are not UTF-8.
    #[error("base64decode: the decoded bytes are not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// The length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// A TOML text to merge cannot be parsed.
    #[error("toml: merge input {index} is not valid TOML: {message}")]
    InvalidToml {
        /// The input's position in `merge`.
        index: usize,
        /// The parser's message.
        message: String,
    },
    /// A value the reference's TOML rendering cannot render either (it raises or
    /// writes TOML it cannot read back), or one this emulation does not cover.
    #[error("toml: cannot render {reason}")]
    UnsupportedToml {
        /// What cannot be rendered.
        reason: String,
    },
}

impl Value {
    /// This value with every output and invoke replaced by the resolver's value and
    /// every function computed: a known value (see [`Value::is_known`]).
    ///
    /// - `concat`: the parts joined; every part must be a string (the reference's
    ///   `"".join` accepts nothing else).
    /// - `json`: Python's `json.dumps(v)` with its defaults (`", "`, `": "`,
    ///   `ensure_ascii`, `NaN`/`Infinity`, floats as `repr`); map keys come in the
    ///   map's (sorted) order, where the reference used its dict's insertion order.
    /// - `toml`: the merge texts parsed and deep-merged in order
    ///   (`cpg_utils.config.update_dict`), `value` deep-merged over them, then
    ///   rendered as the reference's `dict_to_toml` does
    ///   (`TomlSort(toml.dumps(d)).sorted()`, toml 0.10.2 and toml-sort 0.25.0).
    ///   The layout depends on the dicts' insertion order, which a [`Value::Map`]
    ///   does not keep: its keys are taken in descending order (so no table counts as
    ///   already sorted, as with the reference's own dicts); merge texts keep their
    ///   textual order exactly. Merge texts are read as TOML 1.1 (toml 0.10.2's
    ///   misreadings of escapes in quoted header keys are not reproduced); arrays of
    ///   tables, date-times and integers beyond 64 bits are
    ///   [`EvaluateError::UnsupportedToml`], as are strings the reference cannot
    ///   write either. Unassigned code points, which Python's `repr` escapes, are
    ///   written as they are.
    /// - `base64decode`: Python's lenient `base64.b64decode`, then strict UTF-8.
    /// - `sortedmembers`: [`sort_members`] of the ids, which must be strings.
    /// - `lines`: a list of strings joined by newlines; `"\n"` when that is empty.
    pub fn evaluate(&self, resolver: &dyn Resolver) -> Result<Value, EvaluateError> {
        Ok(match self {
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::String(_) => {
                self.clone()
            }
            Value::List(items) => Value::List(
                items
                    .iter()
                    .map(|item| item.evaluate(resolver))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(key, item)| Ok((key.clone(), item.evaluate(resolver)?)))
                    .collect::<Result<_, EvaluateError>>()?,
            ),
            Value::Secret(inner) => match inner.evaluate(resolver)? {
                secret @ Value::Secret(_) => secret,
                plain => plain.secret(),
            },
            Value::Output(output) => {
                resolver
                    .output(output)
                    .ok_or_else(|| EvaluateError::UnresolvedOutput {
                        resource: output.resource.clone(),
                        property: output.property.clone(),
                    })?
            }
            Value::Invoke(invoke) => {
                resolver
                    .invoke(invoke)
                    .ok_or_else(|| EvaluateError::UnresolvedInvoke {
                        token: invoke.token.clone(),
                        property: invoke.property.clone(),
                    })?
            }
            Value::Function(function) => function.evaluate(resolver)?,
        })
    }
}

impl Function {
    /// The function's result; secret when any argument holds a secret.
    fn evaluate(&self, resolver: &dyn Resolver) -> Result<Value, EvaluateError> {
        let mut secret = false;
        let mut known = |value: &Value| -> Result<Value, EvaluateError> {
            Ok(reveal(value.evaluate(resolver)?, &mut secret))
        };
        let result =
            match self {
                Function::Concat(parts) => {
                    let mut joined = String::new();
                    for part in parts {
                        joined.push_str(&expect_string("concat", "strings", known(part)?)?);
                    }
                    Value::String(joined)
                }
                Function::Json(value) => Value::String(json::dumps(&known(value)?)),
                Function::Toml { value, merge } => {
                    let value = match known(value)? {
                        Value::Map(value) => value,
                        other => return Err(wrong("toml", "a map", &other)),
                    };
                    let texts = merge
                        .iter()
                        .map(|text| expect_string("toml", "TOML texts to merge", known(text)?))
                        .collect::<Result<Vec<_>, _>>()?;
                    Value::String(pytoml::render(&value, &texts)?)
                }
                Function::Base64Decode(value) => Value::String(base64::decode_utf8(
                    &expect_string("base64decode", "a string", known(value)?)?,
                )?),
                Function::SortedMembers(members) => {
                    let ids = members
                        .iter()
                        .map(|id| expect_string("sortedmembers", "member ids", known(id)?))
                        .collect::<Result<Vec<_>, _>>()?;
                    Value::strings(sort_members(ids.iter().map(String::as_str)))
                }
                Function::Lines(value) => {
                    let items = match known(value)? {
                        Value::List(items) => items,
                        other => return Err(wrong("lines", "a list of strings", &other)),
                    };
                    let lines = items
                        .into_iter()
                        .map(|item| expect_string("lines", "a list of strings", item))
                        .collect::<Result<Vec<_>, _>>()?;
                    let joined = lines.join("\n");
                    // The reference writes `joined or '\n'`.
                    Value::String(if joined.is_empty() {
                        "\n".to_owned()
                    } else {
                        joined
                    })
                }
            };
        Ok(if secret { result.secret() } else { result })
    }
}

/// `value` with its secrets unwrapped; sets `secret` when there was one.
fn reveal(value: Value, secret: &mut bool) -> Value {
    match value {
        Value::Secret(inner) => {
            *secret = true;
            reveal(*inner, secret)
        }
        Value::List(items) => Value::List(items.into_iter().map(|v| reveal(v, secret)).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, reveal(v, secret)))
                .collect(),
        ),
        other => other,
    }
}

fn expect_string(
    function: &'static str,
    expected: &'static str,
    value: Value,
) -> Result<String, EvaluateError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(wrong(function, expected, &other)),
    }
}

fn wrong(function: &'static str, expected: &'static str, found: &Value) -> EvaluateError {
    EvaluateError::WrongArgument {
        function,
        expected,
        found: kind(found),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Secret(_) => "a secret",
        Value::Output(_) => "an output",
        Value::Invoke(_) => "an invoke",
        Value::Function(_) => "a function",
    }
}

/// Python's `repr` of floats and strings.
mod python {
    /// `float.__repr__`: the shortest digits that round-trip, positional for decimal
    /// exponents from -4 to 15 (`0.0001`, `1000000000000000.0`), scientific outside
    /// (`1e-05`, `1e+16`); `nan`, `inf`, `-inf`.
    pub(super) fn float_repr(x: f64) -> String {
        if x.is_nan() {
            return "nan".into();
        }
        if x.is_infinite() {
            return if x > 0.0 { "inf" } else { "-inf" }.into();
        }
        if x == 0.0 {
            return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
        }
        // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
        let scientific = format!("{:e}", x.abs());
        let (mantissa, exponent) = scientific
            .split_once('e')
            .unwrap_or((scientific.as_str(), "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let sign = if x < 0.0 { "-" } else { "" };
        if !(-4..16).contains(&exponent) {
            let (first, rest) = digits.split_at(1);
            let fraction = if rest.is_empty() {
                String::new()
            } else {
                format!(".{rest}")
            };
            let exp_sign = if exponent < 0 { '-' } else { '+' };
            return format!("{sign}{first}{fraction}e{exp_sign}{:02}", exponent.abs());
        }
        let point = exponent + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            if point >= digits.len() {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    }

    /// Characters outside ASCII that Python's `str.isprintable` rejects (categories
    /// Cc, Cf, Cs, Co, Zl, Zp and Zs but the space; Unicode 14). Unassigned code
    /// points, which Python escapes as well, are not listed.
    const NOT_PRINTABLE: &[(u32, u32)] = &[
        (0x80, 0xa0),
        (0xad, 0xad),
        (0x600, 0x605),
        (0x61c, 0x61c),
        (0x6dd, 0x6dd),
        (0x70f, 0x70f),
        (0x890, 0x891),
        (0x8e2, 0x8e2),
        (0x1680, 0x1680),
        (0x180e, 0x180e),
        (0x2000, 0x200f),
        (0x2028, 0x202f),
        (0x205f, 0x2064),
        (0x2066, 0x206f),
        (0x3000, 0x3000),
        (0xd800, 0xf8ff),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x13438),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
        (0xf0000, 0xffffd),
        (0x100000, 0x10fffd),
    ];

    fn printable(c: char) -> bool {
        let c = u32::from(c);
        !NOT_PRINTABLE
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&c))
    }

    /// `str.__repr__`: single quotes unless the text has a single quote and no
    /// double quote; backslash, that quote, `\t`, `\n`, `\r` escaped; other control
    /// and unprintable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
    pub(super) fn str_repr(s: &str) -> String {
        let quote = if s.contains('\'') && !s.contains('"') {
            '"'
        } else {
            '\''
        };
        let mut out = String::with_capacity(s.len() + 2);
        out.push(quote);
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c if c == quote => {
                    out.push('\\');
                    out.push(c);
                }
                c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
                c if c.is_ascii() || printable(c) => out.push(c),
                c => {
                    let code = u32::from(c);
                    out.push_str(&if code <= 0xff {
                        format!("\\x{code:02x}")
                    } else if code <= 0xffff {
                        format!("\\u{code:04x}")
                    } else {
                        format!("\\U{code:08x}")
                    });
                }
            }
        }
        out.push(quote);
        out
    }
}

/// Python's `json.dumps` with its default arguments.
mod json {
    use super::Value;
    use super::python::float_repr;

    /// `json.dumps(value)`: `", "` and `": "` separators, non-ASCII escaped.
    pub(super) fn dumps(value: &Value) -> String {
        let mut out = String::new();
        write(value, &mut out);
        out
    }

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
            // Evaluation leaves none of these; render them as their plan form.
            Value::Output(_) | Value::Invoke(_) | Value::Function(_) => {
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
}

/// Python's `base64.b64decode(s).decode('utf-8')`.
mod base64 {
    use super::EvaluateError;

    fn sextet(byte: u8) -> Option<u8> {
        match byte {
            b'A'..=b'Z' => Some(byte - b'A'),
            b'a'..=b'z' => Some(byte - b'a' + 26),
            b'0'..=b'9' => Some(byte - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }

    /// Decodes like CPython's non-strict `binascii.a2b_base64`: characters outside
    /// the alphabet are skipped, a complete padding ends the input, leftover bits
    /// are dropped; then the bytes must be UTF-8.
    pub(super) fn decode_utf8(text: &str) -> Result<String, EvaluateError> {
        let invalid = |reason: String| EvaluateError::InvalidBase64 { reason };
        if !text.is_ascii() {
            return Err(invalid(
                "string argument should contain only ASCII characters".into(),
            ));
        }
        let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
        let mut quad = 0u8;
        let mut pads = 0u8;
        let mut left = 0u8;
        let mut complete = false;
        for byte in text.bytes() {
            if byte == b'=' {
                if quad >= 2 {
                    pads += 1;
                    if quad + pads >= 4 {
                        complete = true;
                        break;
                    }
                }
                continue;
            }
            let Some(bits) = sextet(byte) else { continue };
            pads = 0;
            match quad {
                0 => {
                    left = bits;
                    quad = 1;
                }
                1 => {
                    bytes.push((left << 2) | (bits >> 4));
                    left = bits & 0x0f;
                    quad = 2;
                }
                2 => {
                    bytes.push((left << 4) | (bits >> 2));
                    left = bits & 0x03;
                    quad = 3;
                }
                _ => {
                    bytes.push((left << 6) | bits);
                    quad = 0;
                }
            }
        }
        if !complete && quad == 1 {
            return Err(invalid(format!(
                "Invalid base64-encoded string: number of data characters ({}) cannot be 1 \
                 more than a multiple of 4",
                bytes.len() / 3 * 4 + 1
            )));
        }
        if !complete && quad != 0 {
            return Err(invalid("Incorrect padding".into()));
        }
        String::from_utf8(bytes).map_err(|e| EvaluateError::NotUtf8 {
            valid_up_to: e.utf8_error().valid_up_to(),
        })
    }
}

/// The reference's `dict_to_toml` after its `update_dict` merges:
/// `TomlSort(toml.dumps(d)).sorted()` with toml 0.10.2 and toml-sort 0.25.0.
///
/// `toml.dumps` writes a table's values under its header, and tables breadth-first
/// (every table one level deep, then every table two levels deep, …), leaving out
/// the headers of tables with nothing but sub-tables. toml-sort re-reads that text
/// and sorts each table, children before parents: values by key, then sub-tables
/// by key. A table already in order is left where it is; one that is not is
/// gathered: its header, its sorted values, then each sub-table with everything
/// beneath it, at the place of its first line, pushing whatever else lay between
/// its lines after it. So the layout depends on the dicts' insertion order, which
/// is why the emulation keeps it.
mod pytoml {
    use super::python::{float_repr, str_repr};
    use super::{DeString, DeTable, DeValue, EvaluateError, HashMap, Spanned, Value};

    /// A Python value as `toml.dumps` sees it; dicts keep their insertion order.
    #[derive(Debug, Clone, PartialEq)]
    enum Py {
        None,
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(String),
        List(Vec<Py>),
        Dict(Dict),
    }

    #[derive(Debug, Clone, Default, PartialEq)]
    struct Dict(Vec<(String, Py)>);

    impl Dict {
        /// `cpg_utils.config.update_dict(self, other)`: dicts under the same key
        /// merge recursively, anything else replaces the value in place; new keys
        /// are appended.
        fn update(&mut self, other: Dict) {
            for (key, new) in other.0 {
                match self.0.iter().position(|(k, _)| *k == key) {
                    Some(i) => match (&mut self.0[i].1, new) {
                        (Py::Dict(existing), Py::Dict(new)) => existing.update(new),
                        (slot, new) => *slot = new,
                    },
                    None => self.0.push((key, new)),
                }
            }
        }
    }

    fn unsupported(reason: impl Into<String>) -> EvaluateError {
        EvaluateError::UnsupportedToml {
            reason: reason.into(),
        }
    }

    /// The TOML text of `value` merged over the parsed `merge` texts.
    pub(super) fn render(
        value: &std::collections::BTreeMap<String, Value>,
        merge: &[String],
    ) -> Result<String, EvaluateError> {
        let mut config = Dict::default();
        for (index, text) in merge.iter().enumerate() {
            config.update(parse(index, text)?);
        }
        config.update(dict_from_map(value)?);
        let mut slots = dumps(&config)?;
        sort_document(&mut slots);
        Ok(write(&slots))
    }

    /// A map's keys in descending order: a [`Value::Map`] does not keep the order
    /// its entries were added in, and the reference's dicts are never already in
    /// sorted order (`default`, `web`, `analysis`, …), so none counts as sorted.
    fn dict_from_map(
        map: &std::collections::BTreeMap<String, Value>,
    ) -> Result<Dict, EvaluateError> {
        map.iter()
            .rev()
            .map(|(key, value)| Ok((key.clone(), py_from_value(value)?)))
            .collect::<Result<_, _>>()
            .map(Dict)
    }

    fn py_from_value(value: &Value) -> Result<Py, EvaluateError> {
        Ok(match value {
            Value::Null => Py::None,
            Value::Bool(b) => Py::Bool(*b),
            Value::Int(n) => Py::Int(*n),
            Value::Float(x) => Py::Float(*x),
            Value::String(s) => Py::Str(s.clone()),
            Value::List(items) => {
                Py::List(items.iter().map(py_from_value).collect::<Result<_, _>>()?)
            }
            Value::Map(entries) => Py::Dict(dict_from_map(entries)?),
            Value::Secret(inner) => py_from_value(inner)?,
            Value::Output(_) | Value::Invoke(_) | Value::Function(_) => {
                return Err(unsupported("a value that is not known"));
            }
        })
    }

    /// `toml.loads(text)`: tables keep the order their keys first appear in.
    fn parse(index: usize, text: &str) -> Result<Dict, EvaluateError> {
        let table = DeTable::parse(text).map_err(|e| EvaluateError::InvalidToml {
            index,
            message: e.message().to_owned(),
        })?;
        dict_from_table(table.get_ref())
    }

    fn dict_from_table(table: &DeTable<'_>) -> Result<Dict, EvaluateError> {
        let mut entries = table
            .iter()
            .map(|(key, value)| {
                Ok((
                    first_position(key, value),
                    key.get_ref().to_string(),
                    py_from_toml(value.get_ref())?,
                ))
            })
            .collect::<Result<Vec<_>, EvaluateError>>()?;
        entries.sort_by_key(|(position, _, _)| *position);
        Ok(Dict(
            entries
                .into_iter()
                .map(|(_, key, value)| (key, value))
                .collect(),
        ))
    }

    /// Where a key first appears in the text: its own span, or an earlier line of
    /// a table beneath it.
    fn first_position(key: &Spanned<DeString<'_>>, value: &Spanned<DeValue<'_>>) -> usize {
        let own = key.span().start.min(value.span().start);
        match value.get_ref() {
            DeValue::Table(table) => table
                .iter()
                .map(|(k, v)| first_position(k, v))
                .fold(own, usize::min),
            _ => own,
        }
    }

    fn py_from_toml(value: &DeValue<'_>) -> Result<Py, EvaluateError> {
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

    /// A line of the document: a table header or a `key = value` line. `path` is
    /// the table's path, or the value's key path, as a TOML reader names them.
    #[derive(Debug, Clone)]
    struct Slot {
        path: Vec<String>,
        header: bool,
        text: String,
    }

    /// A table `toml.dumps` has still to write.
    struct Section<'a> {
        path: Vec<String>,
        header: String,
        dict: &'a Dict,
    }

    /// `toml.dumps(config)`, as lines.
    fn dumps(config: &Dict) -> Result<Vec<Slot>, EvaluateError> {
        let mut slots = Vec::new();
        let mut sections = dump_table(config, &[], "", &mut slots)?;
        while !sections.is_empty() {
            let mut deeper = Vec::new();
            for section in sections {
                let mut values = Vec::new();
                let sub_tables =
                    dump_table(section.dict, &section.path, &section.header, &mut values)?;
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

    /// A key as `toml.dumps` writes it: bare when Python's
    /// `re.match(r'^[A-Za-z0-9_-]+$', key)` matches (its `$` also matches before a
    /// final newline, which then makes the text unreadable), quoted otherwise.
    fn quote_key(key: &str) -> Result<String, EvaluateError> {
        let body = key.strip_suffix('\n').unwrap_or(key);
        let bare = !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if bare && body.len() != key.len() {
            return Err(unsupported(format!(
                "the key {key:?}: the reference writes it bare, with its newline"
            )));
        }
        if bare {
            Ok(key.to_owned())
        } else {
            dump_str(key)
        }
    }

    /// The key a TOML reader sees in a key `toml.dumps` wrote.
    fn read_key(quoted: &str) -> Result<String, EvaluateError> {
        if quoted.starts_with('"') {
            read_basic_string(quoted).ok_or_else(|| {
                unsupported(format!("a key the reference writes as {quoted}, not TOML"))
            })
        } else {
            Ok(quoted.to_owned())
        }
    }

    /// toml 0.10.2's `_dump_str`: Python's `repr`, turned into a double-quoted
    /// string, with its `\x` escapes rewritten by the package's own (lossy) rule:
    /// doubled backslashes before one are collapsed, and it becomes `x` or `\u00`
    /// depending on how many backslashes precede it. Fails where Python raises.
    fn dump_str(s: &str) -> Result<String, EvaluateError> {
        let repr: Vec<char> = str_repr(s).chars().collect();
        let single = repr.first() == Some(&'\'');
        let mut body: Vec<char> = repr[1..repr.len() - 1].to_vec();
        if single {
            body = replace(&body, &['\\', '\''], &['\'']);
            body = replace(&body, &['"'], &['\\', '"']);
        }
        let mut parts = split(&body, &['\\', 'x']);
        let fail = || unsupported(format!("{s:?}: the reference's toml.dumps raises on it"));
        while parts.len() > 1 {
            if parts[0].is_empty() {
                parts.remove(0);
            }
            let first = replace(&parts[0], &['\\', '\\'], &['\\']);
            let Some(last) = first.last() else {
                return Err(fail());
            };
            let mut plain = *last != '\\';
            let mut i = first.len() - 1;
            while i > 0 && first[i] == '\\' {
                plain = !plain;
                i -= 1;
            }
            if parts.len() < 2 {
                return Err(fail());
            }
            let second = parts.remove(1);
            let mut joined = first;
            joined.extend(if plain { "x".chars() } else { "u00".chars() });
            joined.extend(second);
            parts[0] = joined;
        }
        let mut out = String::from("\"");
        out.extend(parts.into_iter().flatten());
        out.push('"');
        Ok(out)
    }

    /// Python's `str.replace`: non-overlapping, left to right.
    fn replace(text: &[char], from: &[char], to: &[char]) -> Vec<char> {
        let mut out = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            if text[i..].starts_with(from) {
                out.extend_from_slice(to);
                i += from.len();
            } else {
                out.push(text[i]);
                i += 1;
            }
        }
        out
    }

    /// Python's `str.split(sep)`.
    fn split(text: &[char], separator: &[char]) -> Vec<Vec<char>> {
        let mut parts = vec![Vec::new()];
        let mut i = 0;
        while i < text.len() {
            if text[i..].starts_with(separator) {
                parts.push(Vec::new());
                i += separator.len();
            } else if let Some(part) = parts.last_mut() {
                part.push(text[i]);
                i += 1;
            }
        }
        parts
    }

    /// The contents of a TOML 1.1 basic string (`"…"`, with `\xhh` and `\e`), as
    /// toml-sort reads it; `None` when it cannot.
    fn read_basic_string(quoted: &str) -> Option<String> {
        let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
                        let digits: String = chars.by_ref().take(n).collect();
                        if digits.len() != n || !digits.chars().all(|d| d.is_ascii_hexdigit()) {
                            return None;
                        }
                        char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
                    };
                    out.push(match chars.next()? {
                        'b' => '\u{8}',
                        't' => '\t',
                        'n' => '\n',
                        'f' => '\u{c}',
                        'r' => '\r',
                        'e' => '\u{1b}',
                        '"' => '"',
                        '\\' => '\\',
                        'x' => hex(&mut chars, 2)?,
                        'u' => hex(&mut chars, 4)?,
                        'U' => hex(&mut chars, 8)?,
                        _ => return None,
                    });
                }
                '"' => return None,
                c if (c < ' ' && c != '\t') || c == '\x7f' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    /// toml-sort's pass: every table sorted, children before parents.
    fn sort_document(slots: &mut Vec<Slot>) {
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
    fn write(slots: &[Slot]) -> String {
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

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn dump_str_follows_the_packages_rules() {
            let cases = [
                ("plain", "\"plain\""),
                ("it's", "\"it's\""),
                ("say \"hi\"", "\"say \\\"hi\\\"\""),
                ("both ' and \"", "\"both ' and \\\"\""),
                ("tab\there\nnl", "\"tab\\there\\nnl\""),
                ("back\\slash", "\"back\\\\slash\""),
                ("ünïcødé 日本 😀", "\"ünïcødé 日本 😀\""),
                // The package's `\x` rewrite loses the backslash…
                ("ctl\x01", "\"ctlx01\""),
                ("\x01\x02", "\"01x02\""),
                ("nbsp\u{a0} zw\u{200b}", "\"nbspxa0 zw\\u200b\""),
                // …or keeps it, by the parity of the backslashes before it.
                ("a\\\\\x01", "\"a\\\\u0001\""),
                ("x\\\\\\\\y\x01", "\"x\\\\\\\\yx01\""),
                ("bs\\x01", "\"bs\\x01\""),
            ];
            for (input, expected) in cases {
                assert_eq!(dump_str(input).expect(input), expected, "{input:?}");
            }
            // Where Python raises (IndexError).
            assert!(dump_str("\x01").is_err());
        }

        #[test]
        fn update_merges_tables_and_appends_new_keys() {
            let mut d1 = Dict(vec![
                ("a".into(), Py::Int(1)),
                ("b".into(), Py::Dict(Dict(vec![("c".into(), Py::Int(1))]))),
            ]);
            d1.update(Dict(vec![
                (
                    "b".into(),
                    Py::Dict(Dict(vec![
                        ("d".into(), Py::Int(2)),
                        ("c".into(), Py::Int(2)),
                    ])),
                ),
                ("a".into(), Py::Str("x".into())),
                ("e".into(), Py::None),
            ]));
            assert_eq!(
                d1,
                Dict(vec![
                    ("a".into(), Py::Str("x".into())),
                    (
                        "b".into(),
                        Py::Dict(Dict(vec![
                            ("c".into(), Py::Int(2)),
                            ("d".into(), Py::Int(2))
                        ]))
                    ),
                    ("e".into(), Py::None),
                ])
            );
        }

        #[test]
        fn parsing_keeps_the_texts_order() {
            let dict =
                parse(0, "z = 1\na = 2\n[y.q]\nk = 1\n[b]\nk = 2\n[y]\nk = 3\n").expect("parses");
            let keys: Vec<&str> = dict.0.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["z", "a", "y", "b"]);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Knows the outputs and invokes it was given.
    #[derive(Default)]
    struct Known {
        outputs: Vec<(OutputRef, Value)>,
        invokes: Vec<(String, String, Value)>,
    }

    impl Resolver for Known {
        fn output(&self, output: &OutputRef) -> Option<Value> {
            self.outputs
                .iter()
                .find(|(o, _)| o == output)
                .map(|(_, v)| v.clone())
        }

        fn invoke(&self, invoke: &Invoke) -> Option<Value> {
            self.invokes
                .iter()
                .find(|(t, p, _)| *t == invoke.token && *p == invoke.property)
                .map(|(_, _, v)| v.clone())
        }
    }

    fn toml(value: Value, merge: &[&str]) -> Value {
        Value::Function(Function::Toml {
            value: Box::new(value),
            merge: merge.iter().map(|t| Value::from(*t)).collect(),
        })
    }

    fn evaluated(value: Value) -> Value {
        value.evaluate(&Known::default()).expect("evaluates")
    }

    fn text(value: Value) -> String {
        match evaluated(value) {
            Value::String(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    fn bucket(id: &str) -> ResourceId {
        ResourceId::new("gcp:storage/bucket:Bucket", id)
    }

    // --- TOML, against strings from Python 3.11 with toml 0.10.2, toml-sort 0.25.0
    // and cpg-utils 5.8.1. The Python dicts were built with their keys in descending
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

    #[test]
    fn toml_merges_two_dependency_configs() {
        // Two dependencies' configs (their own rendering), merged in order, then the
        // value over them: nested tables merge, later values win.
        let first = "[images]\nbase = \"v1\"\n\n[storage.common]\ndefault = \"gs://common\"\n\n\
[storage.common.test]\ndefault = \"gs://common-test\"\n\n[storage.default]\ndefault = \"gs://common\"\n";
        let second = "[images]\nbase = \"v2\"\nextra = [1, 2]\n\n[storage.default]\ndefault = \"gs://dep\"\n\n\
[storage.default.test]\ndefault = \"gs://dep-test\"\n\n[storage.dep]\ndefault = \"gs://dep\"\n";
        let value = Value::map([(
            "storage",
            Value::map([
                ("default", Value::map([("default", Value::from("gs://me"))])),
                ("me", Value::map([("default", Value::from("gs://me"))])),
            ]),
        )]);
        let expected = "[images]\nbase = \"v2\"\nextra = [1, 2]\n\n[storage.common]\n\
default = \"gs://common\"\n\n[storage.default]\ndefault = \"gs://me\"\n\n[storage.dep]\n\
default = \"gs://dep\"\n\n[storage.me]\ndefault = \"gs://me\"\n\n[storage.common.test]\n\
default = \"gs://common-test\"\n\n[storage.default.test]\ndefault = \"gs://dep-test\"\n";
        assert_eq!(text(toml(value, &[first, second])), expected);
    }

    #[test]
    fn toml_gathers_tables_merged_out_of_order() {
        // A merge input in `toml.dumps`' own, unsorted layout: tables out of order
        // are gathered, and lines of other tables between theirs move after them.
        let unsorted = "z = 1\nb = 2\n\n[y]\nk = 1\n\n[x]\nk = 2\n\n[y.q]\nv = 1\n\n[y.p]\nv = 2\n\n\
[x.r]\nv = 3\n\n[x.r.s]\nv = 4\n\n[y.q.t]\nv = 5\n";
        let value = Value::map([("w", Value::map([("k", Value::Int(9))]))]);
        let expected = "b = 2\nz = 1\n\n[w]\nk = 9\n\n[x]\nk = 2\n\n[x.r]\nv = 3\n\n[x.r.s]\n\
v = 4\n\n[y]\nk = 1\n\n[y.p]\nv = 2\n\n[y.q]\nv = 1\n\n[y.q.t]\nv = 5\n";
        assert_eq!(text(toml(value, &[unsorted])), expected);
    }

    #[test]
    fn toml_edge_cases() {
        // dict_to_toml({}) is a lone newline.
        assert_eq!(text(toml(Value::map::<&str>([]), &[])), "\n");
        // toml.loads reads `-0.0` as `0.0`; a value's own -0.0 stays.
        let value = Value::map([("own", Value::Float(-0.0))]);
        assert_eq!(
            text(toml(value, &["merged = -0.0\n"])),
            "merged = 0.0\nown = -0.0\n"
        );
    }

    // --- The real case: the storage-only reference's config objects.

    fn reference_contents() -> BTreeMap<String, String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/storage-only.reference.json"
        );
        let text = std::fs::read_to_string(path).expect("the storage-only reference");
        let reference: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        reference["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter(|r| r["type"] == "gcp:storage/bucketObject:BucketObject")
            .filter_map(|r| {
                let content = r["inputs"]["content"]["$secret"].as_str()?;
                Some((r["name"].as_str()?.to_owned(), content.to_owned()))
            })
            .collect()
    }

    /// The bucket paths of a namespace, as outputs of the buckets.
    fn bucket_paths(dataset: &str, namespace: &str) -> Vec<(String, Value)> {
        ["default", "web", "analysis", "tmp", "upload"]
            .into_iter()
            .map(|category| {
                let suffix = if category == "default" {
                    String::new()
                } else {
                    format!("-{category}")
                };
                let id = bucket(&format!("{dataset}-{namespace}{suffix}"));
                (category.to_owned(), Value::output(&id, "url"))
            })
            .collect()
    }

    /// Resolves each bucket's `url` to `gs://cpg-<name>`.
    fn bucket_resolver(datasets: &[&str]) -> Known {
        let mut known = Known::default();
        for dataset in datasets {
            for namespace in ["main", "test"] {
                for (_, path) in bucket_paths(dataset, namespace) {
                    let Value::Output(output) = path else {
                        continue;
                    };
                    let url = format!("gs://cpg-{}", output.resource.name);
                    known.outputs.push((output, Value::from(url)));
                }
            }
        }
        known
    }

    /// The storage config of a namespace, as the storage driver declares it.
    fn storage_config(
        dataset: &str,
        namespace: &str,
        setup_test: bool,
        merge: Vec<Value>,
    ) -> Value {
        let mut buckets = Value::map(bucket_paths(dataset, namespace));
        if namespace == "main"
            && setup_test
            && let Value::Map(entries) = &mut buckets
        {
            entries.insert("test".into(), Value::map(bucket_paths(dataset, "test")));
        }
        Value::Function(Function::Toml {
            value: Box::new(Value::map([(
                "storage",
                Value::map([("default", buckets.clone()), (dataset, buckets)]),
            )])),
            merge,
        })
    }

    #[test]
    fn storage_configs_match_the_reference() {
        let reference = reference_contents();
        let resolver = bucket_resolver(&["common", "fewgenomes", "validation"]);
        let check = |name: &str, config: &Value| {
            let evaluated = config.evaluate(&resolver).expect("evaluates");
            assert_eq!(
                evaluated.as_str(),
                Some(reference[name].as_str()),
                "{name} differs from the reference"
            );
        };
        // common: no dependencies.
        let common_main = storage_config("common", "main", true, vec![]);
        let common_test = storage_config("common", "test", true, vec![]);
        check("storage-config-gcp-common-main", &common_main);
        check("storage-config-gcp-common-test", &common_test);
        // fewgenomes: merges common's config (still unevaluated) per namespace.
        let fewgenomes_main = storage_config("fewgenomes", "main", true, vec![common_main.clone()]);
        let fewgenomes_test = storage_config("fewgenomes", "test", true, vec![common_test]);
        check("storage-config-gcp-fewgenomes-main", &fewgenomes_main);
        check("storage-config-gcp-fewgenomes-test", &fewgenomes_test);
        // validation: depends on fewgenomes, no test namespace; merges its sorted
        // dependencies' configs (common, fewgenomes).
        let validation_main = storage_config(
            "validation",
            "main",
            false,
            vec![common_main, fewgenomes_main],
        );
        check("storage-config-gcp-validation-main", &validation_main);
        assert!(!reference.contains_key("storage-config-gcp-validation-test"));
    }

    #[test]
    fn infrastructure_config_matches_the_reference() {
        let reference = reference_contents();
        let cache = bucket("members-group-cache");
        let mut resolver = Known::default();
        resolver.outputs.push((
            OutputRef {
                resource: cache.clone(),
                property: "url".into(),
            },
            Value::from("gs://cpg-members-group-cache"),
        ));
        let config = toml(
            Value::map([(
                "infrastructure",
                Value::map([("members_cache_location", Value::output(&cache, "url"))]),
            )]),
            &[],
        );
        let evaluated = config.evaluate(&resolver).expect("evaluates");
        assert_eq!(
            evaluated.as_str(),
            Some(reference["infrastructure-config"].as_str())
        );
    }

    // --- The other functions.

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

    #[test]
    fn floats_print_like_python() {
        let cases = [
            (0.1, "0.1"),
            (1.5, "1.5"),
            (3.0, "3.0"),
            (-0.0, "-0.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.25e17, "1.25e+17"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e-100, "1e-100"),
            (123456.789, "123456.789"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (x, expected) in cases {
            assert_eq!(python::float_repr(x), expected);
        }
    }

    #[test]
    fn base64_decodes_like_python() {
        let decode = |s: &str| {
            Value::Function(Function::Base64Decode(Box::new(Value::from(s))))
                .evaluate(&Known::default())
        };
        assert_eq!(decode("aGVsbG8gd29ybGQ="), Ok(Value::from("hello world")));
        assert_eq!(decode("w6k="), Ok(Value::from("é")));
        // Python skips characters outside the alphabet and stops at the padding.
        assert_eq!(decode("aGVs\nbG8=ignored"), Ok(Value::from("hello")));
        assert_eq!(decode(""), Ok(Value::from("")));
    }

    #[test]
    fn lines_and_sorted_members() {
        let members = Value::Function(Function::SortedMembers(vec![
            Value::from("B@z.org"),
            Value::from("a@y.org"),
            Value::from("A@y.org"),
            Value::from("c@a.org"),
        ]));
        assert_eq!(
            evaluated(members.clone()),
            Value::strings(["c@a.org", "a@y.org", "b@z.org"])
        );
        let lines = Value::Function(Function::Lines(Box::new(members)));
        assert_eq!(text(lines), "c@a.org\na@y.org\nb@z.org");
        let empty = Value::Function(Function::Lines(Box::new(Value::List(vec![]))));
        assert_eq!(text(empty), "\n");
        let blank = Value::Function(Function::Lines(Box::new(Value::strings([""]))));
        assert_eq!(text(blank), "\n");
    }

    #[test]
    fn outputs_invokes_and_concat_resolve() {
        let bucket = bucket("b");
        let invoke = Invoke {
            token: "gcp:organizations/getProject:getProject".into(),
            args: BTreeMap::new(),
            property: "number".into(),
        };
        let resolver = Known {
            outputs: vec![(
                OutputRef {
                    resource: bucket.clone(),
                    property: "name".into(),
                },
                Value::from("cpg-b"),
            )],
            invokes: vec![(invoke.token.clone(), "number".into(), Value::from("1234"))],
        };
        let value = Value::map([
            (
                "url",
                Value::concat([Value::from("gs://"), Value::output(&bucket, "name")]),
            ),
            ("number", Value::Invoke(invoke)),
            ("plain", Value::List(vec![Value::Int(1), Value::Null])),
        ]);
        let evaluated = value.evaluate(&resolver).expect("evaluates");
        assert!(evaluated.is_known());
        assert_eq!(
            evaluated,
            Value::map([
                ("url", Value::from("gs://cpg-b")),
                ("number", Value::from("1234")),
                ("plain", Value::List(vec![Value::Int(1), Value::Null])),
            ])
        );
    }

    #[test]
    fn secrets_stay_secret() {
        let bucket = bucket("b");
        let resolver = Known {
            outputs: vec![(
                OutputRef {
                    resource: bucket.clone(),
                    property: "key".into(),
                },
                Value::from("k").secret(),
            )],
            ..Known::default()
        };
        let concat = Value::concat([Value::from("key="), Value::output(&bucket, "key")]);
        assert_eq!(
            concat.evaluate(&resolver),
            Ok(Value::from("key=k").secret())
        );
        let wrapped = Value::from("x").secret().secret();
        assert_eq!(wrapped.evaluate(&resolver), Ok(Value::from("x").secret()));
        let in_list = Value::List(vec![Value::output(&bucket, "key")]);
        assert_eq!(
            in_list.evaluate(&resolver),
            Ok(Value::List(vec![Value::from("k").secret()]))
        );
    }

    // --- Every error.

    #[test]
    fn unresolved_output_names_resource_and_property() {
        let error = Value::output(&bucket("b"), "name")
            .evaluate(&Known::default())
            .expect_err("unknown");
        assert_eq!(
            error,
            EvaluateError::UnresolvedOutput {
                resource: bucket("b"),
                property: "name".into()
            }
        );
        assert_eq!(
            error.to_string(),
            "output \"name\" of gcp:storage/bucket:Bucket::b is not known"
        );
    }

    #[test]
    fn unresolved_invoke_names_token_and_property() {
        let invoke = Value::Invoke(Invoke {
            token: "gcp:organizations/getProject:getProject".into(),
            args: BTreeMap::new(),
            property: "number".into(),
        });
        let error = invoke.evaluate(&Known::default()).expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "property \"number\" of data source gcp:organizations/getProject:getProject is not known"
        );
    }

    #[test]
    fn wrong_arguments_name_the_function() {
        let cases = [
            (Value::concat([Value::from("a"), Value::Int(1)]), "concat"),
            (toml(Value::from("not a map"), &[]), "toml"),
            (
                Value::Function(Function::Toml {
                    value: Box::new(Value::map::<&str>([])),
                    merge: vec![Value::Int(1)],
                }),
                "toml",
            ),
            (
                Value::Function(Function::Base64Decode(Box::new(Value::Int(1)))),
                "base64decode",
            ),
            (
                Value::Function(Function::SortedMembers(vec![Value::Null])),
                "sortedmembers",
            ),
            (
                Value::Function(Function::Lines(Box::new(Value::from("x")))),
                "lines",
            ),
            (
                Value::Function(Function::Lines(Box::new(Value::List(vec![Value::Int(1)])))),
                "lines",
            ),
        ];
        for (value, function) in cases {
            match value.evaluate(&Known::default()) {
                Err(EvaluateError::WrongArgument { function: f, .. }) => assert_eq!(f, function),
                other => panic!("{function}: {other:?}"),
            }
        }
        let error = Value::concat([Value::Int(1)])
            .evaluate(&Known::default())
            .expect_err("not a string");
        assert_eq!(error.to_string(), "concat expects strings, got an integer");
    }

    #[test]
    fn invalid_base64_and_non_utf8() {
        let decode = |s: &str| {
            Value::Function(Function::Base64Decode(Box::new(Value::from(s))))
                .evaluate(&Known::default())
                .expect_err("invalid")
        };
        assert_eq!(
            decode("aGVsbG8"),
            EvaluateError::InvalidBase64 {
                reason: "Incorrect padding".into()
            }
        );
        assert_eq!(
            decode("aGVsb"),
            EvaluateError::InvalidBase64 {
                reason: "Invalid base64-encoded string: number of data characters (5) cannot \
                         be 1 more than a multiple of 4"
                    .into()
            }
        );
        assert_eq!(
            decode("é"),
            EvaluateError::InvalidBase64 {
                reason: "string argument should contain only ASCII characters".into()
            }
        );
        // 0xff 0xfe: not UTF-8.
        assert_eq!(decode("//4="), EvaluateError::NotUtf8 { valid_up_to: 0 });
    }

    #[test]
    fn unparsable_merge_input() {
        let error = text_error(toml(Value::map::<&str>([]), &["a = 1\n", "[broken\n"]));
        assert!(
            matches!(error, EvaluateError::InvalidToml { index: 1, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn unsupported_toml_values() {
        let cases = [
            // An array of tables.
            Value::map([("a", Value::List(vec![Value::map([("x", Value::Int(1))])]))]),
            // Python's toml.dumps raises on a string starting with a control character.
            Value::map([("a", Value::from("\u{1}x"))]),
            // …and writes `"a\x"` for `a\x`, which toml-sort cannot read.
            Value::map([("a", Value::from("a\\x"))]),
            // A key with a final newline is written bare.
            Value::map([("a\n", Value::Int(1))]),
        ];
        for value in cases {
            let error = text_error(toml(value.clone(), &[]));
            assert!(
                matches!(error, EvaluateError::UnsupportedToml { .. }),
                "{value:?}: {error:?}"
            );
        }
        let datetime = text_error(toml(Value::map::<&str>([]), &["a = 1979-05-27\n"]));
        assert!(matches!(datetime, EvaluateError::UnsupportedToml { .. }));
    }

    fn text_error(value: Value) -> EvaluateError {
        value.evaluate(&Known::default()).expect_err("fails")
    }
}
