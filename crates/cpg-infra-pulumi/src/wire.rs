//! Pulumi's wire form of property values: `google.protobuf.Value` trees in which
//! secrets, unknowns, resource references and output values are maps marked with a
//! signature key (Pulumi's `sdk/go/common/resource/properties.go`).

use std::collections::BTreeMap;

use std::path::Path;

use cpg_infra::graph::{Archive, Asset, Value};
use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value as Wire};

/// The string that stands for a value not known until the resource is created.
pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/// The key of a map that marks the map as a special value.
pub const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
/// The signature of a secret: `{SIG_KEY: SECRET_SIG, "value": v}`.
pub const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
/// The signature of a resource reference.
pub const RESOURCE_SIG: &str = "5cf8f73096256a8f31e491e813e4eb8e";
/// The signature of an output value (`value` absent when unknown).
pub const OUTPUT_SIG: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
/// The signature of an asset: `{SIG_KEY: ASSET_SIG, "text" | "path": …}`.
pub const ASSET_SIG: &str = "c44067f5952c0a294b673a41bacd8c17";
/// The signature of an archive: `{SIG_KEY: ARCHIVE_SIG, "assets" | "path": …}`.
pub const ARCHIVE_SIG: &str = "0def7320c3a5731c473e5ecbe6d01bc7";

/// A wire null.
pub fn null() -> Wire {
    Wire {
        kind: Some(Kind::NullValue(0)),
    }
}

/// A wire string.
pub fn string(s: impl Into<String>) -> Wire {
    Wire {
        kind: Some(Kind::StringValue(s.into())),
    }
}

/// A wire number.
pub fn number(n: f64) -> Wire {
    Wire {
        kind: Some(Kind::NumberValue(n)),
    }
}

/// A wire boolean.
pub fn boolean(b: bool) -> Wire {
    Wire {
        kind: Some(Kind::BoolValue(b)),
    }
}

/// A wire list.
pub fn list(items: Vec<Wire>) -> Wire {
    Wire {
        kind: Some(Kind::ListValue(ListValue { values: items })),
    }
}

/// A wire map.
pub fn object(fields: impl IntoIterator<Item = (String, Wire)>) -> Wire {
    Wire {
        kind: Some(Kind::StructValue(Struct {
            fields: fields.into_iter().collect(),
        })),
    }
}

/// The unknown value.
pub fn unknown() -> Wire {
    string(UNKNOWN)
}

/// `value` marked as a secret.
pub fn secret(value: Wire) -> Wire {
    object([
        (SIG_KEY.to_owned(), string(SECRET_SIG)),
        ("value".to_owned(), value),
    ])
}

/// An unknown secret as an output value (for monitors that accept output values).
pub fn unknown_secret_output() -> Wire {
    object([
        (SIG_KEY.to_owned(), string(OUTPUT_SIG)),
        ("secret".to_owned(), boolean(true)),
    ])
}

/// The signature of a special map, when `value` is one.
fn signature(value: &Wire) -> Option<&str> {
    match &value.kind {
        Some(Kind::StructValue(s)) => match s.fields.get(SIG_KEY).and_then(|v| v.kind.as_ref()) {
            Some(Kind::StringValue(sig)) => Some(sig),
            _ => None,
        },
        _ => None,
    }
}

/// A field of a map value.
fn field<'a>(value: &'a Wire, key: &str) -> Option<&'a Wire> {
    match &value.kind {
        Some(Kind::StructValue(s)) => s.fields.get(key),
        _ => None,
    }
}

/// The value inside a secret, when `value` is one.
pub fn secret_inner(value: &Wire) -> Option<&Wire> {
    (signature(value) == Some(SECRET_SIG)).then(|| field(value, "value").unwrap_or(&NULL))
}

static NULL: Wire = Wire {
    kind: Some(Kind::NullValue(0)),
};

/// Whether any part of `value` is unknown.
pub fn contains_unknown(value: &Wire) -> bool {
    match &value.kind {
        Some(Kind::StringValue(s)) => s == UNKNOWN,
        Some(Kind::ListValue(l)) => l.values.iter().any(contains_unknown),
        Some(Kind::StructValue(s)) => {
            if signature(value) == Some(OUTPUT_SIG) {
                return s.fields.get("value").is_none_or(contains_unknown);
            }
            s.fields.values().any(contains_unknown)
        }
        _ => false,
    }
}

/// Whether any part of `value` is a secret.
pub fn contains_secret(value: &Wire) -> bool {
    match &value.kind {
        Some(Kind::ListValue(l)) => l.values.iter().any(contains_secret),
        Some(Kind::StructValue(s)) => match signature(value) {
            Some(SECRET_SIG) => true,
            Some(OUTPUT_SIG) => {
                matches!(
                    s.fields.get("secret").and_then(|v| v.kind.as_ref()),
                    Some(Kind::BoolValue(true))
                ) || s.fields.get("value").is_some_and(contains_secret)
            }
            _ => s.fields.values().any(contains_secret),
        },
        _ => false,
    }
}

