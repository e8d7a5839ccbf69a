//! Plugins for cpg-infra: shared libraries an organisation drops into a plugins
//! directory, which read the configs and declare resources and group members into
//! the same plan as the drivers.
//!
//! - [`abi`]: the stable C ABI — one entry function returning a `#[repr(C)]` header,
//!   a host callback table that only grows at its end, borrowed UTF-8 JSON, status
//!   codes.
//! - [`sdk`]: writing a plugin — the safe [`Plugin`](sdk::Plugin) trait (the
//!   driver's own, see [`cpg_infra::plugin`]), the [`PluginHost`](sdk::PluginHost)
//!   handle, and [`export_plugin!`].
//! - [`loader`]: the host's side — opening the enabled plugins and checking them;
//!   a loaded library is a [`Plugin`](sdk::Plugin) the driver runs.
//!
//! Every `unsafe` block of the plugin system is in this crate.
//!
//! ```no_run
//! use std::path::Path;
//!
//! let names = vec!["billing_aggregator".to_owned()];
//! match cpg_infra_plugin_api::loader::load_enabled(Path::new("target/release"), &names) {
//!     Ok(plugins) => println!("{} plugins", plugins.len()),
//!     Err(errors) => errors.iter().for_each(|e| eprintln!("error: {e}")),
//! }
//! ```

pub mod abi;
#[cfg_attr(not(all(unix, not(target_vendor = "apple"))), allow(dead_code))]
mod elf;
mod ffi;
mod host;
pub mod loader;
mod messages;
mod remote;
pub mod sdk;
pub mod testing;
