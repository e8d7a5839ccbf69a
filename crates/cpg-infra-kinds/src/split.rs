//! Splitting one stack's state into one state per shard, for `pulumi stack import`.
//!
//! An organisation that moves from the single stack to a stack per shard must not create
//! or delete a resource on the way: each shard stack has to start from a state that
//! already holds its resources, under the URNs its program registers. [`split`] takes a
//! `pulumi stack export` document (version 3 or 4) and a [`ShardOf`] (which stack each
//! resource and each root stack output goes to) and returns one export per stack:
//!
//! - its own root `pulumi:pulumi:Stack` resource, `<project>-<stack>`, holding that
//!   stack's outputs;
//! - its resources, in the order of the original state, with the URN and every reference
//!   (parent, dependencies, property dependencies, `deletedWith`, `replaceWith`, `viewOf`,
//!   provider references `<urn>::<id>`, aliases, resource references inside properties)
//!   moved to the stack (and the project, if it changes); a parent that was the root stack
//!   becomes the shard's root stack;
//! - a copy of every provider its resources use, with the same id, so provider references
//!   stay valid and the engine sees the same default provider it would register;
//! - ids, inputs, outputs (secrets in the form the export holds them), `protect` and every
//!   other field as they were; the document's other fields (manifest, secrets provider,
//!   metadata) copied to each.
//!
//! This is what `pulumi state move` does one resource set at a time: a dependency on a
//! resource that lands in another stack cannot be expressed in a state, so it is dropped
//! and reported ([`Split::dropped`]); the sharded program reads that value through a stack
//! reference instead and records the new dependency on its first update. A parent in
//! another stack cannot be dropped without changing the child's URN, so it is an error.
//!
//! Secrets: a ciphertext is encrypted by the secrets provider recorded in the export
//! (`secrets_providers`), which `pulumi stack import` uses to decrypt it; with Pulumi
//! Cloud's provider it is bound to the original stack. The safe input is therefore an
//! export taken with `pulumi stack export --show-secrets`, whose secrets are plaintext and
//! which `stack import` encrypts for the stack it imports into. An export holding
//! ciphertexts is refused unless [`SplitOptions::allow_ciphertext`] says every shard stack
//! uses the same secrets provider and key as the original.
//!
//! ```
//! use cpg_infra_kinds::split::{SplitOptions, split};
//! use serde_json::json;
//!
//! let export = json!({"version": 3, "deployment": {"resources": [
//!     {"urn": "urn:pulumi:prod::cpg::pulumi:pulumi:Stack::cpg-prod", "custom": false,
//!      "type": "pulumi:pulumi:Stack", "outputs": {"bucket": "gs://b"}},
//!     {"urn": "urn:pulumi:prod::cpg::gcp:storage/bucket:Bucket::ds-bucket", "custom": true,
//!      "id": "b", "type": "gcp:storage/bucket:Bucket",
//!      "parent": "urn:pulumi:prod::cpg::pulumi:pulumi:Stack::cpg-prod"},
//! ]}});
//! let shards = (
//!     |_type: &str, name: &str| name.split('-').next().map(|ds| format!("prod-{ds}")),
//!     |_export: &str| Some("prod-org".to_string()),
//! );
//! let split = split(&export, "cpg", &shards, SplitOptions::default()).expect("split");
//! let ds = &split.shards["prod-ds"].document["deployment"]["resources"];
//! assert_eq!(ds[0]["urn"], "urn:pulumi:prod-ds::cpg::pulumi:pulumi:Stack::cpg-prod-ds");
//! assert_eq!(ds[1]["urn"], "urn:pulumi:prod-ds::cpg::gcp:storage/bucket:Bucket::ds-bucket");
//! assert_eq!(ds[1]["parent"], ds[0]["urn"]);
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The type of a stack's root resource.
pub const ROOT_TYPE: &str = "pulumi:pulumi:Stack";
/// The type prefix of provider resources.
pub const PROVIDER_PREFIX: &str = "pulumi:providers:";