/// What a property path leads to in an output object.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// A value; secret when the path went through a secret.
    Found(Wire),
    /// An unknown value on the way.
    Unknown {
        /// Whether the path went through a secret.
        secret: bool,
    },
    /// No such property.
    Absent,
}

/// Follows the dotted `path` (`groupKey.id`) through `object`; list items are
/// addressed by their index.
pub fn lookup(object: &Struct, path: &str) -> Lookup {
    let mut secret = false;
    let mut segments = path.split('.');
    let first = segments.next().unwrap_or_default();
    let Some(mut current) = object.fields.get(first) else {
        return Lookup::Absent;
    };
    for segment in segments.map(Some).chain([None]) {
        // Unwrap secrets and output values before stepping further.
        loop {
            if let Some(inner) = secret_inner(current) {
                secret = true;
                current = inner;
                continue;
            }
            if signature(current) == Some(OUTPUT_SIG) {
                if matches!(
                    field(current, "secret").and_then(|v| v.kind.as_ref()),
                    Some(Kind::BoolValue(true))
                ) {
                    secret = true;
                }
                match field(current, "value") {
                    Some(inner) => {
                        current = inner;
                        continue;
                    }
                    None => return Lookup::Unknown { secret },
                }
            }
            break;
        }
        if matches!(&current.kind, Some(Kind::StringValue(s)) if s == UNKNOWN) {
            return Lookup::Unknown { secret };
        }
        let Some(segment) = segment else { break };
        let next = match &current.kind {
            Some(Kind::StructValue(s)) => s.fields.get(segment),
            Some(Kind::ListValue(l)) => segment.parse::<usize>().ok().and_then(|i| l.values.get(i)),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return Lookup::Absent,
        }
    }
    let found = current.clone();
    Lookup::Found(if secret { self::secret(found) } else { found })
}

/// The graph's value of a known wire value: secrets become [`Value::Secret`],
/// whole numbers [`Value::Int`], a resource reference its id (or its URN when it
/// has none), an output value its value. Unknowns are not expected here; one
/// becomes the unknown string, so a caller checks [`contains_unknown`] first.
pub fn to_value(wire: &Wire) -> Value {
    match &wire.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => {
            if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                // A whole number below 2^53 converts exactly.
                #[allow(clippy::cast_possible_truncation)]
                Value::Int(*n as i64)
            } else {
                Value::Float(*n)
            }
        }
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(l)) => Value::List(l.values.iter().map(to_value).collect()),
        Some(Kind::StructValue(s)) => match signature(wire) {
            Some(SECRET_SIG) => to_value(s.fields.get("value").unwrap_or(&NULL)).secret(),
            Some(OUTPUT_SIG) => {
                let inner = to_value(s.fields.get("value").unwrap_or(&NULL));
                let secret = matches!(
                    s.fields.get("secret").and_then(|v| v.kind.as_ref()),
                    Some(Kind::BoolValue(true))
                );
                if secret { inner.secret() } else { inner }
            }
            Some(RESOURCE_SIG) => {
                let id = s.fields.get("id").map(to_value);
                match id {
                    Some(Value::String(id)) if !id.is_empty() => Value::String(id),
                    _ => s.fields.get("urn").map_or(Value::Null, to_value),
                }
            }
            _ => Value::Map(
                s.fields
                    .iter()
                    .map(|(k, v)| (k.clone(), to_value(v)))
                    .collect::<BTreeMap<_, _>>(),
            ),
        },
    }
}

/// The wire form of a plain JSON value (for logs and tests).
pub fn from_json(json: &serde_json::Value) -> Wire {
    match json {
        serde_json::Value::Null => null(),
        serde_json::Value::Bool(b) => boolean(*b),
        serde_json::Value::Number(n) => number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => string(s.clone()),
        serde_json::Value::Array(items) => list(items.iter().map(from_json).collect()),
        serde_json::Value::Object(fields) => {
            object(fields.iter().map(|(k, v)| (k.clone(), from_json(v))))
        }
    }
}

/// A readable JSON form of a wire value: secrets as `{"$secret": v}`, unknowns as
/// `"$unknown"`, output values as `{"$outputValue": …}`.
pub fn to_json(wire: &Wire) -> serde_json::Value {
    use serde_json::Value as Json;
    match &wire.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::NumberValue(n)) => {
            if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                #[allow(clippy::cast_possible_truncation)]
                Json::from(*n as i64)
            } else {
                serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number)
            }
        }
        Some(Kind::StringValue(s)) if s == UNKNOWN => Json::String("$unknown".into()),
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(to_json).collect()),
        Some(Kind::StructValue(s)) => match signature(wire) {
            Some(SECRET_SIG) => {
                serde_json::json!({"$secret": to_json(s.fields.get("value").unwrap_or(&NULL))})
            }
            Some(OUTPUT_SIG) => {
                let fields: serde_json::Map<String, Json> = s
                    .fields
                    .iter()
                    .filter(|(k, _)| *k != SIG_KEY)
                    .map(|(k, v)| (k.clone(), to_json(v)))
                    .collect();
                serde_json::json!({ "$outputValue": fields })
            }
            _ => Json::Object(
                s.fields
                    .iter()
                    .map(|(k, v)| (k.clone(), to_json(v)))
                    .collect(),
            ),
        },
    }
}

