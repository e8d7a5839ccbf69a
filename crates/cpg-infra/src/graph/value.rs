//! Values of resource inputs and exports: plain data, secrets, and values known only
//! at deploy time (other resources' outputs, data-source results, and functions of
//! those), all as data so the graph serialises.

use std::collections::{BTreeMap, btree_map};
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
        self.walk()
            .all(|v| !matches!(v, Value::Output(_) | Value::Invoke(_) | Value::Function(_)))
    }

    /// Every resource whose outputs this value uses, in order of first use.
    pub fn dependencies(&self) -> Vec<ResourceId> {
        let mut found: Vec<ResourceId> = Vec::new();
        for value in self.walk() {
            if let Value::Output(output) = value
                && !found.contains(&output.resource)
            {
                found.push(output.resource.clone());
            }
        }
        found
    }

    /// The values directly inside this one, in order: a list's items, a map's
    /// values (by key), a secret's value, a data source's arguments (by name), a
    /// function's arguments. Nothing for any other value.
    ///
    /// The one place that knows where values hold values: every walk over a value
    /// tree goes through it (or [`Value::walk`], [`Value::map_children`]).
    pub fn children(&self) -> Children<'_> {
        let (first, rest, map) = match self {
            Value::List(items) => (None, items.as_slice(), None),
            Value::Map(entries) => (None, [].as_slice(), Some(entries.values())),
            Value::Secret(inner) => (Some(inner.as_ref()), [].as_slice(), None),
            Value::Invoke(invoke) => (None, [].as_slice(), Some(invoke.args.values())),
            Value::Function(function) => return function.arguments(),
            Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::String(_)
            | Value::Output(_)
            | Value::Asset(_)
            | Value::Archive(_) => (None, [].as_slice(), None),
        };
        Children {
            first,
            rest: rest.iter(),
            map,
        }
    }

    /// This value and every value inside it, depth first, each before the values
    /// it holds (children in [`Value::children`] order).
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            next: Some(self),
            stack: Vec::new(),
        }
    }

    /// This value with each of its [children](Value::children) replaced by `f` of
    /// it: the same kind of value, the same keys, the same function; a value
    /// without children as it is.
    pub fn map_children(&self, mut f: impl FnMut(&Value) -> Value) -> Value {
        let never: Result<Value, std::convert::Infallible> = self.try_map_children(|v| Ok(f(v)));
        match never {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// [`Value::map_children`] with a fallible `f`: the first error stops it.
    pub fn try_map_children<E>(
        &self,
        mut f: impl FnMut(&Value) -> Result<Value, E>,
    ) -> Result<Value, E> {
        Ok(match self {
            Value::List(items) => Value::List(map_items(items, &mut f)?),
            Value::Map(entries) => Value::Map(map_values(entries, &mut f)?),
            Value::Secret(inner) => Value::Secret(Box::new(f(inner)?)),
            Value::Invoke(invoke) => Value::Invoke(Invoke {
                token: invoke.token.clone(),
                args: map_values(&invoke.args, &mut f)?,
                property: invoke.property.clone(),
            }),
            Value::Function(function) => Value::Function(match function {
                Function::Concat(parts) => Function::Concat(map_items(parts, &mut f)?),
                Function::SortedMembers(items) => {
                    Function::SortedMembers(map_items(items, &mut f)?)
                }
                Function::Sorted(items) => Function::Sorted(map_items(items, &mut f)?),
                Function::Json(inner) => Function::Json(Box::new(f(inner)?)),
                Function::Base64Decode(inner) => Function::Base64Decode(Box::new(f(inner)?)),
                Function::Lines(inner) => Function::Lines(Box::new(f(inner)?)),
                Function::Toml { value, merge } => Function::Toml {
                    value: Box::new(f(value)?),
                    merge: map_items(merge, &mut f)?,
                },
            }),
            // The values without children in [`Value::children`].
            _ => self.clone(),
        })
    }

    /// The plan's JSON form; unknown values are objects with one `$` key.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

impl Function {
    /// The values the function is applied to, in order.
    pub fn arguments(&self) -> Children<'_> {
        let (first, rest): (Option<&Value>, &[Value]) = match self {
            Function::Concat(parts) | Function::SortedMembers(parts) | Function::Sorted(parts) => {
                (None, parts)
            }
            Function::Json(value) | Function::Base64Decode(value) | Function::Lines(value) => {
                (Some(value), &[])
            }
            Function::Toml { value, merge } => (Some(value), merge),
        };
        Children {
            first,
            rest: rest.iter(),
            map: None,
        }
    }
}

/// `items` each replaced by `f` of it.
fn map_items<E>(
    items: &[Value],
    f: &mut impl FnMut(&Value) -> Result<Value, E>,
) -> Result<Vec<Value>, E> {
    items.iter().map(f).collect()
}

/// `entries` with each value replaced by `f` of it.
fn map_values<E>(
    entries: &BTreeMap<String, Value>,
    f: &mut impl FnMut(&Value) -> Result<Value, E>,
) -> Result<BTreeMap<String, Value>, E> {
    entries
        .iter()
        .map(|(key, value)| Ok((key.clone(), f(value)?)))
        .collect()
}

/// The values directly inside a value: [`Value::children`],
/// [`Function::arguments`].
#[derive(Debug, Clone)]
pub struct Children<'v> {
    first: Option<&'v Value>,
    rest: std::slice::Iter<'v, Value>,
    map: Option<btree_map::Values<'v, String, Value>>,
}

impl<'v> Iterator for Children<'v> {
    type Item = &'v Value;

    fn next(&mut self) -> Option<&'v Value> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        match &mut self.map {
            Some(values) => values.next(),
            None => self.rest.next(),
        }
    }
}

/// A value and every value inside it, depth first: [`Value::walk`].
#[derive(Debug, Clone)]
pub struct Walk<'v> {
    next: Option<&'v Value>,
    stack: Vec<Children<'v>>,
}

impl<'v> Iterator for Walk<'v> {
    type Item = &'v Value;

    fn next(&mut self) -> Option<&'v Value> {
        let value = match self.next.take() {
            Some(value) => value,
            None => loop {
                let children = self.stack.last_mut()?;
                match children.next() {
                    Some(child) => break child,
                    None => {
                        self.stack.pop();
                    }
                }
            },
        };
        self.stack.push(value.children());
        Some(value)
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
