//! Decodes a [`Node`] tree into typed config through serde, collecting every problem
//! instead of stopping at the first.
//!
//! Unknown keys, wrong types and invalid enum values are recorded and decoding goes
//! on with a stand-in value, so one pass reports them all. A missing required key
//! stops serde; it is recorded, a stand-in is put in its place and the document is
//! decoded again, so every missing key is reported in one run. The stand-ins never
//! escape: a document with problems yields its problems, not a value.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::diagnostic::Problem;
use super::source::{Key, KeyPath, Node, NodeValue, Segment};
use super::suggest::Suggestion;

/// A problem found while decoding, at a path relative to the decoded node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldProblem {
    pub path: KeyPath,
    pub line: u32,
    pub problem: Problem,
}

/// How many missing keys one document may stand in for before decoding gives up.
const MAX_STAND_INS: usize = 256;

/// Decodes `node` (found at `base` in its file) as a `T`.
///
/// Returns the value and every problem found. The value is `None` when a required
/// key is missing (every missing key is reported, none that only follows from
/// another) or another problem stopped decoding; otherwise it is present even when
/// problems were found, with stand-ins where the problems were.
pub(crate) fn decode<T: DeserializeOwned>(
    node: &Node,
    base: &KeyPath,
) -> (Option<T>, Vec<FieldProblem>) {
    let mut patched: Option<Node> = None;
    let mut stand_ins: Vec<KeyPath> = Vec::new();
    let mut missing: Vec<FieldProblem> = Vec::new();
    loop {
        let current = patched.as_ref().unwrap_or(node);
        let sink = Sink {
            problems: RefCell::default(),
            stand_ins: stand_ins.clone(),
        };
        let result = T::deserialize(NodeDe {
            node: current,
            path: base.clone(),
            sink: &sink,
        });
        let mut problems = sink.problems.into_inner();
        let error = match result {
            Ok(value) if missing.is_empty() => return (Some(value), problems),
            Ok(_) => {
                problems.append(&mut missing);
                return (None, problems);
            }
            Err(error) => error,
        };
        let (path, line) = error.at.unwrap_or_else(|| (base.clone(), current.line));
        if let Problem::MissingKey { key } = &error.problem
            && !error.reported
            && stand_ins.len() < MAX_STAND_INS
        {
            let stand_in = path.key(key.clone());
            let relative = path
                .0
                .get(base.0.len()..)
                .filter(|_| path.starts_with(base));
            let mut next = current.clone();
            if !stand_ins.contains(&stand_in)
                && relative.is_some_and(|at| insert_stand_in(&mut next, at, key, line))
            {
                // A key missing inside a stand-in only follows from the first.
                if !stand_ins.iter().any(|s| path.starts_with(s)) {
                    missing.push(FieldProblem {
                        path,
                        line,
                        problem: error.problem,
                    });
                }
                stand_ins.push(stand_in);
                patched = Some(next);
                continue;
            }
        }
        if !error.reported && !stand_ins.iter().any(|s| path.starts_with(s)) {
            problems.push(FieldProblem {
                path,
                line,
                problem: error.problem,
            });
        }
        problems.append(&mut missing);
        return (None, problems);
    }
}

/// Adds `key: null` to the mapping (or stand-in null) at `at` inside `node`; `false`
/// when `at` does not lead to one.
fn insert_stand_in(node: &mut Node, at: &[Segment], key: &str, line: u32) -> bool {
    let mut current = node;
    for segment in at {
        let next = match (segment, &mut current.value) {
            (Segment::Key(name), NodeValue::Map(entries)) => entries
                .iter_mut()
                .find(|(k, _)| &k.name == name)
                .map(|(_, value)| value),
            (Segment::Index(index), NodeValue::Seq(items)) => items.get_mut(*index),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return false,
        }
    }
    let entry = (
        Key {
            name: key.to_owned(),
            line,
        },
        Node::new(NodeValue::Null, line),
    );
    match &mut current.value {
        NodeValue::Map(entries) => entries.push(entry),
        // A stand-in itself, for a missing mapping.
        NodeValue::Null => current.value = NodeValue::Map(vec![entry]),
        _ => return false,
    }
    true
}

#[derive(Default)]
struct Sink {
    problems: RefCell<Vec<FieldProblem>>,
    /// Where a missing key was stood in for: nothing below is reported.
    stand_ins: Vec<KeyPath>,
}