/// A wire struct's readable JSON form, keys sorted.
pub fn struct_to_json(value: &Struct) -> serde_json::Value {
    serde_json::Value::Object(
        value
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), to_json(v)))
            .collect(),
    )
}

/// A path as the engine reads it: relative paths are taken from `root` (the
/// directory the plan's paths are relative to) when one is given.
fn asset_path(path: &Path, root: Option<&Path>) -> Wire {
    let full = match root {
        Some(root) if path.is_relative() => root.join(path),
        _ => path.to_path_buf(),
    };
    string(full.to_string_lossy().into_owned())
}

/// An asset the way Pulumi's SDKs send one: a `StringAsset` by its text, a
/// `FileAsset` by its path (the engine reads and hashes the file).
pub fn asset(asset: &Asset, root: Option<&Path>) -> Wire {
    let contents = match asset {
        Asset::Text(text) => ("text".to_owned(), string(text.clone())),
        Asset::File { path, .. } => ("path".to_owned(), asset_path(path, root)),
    };
    object([(SIG_KEY.to_owned(), string(ASSET_SIG)), contents])
}

/// An archive the way Pulumi's SDKs send one: an `AssetArchive` by its named
/// assets, a `FileArchive` by its path.
pub fn archive(archive: &Archive, root: Option<&Path>) -> Wire {
    let contents = match archive {
        Archive::Assets(assets) => (
            "assets".to_owned(),
            object(
                assets
                    .iter()
                    .map(|(name, a)| (name.clone(), asset(a, root)))
                    .collect::<Vec<_>>(),
            ),
        ),
        Archive::Directory { path } => ("path".to_owned(), asset_path(path, root)),
    };
    object([(SIG_KEY.to_owned(), string(ARCHIVE_SIG)), contents])
}

/// A reference to a registered resource, for a monitor that accepts them.
pub fn resource_reference(urn: &str, id: Option<Wire>) -> Wire {
    let mut fields = vec![
        (SIG_KEY.to_owned(), string(RESOURCE_SIG)),
        ("urn".to_owned(), string(urn.to_owned())),
    ];
    if let Some(id) = id {
        fields.push(("id".to_owned(), id));
    }
    object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strukt(fields: Vec<(&str, Wire)>) -> Struct {
        Struct {
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    #[test]
    fn lookup_follows_paths_and_keeps_secrets() {
        let outputs = strukt(vec![
            (
                "groupKey",
                object([("id".to_owned(), string("g@example.org"))]),
            ),
            ("privateKey", secret(string("k"))),
            ("nested", secret(object([("a".to_owned(), number(1.0))]))),
            ("later", unknown()),
            ("items", list(vec![string("x"), string("y")])),
        ]);
        assert_eq!(
            lookup(&outputs, "groupKey.id"),
            Lookup::Found(string("g@example.org"))
        );
        assert_eq!(
            lookup(&outputs, "privateKey"),
            Lookup::Found(secret(string("k")))
        );
        assert_eq!(
            lookup(&outputs, "nested.a"),
            Lookup::Found(secret(number(1.0)))
        );
        assert_eq!(lookup(&outputs, "later"), Lookup::Unknown { secret: false });
        assert_eq!(
            lookup(&outputs, "later.deeper"),
            Lookup::Unknown { secret: false }
        );
        assert_eq!(lookup(&outputs, "items.1"), Lookup::Found(string("y")));
        assert_eq!(lookup(&outputs, "groupKey.name"), Lookup::Absent);
        assert_eq!(lookup(&outputs, "missing"), Lookup::Absent);
    }

    #[test]
    fn unknowns_and_secrets_are_found_anywhere() {
        let partial = list(vec![string("a"), unknown()]);
        assert!(contains_unknown(&partial));
        assert!(!contains_unknown(&list(vec![string("a")])));
        assert!(contains_unknown(&unknown_secret_output()));
        assert!(contains_secret(&unknown_secret_output()));
        assert!(contains_secret(&object([(
            "x".to_owned(),
            secret(string("s"))
        )])));
        assert!(!contains_secret(&string("s")));
    }

    #[test]
    fn wire_values_convert_to_graph_values() {
        assert_eq!(to_value(&number(3.0)), Value::Int(3));
        assert_eq!(to_value(&number(0.5)), Value::Float(0.5));
        assert_eq!(to_value(&secret(string("k"))), Value::from("k").secret());
        let reference = object([
            (SIG_KEY.to_owned(), string(RESOURCE_SIG)),
            ("urn".to_owned(), string("urn:pulumi:s::p::t::n")),
            ("id".to_owned(), string("n-id")),
        ]);
        assert_eq!(to_value(&reference), Value::from("n-id"));
        assert_eq!(
            to_json(&object([("s".to_owned(), secret(unknown()))])),
            serde_json::json!({"s": {"$secret": "$unknown"}})
        );
    }
}
