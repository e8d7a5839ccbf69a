//! Reads YAML into a [`Node`] tree, with the YAML 1.2 core schema for plain scalars.
//! A key given twice in one mapping is an error, never a silent overwrite.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::{DuplicateKey, Key, KeyPath, Node, NodeValue, Segment, SyntaxError};

/// Aliases are expanded by copying; this bounds the copies (the "billion laughs").
const MAX_NODES: usize = 1_000_000;

/// The deepest nesting of lists and mappings accepted; config files need a handful.
pub(crate) const MAX_DEPTH: usize = 128;

/// Parses a YAML document. An empty document is `null`; more than one document is an
/// error.
pub fn parse_yaml(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder {
        // The parser may place the end of input on the line after the last one.
        last_line: u32::try_from(text.split('\n').count()).unwrap_or(u32::MAX),
        ..Builder::default()
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| SyntaxError {
            message: error.info().to_owned(),
            line: Some(builder.clamp(error.marker().line())),
            duplicate: None,
        })?;
        builder.event(event, span)?;
    }
    Ok(builder
        .root
        .unwrap_or_else(|| Node::new(NodeValue::Null, 1)))
}

fn line_of(line: usize) -> u32 {
    u32::try_from(line.max(1)).unwrap_or(u32::MAX)
}

enum Frame {
    Seq {
        items: Vec<Node>,
        line: u32,
        anchor: usize,
    },
    Map {
        entries: Vec<(Key, Node)>,
        pending_key: Option<Key>,
        line: u32,
        anchor: usize,
    },
}

/// A finished node, and its text when it was a scalar (so it can be a key).
struct Built {
    node: Node,
    text: Option<String>,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: BTreeMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
    last_line: u32,
}

impl Builder {
    fn clamp(&self, line: usize) -> u32 {
        line_of(line).min(self.last_line.max(1))
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        let line = self.clamp(span.start.line());
        if matches!(event, Event::SequenceStart(..) | Event::MappingStart(..))
            && self.stack.len() >= MAX_DEPTH
        {
            return Err(error("lists and mappings are nested too deeply", line));
        }
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(error("a config file holds one YAML document", line));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref());
                let node = Node::new(value, line);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.finish(Built {
                    node,
                    text: Some(text.into_owned()),
                })?;
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| error("alias to an unknown anchor", line))?;
                self.count(&node, line)?;
                let text = match &node.value {
                    NodeValue::Str(s) => Some(s.clone()),
                    _ => None,
                };
                self.finish(Built { node, text })?;
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                items: Vec::new(),
                line,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                pending_key: None,
                line,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        line,
                        anchor,
                    }) => (Node::new(NodeValue::Seq(items), line), anchor),
                    Some(Frame::Map {
                        entries,
                        line,
                        anchor,
                        ..
                    }) => (Node::new(NodeValue::Map(entries), line), anchor),
                    None => return Err(error("unbalanced collection", line)),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.finish(Built { node, text: None })?;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn count(&mut self, node: &Node, line: u32) -> Result<(), SyntaxError> {
        self.nodes += size(node);
        if self.nodes > MAX_NODES {
            return Err(error("aliases expand to too many values", line));
        }
        Ok(())
    }

    fn finish(&mut self, built: Built) -> Result<(), SyntaxError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(error("too many values", built.node.line));
        }
        let depth = self.stack.len();
        match self.stack.last_mut() {
            None => self.root = Some(built.node),
            Some(Frame::Seq { items, .. }) => items.push(built.node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    let name = built.text.ok_or_else(|| {
                        error("a mapping key must be a plain value", built.node.line)
                    })?;
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == name) {
                        let first_line = first.line;
                        let path = self.path(depth);
                        return Err(SyntaxError {
                            message: format!("duplicate key {name:?}"),
                            line: Some(built.node.line),
                            duplicate: Some(DuplicateKey {
                                path: path.key(name),
                                first_line,
                            }),
                        });
                    }
                    *pending_key = Some(Key {
                        name,
                        line: built.node.line,
                    });
                }
                Some(key) => entries.push((key, built.node)),
            },
        }
        Ok(())
    }

    /// The path of the mapping or list at `depth` (1 for the outermost).
    fn path(&self, depth: usize) -> KeyPath {
        let mut segments = Vec::new();
        for frame in &self.stack[..depth.saturating_sub(1)] {
            match frame {
                Frame::Seq { items, .. } => segments.push(Segment::Index(items.len())),
                Frame::Map { pending_key, .. } => segments.push(Segment::Key(
                    pending_key
                        .as_ref()
                        .map(|k| k.name.clone())
                        .unwrap_or_default(),
                )),
            }
        }
        KeyPath(segments)
    }
}

fn size(node: &Node) -> usize {
    match &node.value {
        NodeValue::Seq(items) => 1 + items.iter().map(size).sum::<usize>(),
        NodeValue::Map(entries) => 1 + entries.iter().map(|(_, v)| 1 + size(v)).sum::<usize>(),
        _ => 1,
    }
}