impl Sink {
    fn report(&self, path: &KeyPath, line: u32, problem: Problem) {
        if self.is_stand_in(path) {
            return;
        }
        self.problems.borrow_mut().push(FieldProblem {
            path: path.clone(),
            line,
            problem,
        });
    }

    /// Whether `path` is at or below a stand-in for a missing key.
    fn is_stand_in(&self, path: &KeyPath) -> bool {
        self.stand_ins.iter().any(|s| path.starts_with(s))
    }
}

/// The error serde sees. `reported` marks errors that only follow from a problem
/// already in the sink, so they are not reported twice.
#[derive(Debug)]
pub(crate) struct DeError {
    problem: Problem,
    at: Option<(KeyPath, u32)>,
    reported: bool,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DeError {
            problem: Problem::Invalid {
                message: message.to_string(),
            },
            at: None,
            reported: false,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            problem: Problem::MissingKey {
                key: field.to_owned(),
            },
            at: None,
            reported: false,
        }
    }
}

struct NodeDe<'a> {
    node: &'a Node,
    path: KeyPath,
    sink: &'a Sink,
}

impl<'a> NodeDe<'a> {
    /// Records a wrong type; the caller then visits a stand-in value. Returns
    /// whether it was recorded: a stand-in for a missing key is not a wrong type.
    fn mismatch(&self, expected: &str) -> bool {
        if self.sink.is_stand_in(&self.path) {
            return false;
        }
        self.sink.report(
            &self.path,
            self.node.line,
            Problem::WrongType {
                expected: expected.to_owned(),
                found: self.node.kind().to_owned(),
            },
        );
        true
    }

    /// Gives an error raised below this node the location of this node, unless it
    /// already has one. `reported` marks it as following from a recorded problem.
    fn locate<T>(&self, result: Result<T, DeError>, reported: bool) -> Result<T, DeError> {
        result.map_err(|mut error| {
            if error.at.is_none() {
                error.at = Some((self.path.clone(), self.node.line));
            }
            error.reported |= reported;
            error
        })
    }

    /// The entries of a mapping decoded as a struct with `fields`. An unknown key is
    /// reported; when it is a misspelling of a field the mapping lacks, its value is
    /// decoded as that field, so one typo does not also report a missing key and stop
    /// the decoding.
    fn struct_entries(
        &self,
        entries: &'a [(Key, Node)],
        fields: &'static [&'static str],
    ) -> Vec<Entry<'a>> {
        let mut known: Vec<Entry<'a>> = entries
            .iter()
            .filter(|(key, _)| fields.contains(&key.name.as_str()))
            .map(|(key, node)| (key.name.as_str(), key.line, node))
            .collect();
        for (key, node) in entries {
            if fields.contains(&key.name.as_str()) {
                continue;
            }
            let suggestion = Suggestion::closest(&key.name, fields.iter().copied());
            if let Some(field) = fields
                .iter()
                .find(|field| Some(**field) == suggestion.0.as_deref())
                && !known.iter().any(|(name, _, _)| name == field)
            {
                known.push((field, key.line, node));
            }
            self.sink.report(
                &self.path.key(key.name.clone()),
                key.line,
                Problem::UnknownKey {
                    key: key.name.clone(),
                    suggestion,
                },
            );
        }
        known
    }

    fn integer(&self) -> Option<i64> {
        match self.node.value {
            NodeValue::Int(n) => Some(n),
            NodeValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }
}

macro_rules! integers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
            let value = match self.integer() {
                Some(n) => n,
                None => {
                    self.mismatch("an integer");
                    0
                }
            };
            let result = visitor.visit_i64(value);
            self.locate(result, false)
        }
    )*};
}

