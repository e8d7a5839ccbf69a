//! cpg-infra builds an organisation's whole cloud infrastructure — GCP and Azure —
//! from a few config files, name for name with the Python `cpg-infrastructure`.
//!
//! Configs are loaded and validated ([`config`]), then the drivers declare every
//! resource through a [`Cloud`](cloud::Cloud) into a [`Graph`](graph::Graph): the
//! plan, which an engine deploys.
//!
//! ```no_run
//! match cpg_infra::config::load_dir("examples/deploy/config") {
//!     Ok(config) => println!("{} datasets", config.datasets.len()),
//!     Err(invalid) => {
//!         for diagnostic in &invalid.diagnostics {
//!             eprintln!("{diagnostic}");
//!         }
//!     }
//! }
//! ```

pub mod cloud;
pub mod config;
pub mod custom;
pub mod driver;
pub mod dry_run;
pub mod graph;
pub mod plugin;
pub mod synthetic;
