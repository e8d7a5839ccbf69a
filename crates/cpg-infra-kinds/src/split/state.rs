//! What an export holds: its resources checked and classified, which stack each goes to,
//! and the walks over property values that find secrets and resource references.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::{PROVIDER_PREFIX, ROOT_TYPE, ShardOf, SplitError};
use crate::export::{deployment_of, index_urn, pending_operations};

/// The key Pulumi marks special property values with (secrets, resource references).
pub(super) const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
/// The signature of a secret value.
pub(super) const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
/// The signature of a resource reference.
pub(super) const RESOURCE_REF_SIG: &str = "5cf8f73096256a8f31e491e813e4eb8e";

/// What a URN of the export is.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// The root `pulumi:pulumi:Stack`: each stack gets its own.
    Root,
    /// A provider: copied into each stack that uses it.
    Provider,
    /// Anything else: goes to one stack.
    Resource,
}

/// One resource of the export: its URN and what it is.
pub(super) struct Entry<'a> {
    pub(super) urn: &'a str,
    pub(super) kind: Kind,
}

/// `urn:pulumi:<stack>::<project>::<qualified type>::<name>`: the part after the project.
pub(super) fn urn_tail(urn: &str) -> Option<&str> {
    let rest = urn.strip_prefix("urn:pulumi:")?;
    let (_stack, rest) = rest.split_once("::")?;
    let (_project, tail) = rest.split_once("::")?;
    tail.contains("::").then_some(tail)
}

/// The logical name in a URN.
pub(super) fn urn_name(urn: &str) -> Option<&str> {
    urn_tail(urn)?.split_once("::").map(|(_, name)| name)
}

/// The URN moved to `stack` of `project`; a string that is not a URN stays as it is.
pub(super) fn moved(urn: &str, stack: &str, project: &str) -> String {
    match urn_tail(urn) {
        Some(tail) => format!("urn:pulumi:{stack}::{project}::{tail}"),
        None => urn.to_string(),
    }
}

/// Whether a stack or project name can be part of a URN.
pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub(super) fn not_export(path: &str, reason: &str) -> SplitError {
    SplitError::NotAnExport {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Calls `f` on every object inside `value`, outermost first.
pub(super) fn each_object(value: &Value, f: &mut impl FnMut(&Map<String, Value>)) {
    match value {
        Value::Object(map) => {
            f(map);
            map.values().for_each(|v| each_object(v, f));
        }
        Value::Array(items) => items.iter().for_each(|v| each_object(v, f)),
        _ => {}
    }
}

/// Calls `f` on every object inside `value`, outermost first, mutably.
pub(super) fn each_object_mut(value: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(map) => {
            f(map);
            map.values_mut().for_each(|v| each_object_mut(v, f));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| each_object_mut(v, f)),
        _ => {}
    }
}

pub(super) fn is_sig(map: &Map<String, Value>, sig: &str) -> bool {
    map.get(SIG_KEY).and_then(Value::as_str) == Some(sig)
}

/// How many encrypted secrets the resource's properties hold.
pub(super) fn ciphertexts(resource: &Value) -> usize {
    let mut count = 0;
    for key in ["inputs", "outputs"] {
        if let Some(props) = resource.get(key) {
            each_object(props, &mut |map| {
                if is_sig(map, SECRET_SIG) && map.contains_key("ciphertext") {
                    count += 1;
                }
            });
        }
    }
    count
}

pub(super) fn str_list(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The resources of a `pulumi stack export` document (version 3 or 4) that can be split:
/// nothing pending, no snippets.
pub(super) fn resources_of(export: &Value) -> Result<&[Value], SplitError> {
    let deployment =
        deployment_of(export, &[3, 4]).map_err(|(path, reason)| not_export(path, &reason))?;
    if let Some(pending) = pending_operations(deployment) {
        let urns = pending
            .iter()
            .map(|op| op["resource"]["urn"].as_str().unwrap_or("?").to_string())
            .collect();
        return Err(SplitError::PendingOperations(urns));
    }
    if deployment
        .get("snippets")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty())
    {
        return Err(SplitError::Snippets);
    }
    match deployment.get("resources") {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(list)) => Ok(list),
        Some(_) => Err(not_export("/deployment/resources", "not a list")),
    }
}