impl<'a> de::Deserializer<'a> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            NodeValue::Null => visitor.visit_unit(),
            NodeValue::Bool(b) => visitor.visit_bool(*b),
            NodeValue::Int(n) => visitor.visit_i64(*n),
            NodeValue::Float(f) => visitor.visit_f64(*f),
            NodeValue::Str(s) | NodeValue::Datetime(s) => visitor.visit_str(s),
            NodeValue::Seq(items) => visitor.visit_seq(SeqDe::new(&self, items)),
            NodeValue::Map(entries) => visitor.visit_map(MapDe::new(&self, all_entries(entries))),
        };
        self.locate(result, false)
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = match self.node.value {
            NodeValue::Bool(b) => b,
            _ => {
                self.mismatch("a boolean (true or false)");
                false
            }
        };
        let result = visitor.visit_bool(value);
        self.locate(result, false)
    }

    integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128);

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = match self.node.value {
            NodeValue::Int(n) => n as f64,
            NodeValue::Float(f) => f,
            _ => {
                self.mismatch("a number");
                0.0
            }
        };
        let result = visitor.visit_f64(value);
        self.locate(result, false)
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = match &self.node.value {
            NodeValue::Str(s) => s.as_str(),
            _ => {
                self.mismatch("a string");
                ""
            }
        };
        let result = visitor.visit_str(value);
        self.locate(result, false)
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.value == NodeValue::Null {
            let result = visitor.visit_none();
            return self.locate(result, false);
        }
        let path = self.path.clone();
        let line = self.node.line;
        visitor.visit_some(self).map_err(|mut error| {
            error.at.get_or_insert((path, line));
            error
        })
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.value != NodeValue::Null {
            self.mismatch("null");
        }
        let result = visitor.visit_unit();
        self.locate(result, false)
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (items, wrong): (&[Node], bool) = match &self.node.value {
            NodeValue::Seq(items) => (items, false),
            _ => (&[], self.mismatch("a list")),
        };
        let result = visitor.visit_seq(SeqDe::new(&self, items));
        self.locate(result, wrong)
    }

    fn deserialize_tuple<V: Visitor<'a>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (entries, wrong) = match &self.node.value {
            NodeValue::Map(entries) => (all_entries(entries), false),
            _ => (Vec::new(), self.mismatch("a mapping")),
        };
        let result = visitor.visit_map(MapDe::new(&self, entries));
        self.locate(result, wrong)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (entries, wrong) = match &self.node.value {
            NodeValue::Map(entries) => (self.struct_entries(entries, fields), false),
            _ => (Vec::new(), self.mismatch("a mapping")),
        };
        let result = visitor.visit_map(MapDe::new(&self, entries));
        self.locate(result, wrong)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let value = match &self.node.value {
            NodeValue::Str(s) => s.as_str(),
            _ => {
                self.mismatch("a string");
                variants.first().copied().unwrap_or_default()
            }
        };
        let result = visitor.visit_enum(checked_variant(
            value,
            variants,
            &self.path,
            self.node.line,
            self.sink,
        ));
        self.locate(result, false)
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// `value` when it is one of `variants`; otherwise records the problem and stands in
/// the first variant.
fn checked_variant<'a>(
    value: &'a str,
    variants: &'static [&'static str],
    path: &KeyPath,
    line: u32,
    sink: &Sink,
) -> StrDeserializer<'a, DeError> {
    if variants.contains(&value) || variants.is_empty() {
        return value.into_deserializer();
    }
    sink.report(
        path,
        line,
        Problem::InvalidValue {
            value: value.to_owned(),
            expected: variants.iter().map(|v| (*v).to_owned()).collect(),
            suggestion: Suggestion::closest(value, variants.iter().copied()),
        },
    );
    variants[0].into_deserializer()
}

struct SeqDe<'a> {
    items: std::slice::Iter<'a, Node>,
    index: usize,
    path: KeyPath,
    sink: &'a Sink,
}

impl<'a> SeqDe<'a> {
    fn new(parent: &NodeDe<'a>, items: &'a [Node]) -> Self {
        SeqDe {
            items: items.iter(),
            index: 0,
            path: parent.path.clone(),
            sink: parent.sink,
        }
    }
}

impl<'a> de::SeqAccess<'a> for SeqDe<'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = self.path.index(self.index);
        self.index += 1;
        seed.deserialize(NodeDe {
            node,
            path,
            sink: self.sink,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A mapping entry as decoded: the key's name and line, and the value.
type Entry<'a> = (&'a str, u32, &'a Node);

fn all_entries(entries: &[(Key, Node)]) -> Vec<Entry<'_>> {
    entries
        .iter()
        .map(|(key, node)| (key.name.as_str(), key.line, node))
        .collect()
}

struct MapDe<'a> {
    entries: std::vec::IntoIter<Entry<'a>>,
    current: Option<Entry<'a>>,
    path: KeyPath,
    sink: &'a Sink,
}

impl<'a> MapDe<'a> {
    fn new(parent: &NodeDe<'a>, entries: Vec<Entry<'a>>) -> Self {
        MapDe {
            entries: entries.into_iter(),
            current: None,
            path: parent.path.clone(),
            sink: parent.sink,
        }
    }
}