fn error(message: &str, line: u32) -> SyntaxError {
    SyntaxError {
        message: message.to_owned(),
        line: Some(line),
        duplicate: None,
    }
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> NodeValue {
    if let Some(tag) = tag {
        let explicit = match tag.suffix.as_str() {
            "str" => Some(NodeValue::Str(text.to_owned())),
            "null" => Some(NodeValue::Null),
            "bool" | "int" | "float" => Some(resolve_plain(text)),
            _ => None,
        };
        if let Some(value) = explicit {
            return value;
        }
    }
    match style {
        ScalarStyle::Plain => resolve_plain(text),
        _ => NodeValue::Str(text.to_owned()),
    }
}

/// The YAML 1.2 core schema.
fn resolve_plain(text: &str) -> NodeValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return NodeValue::Float(f64::NAN),
        _ => {}
    }
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return NodeValue::Float(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<i64>() {
            Ok(n) => NodeValue::Int(n),
            Err(_) => NodeValue::Float(text.parse().unwrap_or(f64::INFINITY)),
        };
    }
    let radix = if text.starts_with("0x") {
        Some(16)
    } else if text.starts_with("0o") {
        Some(8)
    } else {
        None
    };
    if let Some(radix) = radix
        && let Ok(n) = i64::from_str_radix(&text[2..], radix)
    {
        return NodeValue::Int(n);
    }
    if is_core_float(unsigned)
        && let Ok(f) = text.parse::<f64>()
    {
        return NodeValue::Float(f);
    }
    NodeValue::Str(text.to_owned())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_core_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.trim_start_matches(['+', '-'])));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema() {
        let node = parse_yaml(
            "a: 1\nb: 1.5\nc: true\nd: ~\ne: hello\nf: '1'\ng: -2\nh: 1e3\ni: 0x10\nj:\n",
        )
        .expect("valid");
        let get = |k: &str| node.get(k).map(|(_, v)| v.value.clone());
        assert_eq!(get("a"), Some(NodeValue::Int(1)));
        assert_eq!(get("b"), Some(NodeValue::Float(1.5)));
        assert_eq!(get("c"), Some(NodeValue::Bool(true)));
        assert_eq!(get("d"), Some(NodeValue::Null));
        assert_eq!(get("e"), Some(NodeValue::Str("hello".into())));
        assert_eq!(get("f"), Some(NodeValue::Str("1".into())));
        assert_eq!(get("g"), Some(NodeValue::Int(-2)));
        assert_eq!(get("h"), Some(NodeValue::Float(1000.0)));
        assert_eq!(get("i"), Some(NodeValue::Int(16)));
        assert_eq!(get("j"), Some(NodeValue::Null));
    }

    #[test]
    fn lines_are_one_based() {
        let node = parse_yaml("# comment\nfewgenomes:\n  gcp:\n    project: x\n").expect("valid");
        let (key, value) = node.get("fewgenomes").expect("key");
        assert_eq!(key.line, 2);
        let (key, _) = value.get("gcp").expect("gcp");
        assert_eq!(key.line, 3);
    }

    #[test]
    fn duplicate_key_names_both_lines() {
        let error = parse_yaml("analysis:\n- a\ndata-manager:\n- b\nanalysis:\n- c\n")
            .expect_err("duplicate");
        assert_eq!(error.line, Some(5));
        let duplicate = error.duplicate.expect("duplicate details");
        assert_eq!(duplicate.first_line, 1);
        assert_eq!(duplicate.path.to_string(), "analysis");
    }

    #[test]
    fn nested_duplicate_has_its_path() {
        let error =
            parse_yaml("ds:\n  gcp:\n    project: a\n    project: b\n").expect_err("duplicate");
        let duplicate = error.duplicate.expect("duplicate details");
        assert_eq!(duplicate.path.to_string(), "ds.gcp.project");
    }

    #[test]
    fn anchors_and_aliases_expand() {
        let node = parse_yaml("a: &x [1, 2]\nb: *x\n").expect("valid");
        assert_eq!(
            node.get("a").map(|(_, v)| &v.value),
            node.get("b").map(|(_, v)| &v.value)
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        assert!(parse_yaml(&text).is_err());
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(parse_yaml("").expect("valid").value, NodeValue::Null);
        assert_eq!(
            parse_yaml("# only a comment\n").expect("valid").value,
            NodeValue::Null
        );
    }

    #[test]
    fn non_ascii_plain_scalars_are_strings() {
        let node = parse_yaml("name: Zürich\nx: é\n").expect("valid");
        assert_eq!(
            node.get("name").map(|(_, v)| &v.value),
            Some(&NodeValue::Str("Zürich".into()))
        );
        assert_eq!(
            parse_yaml("aé").expect("valid").value,
            NodeValue::Str("aé".into())
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("a:\n  {}x\n", "- ".repeat(20_000));
        assert!(parse_yaml(&text).is_err());
    }

    #[test]
    fn lines_stay_inside_the_text() {
        let error = parse_yaml("[a").expect_err("unclosed");
        assert_eq!(error.line, Some(1));
    }

    #[test]
    fn two_documents_are_refused() {
        assert!(parse_yaml("a: 1\n---\nb: 2\n").is_err());
    }
}
