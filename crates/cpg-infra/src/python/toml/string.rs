//! Strings and keys as toml 0.10.2 writes them (its `_dump_str`, built on Python's
//! `repr`), and as toml-sort reads them back (TOML 1.1 basic strings).

use super::{TomlError, unsupported};
use crate::python::repr::str_repr;

/// A key as `toml.dumps` writes it: bare when Python's
/// `re.match(r'^[A-Za-z0-9_-]+$', key)` matches (its `$` also matches before a
/// final newline, which then makes the text unreadable), quoted otherwise.
pub(super) fn quote_key(key: &str) -> Result<String, TomlError> {
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
pub(super) fn read_key(quoted: &str) -> Result<String, TomlError> {
    if quoted.starts_with('"') {
        read_basic_string(quoted)
            .ok_or_else(|| unsupported(format!("a key the reference writes as {quoted}, not TOML")))
    } else {
        Ok(quoted.to_owned())
    }
}

/// toml 0.10.2's `_dump_str`: Python's `repr`, turned into a double-quoted
/// string, with its `\x` escapes rewritten by the package's own (lossy) rule:
/// doubled backslashes before one are collapsed, and it becomes `x` or `\u00`
/// depending on how many backslashes precede it. Fails where Python raises.
pub(super) fn dump_str(s: &str) -> Result<String, TomlError> {
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
pub(super) fn read_basic_string(quoted: &str) -> Option<String> {
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
}
