//! Moving a stack's state from the reference's Python dynamic providers to this
//! project's provider, `pulumi-resource-cpg`.
//!
//! Pulumi replaces a resource whose provider changes, even through an alias, and the
//! dynamic provider's delete would then remove the very membership the new resource
//! adopted. So the state is rewritten once instead, on a `pulumi stack export` document:
//! every `pulumi-python:dynamic:Resource` becomes its `cpg:` type (told by the class the
//! recorded `__provider` names, or else by its input names) under a default `cpg`
//! provider added to the state; its URN takes the new type, and every reference to the
//! old URN follows (parents, dependencies, property dependencies, deleted-with). Ids,
//! inputs and outputs stay (without `__provider`); nothing else changes.

use std::collections::{BTreeSet, HashMap, HashSet};

use base64::Engine as _;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::export::{DuplicateUrn, deployment_of, index_urn, pending_operations};
use crate::schema::{Kind, SPECS};

/// The type of the reference's Python dynamic resources.
pub const DYNAMIC_TYPE: &str = "pulumi-python:dynamic:Resource";
/// The type of the provider resources of `pulumi-resource-cpg`.
pub const PROVIDER_TYPE: &str = "pulumi:providers:cpg";

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The document is not a `pulumi stack export` of a version this understands.
    #[error("{path}: {reason}")]
    NotAnExport {
        /// Where in the document (a JSON pointer).
        path: String,
        /// What was expected.
        reason: String,
    },
    /// A dynamic resource whose kind cannot be told.
    #[error("{urn}: cannot tell which cpg: type this dynamic resource is ({reason})")]
    UnknownKind {
        /// The resource.
        urn: String,
        /// What was seen.
        reason: String,
    },
    /// The state has operations that did not finish; `pulumi refresh` or
    /// `pulumi stack export`/`import` after cleaning them up first.
    #[error("the state has {0} pending operation(s); finish or clear them first")]
    PendingOperations(usize),
    /// A dynamic resource is the parent of other resources, whose URNs would change too.
    #[error("{urn}: dynamic resources with children are not supported")]
    HasChildren {
        /// The parent.
        urn: String,
    },
    /// Two resources of the export have the same URN; the state would keep both.
    #[error(transparent)]
    DuplicateUrn(#[from] DuplicateUrn),
    /// A dynamic resource would move to a URN that another resource of the export
    /// already has (or that another moved resource takes).
    #[error("{urn}: would become {new_urn}, which the export already holds")]
    RenameCollision {
        /// The resource's URN before.
        urn: String,
        /// The URN it would take.
        new_urn: String,
    },
}

/// One resource the migration changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The URN before.
    pub old_urn: String,
    /// The URN after.
    pub new_urn: String,
    /// The new type.
    pub kind: Kind,
    /// How the kind was told: `"__provider"` or `"inputs"`.
    pub told_by: &'static str,
}

/// The migrated document and what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// The rewritten export, ready for `pulumi stack import`.
    pub document: Value,
    /// The resources moved, in state order.
    pub moved: Vec<Moved>,
    /// The URN of the `cpg` provider the moved resources now use.
    pub provider_urn: String,
    /// Whether that provider was added (rather than found in the state).
    pub provider_added: bool,
    /// How many other resources had a reference to a moved URN rewritten.
    pub references_rewritten: usize,
}

fn not_export(path: &str, reason: &str) -> MigrateError {
    MigrateError::NotAnExport {
        path: path.into(),
        reason: reason.into(),
    }
}

/// `urn:pulumi:<stack>::<project>::<qualified type>::<name>` split in its four parts.
fn split_urn(urn: &str) -> Option<(&str, &str, &str, &str)> {
    let rest = urn.strip_prefix("urn:pulumi:")?;
    let mut parts = rest.splitn(4, "::");
    Some((parts.next()?, parts.next()?, parts.next()?, parts.next()?))
}