/// The export without its resources and pending operations: what every shard's
/// document starts from (version, features, manifest, secrets provider, metadata).
pub(super) fn skeleton(export: &Value) -> Value {
    let mut skeleton = Map::new();
    for (key, value) in export.as_object().into_iter().flatten() {
        if key != "deployment" {
            skeleton.insert(key.clone(), value.clone());
        }
    }
    let deployment: Map<String, Value> = export["deployment"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != "resources" && *k != "pending_operations")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    skeleton.insert("deployment".into(), Value::Object(deployment));
    Value::Object(skeleton)
}

/// Every resource's URN and kind, checked: each URN once, at most one root, no
/// resource marked for deletion.
pub(super) fn classify(resources: &[Value]) -> Result<Vec<Entry<'_>>, SplitError> {
    let mut entries = Vec::with_capacity(resources.len());
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(resources.len());
    let mut roots = Vec::new();
    let mut deleting = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        let urn = r.get("urn").and_then(Value::as_str);
        let ty = r.get("type").and_then(Value::as_str);
        let (Some(urn), Some(ty)) = (urn, ty) else {
            return Err(not_export(
                &format!("/deployment/resources/{i}"),
                "a resource needs a urn and a type",
            ));
        };
        if urn_tail(urn).is_none() {
            return Err(not_export(
                &format!("/deployment/resources/{i}/urn"),
                "not a URN (urn:pulumi:<stack>::<project>::<type>::<name>)",
            ));
        }
        index_urn(&mut seen, urn, i)?;
        if r.get("delete").and_then(Value::as_bool) == Some(true) {
            deleting.push(urn.to_string());
        }
        let parent = r.get("parent").and_then(Value::as_str).unwrap_or("");
        let kind = if ty == ROOT_TYPE && parent.is_empty() {
            roots.push(urn.to_string());
            Kind::Root
        } else if ty.starts_with(PROVIDER_PREFIX) {
            Kind::Provider
        } else {
            Kind::Resource
        };
        entries.push(Entry { urn, kind });
    }
    if roots.len() > 1 {
        return Err(SplitError::SeveralRoots(roots));
    }
    if !deleting.is_empty() {
        return Err(SplitError::MarkedForDeletion(deleting));
    }
    Ok(entries)
}

/// Which stack each resource (by position) and each root stack output goes to.
pub(super) struct Assignment {
    /// The stack of each resource; `None` for the root and the providers.
    pub(super) stack_of: Vec<Option<String>>,
    /// The root stack outputs by stack.
    pub(super) outputs: BTreeMap<String, Map<String, Value>>,
}

