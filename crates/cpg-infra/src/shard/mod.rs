//! The organisation cut into shards, one Pulumi stack each: the organisation
//! shard, one shard per dataset and the after-datasets shard (see
//! `docs/sharding.md` for the rule).
//!
//! [`ShardPlan::new`] places every resource and stack export of a build in exactly
//! one shard, works out what each shard reads from which (the outputs that cross a
//! cut, each under a stable export name), and the waves in which the shards can be
//! deployed (each shard after the shards it reads from or depends on). A cycle
//! between shards is an error naming the resources that make it.
//! [`ShardPlan::shard_graph`] is what the program registers when deployed to one
//! shard's stack.
//!
//! ```
//! # fn run(config: cpg_infra::config::Config) -> Result<(), Box<dyn std::error::Error>> {
//! use cpg_infra::driver::CpgInfrastructure;
//! use cpg_infra::shard::{ShardPlan, StackContext};
//!
//! let built = CpgInfrastructure::from_validated(config).build_with_log()?;
//! let plan = ShardPlan::new(&built.graph, &built.origins)?;
//! for (wave, shards) in plan.waves().iter().enumerate() {
//!     for shard in shards {
//!         println!("wave {wave}: {} ({} resources)", plan.shard(*shard).stack, plan.shard(*shard).resources.len());
//!     }
//! }
//! let context = StackContext::new("acme", "cpg-infrastructure");
//! let organisation = plan.shard_for_stack("organisation")?;
//! let graph = plan.shard_graph(&built.graph, organisation, &context)?;
//! # let _ = graph;
//! # Ok(()) }
//! ```

mod cut;
mod graph;

use std::collections::BTreeMap;
use std::fmt;

use crate::driver::Origin;
use crate::graph::{OutputRef, ResourceId};

pub use cut::export_name;
pub use graph::{STACK_REFERENCE_TYPE, StackContext};

/// Why the organisation cannot be cut into shards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// A resource or export of the graph has no recorded origin.
    #[error("{0} has no origin: it was not declared by the build")]
    NoOrigin(String),
    /// Shards that need each other: each step names a resource and the resource
    /// of the next shard it uses.
    #[error("shards need each other: {}", .cycle.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Cycle {
        /// The steps of the cycle, the last leading back to the first shard.
        cycle: Vec<CycleStep>,
    },
    /// A resource uses another shard's resource as a whole (not one of its
    /// outputs), which a stack reference cannot carry.
    #[error(
        "{consumer} uses the whole resource {resource} of stack {stack:?}: only outputs cross stacks"
    )]
    WholeResourceAcrossShards {
        /// The resource using it.
        consumer: String,
        /// The resource it uses.
        resource: ResourceId,
        /// The stack of that resource.
        stack: String,
    },
    /// A resource whose parent or provider is in another shard: Pulumi keeps both
    /// in one stack.
    #[error(
        "{consumer} has its {option} {resource} in stack {stack:?}: it must be in the same stack"
    )]
    OptionAcrossShards {
        /// The resource.
        consumer: ResourceId,
        /// `parent` or `provider`.
        option: &'static str,
        /// The parent or provider.
        resource: ResourceId,
        /// The stack of that resource.
        stack: String,
    },
    /// A stack name that is no shard's.
    #[error("no shard is deployed to stack {stack:?}; the stacks are: {}", .valid.join(", "))]
    UnknownStack {
        /// The name asked for.
        stack: String,
        /// Every shard's stack, in plan order.
        valid: Vec<String>,
    },
    /// A resource of a shard graph is declared twice (a stack reference named as
    /// one of the shard's own resources).
    #[error("cannot build the shard graph")]
    Graph(#[from] crate::graph::GraphError),
    /// An export name the shard graph needs is one of the graph's own exports.
    #[error("stack export {0:?} is both the graph's own and an output read by another shard")]
    ExportClash(String),
}

/// One step of a cycle between shards: `consumer` (in stack `from`) uses
/// `producer` (in stack `to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleStep {
    /// The stack of the resource that uses the other.
    pub from: String,
    /// The resource (or `export <name>`) that uses the other.
    pub consumer: String,
    /// The stack of the resource used.
    pub to: String,
    /// The resource used.
    pub producer: ResourceId,
}

