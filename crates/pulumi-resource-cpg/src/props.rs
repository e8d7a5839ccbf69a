//! Pulumi property values (`google.protobuf.Struct`) to and from JSON.
//!
//! The engine sends properties as protobuf `Struct`s. Secrets arrive as objects carrying
//! Pulumi's signature key, unknowns (during preview) as a sentinel string; both are
//! understood here so the resource kinds only ever see plain JSON.

use prost_types::value::Kind;
use serde_json::{Map, Number, Value};

/// The string the engine sends for a value that is not known yet (during preview).
pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/// The key that marks an object as one of Pulumi's special values.
pub const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
/// The signature of a secret value.
pub const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";

/// A protobuf `Struct` as a JSON object; secrets are unwrapped to their plain value.
pub fn to_json(s: Option<&prost_types::Struct>) -> Map<String, Value> {
    s.map(|s| {
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect()
    })
    .unwrap_or_default()
}

fn value_to_json(v: &prost_types::Value) -> Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::NumberValue(n)) => number(*n),
        Some(Kind::ListValue(l)) => Value::Array(l.values.iter().map(value_to_json).collect()),
        Some(Kind::StructValue(s)) => {
            let is_secret = s.fields.get(SIG_KEY).is_some_and(
                |sig| matches!(&sig.kind, Some(Kind::StringValue(x)) if x == SECRET_SIG),
            );
            if is_secret {
                s.fields.get("value").map_or(Value::Null, value_to_json)
            } else {
                Value::Object(
                    s.fields
                        .iter()
                        .map(|(k, v)| (k.clone(), value_to_json(v)))
                        .collect(),
                )
            }
        }
    }
}

/// Whole numbers come back as JSON integers (metamist project ids are integers).
fn number(n: f64) -> Value {
    const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer below is exact in f64
    if n.fract() == 0.0 && n.abs() < LIMIT {
        // The range check above makes the conversion exact.
        #[allow(clippy::cast_possible_truncation)]
        return Value::Number(Number::from(n as i64));
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// A JSON object as a protobuf `Struct`.
pub fn to_struct(m: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: m
            .iter()
            .map(|(k, v)| (k.clone(), json_to_value(v)))
            .collect(),
    }
}

fn json_to_value(v: &Value) -> prost_types::Value {
    let kind = match v {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        // JSON numbers here are ids and counts; f64 is the protocol's only number type.
        #[allow(clippy::cast_precision_loss)]
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.iter().map(json_to_value).collect(),
        }),
        Value::Object(o) => Kind::StructValue(to_struct(o)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// Whether a value is, or contains, an unknown.
pub fn is_unknown(v: &Value) -> bool {
    match v {
        Value::String(s) => s == UNKNOWN,
        Value::Array(a) => a.iter().any(is_unknown),
        Value::Object(o) => o.values().any(is_unknown),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_integers_and_nesting() {
        let m = json!({"id": 9610716, "ratio": 0.5, "l": ["a", true, null], "o": {"k": "v"}});
        let Value::Object(m) = m else { unreachable!() };
        assert_eq!(to_json(Some(&to_struct(&m))), m);
    }

    #[test]
    fn secrets_are_unwrapped() {
        let m = json!({"token": {SIG_KEY: SECRET_SIG, "value": "s3cr3t"}});
        let Value::Object(m) = m else { unreachable!() };
        assert_eq!(to_json(Some(&to_struct(&m)))["token"], json!("s3cr3t"));
    }

    #[test]
    fn unknowns_are_found_inside_lists() {
        assert!(is_unknown(&json!(["a", UNKNOWN])));
        assert!(!is_unknown(&json!(["a", "b"])));
    }
}
