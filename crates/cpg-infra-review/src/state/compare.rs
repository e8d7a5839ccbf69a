//! Comparing a planned value with the value a stack export records: plan values
//! resolved as far as the export allows, Pulumi's signed values (secrets, assets)
//! read, and a verdict — the same, different, or not known before the update.

use std::collections::BTreeSet;

use cpg_infra::graph::{Asset, Digest256, Function, Resolver, Value};
use serde_json::Value as Json;

use super::NotComparedBecause;

/// The key of Pulumi's signature of a special value in state and on the wire.
pub(super) const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
/// The signature of a secret: `{SIG_KEY: SECRET_SIG, "ciphertext" | "plaintext": …}`.
pub(super) const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
/// The signature of an asset: `{SIG_KEY: ASSET_SIG, "hash", "text" | "path" | "uri"}`.
pub(super) const ASSET_SIG: &str = "c44067f5952c0a294b673a41bacd8c17";
/// The value Pulumi records for an output not known yet.
pub(super) const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/// What comparing a planned value with a recorded one tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Same,
    Differs,
    Unknown(NotComparedBecause),
}

impl Verdict {
    /// Both parts' verdict: differing wins, then not knowing.
    pub(super) fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Differs, _) | (_, Verdict::Differs) => Verdict::Differs,
            (Verdict::Unknown(a), Verdict::Unknown(b)) => Verdict::Unknown(a.min(b)),
            (Verdict::Unknown(a), Verdict::Same) | (Verdict::Same, Verdict::Unknown(a)) => {
                Verdict::Unknown(a)
            }
            (Verdict::Same, Verdict::Same) => Verdict::Same,
        }
    }
}

/// A signed value's signature.
pub(super) fn signature(json: &Json) -> Option<&str> {
    json.as_object()?.get(SIG_KEY)?.as_str()
}

/// A recorded value as a known plan value: `None` when it holds an encrypted secret
/// or an unknown.
pub(super) fn known(json: &Json) -> Option<Value> {
    Some(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
        Json::String(s) if s == UNKNOWN => return None,
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(known).collect::<Option<_>>()?),
        Json::Object(entries) => match signature(json) {
            Some(SECRET_SIG) => known(&plaintext(json)?)?.secret(),
            _ => Value::Map(
                entries
                    .iter()
                    .filter(|(k, _)| *k != SIG_KEY)
                    .map(|(k, v)| Some((k.clone(), known(v)?)))
                    .collect::<Option<_>>()?,
            ),
        },
    })
}

/// A recorded secret's value, when the export holds it in plain text
/// (`pulumi stack export --show-secrets`).
pub(super) fn plaintext(secret: &Json) -> Option<Json> {
    serde_json::from_str(secret.get("plaintext")?.as_str()?).ok()
}

/// A recorded value to show: secrets (and unknowns) as secrets, never their text.
pub(super) fn shown(json: &Json) -> Value {
    match json {
        Json::Object(_) if signature(json) == Some(SECRET_SIG) => Value::from("[secret]").secret(),
        Json::Array(items) => Value::List(items.iter().map(shown).collect()),
        Json::Object(entries) => Value::Map(
            entries
                .iter()
                .filter(|(k, _)| *k != SIG_KEY)
                .map(|(k, v)| (k.clone(), shown(v)))
                .collect(),
        ),
        other => known(other).unwrap_or_else(|| Value::from("(unknown)")),
    }
}

/// `value` with everything the resolver can resolve resolved: known subtrees
/// evaluated, the rest kept as declared.
pub(super) fn settle(value: &Value, resolver: &dyn Resolver) -> Value {
    if value.is_known() {
        return value.clone();
    }
    match value.evaluate(resolver) {
        Ok(resolved) => resolved,
        Err(_) => match value {
            Value::List(_)
            | Value::Map(_)
            | Value::Secret(_)
            | Value::Function(Function::Concat(_)) => {
                value.map_children(|child| settle(child, resolver))
            }
            _ => value.clone(),
        },
    }
}

/// Whether a recorded text can be the parts joined, each part not known yet
/// standing for any text.
pub(super) fn could_join(parts: &[Value], text: &str) -> bool {
    // The known text between the unknown parts.
    let mut runs: Vec<String> = vec![String::new()];
    for part in parts {
        match (part, runs.last_mut()) {
            (Value::String(known), Some(run)) => run.push_str(known),
            _ => runs.push(String::new()),
        }
    }
    let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
        return false;
    };
    if runs.len() == 1 {
        return first == text;
    }
    if text.len() < first.len() + last.len() || !text.starts_with(first.as_str()) {
        return false;
    }
    if !text.ends_with(last.as_str()) {
        return false;
    }
    let mut middle = &text[first.len()..text.len() - last.len()];
    for run in &runs[1..runs.len() - 1] {
        match middle.find(run.as_str()) {
            Some(at) => middle = &middle[at + run.len()..],
            None => return false,
        }
    }
    true
}

