//! The C ABI between the host (`deploy`) and a plugin library, version 1.
//!
//! - The library exports one unmangled function, [`ENTRY_SYMBOL`], of type
//!   [`EntryFn`]. It returns a pointer to a [`PluginHeader`] that lives as long as
//!   the library: [`MAGIC`], the ABI version, the header's size, the plugin's name
//!   and version, and its two lifecycle functions.
//! - The host checks the magic, version and size before it calls anything else,
//!   accepting any version in [`SUPPORTED_ABI_VERSIONS`], then calls `main` and
//!   `on_group_finalisation` with a [`HostTable`]: the host's callbacks (`log`,
//!   `configs`, `declare`, `export`, `resource`, `add_group_member`, `group`).
//!   The table only grows at its end; its `size` field tells a plugin which
//!   callbacks the host has, so a plugin built against a newer table can run on an
//!   older host as long as it checks.
//! - Data crosses as UTF-8 JSON in a [`Str`] borrowed for the duration of one call.
//!   Answers come back through a [`Sink`] the caller passes: the callee calls
//!   `write` with a borrowed [`Str`], and the caller copies it. Nobody frees memory
//!   the other side allocated.
//! - Every function on either side catches panics on its own side and returns a
//!   [`Status`] (`0` ok, `1` error, `2` panic, `3` invalid request); a failure's
//!   message goes to the sink.
//! - The host never unloads a library, so nothing a library hands out dangles.
//!
//! The JSON forms are the plan document's (resources, values, `type::name` ids) and
//! the config types' serde forms. The layouts below are checked at compile time.

use std::ffi::c_void;
use std::mem::{offset_of, size_of};
use std::ops::RangeInclusive;

/// The first eight bytes of every header.
pub const MAGIC: [u8; 8] = *b"CPGINFRA";

/// The ABI version this crate speaks.
pub const ABI_VERSION: u32 = 1;

/// The ABI versions the host accepts.
pub const SUPPORTED_ABI_VERSIONS: RangeInclusive<u32> = 1..=ABI_VERSION;

/// The name of the function a plugin library exports.
pub const ENTRY_SYMBOL: &str = "cpg_infra_plugin_entry";

/// The entry function: returns the plugin's header, valid as long as the library is
/// loaded.
pub type EntryFn = unsafe extern "C" fn() -> *const PluginHeader;

/// A borrowed UTF-8 string: valid for the duration of the call it is passed to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Str {
    /// The first byte (dangling but non-null when `len` is 0).
    pub ptr: *const u8,
    /// The number of bytes.
    pub len: usize,
}

impl Str {
    /// Borrows `text`; the result must not outlive it.
    pub fn new(text: &str) -> Self {
        Str {
            ptr: text.as_ptr(),
            len: text.len(),
        }
    }
}

/// The outcome of a call across the ABI.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u32);

impl Status {
    /// Success.
    pub const OK: Status = Status(0);
    /// A failure; its message was written to the sink.
    pub const ERROR: Status = Status(1);
    /// A panic, caught on the side that panicked; its message was written to the sink.
    pub const PANIC: Status = Status(2);
    /// The request was not valid (not UTF-8, not the expected JSON).
    pub const INVALID_REQUEST: Status = Status(3);
}

/// Where the callee writes an answer or an error message; the caller copies it.
#[repr(C)]
pub struct Sink {
    /// The caller's state.
    pub ctx: *mut c_void,
    /// Called with the text; may be called more than once (the texts are appended).
    pub write: unsafe extern "C" fn(ctx: *mut c_void, text: Str),
}

/// A host callback: a JSON request, a JSON answer written to `reply`.
pub type Callback =
    unsafe extern "C" fn(ctx: *mut c_void, request: Str, reply: *const Sink) -> Status;

/// A plugin's log line: level (0 debug, 1 info, 2 warning, 3 error) and text.
pub type LogFn = unsafe extern "C" fn(ctx: *mut c_void, level: u32, message: Str) -> Status;

