//! Mappings and JSON values that keep their keys in the order the config gives them.
//!
//! The reference reads its configs into Python dicts, which keep insertion order, and
//! writes some of them out again as JSON (the metamist ETL's accessor configuration,
//! a secret). For those bytes to equal the reference's, the order has to survive; a
//! `serde_json::Value` sorts its keys.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::python::json::{NULL, write_bool, write_dict, write_float, write_list, write_str};

/// A JSON value whose objects keep their keys in the order they were given.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderedJson {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<OrderedJson>),
    /// An object, its keys in the order they were given.
    Object(JsonObject),
}

/// A mapping whose keys keep the order they were given; each key once.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V>(Vec<(String, V)>);

/// A JSON object whose keys keep the order they were given.
pub type JsonObject = OrderedMap<OrderedJson>;

/// A key given twice in one [`OrderedMap`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duplicate key {0:?}")]
pub struct DuplicateKey(pub String);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    /// A map of `entries`, in their order; a key given twice is an error.
    pub fn new(entries: impl IntoIterator<Item = (String, V)>) -> Result<Self, DuplicateKey> {
        let mut map = OrderedMap::default();
        for (key, value) in entries {
            map.insert(key, value)?;
        }
        Ok(map)
    }

    /// Appends `key`; a key already present is an error, never an overwrite.
    pub fn insert(&mut self, key: String, value: V) -> Result<(), DuplicateKey> {
        if self.get(&key).is_some() {
            return Err(DuplicateKey(key));
        }
        self.0.push((key, value));
        Ok(())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The entries in their order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys in their order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The values in their keys' order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    /// How many keys the map has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the map has no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> From<std::collections::BTreeMap<String, V>> for OrderedMap<V> {
    /// A sorted map's entries, in its order.
    fn from(map: std::collections::BTreeMap<String, V>) -> Self {
        OrderedMap(map.into_iter().collect())
    }
}

impl JsonObject {
    /// The object as Python's `json.dumps` writes a dict with these keys in this
    /// order.
    pub fn to_python_json(&self) -> String {
        let mut out = String::new();
        write_dict(self.iter(), &mut out, OrderedJson::write_python_json);
        out
    }
}

impl OrderedJson {
    /// The value as Python's `json.dumps` writes it, objects in their key order.
    pub fn to_python_json(&self) -> String {
        let mut out = String::new();
        self.write_python_json(&mut out);
        out
    }

    /// Appends the value as Python's `json.dumps` writes it.
    fn write_python_json(&self, out: &mut String) {
        match self {
            OrderedJson::Object(object) => write_dict(object.iter(), out, Self::write_python_json),
            OrderedJson::Array(items) => write_list(items, out, Self::write_python_json),
            OrderedJson::Number(number) if number.is_f64() => {
                write_float(number.as_f64().unwrap_or(f64::NAN), out);
            }
            // Integers beyond i64 are written as digits, as Python writes them.
            OrderedJson::Number(number) => out.push_str(&number.to_string()),
            OrderedJson::Null => out.push_str(NULL),
            OrderedJson::Bool(b) => write_bool(*b, out),
            OrderedJson::String(s) => write_str(s, out),
        }
    }

    /// The value as a `serde_json::Value` (whose objects sort their keys).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            OrderedJson::Null => serde_json::Value::Null,
            OrderedJson::Bool(b) => serde_json::Value::Bool(*b),
            OrderedJson::Number(n) => serde_json::Value::Number(n.clone()),
            OrderedJson::String(s) => serde_json::Value::String(s.clone()),
            OrderedJson::Array(items) => items.iter().map(OrderedJson::to_json).collect(),
            OrderedJson::Object(object) => serde_json::Value::Object(
                object
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl From<serde_json::Value> for OrderedJson {
    /// A `serde_json::Value`, its objects in its (sorted) key order.
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => OrderedJson::Null,
            serde_json::Value::Bool(b) => OrderedJson::Bool(b),
            serde_json::Value::Number(n) => OrderedJson::Number(n),
            serde_json::Value::String(s) => OrderedJson::String(s),
            serde_json::Value::Array(items) => {
                OrderedJson::Array(items.into_iter().map(OrderedJson::from).collect())
            }
            serde_json::Value::Object(entries) => OrderedJson::Object(OrderedMap(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, OrderedJson::from(v)))
                    .collect(),
            )),
        }
    }
}

impl Serialize for OrderedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OrderedJson::Null => serializer.serialize_unit(),
            OrderedJson::Bool(b) => serializer.serialize_bool(*b),
            OrderedJson::Number(n) => n.serialize(serializer),
            OrderedJson::String(s) => serializer.serialize_str(s),
            OrderedJson::Array(items) => serializer.collect_seq(items),
            OrderedJson::Object(object) => object.serialize(serializer),
        }
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for OrderedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedJsonVisitor)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OrderedMapVisitor(std::marker::PhantomData))
    }
}

struct OrderedMapVisitor<V>(std::marker::PhantomData<V>);

impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedMapVisitor<V> {
    type Value = OrderedMap<V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMap<V>, A::Error> {
        let mut ordered = OrderedMap::default();
        while let Some((key, value)) = map.next_entry::<String, V>()? {
            ordered.insert(key, value).map_err(de::Error::custom)?;
        }
        Ok(ordered)
    }
}

struct OrderedJsonVisitor;

impl<'de> Visitor<'de> for OrderedJsonVisitor {
    type Value = OrderedJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<OrderedJson, D::Error> {
        OrderedJson::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<OrderedJson, E> {
        serde_json::Number::from_f64(x)
            .map(OrderedJson::Number)
            .ok_or_else(|| E::custom(format!("{x} is not a JSON number")))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OrderedJson::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OrderedJson, A::Error> {
        OrderedMapVisitor(std::marker::PhantomData)
            .visit_map(map)
            .map(OrderedJson::Object)
    }
}

/// In a JSON Schema an ordered map is an object like any other: order is not a
/// schema property.
#[cfg(feature = "schema")]
impl<V: schemars::JsonSchema> schemars::JsonSchema for OrderedMap<V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        <std::collections::BTreeMap<String, V> as schemars::JsonSchema>::schema_name()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <std::collections::BTreeMap<String, V> as schemars::JsonSchema>::json_schema(generator)
    }
}

/// In a JSON Schema an ordered JSON value is any JSON value.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for OrderedJson {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        <serde_json::Value as schemars::JsonSchema>::schema_name()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <serde_json::Value as schemars::JsonSchema>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_order_they_were_given() {
        let text = r#"{"project": "tob-wgs", "default_sequencing_type": "genome", "n": [1, 2.5, null, true]}"#;
        let value: OrderedJson = serde_json::from_str(text).expect("json");
        assert_eq!(value.to_python_json(), text);
        assert_eq!(
            serde_json::to_string(&value).expect("json"),
            r#"{"project":"tob-wgs","default_sequencing_type":"genome","n":[1,2.5,null,true]}"#
        );
    }

    #[test]
    fn python_json_escapes_as_python_does() {
        let value: OrderedJson =
            serde_json::from_str(r#"{"é": "a\"b", "z": {"b": 1, "a": 2}}"#).expect("json");
        assert_eq!(
            value.to_python_json(),
            r#"{"\u00e9": "a\"b", "z": {"b": 1, "a": 2}}"#
        );
    }

    #[test]
    fn a_key_given_twice_is_an_error() {
        let error =
            serde_json::from_str::<OrderedJson>(r#"{"a": 1, "a": 2}"#).expect_err("duplicate");
        assert!(error.to_string().contains("duplicate key \"a\""), "{error}");
    }
}
