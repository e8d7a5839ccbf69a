//! Writing a plugin: implement [`Plugin`] and export it with
//! [`export_plugin!`](crate::export_plugin).
//!
//! The plugin's library holds one instance, made anew by each `main` and kept for
//! the `on_group_finalisation` that follows, so what `main` remembers is there, and
//! nothing is left over from an earlier build. Every call catches panics on the plugin's side and
//! reports them as [`Status::PANIC`] with the panic's message.
#![allow(unsafe_code)]

use cpg_infra::error_chain;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, OnceLock, PoisonError};

pub use cpg_infra::plugin::{
    GroupInfo, GroupMemberRequest, GroupMemberSpec, HostError, LogLevel, Mode, Plugin,
    PluginContext, PluginError, PluginHost,
};

use crate::abi::{ABI_VERSION, HostTable, MAGIC, PluginHeader, Sink, Status, Str};
use crate::ffi::{panic_message, write};
use crate::remote::RemoteHost;

/// Makes the plugin's instance.
pub type Constructor = fn() -> Box<dyn Plugin>;

/// The header, shareable between threads.
struct Header(PluginHeader);

// SAFETY: the header is written once and never changed; its pointers point to
// `'static` strings and its functions are plain code, so reading it from any thread
// is sound.
unsafe impl Sync for Header {}
// SAFETY: as above: nothing in the header is tied to a thread.
unsafe impl Send for Header {}

static HEADER: OnceLock<Header> = OnceLock::new();
static CONSTRUCTOR: OnceLock<Constructor> = OnceLock::new();
static INSTANCE: Mutex<Option<Box<dyn Plugin>>> = Mutex::new(None);

/// The header [`export_plugin!`](crate::export_plugin) returns: registers the
/// plugin's constructor on the first call.
#[doc(hidden)]
pub fn __register(
    name: &'static str,
    version: &'static str,
    constructor: Constructor,
) -> *const PluginHeader {
    __register_raw(MAGIC, ABI_VERSION, name, version, constructor)
}

/// [`__register`] with any magic and ABI version: for the loader's tests, which
/// need libraries that are refused.
#[doc(hidden)]
pub fn __register_raw(
    magic: [u8; 8],
    abi_version: u32,
    name: &'static str,
    version: &'static str,
    constructor: Constructor,
) -> *const PluginHeader {
    let _ = CONSTRUCTOR.set(constructor);
    let header = HEADER.get_or_init(|| {
        Header(PluginHeader {
            magic,
            abi_version,
            header_size: crate::abi::HEADER_SIZE_V1,
            name: Str::new(name),
            version: Str::new(version),
            main,
            on_group_finalisation,
        })
    });
    &header.0
}

/// Which lifecycle step to run.
#[derive(Clone, Copy)]
enum Step {
    Main,
    GroupFinalisation,
}

unsafe extern "C" fn main(host: *const HostTable, error: *const Sink) -> Status {
    // SAFETY: the host passes a valid table and sink for this call (the ABI's rule).
    unsafe { run(host, error, Step::Main) }
}

unsafe extern "C" fn on_group_finalisation(host: *const HostTable, error: *const Sink) -> Status {
    // SAFETY: the host passes a valid table and sink for this call (the ABI's rule).
    unsafe { run(host, error, Step::GroupFinalisation) }
}

/// Runs a lifecycle step of the plugin's instance against the host's table.
///
/// # Safety
///
/// `host` points to a table valid during the call; `error` is null or a valid sink.
unsafe fn run(host: *const HostTable, error: *const Sink, step: Step) -> Status {
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), PluginError> {
        if host.is_null() {
            return Err(PluginError::Abi("the host passed no callback table".into()));
        }
        // SAFETY: the host passes a table that is valid for the whole call.
        let table = unsafe { &*host };
        let mut remote = RemoteHost::connect(table)?;
        let mut instance = INSTANCE.lock().unwrap_or_else(PoisonError::into_inner);
        // Each build starts from a new instance, so nothing of one build leaks into
        // the next; `on_group_finalisation` gets the instance `main` used.
        if matches!(step, Step::Main) || instance.is_none() {
            let constructor = CONSTRUCTOR
                .get()
                .ok_or_else(|| PluginError::Abi("the plugin registered no constructor".into()))?;
            *instance = Some(constructor());
        }
        let plugin = instance
            .as_mut()
            .ok_or_else(|| PluginError::Abi("the plugin has no instance".into()))?;
        match step {
            Step::Main => plugin.main(&mut remote),
            Step::GroupFinalisation => plugin.on_group_finalisation(&mut remote),
        }
    }));
    let (status, message) = match outcome {
        Ok(Ok(())) => return Status::OK,
        Ok(Err(error)) => (Status::ERROR, error_chain(&error)),
        Err(payload) => (Status::PANIC, panic_message(payload.as_ref())),
    };
    // SAFETY: forwarded from the caller.
    unsafe { write(error, &message) };
    status
}

/// Exports a plugin from a `cdylib`: `export_plugin!("name", Type::default())`.
///
/// The name must be the one `plugins_enabled` uses and the one the library's file
/// is named after (`lib<name>.so`: set `[lib] name = "<name>"` in the crate's
/// `Cargo.toml`). The expression makes the plugin's instance. The crate must allow
/// `unsafe_code` to be denied rather than forbidden: the macro's entry function is
/// `#[unsafe(no_mangle)]`, the only unsafe attribute a plugin needs.
///
/// ```
/// use cpg_infra_plugin_api::sdk::{LogLevel, Plugin, PluginError, PluginHost};
///
/// #[derive(Default)]
/// struct Hello;
///
/// impl Plugin for Hello {
///     fn name(&self) -> &str {
///         "hello"
///     }
///     fn main(&mut self, host: &mut dyn PluginHost) -> Result<(), PluginError> {
///         host.log(LogLevel::Info, "hello");
///         Ok(())
///     }
/// }
///
/// cpg_infra_plugin_api::export_plugin!("hello", Hello);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($name:literal, $constructor:expr) => {
        /// The plugin's entry point (the C ABI's `cpg_infra_plugin_entry`).
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn cpg_infra_plugin_entry() -> *const $crate::abi::PluginHeader {
            fn construct() -> ::std::boxed::Box<dyn $crate::sdk::Plugin> {
                ::std::boxed::Box::new($constructor)
            }
            $crate::sdk::__register($name, env!("CARGO_PKG_VERSION"), construct)
        }
    };
}
