//! cpg-infra builds an organisation's whole cloud infrastructure — GCP and Azure —
//! from a few config files, name for name with the Python `cpg-infrastructure`.
//!
//! Configs are loaded and validated ([`config`]), then the drivers declare every
//! resource through a [`Cloud`](cloud::Cloud) into a [`Graph`](graph::Graph): the
//! plan, which an engine deploys.
//!
//! The modules are layers, each using only those before it:
//! python → config → synthetic → graph → cloud → dry_run → plugin → driver → shard.
//! `python` (crate-private) holds the renderings the reference owes to Python
//! (`repr`, `json.dumps`, its TOML, `base64`); [`config`] the configuration and
//! its validation; [`synthetic`] realistic generated configs; [`graph`] the plan and
//! its values; [`cloud`] the trait every cloud implements and [`dry_run`] the cloud
//! that deploys nothing; [`plugin`] the host side of plugins; [`driver`] the
//! builders that put them together; [`shard`] the organisation cut into a stack
//! per dataset. A test reads every `crate::` and `super::` path
//! and fails on one that reaches up.
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
pub mod driver;
pub mod dry_run;
pub mod graph;
pub mod plugin;
mod python;
pub mod shard;
pub mod synthetic;

#[cfg(test)]
mod layers;

/// An error and its causes, outermost first, joined by `: ` — one line for a
/// terminal or a log, since each layer's `Display` names only its own part.
///
/// ```
/// #[derive(Debug)]
/// struct Writing(std::io::Error);
/// impl std::fmt::Display for Writing {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("cannot write the plan")
///     }
/// }
/// impl std::error::Error for Writing {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
/// let error = Writing(std::io::Error::other("disk full"));
/// assert_eq!(cpg_infra::error_chain(&error), "cannot write the plan: disk full");
/// ```
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
