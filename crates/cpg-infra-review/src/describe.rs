//! Values as people read them: known values as they are, unknown-until-deploy values
//! by their definition.

use std::borrow::Cow;
use std::fmt::Write as _;

use cpg_infra::graph::{Archive, Asset, Function, Value};

/// `text` with every control character, and every character that reorders text on
/// screen (bidirectional overrides and isolates), written as an escape — `\n`,
/// `\r`, `\t`, `\0`, `\u{1b}` — so that a value in a review cannot start a line
/// of its own, colour or clear a terminal, or hide what follows it.
///
/// ```
/// use cpg_infra_review::describe::escape_controls;
/// assert_eq!(escape_controls("a\nb\u{1b}[2J"), "a\\nb\\u{1b}[2J");
/// assert_eq!(escape_controls("plain"), "plain");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `value` as one line of text. Strings are written bare, their control characters
/// escaped (see [`escape_controls`]); an output reference as
/// `${type::name.property}`; a data-source result as `${function.property}`; secrets as
/// `[secret]`, never their contents; an asset by its file (if any), size and SHA-256
/// prefix, never its contents; an archive as its named assets or its directory.
pub fn describe(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    match escape_controls(&out) {
        Cow::Borrowed(_) => out,
        Cow::Owned(escaped) => escaped,
    }
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Float(x) => out.push_str(&x.to_string()),
        Value::String(s) => out.push_str(s),
        Value::List(items) => {
            out.push('[');
            list(items.iter(), out);
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push_str(": ");
                write(item, out);
            }
            out.push('}');
        }
        Value::Secret(_) => out.push_str("[secret]"),
        Value::Output(output) => {
            out.push_str("${");
            out.push_str(&output.resource.to_string());
            out.push('.');
            out.push_str(&output.property);
            out.push('}');
        }
        Value::Invoke(invoke) => {
            let function = invoke.token.rsplit(':').next().unwrap_or(&invoke.token);
            out.push_str("${");
            out.push_str(function);
            out.push('.');
            out.push_str(&invoke.property);
            out.push('}');
        }
        Value::Function(Function::Concat(parts)) => parts.iter().for_each(|p| write(p, out)),
        Value::Function(function) => {
            let name = match function {
                Function::Json(_) => "json",
                Function::Toml { .. } => "toml",
                Function::Base64Decode(_) => "base64decode",
                Function::SortedMembers(_) => "sortedmembers",
                Function::Sorted(_) => "sorted",
                Function::Lines(_) => "lines",
                Function::Concat(_) => "concat",
            };
            out.push_str(name);
            out.push('(');
            list(function.arguments(), out);
            out.push(')');
        }
        Value::Asset(asset) => write_asset(asset, out),
        Value::Archive(Archive::Assets(assets)) => {
            out.push_str("archive{");
            for (i, (name, asset)) in assets.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(name);
                out.push_str(": ");
                write_asset(asset, out);
            }
            out.push('}');
        }
        Value::Archive(Archive::Directory { path }) => {
            out.push_str("archive(");
            out.push_str(&path.display().to_string());
            out.push_str(", not read while planning)");
        }
    }
}

/// An asset as `asset(<file, >N bytes, sha256:<12 hex digits>)`: enough to see that
/// it changed without printing what may be code or secrets.
fn write_asset(asset: &Asset, out: &mut String) {
    out.push_str("asset(");
    if let Asset::File { path, .. } = asset {
        out.push_str(&path.display().to_string());
        out.push_str(", ");
    }
    match asset.digest() {
        Some(digest) => {
            out.push_str(&format!("{} bytes, sha256:", digest.len));
            out.push_str(&digest.hex()[..12]);
        }
        None => out.push_str("not read while planning"),
    }
    out.push(')');
}

fn list<'a>(items: impl Iterator<Item = &'a Value>, out: &mut String) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write(item, out);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use cpg_infra::graph::{Invoke, ResourceId};

    use super::*;

    #[test]
    fn unknowns_are_described_by_definition() {
        let bucket = ResourceId::new("gcp:storage/bucket:Bucket", "b");
        let role = Value::concat([
            Value::Invoke(Invoke {
                token: "gcp:organizations/getOrganization:getOrganization".into(),
                args: BTreeMap::new(),
                property: "id".into(),
            }),
            Value::from("/roles/Viewer"),
        ]);
        assert_eq!(describe(&role), "${getOrganization.id}/roles/Viewer");
        assert_eq!(
            describe(&Value::concat([
                Value::from("gs://"),
                Value::output(&bucket, "name")
            ])),
            "gs://${gcp:storage/bucket:Bucket::b.name}"
        );
        assert_eq!(
            describe(&Value::Function(Function::Json(Box::new(Value::strings(
                ["a"]
            ))))),
            "json([a])"
        );
    }

    #[test]
    fn assets_are_described_by_file_size_and_digest_not_contents() {
        let text = Value::Asset(Asset::Text("print('hello')".into()));
        let described = describe(&text);
        assert!(
            described.starts_with("asset(14 bytes, sha256:"),
            "{described}"
        );
        assert!(!described.contains("hello"), "{described}");
        let unread = Asset::File {
            path: "functions/main.py".into(),
            digest: None,
        };
        assert_eq!(
            describe(&Value::Asset(unread.clone())),
            "asset(functions/main.py, not read while planning)"
        );
        let archive = Value::Archive(Archive::Assets(BTreeMap::from([(
            "main.py".to_owned(),
            unread,
        )])));
        assert_eq!(
            describe(&archive),
            "archive{main.py: asset(functions/main.py, not read while planning)}"
        );
        assert_eq!(
            describe(&Value::Archive(Archive::Directory { path: "etl".into() })),
            "archive(etl, not read while planning)"
        );
    }

    #[test]
    fn secrets_are_never_written() {
        let value = Value::map([("key", Value::from("key material").secret())]);
        assert_eq!(describe(&value), "{key: [secret]}");
    }
}