/// The host's callbacks, passed to each lifecycle call. Append-only: new callbacks
/// go at the end, and `size` says how far the host's table reaches.
#[repr(C)]
pub struct HostTable {
    /// `size_of::<HostTable>()` as the host built it.
    pub size: usize,
    /// The host's state, passed back to every callback.
    pub ctx: *mut c_void,
    /// A log line.
    pub log: LogFn,
    /// Request ignored; answers `{"infrastructure", "datasets", "context"}`.
    pub configs: Callback,
    /// Request: a resource in the plan's form; answers its `"type::name"`.
    pub declare: Callback,
    /// Request: `{"name", "value"}`; answers `null`.
    pub export: Callback,
    /// Request: `"type::name"`; answers the resource in the plan's form, or `null`.
    pub resource: Callback,
    /// Request: `{"cloud", "group", "key", "member"}`; answers `null`.
    pub add_group_member: Callback,
    /// Request: `{"cloud", "name"}`; answers `{"resource", "resolved_members"}`.
    pub group: Callback,
}

/// A lifecycle function of the plugin: `main` or `on_group_finalisation`.
pub type LifecycleFn = unsafe extern "C" fn(host: *const HostTable, error: *const Sink) -> Status;

/// What the entry function returns. Fields up to `header_size` are the same in
/// every ABI version.
#[repr(C)]
pub struct PluginHeader {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// The ABI version the plugin speaks.
    pub abi_version: u32,
    /// `size_of::<PluginHeader>()` as the plugin built it.
    pub header_size: u32,
    /// The plugin's name; equals the name its library file is derived from.
    pub name: Str,
    /// The plugin's version.
    pub version: Str,
    /// Runs after the datasets are built, before groups are finalised.
    pub main: LifecycleFn,
    /// Runs right after groups are finalised.
    pub on_group_finalisation: LifecycleFn,
}

/// The bytes every header version starts with: enough to check the magic and the
/// version before reading on.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct HeaderPrefix {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// The ABI version.
    pub abi_version: u32,
    /// The header's size.
    pub header_size: u32,
}

const WORD: usize = size_of::<usize>();

// The layout is the contract: these fail to compile if a field moves.
const _: () = {
    assert!(size_of::<Str>() == 2 * WORD);
    assert!(offset_of!(Str, len) == WORD);
    assert!(size_of::<Status>() == 4);
    assert!(size_of::<Sink>() == 2 * WORD);
    assert!(offset_of!(Sink, write) == WORD);
    assert!(offset_of!(HeaderPrefix, abi_version) == 8);
    assert!(offset_of!(HeaderPrefix, header_size) == 12);
    assert!(size_of::<HeaderPrefix>() == 16);
    assert!(offset_of!(PluginHeader, magic) == 0);
    assert!(offset_of!(PluginHeader, abi_version) == 8);
    assert!(offset_of!(PluginHeader, header_size) == 12);
    assert!(offset_of!(PluginHeader, name) == 16);
    assert!(offset_of!(PluginHeader, version) == 16 + 2 * WORD);
    assert!(offset_of!(PluginHeader, main) == 16 + 4 * WORD);
    assert!(offset_of!(PluginHeader, on_group_finalisation) == 16 + 5 * WORD);
    assert!(size_of::<PluginHeader>() == 16 + 6 * WORD);
    assert!(offset_of!(HostTable, size) == 0);
    assert!(offset_of!(HostTable, ctx) == WORD);
    assert!(offset_of!(HostTable, log) == 2 * WORD);
    assert!(offset_of!(HostTable, configs) == 3 * WORD);
    assert!(offset_of!(HostTable, declare) == 4 * WORD);
    assert!(offset_of!(HostTable, export) == 5 * WORD);
    assert!(offset_of!(HostTable, resource) == 6 * WORD);
    assert!(offset_of!(HostTable, add_group_member) == 7 * WORD);
    assert!(offset_of!(HostTable, group) == 8 * WORD);
    assert!(size_of::<HostTable>() == 9 * WORD);
};

/// The size of the version-1 header, which a host requires at least.
pub const HEADER_SIZE_V1: u32 = size_of::<PluginHeader>() as u32;

/// Whether a host table of `size` bytes reaches the callback at `offset`.
pub(crate) fn table_has(size: usize, offset: usize) -> bool {
    size >= offset + size_of::<Callback>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_reaches_only_the_callbacks_it_holds() {
        let full = size_of::<HostTable>();
        assert!(table_has(full, offset_of!(HostTable, group)));
        // A host whose table ends before `group` (an older host) does not have it.
        assert!(!table_has(
            offset_of!(HostTable, group),
            offset_of!(HostTable, group)
        ));
        assert!(SUPPORTED_ABI_VERSIONS.contains(&ABI_VERSION));
        assert_eq!(&MAGIC, b"CPGINFRA");
    }
}