fn with_type(urn: &str, token: &str) -> Option<String> {
    let (stack, project, qualified, name) = split_urn(urn)?;
    let parents = qualified.rsplit_once('$').map(|(p, _)| p);
    let qualified = match parents {
        Some(p) => format!("{p}${token}"),
        None => token.to_string(),
    };
    Some(format!(
        "urn:pulumi:{stack}::{project}::{qualified}::{name}"
    ))
}

/// The kind the recorded `__provider` names: a base64 pickle (or, in mocks, a plain
/// string) that contains the provider's class name.
fn kind_from_provider(provider: &Value) -> Option<Kind> {
    let text = provider.as_str()?;
    let mut haystacks = vec![text.as_bytes().to_vec()];
    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim()) {
        haystacks.push(bytes);
    }
    let mut found = BTreeSet::new();
    for spec in &SPECS {
        let class = spec.reference_class().as_bytes();
        if haystacks
            .iter()
            .any(|h| h.windows(class.len()).any(|w| w == class))
        {
            found.insert(spec.kind);
        }
    }
    // Exactly one class: anything else is not understood.
    (found.len() == 1)
        .then(|| found.into_iter().next())
        .flatten()
}

/// The kind whose input names are exactly these (ignoring nulls and output names).
fn kind_from_inputs(inputs: &Map<String, Value>) -> Option<Kind> {
    let given: BTreeSet<&str> = inputs
        .iter()
        .filter(|(k, v)| *k != "__provider" && !v.is_null())
        .map(|(k, _)| k.as_str())
        .collect();
    let matching: Vec<Kind> = SPECS
        .iter()
        .filter(|spec| {
            let wanted: BTreeSet<&str> = spec.inputs().map(|p| p.name).collect();
            let outputs: BTreeSet<&str> = spec.outputs().map(|p| p.name).collect();
            wanted.is_subset(&given)
                && given
                    .iter()
                    .all(|g| wanted.contains(g) || outputs.contains(g))
        })
        .map(|s| s.kind)
        .collect();
    match matching.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// A stable provider id from the provider's URN (UUID-shaped, as Pulumi's are).
fn provider_id(urn: &str) -> String {
    let digest = Sha256::digest(urn.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Rewrites a `pulumi stack export` document (version 3), leaving `export` as it is.
/// `provider_version` is the version of `pulumi-resource-cpg` the stack will use (its
/// default provider is named after it). This copies the document first; a caller that
/// no longer needs the original gives it to [`migrate_owned`], which rewrites it in
/// place and so needs about half the memory.
pub fn migrate(export: &Value, provider_version: &str) -> Result<Migration, MigrateError> {
    migrate_owned(export.clone(), provider_version)
}

/// [`migrate`], rewriting `document` in place: besides the document, the migration
/// holds only the old and new URN of each moved resource and an index of the
/// export's URNs. A refused document is checked completely before anything in it
/// changes.
pub fn migrate_owned(
    mut document: Value,
    provider_version: &str,
) -> Result<Migration, MigrateError> {
    let deployment =
        deployment_of(&document, &[3]).map_err(|(path, reason)| not_export(path, &reason))?;
    if let Some(pending) = pending_operations(deployment) {
        return Err(MigrateError::PendingOperations(pending.len()));
    }
    let resources = document
        .get_mut("deployment")
        .and_then(|deployment| deployment.get_mut("resources"))
        .and_then(Value::as_array_mut)
        .ok_or_else(|| not_export("/deployment/resources", "missing or not a list"))?;

    // Every resource's URN and type, checked first; each URN once, indexed by position.
    // Both borrow the document until it is rewritten.
    let mut urns: Vec<(&str, &str)> = Vec::with_capacity(resources.len());
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(resources.len());
    for (i, r) in resources.iter().enumerate() {
        let urn = r.get("urn").and_then(Value::as_str);
        let ty = r.get("type").and_then(Value::as_str);
        match (urn, ty) {
            (Some(urn), Some(ty)) if split_urn(urn).is_some() => {
                index_urn(&mut index, urn, i)?;
                urns.push((urn, ty))
            }
            _ => {
                return Err(not_export(
                    &format!("/deployment/resources/{i}"),
                    "a resource needs a urn (urn:pulumi:…) and a type",
                ));
            }
        }
    }

    // Which resources move, and where to.
    let mut moved = Vec::new();
    let mut first_moved = None;
    for (i, r) in resources.iter().enumerate() {
        let (urn, ty) = urns[i];
        if ty != DYNAMIC_TYPE {
            continue;
        }
        match move_of(i, urn, r) {
            Ok(m) => moved.push(m),
            // Refused in state order: a collision among the moves before comes first.
            Err(error) => return Err(first_collision(&moved).unwrap_or(error)),
        }
        first_moved.get_or_insert(i);
    }
    if let Some(error) = first_collision(&moved) {
        return Err(error);
    }
    // Old URN → the move, borrowing the moves (not the document, which changes).
    let renames: HashMap<&str, &Moved> = moved.iter().map(|m| (m.old_urn.as_str(), m)).collect();
    // A new URN another resource keeps (one that does not move away itself).
    for m in &moved {
        let stays = |j: &usize| {
            renames
                .get(urns[*j].0)
                .is_none_or(|moved| moved.new_urn == urns[*j].0)
        };
        if m.new_urn != m.old_urn && index.get(m.new_urn.as_str()).is_some_and(stays) {
            return Err(MigrateError::RenameCollision {
                urn: m.old_urn.clone(),
                new_urn: m.new_urn.clone(),
            });
        }
    }
    for r in resources.iter() {
        if let Some(parent) = r.get("parent").and_then(Value::as_str)
            && renames.contains_key(parent)
        {
            return Err(MigrateError::HasChildren { urn: parent.into() });
        }
    }

    // The default cpg provider: found, or added before the first resource that uses it.
    let provider_name = format!("default_{}", provider_version.replace(['.', '-', '+'], "_"));
    let (stack, project, ..) = urns
        .first()
        .and_then(|(u, _)| split_urn(u))
        .map(|(s, p, ..)| (s.to_string(), p.to_string()))
        .unwrap_or_default();
    let provider_urn = format!("urn:pulumi:{stack}::{project}::{PROVIDER_TYPE}::{provider_name}");
    let existing = index.get(provider_urn.as_str()).and_then(|&j| {
        resources[j]
            .get("id")
            .and_then(Value::as_str)
            .map(String::from)
    });
    drop(index);
    drop(urns);
    let provider_added = existing.is_none() && !moved.is_empty();
    let id = existing.unwrap_or_else(|| provider_id(&provider_urn));
    let provider_ref = format!("{provider_urn}::{id}");

    // Rewrite the moved resources and every reference to them.
    let mut references_rewritten = 0;
    for r in resources.iter_mut() {
        let Some(obj) = r.as_object_mut() else {
            continue;
        };
        let own = obj
            .get("urn")
            .and_then(Value::as_str)
            .and_then(|u| renames.get(u));
        if let Some(m) = own {
            obj.insert("urn".into(), json!(m.new_urn));
            obj.insert("type".into(), json!(m.kind.spec().token));
            obj.insert("provider".into(), json!(provider_ref));
            for key in ["inputs", "outputs"] {
                if let Some(props) = obj.get_mut(key).and_then(Value::as_object_mut) {
                    props.remove("__provider");
                }
            }
        }
        let mut changed = false;
        for key in ["parent", "deletedWith"] {
            if let Some(new) = obj
                .get(key)
                .and_then(Value::as_str)
                .and_then(|u| renames.get(u))
            {
                obj.insert(key.into(), json!(new.new_urn));
                changed = true;
            }
        }
        if let Some(deps) = obj.get_mut("dependencies").and_then(Value::as_array_mut) {
            changed |= rename_all(deps, &renames);
        }
        if let Some(pd) = obj
            .get_mut("propertyDependencies")
            .and_then(Value::as_object_mut)
        {
            for deps in pd.values_mut().filter_map(Value::as_array_mut) {
                changed |= rename_all(deps, &renames);
            }
        }
        if changed && own.is_none() {
            references_rewritten += 1;
        }
    }
    if provider_added {
        let provider = json!({
            "urn": provider_urn,
            "custom": true,
            "id": id,
            "type": PROVIDER_TYPE,
            "inputs": {"version": provider_version},
            "outputs": {"version": provider_version},
        });
        resources.insert(first_moved.unwrap_or(0), provider);
    }
    Ok(Migration {
        document,
        moved,
        provider_urn,
        provider_added,
        references_rewritten,
    })
}

/// Where the dynamic resource `r` (the `i`th, at `urn`) moves: its kind, told by
/// its recorded `__provider` or else by its input names.
fn move_of(i: usize, urn: &str, r: &Value) -> Result<Moved, MigrateError> {
    let no_inputs = Map::new();
    let inputs = r
        .get("inputs")
        .and_then(Value::as_object)
        .unwrap_or(&no_inputs);
    let (kind, told_by) = match inputs.get("__provider").and_then(kind_from_provider) {
        Some(k) => (k, "__provider"),
        None => match kind_from_inputs(inputs) {
            Some(k) => (k, "inputs"),
            None => {
                let mut names: Vec<&str> = inputs.keys().map(String::as_str).collect();
                names.sort_unstable();
                return Err(MigrateError::UnknownKind {
                    urn: urn.into(),
                    reason: format!(
                        "__provider names no known class; inputs {}",
                        names.join(", ")
                    ),
                });
            }
        },
    };
    let new_urn = with_type(urn, kind.spec().token)
        .ok_or_else(|| not_export(&format!("/deployment/resources/{i}/urn"), "not a URN"))?;
    Ok(Moved {
        old_urn: urn.into(),
        new_urn,
        kind,
        told_by,
    })
}

/// The first move onto a URN an earlier move already takes.
fn first_collision(moved: &[Moved]) -> Option<MigrateError> {
    let mut targets: HashSet<&str> = HashSet::with_capacity(moved.len());
    moved
        .iter()
        .find(|m| m.new_urn != m.old_urn && !targets.insert(&m.new_urn))
        .map(|m| MigrateError::RenameCollision {
            urn: m.old_urn.clone(),
            new_urn: m.new_urn.clone(),
        })
}

fn rename_all(list: &mut [Value], renames: &HashMap<&str, &Moved>) -> bool {
    let mut changed = false;
    for v in list {
        if let Some(m) = v.as_str().and_then(|u| renames.get(u)) {
            *v = json!(m.new_urn);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urn_type_is_replaced_keeping_parent_types() {
        assert_eq!(
            with_type(
                "urn:pulumi:s::p::a:b:C$pulumi-python:dynamic:Resource::n::x",
                "cpg:hail:User"
            )
            .as_deref(),
            Some("urn:pulumi:s::p::a:b:C$cpg:hail:User::n::x")
        );
    }

    #[test]
    fn kind_from_a_pickle_naming_the_class() {
        let pickle = b"\x80\x04\x95\x00\x8c\x1dcpg_infra.abstraction.metamist\x94\x8c\x1eMetamistProjectMembersProvider\x94\x93\x94)\x81\x94.";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pickle);
        assert_eq!(
            kind_from_provider(&json!(b64)),
            Some(Kind::MetamistProjectMembers)
        );
        assert_eq!(kind_from_provider(&json!("gibberish")), None);
    }

    #[test]
    fn kind_from_inputs_ignores_nulls_and_outputs() {
        let inputs = json!({"username": "u", "batch_uri": "https://x", "token_category": "gcp", "cloud_id": null});
        assert_eq!(
            kind_from_inputs(inputs.as_object().unwrap_or(&Map::new())),
            Some(Kind::HailUser)
        );
        let project = json!({"project_name": "p"});
        assert_eq!(
            kind_from_inputs(project.as_object().unwrap_or(&Map::new())),
            Some(Kind::MetamistProject)
        );
    }

    #[test]
    fn provider_ids_are_uuid_shaped_and_stable() {
        let a = provider_id("urn:x");
        assert_eq!(a.len(), 36);
        assert_eq!(a, provider_id("urn:x"));
        assert_ne!(a, provider_id("urn:y"));
    }
}
