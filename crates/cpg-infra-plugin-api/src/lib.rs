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
//! ```no_run
//! use std::path::Path;
//!
//! let names = vec!["billing_aggregator".to_owned()];
//! match cpg_infra_plugin_api::loader::load_enabled(Path::new("target/release"), &names) {
//!     Ok(plugins) => println!("{} plugins", plugins.len()),
//!     Err(errors) => errors.iter().for_each(|e| eprintln!("error: {e}")),
//! }
//! ```
//!
//! # Who owns what
//!
//! This crate owns the ABI and every `unsafe` block of the plugin system, each with a
//! `// SAFETY:` note; the rest of the workspace forbids `unsafe`. The core,
//! `cpg-infra`, owns the lifecycle ([`cpg_infra::plugin`]: the `Plugin` and
//! `PluginHost` traits, the plugins-directory and file-name rules) and runs plugins
//! without knowing about libraries. This crate depends on the core: it implements
//! `Plugin` for loaded libraries and `PluginHost` over the C callbacks, and the
//! deploy binary wires the two together. The SDK's `Plugin` trait is the core's, so a
//! plugin runs unchanged in-process (in its tests) and behind the ABI.
//!
//! # The ABI
//!
//! The [`abi`] module specifies it: the entry function and header, the host's
//! callback table, how data crosses and who frees it, status codes and panics. The
//! [`loader`] says what it checks before a library runs.

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
