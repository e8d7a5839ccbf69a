//! Values of resource inputs and exports: plain data, secrets, and values known only
//! at deploy time (other resources' outputs, data-source results, and functions of
//! those), all as data so the graph serialises.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use super::asset::{Archive, Asset};
use super::resource::ResourceId;

/// A resource input or stack export.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map with sorted keys.
    Map(BTreeMap<String, Value>),
    /// A secret: its value is encrypted in the state and redacted in `Debug`.
    Secret(Box<Value>),
    /// A property of another resource's outputs, e.g. a bucket's `name`.
    Output(OutputRef),
    /// A property of a data source's result.
    Invoke(Invoke),
    /// A function of other values, evaluated once they are known.
    Function(Function),
    /// A file's contents.
    Asset(Asset),
    /// A bundle of files.
    Archive(Archive),
}

/// A property of a resource's outputs; `property` is a dotted path (`groupKey.id`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OutputRef {
    /// The resource.
    pub resource: ResourceId,
    /// The property path.
    pub property: String,
}

/// A data-source call and the property of its result that is used.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoke {
    /// The data source's token, e.g. `gcp:organizations/getOrganization:getOrganization`.
    pub token: String,
    /// Its arguments.
    pub args: BTreeMap<String, Value>,
    /// The property of the result.
    pub property: String,
}

/// The closed set of functions evaluated when their inputs are known.
#[derive(Debug, Clone, PartialEq)]
pub enum Function {
    /// The parts' string forms joined.
    Concat(Vec<Value>),
    /// A value rendered as JSON text.
    Json(Box<Value>),
    /// A map rendered as TOML text with sorted keys; `merge` are TOML texts merged
    /// beneath it first (the value wins), in order.
    Toml {
        /// The value.
        value: Box<Value>,
        /// TOML texts merged in first.
        merge: Vec<Value>,
    },
    /// Base64 text decoded to UTF-8.
    Base64Decode(Box<Value>),
    /// Members' ids lower-cased, de-duplicated and sorted by (domain, local part), as
    /// a list.
    SortedMembers(Vec<Value>),
    /// Strings sorted by code point, duplicates kept, as a list (Python's `sorted`).
    Sorted(Vec<Value>),
    /// A list's items one per line; a single newline for an empty list.
    Lines(Box<Value>),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// The output property `property` of `resource`.
    pub fn output(resource: &ResourceId, property: impl Into<String>) -> Self {
        Value::Output(OutputRef {
            resource: resource.clone(),
            property: property.into(),
        })
    }

    /// The parts joined as strings.
    pub fn concat(parts: impl IntoIterator<Item = Value>) -> Self {
        Value::Function(Function::Concat(parts.into_iter().collect()))
    }

    /// A map from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of strings.
    pub fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Self {
        Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    /// A secret wrapping this value.
    pub fn secret(self) -> Self {
        Value::Secret(Box::new(self))
    }

    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value is known before deploying (no outputs, invokes or functions
    /// of them inside).
    pub fn is_known(&self) -> bool {
        match self {
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::String(_) => {
                true
            }
            Value::List(items) => items.iter().all(Value::is_known),
            Value::Map(entries) => entries.values().all(Value::is_known),
            Value::Secret(inner) => inner.is_known(),
            Value::Asset(_) | Value::Archive(_) => true,
            Value::Output(_) | Value::Invoke(_) | Value::Function(_) => false,
        }
    }

    /// Every resource whose outputs this value uses, in order of first use.
    pub fn dependencies(&self) -> Vec<ResourceId> {
        let mut found = Vec::new();
        self.collect_dependencies(&mut found);
        found
    }

    fn collect_dependencies(&self, found: &mut Vec<ResourceId>) {
        let mut push = |id: &ResourceId| {
            if !found.contains(id) {
                found.push(id.clone());
            }
        };
        match self {
            Value::Output(output) => push(&output.resource),
            Value::List(items) => items.iter().for_each(|v| v.collect_dependencies(found)),
            Value::Map(entries) => entries.values().for_each(|v| v.collect_dependencies(found)),
            Value::Secret(inner) => inner.collect_dependencies(found),
            Value::Invoke(invoke) => invoke
                .args
                .values()
                .for_each(|v| v.collect_dependencies(found)),
            Value::Function(function) => {
                for v in function.arguments() {
                    v.collect_dependencies(found);
                }
            }
            Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::String(_)
            | Value::Asset(_)
            | Value::Archive(_) => {}
        }
    }

    /// The plan's JSON form; unknown values are objects with one `$` key.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

impl Function {
    /// The values the function is applied to.
    pub fn arguments(&self) -> Vec<&Value> {
        match self {
            Function::Concat(parts) | Function::SortedMembers(parts) | Function::Sorted(parts) => {
                parts.iter().collect()
            }
            Function::Json(value) | Function::Base64Decode(value) | Function::Lines(value) => {
                vec![value]
            }
            Function::Toml { value, merge } => {
                std::iter::once(value.as_ref()).chain(merge).collect()
            }
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "{b:?}"),
            Value::Int(n) => write!(f, "{n:?}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(items) => f.debug_list().entries(items).finish(),
            Value::Map(entries) => f.debug_map().entries(entries).finish(),
            Value::Secret(_) => f.write_str("Secret(<redacted>)"),
            Value::Output(output) => write!(f, "Output({}.{})", output.resource, output.property),
            Value::Invoke(invoke) => write!(f, "Invoke({}.{})", invoke.token, invoke.property),
            Value::Function(function) => write!(f, "{function:?}"),
            Value::Asset(asset) => write!(f, "{asset:?}"),
            Value::Archive(archive) => write!(f, "{archive:?}"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}
