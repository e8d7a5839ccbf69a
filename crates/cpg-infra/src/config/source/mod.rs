//! The raw form of a config file: a tree of values that remembers the line each value
//! and key came from. TOML and YAML are both read into it, so decoding and validation
//! never care which format a file was in.

mod toml;
mod yaml;

use std::fmt;

pub use self::toml::parse_toml;
pub use self::yaml::parse_yaml;

/// A value read from a config file, with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// The line the value starts on.
    pub line: u32,
}

/// The kinds of value a config file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// An explicit null (`~`, `null` or nothing in YAML).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A TOML date or time, kept as written.
    Datetime(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping in file order; keys are unique.
    Map(Vec<(Key, Node)>),
}

/// A mapping key and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The key's text.
    pub name: String,
    /// The line the key is on.
    pub line: u32,
}

impl Node {
    /// A node of `value` on `line`.
    pub fn new(value: NodeValue, line: u32) -> Self {
        Node { value, line }
    }

    /// What kind of value this is, for messages: `a string`, `a mapping`, ….
    pub fn kind(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Datetime(_) => "a date-time",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    /// The entries when this is a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<(&Key, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, v)| (k, v))
    }

    /// The value at `path` below this one, when the file gives it.
    pub fn find(&self, path: &[Segment]) -> Option<&Node> {
        path.iter()
            .try_fold(self, |node, segment| match (segment, &node.value) {
                (Segment::Key(key), NodeValue::Map(_)) => node.get(key).map(|(_, value)| value),
                (Segment::Index(i), NodeValue::Seq(items)) => items.get(*i),
                _ => None,
            })
    }

    /// The line of the value at `path` below this one: the line of its key when it
    /// sits in a mapping. When the path does not exist, the line of its nearest
    /// ancestor that does.
    pub fn line_of(&self, path: &[Segment]) -> u32 {
        let mut node = self;
        let mut line = self.line;
        for segment in path {
            let next = match (segment, &node.value) {
                (Segment::Key(key), NodeValue::Map(entries)) => entries
                    .iter()
                    .find(|(k, _)| &k.name == key)
                    .map(|(k, v)| (k.line, v)),
                (Segment::Index(i), NodeValue::Seq(items)) => items.get(*i).map(|v| (v.line, v)),
                _ => None,
            };
            match next {
                Some((at, child)) => {
                    line = at;
                    node = child;
                }
                None => break,
            }
        }
        line
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Where a value sits inside a file, e.g. `validation.depends_on[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    /// The empty path: the file's root.
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path with a key appended.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.into()));
        KeyPath(segments)
    }

    /// This path with an index appended.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        KeyPath(segments)
    }

    /// This path followed by `other`.
    pub fn join(&self, other: &KeyPath) -> Self {
        let mut segments = self.0.clone();
        segments.extend(other.0.iter().cloned());
        KeyPath(segments)
    }

    /// Whether this path is `other` or lies below or above it.
    pub fn overlaps(&self, other: &KeyPath) -> bool {
        let n = self.0.len().min(other.0.len());
        self.0[..n] == other.0[..n]
    }

    /// Whether this path is `prefix` or lies below it.
    pub fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let plain = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if plain {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A file that could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// What the parser said.
    pub message: String,
    /// The line, when the parser knows it.
    pub line: Option<u32>,
    /// Where a duplicated key was first defined, when that is the problem.
    pub duplicate: Option<DuplicateKey>,
}

/// A key given twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The path of the key.
    pub path: KeyPath,
    /// The line of the first definition.
    pub first_line: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_path_display() {
        let path = KeyPath::root().key("validation").key("depends_on").index(0);
        assert_eq!(path.to_string(), "validation.depends_on[0]");
        let quoted = KeyPath::root().key("users").key("alice.smith");
        assert_eq!(quoted.to_string(), "users.\"alice.smith\"");
        assert_eq!(KeyPath::root().to_string(), "(root)");
    }

    #[test]
    fn find_tells_a_given_value_from_a_missing_one() {
        let root = parse_yaml("ds:\n  autoclass: true\n  depends_on: [a]\n").expect("yaml");
        let at = |path: KeyPath| root.find(&path.0).map(|node| node.line);
        let ds = KeyPath::root().key("ds");
        assert_eq!(at(ds.key("autoclass")), Some(2));
        assert_eq!(at(ds.key("depends_on").index(0)), Some(3));
        assert_eq!(at(ds.key("depends_on").index(1)), None);
        assert_eq!(at(ds.key("archive_age")), None);
        assert_eq!(at(ds.key("autoclass").key("deeper")), None);
    }

    #[test]
    fn toml_tables_keep_file_order() {
        let root = parse_toml("[t.sub]\nx = 1\n[t]\nz = 1\na = 2\nm.n = 3\n").expect("toml");
        let (_, t) = root.get("t").expect("t");
        let keys: Vec<&str> = t
            .as_map()
            .expect("map")
            .iter()
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(keys, ["sub", "z", "a", "m"]);
    }

    #[test]
    fn overlapping_paths() {
        let a = KeyPath::root().key("x").key("y");
        assert!(a.overlaps(&KeyPath::root().key("x")));
        assert!(a.overlaps(&a.index(2)));
        assert!(!a.overlaps(&KeyPath::root().key("z")));
    }
}