/// Asks `shards` for every resource and root output; every name it gives is checked once.
pub(super) fn assign(
    entries: &[Entry<'_>],
    resources: &[Value],
    shards: &dyn ShardOf,
) -> Result<Assignment, SplitError> {
    let mut checked: BTreeSet<String> = BTreeSet::new();
    let mut check = |what: &str, stack: String| -> Result<String, SplitError> {
        if !checked.contains(&stack) {
            if !valid_name(&stack) {
                return Err(SplitError::BadStackName {
                    what: what.into(),
                    stack,
                });
            }
            checked.insert(stack.clone());
        }
        Ok(stack)
    };
    let mut stack_of: Vec<Option<String>> = vec![None; resources.len()];
    let mut unmapped = Vec::new();
    for (i, (entry, r)) in entries.iter().zip(resources).enumerate() {
        if let Kind::Resource = entry.kind {
            let ty = r["type"].as_str().unwrap_or("");
            let name = urn_name(entry.urn).unwrap_or("");
            match shards.resource(ty, name) {
                Some(stack) => stack_of[i] = Some(check(entry.urn, stack)?),
                None => unmapped.push(entry.urn.to_string()),
            }
        }
    }
    let root_outputs = entries
        .iter()
        .position(|e| matches!(e.kind, Kind::Root))
        .and_then(|i| resources[i].get("outputs"))
        .and_then(Value::as_object);
    let mut outputs: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut unmapped_outputs = Vec::new();
    for (name, value) in root_outputs.into_iter().flatten() {
        match shards.output(name) {
            Some(stack) => {
                let stack = check(name, stack)?;
                outputs
                    .entry(stack)
                    .or_default()
                    .insert(name.clone(), value.clone());
            }
            None => unmapped_outputs.push(name.clone()),
        }
    }
    if !unmapped.is_empty() || !unmapped_outputs.is_empty() {
        return Err(SplitError::Unmapped {
            resources: unmapped,
            outputs: unmapped_outputs,
        });
    }
    Ok(Assignment { stack_of, outputs })
}

/// Refuses encrypted secrets, naming the resources that hold them.
pub(super) fn refuse_ciphertext(
    entries: &[Entry<'_>],
    resources: &[Value],
) -> Result<(), SplitError> {
    let mut count = 0;
    let mut urns = Vec::new();
    for (entry, r) in entries.iter().zip(resources) {
        let n = ciphertexts(r);
        if n > 0 {
            count += n;
            urns.push(entry.urn.to_string());
        }
    }
    if count > 0 {
        return Err(SplitError::Ciphertext { count, urns });
    }
    Ok(())
}

/// For each provider (by position), the stacks whose resources use it: each gets a copy.
pub(super) fn providers_used<'a>(
    entries: &[Entry<'_>],
    resources: &[Value],
    index: &HashMap<&str, usize>,
    stack_of: &'a [Option<String>],
) -> Result<Vec<BTreeSet<&'a str>>, SplitError> {
    let mut used: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); resources.len()];
    for (i, r) in resources.iter().enumerate() {
        let Some(reference) = r.get("provider").and_then(Value::as_str) else {
            continue;
        };
        let provider = reference
            .rsplit_once("::")
            .and_then(|(urn, _id)| index.get(urn))
            .filter(|&&j| matches!(entries[j].kind, Kind::Provider));
        match (provider, &stack_of[i]) {
            (Some(&j), Some(stack)) => {
                used[j].insert(stack.as_str());
            }
            (Some(_), None) => {}
            (None, _) => {
                return Err(not_export(
                    &format!("/deployment/resources/{i}/provider"),
                    &format!("{reference} names no provider of the export"),
                ));
            }
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn urns_move_keeping_type_and_name() {
        assert_eq!(
            moved("urn:pulumi:a::p::x:y:Z$q:r:S::n::with::colons", "b", "p2"),
            "urn:pulumi:b::p2::x:y:Z$q:r:S::n::with::colons"
        );
        assert_eq!(moved("not-a-urn", "b", "p"), "not-a-urn");
        assert_eq!(urn_name("urn:pulumi:a::p::t:m:R::name::x"), Some("name::x"));
    }

    #[test]
    fn stack_names_are_checked() {
        assert!(valid_name("prod-ds_1.x"));
        assert!(!valid_name(""));
        assert!(!valid_name("org/proj/stack"));
        assert!(!valid_name("a::b"));
    }

    #[test]
    fn ciphertexts_are_counted_in_inputs_and_outputs() {
        let secret = json!({SIG_KEY: SECRET_SIG, "ciphertext": "v1:abc"});
        let plain = json!({SIG_KEY: SECRET_SIG, "plaintext": "\"x\""});
        let r = json!({"inputs": {"a": secret, "b": [plain]}, "outputs": {"c": {"d": secret}}});
        assert_eq!(ciphertexts(&r), 2);
    }
}