impl fmt::Display for CycleStep {
    /// `from: consumer uses to: producer`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) uses {} ({})",
            self.consumer, self.from, self.producer, self.to
        )
    }
}

/// The index of a shard in its [`ShardPlan`].
pub type ShardIndex = usize;

/// One shard: a stack's worth of the organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// Which part of the organisation it holds.
    pub key: Origin,
    /// The Pulumi stack it deploys to: [`stack_name`] of `key`.
    pub stack: String,
    /// Its resources, in declaration order.
    pub resources: Vec<ResourceId>,
    /// The graph's own stack exports it declares, by name.
    pub exports: Vec<String>,
    /// What it reads from each other shard: the outputs, by export name.
    pub reads: BTreeMap<ShardIndex, BTreeMap<String, OutputRef>>,
    /// The shards it must come after without reading from them (a `dependsOn`
    /// across shards).
    pub after: Vec<ShardIndex>,
}

impl Shard {
    /// Every shard this one must come after: those it reads from and those it
    /// depends on, in order, each once.
    pub fn needs(&self) -> Vec<ShardIndex> {
        let mut needs: Vec<ShardIndex> = self.reads.keys().copied().collect();
        needs.extend(&self.after);
        needs.sort_unstable();
        needs.dedup();
        needs
    }
}

/// The stack name of the shard `key`: `organisation`, `dataset-<name>` or
/// `after-datasets` — a pure function of the shard, so every run agrees.
pub fn stack_name(key: &Origin) -> String {
    match key {
        Origin::Organisation => "organisation".to_owned(),
        Origin::Dataset(name) => format!("dataset-{name}"),
        Origin::AfterDatasets => "after-datasets".to_owned(),
    }
}

/// The organisation cut into shards.
#[derive(Debug, Clone)]
pub struct ShardPlan {
    shards: Vec<Shard>,
    of_resource: BTreeMap<ResourceId, ShardIndex>,
    of_export: BTreeMap<String, ShardIndex>,
    waves: Vec<Vec<ShardIndex>>,
}

impl ShardPlan {
    /// Every shard, in order: the organisation, the datasets in build order, what
    /// comes after the datasets. A shard without resources or exports is left out.
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// The shard at `index` (as [`ShardPlan::shards`] and the waves number them).
    ///
    /// # Panics
    ///
    /// When `index` is not a shard of this plan.
    pub fn shard(&self, index: ShardIndex) -> &Shard {
        &self.shards[index]
    }

    /// The shards in waves: each wave's shards need only shards of earlier waves,
    /// so a wave's shards can be deployed in parallel.
    pub fn waves(&self) -> &[Vec<ShardIndex>] {
        &self.waves
    }

    /// The shard of the resource `id`.
    pub fn shard_of(&self, id: &ResourceId) -> Option<ShardIndex> {
        self.of_resource.get(id).copied()
    }

    /// The stack of the resource of type `type_token` named `name`, when the
    /// graph declares it: what moving a single stack's state into shards needs.
    pub fn stack_of_resource(&self, type_token: &str, name: &str) -> Option<&str> {
        self.shard_of(&ResourceId::new(type_token, name))
            .map(|i| self.shards[i].stack.as_str())
    }

    /// The stack that declares the stack export `name`: one of the graph's own
    /// exports, or an output another shard reads ([`export_name`]).
    pub fn stack_of_export(&self, name: &str) -> Option<&str> {
        if let Some(index) = self.of_export.get(name) {
            return Some(&self.shards[*index].stack);
        }
        self.shards
            .iter()
            .flat_map(|shard| shard.reads.iter())
            .find(|(_, names)| names.contains_key(name))
            .map(|(producer, _)| self.shards[*producer].stack.as_str())
    }

    /// The shard deployed to `stack`; an unknown stack is an error listing the
    /// valid ones.
    pub fn shard_for_stack(&self, stack: &str) -> Result<ShardIndex, ShardError> {
        self.shards
            .iter()
            .position(|shard| shard.stack == stack)
            .ok_or_else(|| ShardError::UnknownStack {
                stack: stack.to_owned(),
                valid: self.shards.iter().map(|s| s.stack.clone()).collect(),
            })
    }
}

#[cfg(test)]
mod tests;
