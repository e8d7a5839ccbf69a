//! Deploys a cpg-infra resource graph through the Pulumi engine.
//!
//! A Pulumi program is a process the Pulumi CLI's language host starts with the
//! engine's addresses in its environment ([`EngineSettings`]). This crate is that
//! program's engine client, on the generated gRPC types of `pulumi_gestalt_proto`:
//! it registers the root stack, then every resource of the graph as soon as the
//! outputs it uses are known, with every resource option, secrets as secrets and,
//! in a preview, unknowns as unknowns; then the stack exports on the root.
//!
//! ```no_run
//! use cpg_infra::driver::CpgInfrastructure;
//! use cpg_infra_pulumi::PulumiMain;
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = cpg_infra::config::load_dir("config")
//!     .map_err(|invalid| invalid.to_string())?;
//! CpgInfrastructure::from_validated(config)
//!     .with_cloud(cpg_infra_gcp::GcpProvider)
//!     .main()?;
//! # Ok(()) }
//! ```
//!
//! With the `mock-engine` feature, the module `mock` serves a resource monitor and an
//! engine on 127.0.0.1 that answer like Pulumi's unit-test mocks, for tests.

mod error;
#[cfg(feature = "mock-engine")]
pub mod mock;
mod program;
mod resolve;
mod run;
mod schedule;
mod session;
mod settings;
mod versions;
pub mod wire;

pub use error::{DeployError, chain};
pub use program::{MainError, PulumiMain};
pub use session::{DeployOptions, Deployed, Features, ROOT_TYPE, Session, Severity};
pub use settings::{EngineSettings, SettingsError};
pub use versions::{ProviderVersions, package};

/// The generated Pulumi protocol types this crate speaks (`pulumirpc`).
pub use pulumi_gestalt_proto::pulumi::pulumirpc as proto;