/// What comparing the (settled) planned value with the recorded one tells.
pub(super) fn compare(planned: &Value, recorded: &Json) -> Verdict {
    if signature(recorded) == Some(SECRET_SIG) {
        return match plaintext(recorded) {
            Some(inner) => compare(planned, &inner),
            None => Verdict::Unknown(NotComparedBecause::Encrypted),
        };
    }
    if recorded.as_str() == Some(UNKNOWN) {
        return Verdict::Unknown(NotComparedBecause::AfterDeploy);
    }
    let all =
        |verdicts: &mut dyn Iterator<Item = Verdict>| verdicts.fold(Verdict::Same, Verdict::and);
    match (planned, recorded) {
        (Value::Secret(inner), _) => compare(inner, recorded),
        (Value::Null, Json::Null) => Verdict::Same,
        (Value::Bool(a), Json::Bool(b)) => same_if(a == b),
        (Value::Int(a), Json::Number(b)) => {
            same_if(b.as_i64() == Some(*a) || b.as_f64() == Some(*a as f64))
        }
        (Value::Float(a), Json::Number(b)) => same_if(b.as_f64() == Some(*a)),
        (Value::String(a), Json::String(b)) => same_if(a == b),
        (Value::List(items), Json::Array(recorded)) => {
            if items.len() == recorded.len() {
                all(&mut items.iter().zip(recorded).map(|(p, r)| compare(p, r)))
            } else {
                Verdict::Differs
            }
        }
        (Value::Map(entries), Json::Object(fields)) if signature(recorded).is_none() => {
            let planned_keys: BTreeSet<&String> = entries
                .iter()
                .filter(|(_, v)| **v != Value::Null)
                .map(|(k, _)| k)
                .collect();
            let recorded_keys: BTreeSet<&String> = fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k)
                .collect();
            if planned_keys == recorded_keys {
                all(&mut planned_keys
                    .iter()
                    .map(|k| compare(&entries[*k], &fields[*k])))
            } else {
                Verdict::Differs
            }
        }
        (Value::Asset(asset), _) if signature(recorded) == Some(ASSET_SIG) => {
            compare_asset(asset, recorded)
        }
        (Value::Function(Function::Concat(parts)), Json::String(text)) => {
            if could_join(parts, text) {
                Verdict::Unknown(NotComparedBecause::AfterDeploy)
            } else {
                Verdict::Differs
            }
        }
        (Value::Output(_) | Value::Invoke(_) | Value::Function(_) | Value::Archive(_), _) => {
            Verdict::Unknown(NotComparedBecause::AfterDeploy)
        }
        _ => Verdict::Differs,
    }
}

pub(super) fn same_if(same: bool) -> Verdict {
    if same {
        Verdict::Same
    } else {
        Verdict::Differs
    }
}

/// An asset against a recorded one: by text, else by the SHA-256 of the contents.
pub(super) fn compare_asset(asset: &Asset, recorded: &Json) -> Verdict {
    let hash = recorded.get("hash").and_then(Json::as_str);
    match asset {
        Asset::Text(text) => match (recorded.get("text").and_then(Json::as_str), hash) {
            (Some(recorded), _) => same_if(recorded == text),
            (None, Some(hash)) => same_if(Digest256::of(text.as_bytes()).hex() == hash),
            (None, None) => Verdict::Unknown(NotComparedBecause::AfterDeploy),
        },
        Asset::File {
            digest: Some(digest),
            ..
        } => match hash {
            Some(hash) => same_if(digest.hex().eq_ignore_ascii_case(hash)),
            None => Verdict::Unknown(NotComparedBecause::AfterDeploy),
        },
        Asset::File { digest: None, .. } => Verdict::Unknown(NotComparedBecause::AfterDeploy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpg_infra::graph::ResourceId;

    #[test]
    fn could_join_matches_known_text_around_unknown_parts() {
        let unknown = Value::output(&ResourceId::new("t:m:M", "x"), "id");
        let parts = |p: &[Option<&str>]| -> Vec<Value> {
            p.iter()
                .map(|p| p.map_or_else(|| unknown.clone(), Value::from))
                .collect()
        };
        assert!(could_join(&parts(&[Some("a/"), None, Some("/b")]), "a/x/b"));
        assert!(could_join(&parts(&[None, Some("-"), None]), "x-y"));
        assert!(!could_join(
            &parts(&[Some("a/"), None, Some("/b")]),
            "a/x/c"
        ));
        assert!(!could_join(&parts(&[Some("ab"), None, Some("ba")]), "aba"));
        assert!(!could_join(&parts(&[None, Some("-"), None]), "xy"));
        assert!(could_join(&parts(&[Some("k")]), "k"));
    }
}