/// The key Pulumi marks special property values with (secrets, resource references).
const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
/// The signature of a secret value.
const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
/// The signature of a resource reference.
const RESOURCE_REF_SIG: &str = "5cf8f73096256a8f31e491e813e4eb8e";

/// Which stack each resource and each root stack output goes to.
///
/// A pair of closures `(resource, output)` is one; so is a shard plan that implements it.
pub trait ShardOf {
    /// The stack of the resource with this type token and logical name, or `None` if no
    /// shard holds it.
    fn resource(&self, type_token: &str, name: &str) -> Option<String>;
    /// The stack that exports the root stack output `export`, or `None` if none does.
    fn output(&self, export: &str) -> Option<String>;
}

impl<R, O> ShardOf for (R, O)
where
    R: Fn(&str, &str) -> Option<String>,
    O: Fn(&str) -> Option<String>,
{
    fn resource(&self, type_token: &str, name: &str) -> Option<String> {
        (self.0)(type_token, name)
    }

    fn output(&self, export: &str) -> Option<String> {
        (self.1)(export)
    }
}

/// How to split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SplitOptions {
    /// Carry encrypted secrets as they are. Only sound when every shard stack is imported
    /// with the same secrets provider and key as the original stack (the copied
    /// `secrets_providers` is what decrypts them); the default refuses them, asking for an
    /// export taken with `--show-secrets`.
    pub allow_ciphertext: bool,
}

impl SplitOptions {
    /// Options that carry encrypted secrets as they are (see
    /// [`allow_ciphertext`](Self::allow_ciphertext)).
    pub fn allowing_ciphertext() -> Self {
        SplitOptions {
            allow_ciphertext: true,
        }
    }
}

/// A resource whose parent or `viewOf` is in another stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossParent {
    /// The resource's URN in the export.
    pub urn: String,
    /// The stack it goes to.
    pub stack: String,
    /// The field: `parent` or `viewOf`.
    pub field: &'static str,
    /// The URN it names.
    pub target: String,
    /// The stack that one goes to.
    pub target_stack: String,
}

impl fmt::Display for CrossParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (to {}): {} {} goes to {}",
            self.urn, self.stack, self.field, self.target, self.target_stack
        )
    }
}

/// Why an export was not split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// The document is not a `pulumi stack export` of a version this understands.
    #[error("{path}: {reason}")]
    NotAnExport {
        /// Where in the document (a JSON pointer).
        path: String,
        /// What was expected.
        reason: String,
    },
    /// The state has operations that did not finish.
    #[error(
        "the state has pending operations on {}; run `pulumi refresh` (or `pulumi cancel`) and export again",
        .0.join(", ")
    )]
    PendingOperations(Vec<String>),
    /// Resources marked for deletion: the old half of a replacement that did not finish.
    #[error(
        "resources are marked for deletion: {}; run `pulumi up` to finish the replacement and export again",
        .0.join(", ")
    )]
    MarkedForDeletion(Vec<String>),
    /// The document holds snippets, whose resources cannot be assigned to a stack.
    #[error("/deployment/snippets: deployments with snippets cannot be split")]
    Snippets,
    /// Two resources of the export have the same URN.
    #[error(
        "{urn}: the export holds this URN twice (/deployment/resources/{first} and /deployment/resources/{second})"
    )]
    DuplicateUrn {
        /// The URN.
        urn: String,
        /// The index of its first resource.
        first: usize,
        /// The index of its second resource.
        second: usize,
    },
    /// More than one root stack resource.
    #[error("the export has more than one root stack resource: {}", .0.join(", "))]
    SeveralRoots(Vec<String>),
    /// Resources and outputs no stack holds.
    #[error(
        "no stack holds {} resource(s) and {} output(s): {}",
        resources.len(),
        outputs.len(),
        resources.iter().chain(outputs.iter()).cloned().collect::<Vec<_>>().join(", ")
    )]
    Unmapped {
        /// The URNs of the resources.
        resources: Vec<String>,
        /// The names of the root stack outputs.
        outputs: Vec<String>,
    },
    /// A stack name that cannot be part of a URN.
    #[error(
        "{what}: stack name {stack:?} is not a Pulumi stack name (letters, digits, `-`, `_`, `.`)"
    )]
    BadStackName {
        /// The resource URN or output the name was given for.
        what: String,
        /// The name.
        stack: String,
    },
    /// A project name that cannot be part of a URN.
    #[error("project name {0:?} is not a Pulumi project name (letters, digits, `-`, `_`, `.`)")]
    BadProjectName(String),
    /// Resources whose parent (or `viewOf`) goes to another stack: their URN depends on
    /// the parent, so the parent must go with them (or be the root stack).
    #[error(
        "{} resource(s) would have their parent in another stack: {}",
        .0.len(),
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    ParentInOtherStack(Vec<CrossParent>),
    /// Encrypted secrets, refused unless [`SplitOptions::allow_ciphertext`].
    #[error(
        "{count} secret(s) are encrypted for the original stack (in {}); export with `pulumi stack export --show-secrets` and split that",
        urns.join(", ")
    )]
    Ciphertext {
        /// How many secrets.
        count: usize,
        /// The resources holding them.
        urns: Vec<String>,
    },
}

