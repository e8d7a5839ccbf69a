//! cpg-infra builds an organisation's whole cloud infrastructure — GCP and Azure —
//! from a few config files, name for name with the Python `cpg-infrastructure`.
//!
//! This release holds the configuration: its types, the loader for a config
//! directory, and validation that reports every problem at once.
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

pub mod config;
