//! Checking and diffing a kind's inputs, as its properties describe them.

use serde_json::{Map, Value};

use cpg_infra_kinds::schema::{Compare, Format, OnChange, Spec, Type};

use crate::props::is_unknown;

/// One problem with an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The property.
    pub property: String,
    /// What is wrong.
    pub reason: String,
}

/// Every problem with `news` as the inputs of `spec`'s kind. Unknown values (preview)
/// pass.
pub fn check(spec: &Spec, news: &Map<String, Value>) -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut fail = |property: &str, reason: String| {
        failures.push(Failure {
            property: property.into(),
            reason,
        });
    };
    for prop in spec.inputs() {
        let value = news.get(prop.name).unwrap_or(&Value::Null);
        if is_unknown(value) {
            continue;
        }
        match (prop.ty, value) {
            (_, Value::Null) => fail(prop.name, "is required".into()),
            (Type::String, Value::String(s)) => {
                if let Err(reason) = check_format(prop.format, s) {
                    fail(prop.name, reason);
                }
            }
            (Type::StringList, Value::Array(items)) if items.iter().all(Value::is_string) => {}
            (Type::StringMap, Value::Object(m)) if m.values().all(Value::is_string) => {}
            (Type::Integer, Value::Number(n)) if n.is_i64() => {}
            (ty, other) => fail(
                prop.name,
                format!("expected {}, found {other}", type_name(ty)),
            ),
        }
    }
    for key in news.keys() {
        if !spec.inputs().any(|p| p.name == key) {
            let known: Vec<&str> = spec.inputs().map(|p| p.name).collect();
            fail(
                key,
                format!("unknown input; the inputs are {}", known.join(", ")),
            );
        }
    }
    failures
}

/// Which inputs of `spec`'s kind differ between `olds` and `news`, and what each change
/// means.
pub fn diff(spec: &Spec, olds: &Map<String, Value>, news: &Map<String, Value>) -> Diff {
    let mut changes = Vec::new();
    for prop in spec.inputs() {
        let old = olds.get(prop.name).unwrap_or(&Value::Null);
        let new = news.get(prop.name).unwrap_or(&Value::Null);
        if is_unknown(new) || !same(prop.compare, old, new) {
            changes.push((prop.name, prop.on_change));
        }
    }
    Diff {
        delete_before_replace: spec.delete_before_replace
            && changes.iter().any(|(_, c)| *c == OnChange::Replace),
        changes,
    }
}

/// The outcome of [`diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// Each changed input and what its change means, in the kind's property order.
    pub changes: Vec<(&'static str, OnChange)>,
    /// Whether the old resource goes before the new one is made.
    pub delete_before_replace: bool,
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Integer => "an integer",
        Type::StringList => "a list of strings",
        Type::StringMap => "a map of strings",
    }
}

fn check_format(format: Format, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    let ok = match format {
        Format::Any => true,
        Format::GroupName => s
            .strip_prefix("groups/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/')),
        Format::Url => is_url(s),
        Format::BillingProjectId => {
            let parts: Vec<&str> = s.split("::").collect();
            parts.len() == 3 && !parts[0].is_empty() && is_url(parts[1]) && !parts[2].is_empty()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(match format {
            Format::GroupName => format!("{s:?} is not a group resource name, groups/<id>"),
            Format::Url => format!("{s:?} is not an http:// or https:// URL"),
            _ => {
                format!("{s:?} is not a billing project id, <token category>::<batch url>::<name>")
            }
        })
    }
}

fn is_url(s: &str) -> bool {
    s.strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty())
}

fn same(compare: Compare, old: &Value, new: &Value) -> bool {
    match (compare, old, new) {
        (Compare::IgnoreCase, Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Compare::IgnoreCaseSet, Value::Array(a), Value::Array(b)) => lower_set(a) == lower_set(b),
        _ => old == new,
    }
}

fn lower_set(items: &[Value]) -> std::collections::BTreeSet<String> {
    items
        .iter()
        .map(|v| {
            v.as_str()
                .map_or_else(|| v.to_string(), str::to_ascii_lowercase)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpg_infra_kinds::schema::Kind;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn check_reports_missing_wrong_and_unknown_inputs() {
        let spec = Kind::HailBillingProjectMembership.spec();
        let failures = check(
            spec,
            &obj(json!({
                "billing_project": "gcp::notaurl::common",
                "usr": "a",
            })),
        );
        let props: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(props, ["billing_project", "user", "usr"]);
    }

    #[test]
    fn member_key_case_is_no_change() {
        let spec = Kind::GroupMembership.spec();
        let olds = obj(json!({"group_key": "groups/a", "member_key": "A@x.org"}));
        let news = obj(json!({"group_key": "groups/a", "member_key": "a@X.org"}));
        assert!(diff(spec, &olds, &news).changes.is_empty());
    }

    #[test]
    fn metamist_members_update_in_place() {
        let spec = Kind::MetamistProjectMembers.spec();
        let olds = obj(
            json!({"project_name": "p", "read_members": ["a"], "write_members": [], "contribute_members": []}),
        );
        let news = obj(
            json!({"project_name": "p", "read_members": ["a", "b"], "write_members": [], "contribute_members": []}),
        );
        let d = diff(spec, &olds, &news);
        assert_eq!(d.changes, [("read_members", OnChange::Update)]);
        assert!(!d.delete_before_replace);
    }
}