/// Which reference of a resource was dropped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    /// An entry of `dependencies`.
    Dependency,
    /// An entry of `propertyDependencies` under this input.
    PropertyDependency(String),
    /// `deletedWith`.
    DeletedWith,
    /// An entry of `replaceWith`.
    ReplaceWith,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Dependency => f.write_str("dependency"),
            Reference::PropertyDependency(key) => write!(f, "property dependency ({key})"),
            Reference::DeletedWith => f.write_str("deletedWith"),
            Reference::ReplaceWith => f.write_str("replaceWith"),
        }
    }
}

/// A reference to a resource in another stack, which a state cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedReference {
    /// The resource's URN in the export.
    pub urn: String,
    /// Its stack.
    pub stack: String,
    /// Which reference.
    pub reference: Reference,
    /// The URN referred to, in the export.
    pub target: String,
    /// The stack that one goes to.
    pub target_stack: String,
}

/// One stack's share of the export.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// The export for `pulumi stack import`.
    pub document: Value,
    /// How many of the export's resources it holds (neither its root nor provider copies).
    pub resources: usize,
    /// The URNs, in the export, of the providers copied into it.
    pub providers: Vec<String>,
    /// The root stack outputs it holds.
    pub outputs: usize,
}

/// The export split by stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// One export per stack, by stack name.
    pub shards: BTreeMap<String, Shard>,
    /// The references to resources in another stack that were dropped, in state order.
    pub dropped: Vec<DroppedReference>,
    /// Providers no resource uses, left out (the next update of the original stack would
    /// have deleted them).
    pub unused_providers: Vec<String>,
}

impl Split {
    /// A report for people: one line per stack (resources, provider copies, outputs),
    /// then every dropped reference and every provider left out.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (stack, shard) in &self.shards {
            out.push_str(&format!(
                "{stack}: {} resource(s), {} provider(s) copied, {} output(s)\n",
                shard.resources,
                shard.providers.len(),
                shard.outputs
            ));
        }
        if !self.dropped.is_empty() {
            out.push_str(&format!(
                "{} reference(s) to resources in other stacks dropped (a state cannot refer to another stack):\n",
                self.dropped.len()
            ));
            for d in &self.dropped {
                out.push_str(&format!(
                    "  {} ({}): {} on {} ({})\n",
                    d.urn, d.stack, d.reference, d.target, d.target_stack
                ));
            }
        }
        for urn in &self.unused_providers {
            out.push_str(&format!("left out {urn}: no resource uses it\n"));
        }
        out
    }
}

/// What a URN of the export is.
#[derive(Clone, Copy)]
enum Kind {
    Root,
    Provider,
    Resource,
}

struct Entry<'a> {
    urn: &'a str,
    kind: Kind,
}

/// `urn:pulumi:<stack>::<project>::<qualified type>::<name>`: the part after the project.
fn urn_tail(urn: &str) -> Option<&str> {
    let rest = urn.strip_prefix("urn:pulumi:")?;
    let (_stack, rest) = rest.split_once("::")?;
    let (_project, tail) = rest.split_once("::")?;
    tail.contains("::").then_some(tail)
}

