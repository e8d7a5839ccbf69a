//! Reviewing a plan before it deploys: effective access (who reaches what, through
//! which groups), the difference between two plans or between a plan and a stack
//! export, and the URNs a change touches — computed from the resource graph the
//! drivers declare, never re-derived from the config.
//!
//! ```no_run
//! use cpg_infra::driver::CpgInfrastructure;
//! use cpg_infra_review::access::AccessGraph;
//!
//! let config = cpg_infra::config::load_dir("examples/deploy/config").expect("valid");
//! let graph = CpgInfrastructure::from_validated(config).build().expect("plan");
//! let access = AccessGraph::from_graph(&graph);
//! let person = access.principal_named("mira.okafor@example.org");
//! for grant in access.access_of(&person) {
//!     println!("{} on {}", grant.role, grant.resource);
//! }
//! ```

pub mod access;
pub mod describe;
pub mod diff;
pub mod differences;
pub mod markdown;
pub mod names;
pub mod picture;
pub mod replace;
pub mod risk;
pub mod state;
pub mod stream;
pub mod targets;
#[cfg(test)]
mod test_support;
pub mod urn;
