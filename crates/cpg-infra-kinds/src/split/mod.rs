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
//! which `stack import` encrypts again (with the recorded secrets provider, which it
//! points at the new stack when it is Pulumi Cloud's). An export holding
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

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::Value;

use crate::export::DuplicateUrn;

mod file;
mod rewrite;
mod state;

pub use file::{SplitFileError, project_of, split_file};

/// The type of a stack's root resource.
pub const ROOT_TYPE: &str = "pulumi:pulumi:Stack";
/// The type prefix of provider resources.
pub const PROVIDER_PREFIX: &str = "pulumi:providers:";

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
    #[error(transparent)]
    DuplicateUrn(#[from] DuplicateUrn),
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
    if !state::valid_name(project) {
        return Err(SplitError::BadProjectName(project.into()));
    }
    let resources = state::resources_of(export)?;
    let entries = state::classify(resources)?;
    let index: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.urn, i))
        .collect();
    let state::Assignment {
        stack_of,
        mut outputs,
    } = state::assign(&entries, resources, shards)?;
    if !options.allow_ciphertext {
        state::refuse_ciphertext(&entries, resources)?;
    }
    let used = state::providers_used(&entries, resources, &index, &stack_of)?;
    let mut stacks: Vec<String> = stack_of.iter().flatten().cloned().collect();
    stacks.extend(outputs.keys().cloned());
    stacks.sort_unstable();
    stacks.dedup();

    let context = rewrite::Context {
        resources,
        entries: &entries,
        index: &index,
        stack_of: &stack_of,
        used: &used,
        project,
    };
    let skeleton = state::skeleton(export);
    let mut dropped = Vec::new();
    let mut cross = Vec::new();
    let mut shards = BTreeMap::new();
    for stack in stacks {
        let stack_outputs = outputs.remove(&stack).unwrap_or_default();
        let shard = context.shard(&skeleton, &stack, stack_outputs, &mut dropped, &mut cross);
        shards.insert(stack, shard);
    }
    if !cross.is_empty() {
        return Err(SplitError::ParentInOtherStack(cross));
    }
    // Dropped references in state order, whatever the order of the stacks.
    dropped.sort_by_key(|d: &DroppedReference| {
        index.get(d.urn.as_str()).copied().unwrap_or(usize::MAX)
    });
    let unused_providers = entries
        .iter()
        .zip(&used)
        .filter(|(e, u)| matches!(e.kind, state::Kind::Provider) && u.is_empty())
        .map(|(e, _)| e.urn.to_string())
        .collect();
    Ok(Split {
        shards,
        dropped,
        unused_providers,
    })
}