/// The logical name in a URN.
fn urn_name(urn: &str) -> Option<&str> {
    urn_tail(urn)?.split_once("::").map(|(_, name)| name)
}

/// The URN moved to `stack` of `project`; a string that is not a URN stays as it is.
fn moved(urn: &str, stack: &str, project: &str) -> String {
    match urn_tail(urn) {
        Some(tail) => format!("urn:pulumi:{stack}::{project}::{tail}"),
        None => urn.to_string(),
    }
}

fn valid_stack_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn not_export(path: &str, reason: &str) -> SplitError {
    SplitError::NotAnExport {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Calls `f` on every object inside `value`, outermost first.
fn each_object(value: &Value, f: &mut impl FnMut(&Map<String, Value>)) {
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
fn each_object_mut(value: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(map) => {
            f(map);
            map.values_mut().for_each(|v| each_object_mut(v, f));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| each_object_mut(v, f)),
        _ => {}
    }
}

fn is_sig(map: &Map<String, Value>, sig: &str) -> bool {
    map.get(SIG_KEY).and_then(Value::as_str) == Some(sig)
}

/// How many encrypted secrets the resource's properties hold.
fn ciphertexts(resource: &Value) -> usize {
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

fn str_list(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Splits a `pulumi stack export` document into one document per stack of `project`.
///
/// Every resource goes to the stack `shards` names for its type token and logical name,
/// every root stack output to the stack `shards` names for it; providers are copied into
/// each stack that uses them. The errors name every resource (or output) at fault.
pub fn split(
    export: &Value,
    project: &str,
    shards: &dyn ShardOf,
    options: SplitOptions,
) -> Result<Split, SplitError> {
    if !valid_stack_name(project) {
        return Err(SplitError::BadProjectName(project.into()));
    }
    let version = export.get("version").and_then(Value::as_u64);
    if !matches!(version, Some(3 | 4)) {
        let reason = version.map_or(
            "missing: not a `pulumi stack export` document".into(),
            |v| format!("version {v} is not supported (3 and 4 are)"),
        );
        return Err(not_export("/version", &reason));
    }
    let deployment = export
        .get("deployment")
        .and_then(Value::as_object)
        .ok_or_else(|| not_export("/deployment", "missing or not an object"))?;
    if let Some(pending) = deployment
        .get("pending_operations")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    {
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
    let empty = Vec::new();
    let resources = match deployment.get("resources") {
        None | Some(Value::Null) => &empty,
        Some(Value::Array(list)) => list,
        Some(_) => return Err(not_export("/deployment/resources", "not a list")),
    };

    let entries = classify(resources)?;
    let index: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.urn, i))
        .collect();

    // Which stack each resource goes to.
    let mut checked: BTreeSet<String> = BTreeSet::new();
    let mut check = |what: &str, stack: String| -> Result<String, SplitError> {
        if !checked.contains(&stack) {
            if !valid_stack_name(&stack) {
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
    let root = entries.iter().position(|e| matches!(e.kind, Kind::Root));
    let no_outputs = Map::new();
    let root_outputs = root
        .and_then(|i| resources[i].get("outputs"))
        .and_then(Value::as_object)
        .unwrap_or(&no_outputs);
    let mut outputs: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut unmapped_outputs = Vec::new();
    for (name, value) in root_outputs {
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

    if !options.allow_ciphertext {
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
    }

    // The providers each stack uses: copied into it.
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
    let unused_providers = entries
        .iter()
        .zip(&used)
        .filter(|(e, u)| matches!(e.kind, Kind::Provider) && u.is_empty())
        .map(|(e, _)| e.urn.to_string())
        .collect();

    let mut stacks: BTreeSet<String> = stack_of.iter().flatten().cloned().collect();
    stacks.extend(outputs.keys().cloned());

    let context = Context {
        entries: &entries,
        index: &index,
        stack_of: &stack_of,
        used: &used,
        project,
    };
    let mut split = Split {
        shards: BTreeMap::new(),
        dropped: Vec::new(),
        unused_providers,
    };
    let mut cross = Vec::new();
    for stack in &stacks {
        let stack = stack.as_str();
        let root_urn = format!("urn:pulumi:{stack}::{project}::{ROOT_TYPE}::{project}-{stack}");
        let mut root_resource = root.map_or_else(
            || json!({"custom": false, "type": ROOT_TYPE}),
            |i| resources[i].clone(),
        );
        let stack_outputs = outputs.remove(stack).unwrap_or_default();
        let output_count = stack_outputs.len();
        if let Some(obj) = root_resource.as_object_mut() {
            obj.insert("urn".into(), json!(root_urn));
            obj.remove("parent");
            if stack_outputs.is_empty() {
                obj.remove("outputs");
            } else {
                obj.insert("outputs".into(), Value::Object(stack_outputs));
            }
        }
        let mut list = vec![root_resource];
        let mut shard_resources = 0;
        let mut providers = Vec::new();
        for (i, r) in resources.iter().enumerate() {
            let here = match entries[i].kind {
                Kind::Root => false,
                Kind::Provider => used[i].contains(stack),
                Kind::Resource => stack_of[i].as_deref() == Some(stack),
            };
            if !here {
                continue;
            }
            match entries[i].kind {
                Kind::Provider => providers.push(entries[i].urn.to_string()),
                _ => shard_resources += 1,
            }
            let mut copy = r.clone();
            context.rewrite(
                &mut copy,
                entries[i].urn,
                stack,
                &root_urn,
                &mut split.dropped,
                &mut cross,
            );
            list.push(copy);
        }
        let mut document = export.clone();
        if let Some(d) = document
            .get_mut("deployment")
            .and_then(Value::as_object_mut)
        {
            d.remove("pending_operations");
            d.insert("resources".into(), Value::Array(list));
        }
        split.shards.insert(
            stack.to_string(),
            Shard {
                document,
                resources: shard_resources,
                providers,
                outputs: output_count,
            },
        );
    }
    if !cross.is_empty() {
        return Err(SplitError::ParentInOtherStack(cross));
    }
    // Dropped references in state order, whatever the order of the stacks.
    split
        .dropped
        .sort_by_key(|d| index.get(d.urn.as_str()).copied().unwrap_or(usize::MAX));
    Ok(split)
}

/// Every resource's URN and kind, checked: each URN once, at most one root, no
/// resource marked for deletion.
fn classify(resources: &[Value]) -> Result<Vec<Entry<'_>>, SplitError> {
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
        if let Some(first) = seen.insert(urn, i) {
            return Err(SplitError::DuplicateUrn {
                urn: urn.into(),
                first,
                second: i,
            });
        }
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

/// What the rewriting of one resource needs to know about the whole export.
struct Context<'a> {
    entries: &'a [Entry<'a>],
    index: &'a HashMap<&'a str, usize>,
    stack_of: &'a [Option<String>],
    used: &'a [BTreeSet<&'a str>],
    project: &'a str,
}

/// Where a URN the resource names is, seen from one stack.
enum Target {
    /// In this stack, under this URN.
    Here(String),
    /// In another stack.
    Elsewhere(String),
}

impl Context<'_> {
    fn locate(&self, urn: &str, stack: &str, root_urn: &str) -> Target {
        let Some(&i) = self.index.get(urn) else {
            // Not in the export (the export was already inconsistent): only renamed.
            return Target::Here(moved(urn, stack, self.project));
        };
        match self.entries[i].kind {
            Kind::Root => Target::Here(root_urn.to_string()),
            Kind::Provider if self.used[i].contains(stack) => {
                Target::Here(moved(urn, stack, self.project))
            }
            Kind::Provider => Target::Elsewhere(
                self.used[i]
                    .iter()
                    .next()
                    .map_or("(none)".to_string(), ToString::to_string),
            ),
            Kind::Resource => match self.stack_of[i].as_deref() {
                Some(s) if s == stack => Target::Here(moved(urn, stack, self.project)),
                Some(s) => Target::Elsewhere(s.to_string()),
                None => Target::Here(moved(urn, stack, self.project)),
            },
        }
    }

    /// The URN's new form wherever it goes (for resource references, which may cross).
    fn anywhere(&self, urn: &str, stack: &str, root_urn: &str) -> String {
        let Some(&i) = self.index.get(urn) else {
            return moved(urn, stack, self.project);
        };
        match (self.entries[i].kind, self.stack_of[i].as_deref()) {
            (Kind::Root, _) => root_urn.to_string(),
            (Kind::Resource, Some(s)) => moved(urn, s, self.project),
            _ => moved(urn, stack, self.project),
        }
    }

    fn rewrite(
        &self,
        resource: &mut Value,
        urn: &str,
        stack: &str,
        root_urn: &str,
        dropped: &mut Vec<DroppedReference>,
        cross: &mut Vec<CrossParent>,
    ) {
        let Some(obj) = resource.as_object_mut() else {
            return;
        };
        obj.insert("urn".into(), json!(moved(urn, stack, self.project)));
        let mut record = |reference: Reference, target: &str, target_stack: String| {
            dropped.push(DroppedReference {
                urn: urn.to_string(),
                stack: stack.to_string(),
                reference,
                target: target.to_string(),
                target_stack,
            });
        };
        for field in ["parent", "viewOf"] {
            let Some(target) = obj.get(field).and_then(Value::as_str).map(String::from) else {
                continue;
            };
            match self.locate(&target, stack, root_urn) {
                Target::Here(new) => {
                    obj.insert(field.into(), json!(new));
                }
                Target::Elsewhere(target_stack) => cross.push(CrossParent {
                    urn: urn.to_string(),
                    stack: stack.to_string(),
                    field,
                    target,
                    target_stack,
                }),
            }
        }
        if let Some(target) = obj
            .get("deletedWith")
            .and_then(Value::as_str)
            .map(String::from)
        {
            match self.locate(&target, stack, root_urn) {
                Target::Here(new) => {
                    obj.insert("deletedWith".into(), json!(new));
                }
                Target::Elsewhere(s) => {
                    obj.remove("deletedWith");
                    record(Reference::DeletedWith, &target, s);
                }
            }
        }
        let mut keep = |list: Vec<&str>, reference: &Reference| -> Vec<Value> {
            let mut kept = Vec::with_capacity(list.len());
            for target in list {
                match self.locate(target, stack, root_urn) {
                    Target::Here(new) => kept.push(json!(new)),
                    Target::Elsewhere(s) => record(reference.clone(), target, s),
                }
            }
            kept
        };
        for (field, reference) in [
            ("dependencies", Reference::Dependency),
            ("replaceWith", Reference::ReplaceWith),
        ] {
            if obj.get(field).is_some_and(Value::is_array) {
                let kept = keep(str_list(obj.get(field)), &reference);
                obj.insert(field.into(), Value::Array(kept));
            }
        }
        if let Some(Value::Object(by_input)) = obj.get("propertyDependencies") {
            let mut rewritten = Map::new();
            for (key, list) in by_input {
                let before = str_list(Some(list));
                let had = before.len();
                let kept = keep(before, &Reference::PropertyDependency(key.clone()));
                // An input all of whose dependencies went elsewhere is left out, as
                // `pulumi state move` leaves it out.
                if kept.len() == had || !kept.is_empty() {
                    rewritten.insert(key.clone(), Value::Array(kept));
                }
            }
            obj.insert("propertyDependencies".into(), Value::Object(rewritten));
        }
        if let Some(p) = obj.get("provider").and_then(Value::as_str)
            && let Some((provider, id)) = p.rsplit_once("::")
        {
            let new = format!("{}::{id}", moved(provider, stack, self.project));
            obj.insert("provider".into(), json!(new));
        }
        if let Some(Value::Array(aliases)) = obj.get_mut("aliases") {
            for alias in aliases.iter_mut() {
                if let Some(a) = alias.as_str() {
                    *alias = json!(moved(a, stack, self.project));
                }
            }
        }
        for key in ["inputs", "outputs"] {
            if let Some(props) = obj.get_mut(key) {
                each_object_mut(props, &mut |map| {
                    if is_sig(map, RESOURCE_REF_SIG)
                        && let Some(target) = map.get("urn").and_then(Value::as_str)
                    {
                        let new = self.anywhere(target, stack, root_urn);
                        map.insert("urn".into(), json!(new));
                    }
                });
            }
        }
    }
}

/// The project of an export: the one its root stack resource (or else its first
/// resource) names; `None` for an export without resources.
pub fn project_of(export: &Value) -> Option<String> {
    let resources = export.pointer("/deployment/resources")?.as_array()?;
    let urn_of = |r: &Value| r.get("urn").and_then(Value::as_str).map(String::from);
    let urn = resources
        .iter()
        .find(|r| r.get("type").and_then(Value::as_str) == Some(ROOT_TYPE))
        .or_else(|| resources.first())
        .and_then(urn_of)?;
    let rest = urn.strip_prefix("urn:pulumi:")?;
    rest.split("::").nth(1).map(String::from)
}

/// Why [`split_file`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SplitFileError {
    /// The export could not be read.
    #[error("{}: cannot read", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The export is not JSON.
    #[error("{}: not JSON (line {line})", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The line of the error.
        line: usize,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The export was refused.
    #[error("{}: not split", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: SplitError,
    },
    /// Files that would be overwritten; nothing was written.
    #[error("would overwrite {}; nothing written", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Exists(Vec<PathBuf>),
    /// A file could not be written.
    #[error("{}: cannot write", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Splits the export at `export` and writes each stack's document to
/// `<out_dir>/<stack>.json` (pretty JSON), creating `out_dir` if needed. Refuses, before
/// writing anything, when one of those files exists. `project` `None` keeps the export's
/// own project ([`project_of`]).
pub fn split_file(
    export: &Path,
    out_dir: &Path,
    project: Option<&str>,
    shards: &dyn ShardOf,
    options: SplitOptions,
) -> Result<Split, SplitFileError> {
    let text = std::fs::read_to_string(export).map_err(|source| SplitFileError::Read {
        path: export.into(),
        source,
    })?;
    let document: Value = serde_json::from_str(&text).map_err(|source| SplitFileError::Json {
        path: export.into(),
        line: source.line(),
        source,
    })?;
    let refused = |source| SplitFileError::Refused {
        path: export.into(),
        source,
    };
    let project = match project {
        Some(p) => p.to_string(),
        None => project_of(&document).ok_or_else(|| {
            refused(not_export(
                "/deployment/resources",
                "no resource to tell the project by",
            ))
        })?,
    };
    let split = split(&document, &project, shards, options).map_err(refused)?;
    let paths: Vec<PathBuf> = split
        .shards
        .keys()
        .map(|stack| out_dir.join(format!("{stack}.json")))
        .collect();
    let existing: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
    if !existing.is_empty() {
        return Err(SplitFileError::Exists(existing));
    }
    std::fs::create_dir_all(out_dir).map_err(|source| SplitFileError::Write {
        path: out_dir.into(),
        source,
    })?;
    for (path, shard) in paths.iter().zip(split.shards.values()) {
        write_new(path, &shard.document).map_err(|source| SplitFileError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(split)
}

fn write_new(path: &Path, document: &Value) -> std::io::Result<()> {
    use std::io::Write as _;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let mut out = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, document)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
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
        assert!(valid_stack_name("prod-ds_1.x"));
        assert!(!valid_stack_name(""));
        assert!(!valid_stack_name("org/proj/stack"));
        assert!(!valid_stack_name("a::b"));
    }

    #[test]
    fn ciphertexts_are_counted_in_inputs_and_outputs() {
        let secret = json!({SIG_KEY: SECRET_SIG, "ciphertext": "v1:abc"});
        let plain = json!({SIG_KEY: SECRET_SIG, "plaintext": "\"x\""});
        let r = json!({"inputs": {"a": secret, "b": [plain]}, "outputs": {"c": {"d": secret}}});
        assert_eq!(ciphertexts(&r), 2);
    }
}