impl<'a> de::MapAccess<'a> for MapDe<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some(entry);
        let (name, line, _) = entry;
        seed.deserialize(KeyDe {
            name,
            line,
            path: self.path.key(name),
            sink: self.sink,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((name, _, node)) = self.current.take() else {
            return Err(de::Error::custom("value requested before its key"));
        };
        seed.deserialize(NodeDe {
            node,
            path: self.path.key(name),
            sink: self.sink,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A mapping key: a string, or an enum value for maps keyed by an enum.
struct KeyDe<'a> {
    name: &'a str,
    line: u32,
    path: KeyPath,
    sink: &'a Sink,
}

impl<'a> de::Deserializer<'a> for KeyDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_str(self.name)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_enum(checked_variant(
            self.name, variants, &self.path, self.line, self.sink,
        ))
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::config::names::CloudName;
    use crate::config::source::parse_yaml;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        name: String,
        #[serde(default)]
        count: i64,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        inner: Inner,
        #[serde(default)]
        clouds: BTreeMap<CloudName, Vec<String>>,
        #[serde(default)]
        flag: bool,
    }

    fn problems(text: &str) -> Vec<(String, u32, Problem)> {
        let node = parse_yaml(text).expect("yaml");
        decode::<Outer>(&node, &KeyPath::root())
            .1
            .into_iter()
            .map(|p| (p.path.to_string(), p.line, p.problem))
            .collect()
    }

    #[test]
    fn decodes_a_valid_document() {
        let node =
            parse_yaml("inner:\n  name: x\n  count: 2\nclouds:\n  gcp: [a]\n").expect("yaml");
        let (outer, problems) = decode::<Outer>(&node, &KeyPath::root());
        assert_eq!(problems, Vec::new());
        let outer = outer.expect("valid");
        assert_eq!(outer.inner.count, 2);
        assert_eq!(outer.clouds[&CloudName::Gcp], vec!["a".to_owned()]);
    }

    #[test]
    fn reports_every_problem_in_one_pass() {
        let found = problems("inner:\n  name: x\n  cuont: 2\nclouds:\n  gpc: [a]\nflag: yes\n");
        assert_eq!(found.len(), 3, "{found:#?}");
        assert_eq!(found[0].0, "inner.cuont");
        assert_eq!(found[0].1, 3);
        assert!(
            matches!(&found[0].2, Problem::UnknownKey { suggestion, .. } if suggestion.0.as_deref() == Some("count"))
        );
        assert_eq!(found[1].0, "clouds.gpc", "{found:#?}");
        assert!(
            matches!(&found[1].2, Problem::InvalidValue { suggestion, .. } if suggestion.0.as_deref() == Some("gcp"))
        );
        assert_eq!(found[2].0, "flag");
        assert_eq!(found[2].1, 6);
        assert!(matches!(&found[2].2, Problem::WrongType { .. }));
    }

    #[test]
    fn missing_key_is_reported_at_its_mapping() {
        let found = problems("flag: true\ninner:\n  count: 1\n");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].0, "inner");
        assert_eq!(found[0].1, 3);
        assert_eq!(found[0].2, Problem::MissingKey { key: "name".into() });
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Required {
        first: String,
        inner: Inner,
        list: Vec<String>,
        last: i64,
    }

    #[test]
    fn every_missing_key_is_reported_in_one_pass_and_nothing_that_follows() {
        let node = parse_yaml("list: 3\n").expect("yaml");
        let (value, found) = decode::<Required>(&node, &KeyPath::root());
        assert!(value.is_none());
        let found: Vec<(String, Problem)> = found
            .into_iter()
            .map(|p| (p.path.to_string(), p.problem))
            .collect();
        let missing = |key: &str| Problem::MissingKey { key: key.into() };
        // `list` is given with a wrong type; `inner.name` only follows from `inner`.
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(matches!(&found[0], (p, Problem::WrongType { .. }) if p == "list"));
        assert_eq!(found[1].1, missing("first"));
        assert_eq!(found[2].1, missing("inner"));
        assert_eq!(found[3].1, missing("last"));
    }

    #[test]
    fn wrong_type_of_a_struct_is_reported_once() {
        let found = problems("inner: 3\n");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(matches!(found[0].2, Problem::WrongType { .. }));
    }
}
