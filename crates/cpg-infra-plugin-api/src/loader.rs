//! Opening plugin libraries: only those `plugins_enabled` names, from the plugins
//! directory, each checked before anything else of it is called.
//!
//! A library is opened from `<dir>/lib<name>.so` (the platform's convention
//! elsewhere, see [`library_file_name`]); its entry function's header must carry
//! [`MAGIC`], a supported ABI version, a large enough header, and the name the file
//! was opened under. Libraries are never unloaded: plugins may leave threads or
//! statics behind, and the host's data never points into them after a call.
#![allow(unsafe_code)]

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use cpg_infra::plugin::{Plugin, PluginError, PluginHost, library_file_name};

use crate::abi::{
    ENTRY_SYMBOL, EntryFn, HEADER_SIZE_V1, HeaderPrefix, LifecycleFn, MAGIC, PluginHeader,
    SUPPORTED_ABI_VERSIONS, Status,
};
use crate::ffi::{Collector, copy_str};
use crate::host::with_table;

/// Why a plugin was not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The library file is not in the plugins directory.
    #[error("plugin {name:?}: {} does not exist", path.display())]
    NotFound {
        /// The plugin.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Something other than a regular file is where the library should be.
    #[error("plugin {name:?}: {} is {kind}, not a library file", path.display())]
    NotAFile {
        /// The plugin.
        name: String,
        /// The path.
        path: PathBuf,
        /// What is there: a directory, a FIFO, a socket, a device.
        kind: &'static str,
    },
    /// The path is a symbolic link whose target does not exist.
    #[error("plugin {name:?}: {} is a symbolic link to a file that does not exist", path.display())]
    BrokenLink {
        /// The plugin.
        name: String,
        /// The link.
        path: PathBuf,
    },
    /// Symbolic links lead around in a circle.
    #[error("plugin {name:?}: {} is a loop of symbolic links", path.display())]
    SymlinkLoop {
        /// The plugin.
        name: String,
        /// The path.
        path: PathBuf,
    },
    /// The library file, or a directory on its way, may not be read.
    #[error("plugin {name:?}: permission to read {} is denied", path.display())]
    PermissionDenied {
        /// The plugin.
        name: String,
        /// The path.
        path: PathBuf,
    },
    /// The file could not be read for another reason.
    #[error("plugin {name:?}: cannot read {}", path.display())]
    Unreadable {
        /// The plugin.
        name: String,
        /// The path.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a complete ELF shared object (checked before the system
    /// loader maps it, which a truncated file would crash).
    #[error("plugin {name:?}: {} is not a complete shared library: {problem}", path.display())]
    Malformed {
        /// The plugin.
        name: String,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The library was built for another machine.
    #[error("plugin {name:?}: {} is built for {found}, this host is {expected}", path.display())]
    WrongArchitecture {
        /// The plugin.
        name: String,
        /// The file.
        path: PathBuf,
        /// What the library is for.
        found: String,
        /// What this host runs.
        expected: String,
    },
    /// The file is not a shared library the system can open.
    #[error("plugin {name:?}: {} is not a loadable shared library", path.display())]
    NotALibrary {
        /// The plugin.
        name: String,
        /// The file.
        path: PathBuf,
        /// What the system loader said.
        #[source]
        source: libloading::Error,
    },
    /// The library has no entry function.
    #[error("plugin {name:?}: {} is not a cpg-infra plugin (it exports no {ENTRY_SYMBOL})", path.display())]
    NotAPlugin {
        /// The plugin.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// The header does not start with the magic bytes.
    #[error("plugin {name:?}: {} is not a cpg-infra plugin (wrong magic {found:?} in its header, expected {:?})", path.display(), String::from_utf8_lossy(&MAGIC))]
    WrongMagic {
        /// The plugin.
        name: String,
        /// The file.
        path: PathBuf,
        /// The bytes found, lossily as text.
        found: String,
    },
    /// The plugin speaks an ABI version this host does not.
    #[error("plugin {name:?}: {} speaks plugin ABI version {found}, this host supports versions {}–{}; rebuild the plugin against this release's cpg-infra-plugin-api", path.display(), supported.start(), supported.end())]
    UnsupportedAbi {
        /// The plugin.
        name: String,
        /// The file.
        path: PathBuf,
        /// The plugin's version.
        found: u32,
        /// What the host supports.
        supported: RangeInclusive<u32>,
    },
    /// The header is smaller than its version requires.
    #[error("plugin {name:?}: {} has a {found}-byte header, version 1 needs {HEADER_SIZE_V1}", path.display())]
    HeaderTooSmall {
        /// The plugin.
        name: String,
        /// The file.
        path: PathBuf,
        /// The size it gave.
        found: u32,
    },
    /// The header's name or version is not UTF-8.
    #[error("plugin {name:?}: {} has a {field} that is not UTF-8", path.display())]
    BadText {
        /// The plugin.
        name: String,
        /// The file.
        path: PathBuf,
        /// `name` or `version`.
        field: &'static str,
    },
    /// The header names another plugin than the file.
    #[error("plugin {expected:?}: {} calls itself {found:?}; a plugin's name and its file name must agree", path.display())]
    NameMismatch {
        /// The name the file was opened under.
        expected: String,
        /// The name in the header.
        found: String,
        /// The file.
        path: PathBuf,
    },
    /// `plugins_enabled` names a plugin twice.
    #[error("plugin {0:?} is enabled twice")]
    Duplicate(String),
    /// `plugins_enabled` names something that cannot be a plugin's name.
    #[error("{0:?} is not a plugin name")]
    InvalidName(String),
}

/// What a checked header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// The plugin's name.
    pub name: String,
    /// The plugin's version.
    pub version: String,
    /// The ABI version it speaks.
    pub abi_version: u32,
    /// The library file.
    pub path: PathBuf,
}

/// A plugin library, opened and checked; runs through the C ABI.
pub struct LoadedPlugin {
    info: PluginInfo,
    main: LifecycleFn,
    on_group_finalisation: LifecycleFn,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// What its header says.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    fn call(&self, function: LifecycleFn, host: &mut dyn PluginHost) -> Result<(), PluginError> {
        let mut collector = Collector::new();
        let sink = collector.sink();
        let status = with_table(host, |table| {
            // SAFETY: the header was checked when the library was opened, and the
            // library is never unloaded, so `function` is the plugin's lifecycle
            // function; `table` and `sink` are valid for the whole call, and the
            // plugin catches its own panics (the ABI's rule, which the SDK keeps).
            unsafe { function(table, &sink) }
        });
        let message = collector.into_text();
        match status {
            Status::OK => Ok(()),
            Status::ERROR => Err(PluginError::Failed(message)),
            Status::PANIC => Err(PluginError::Panicked(message)),
            Status(other) => Err(PluginError::Abi(format!(
                "unknown status {other}: {message}"
            ))),
        }
    }
}

impl Plugin for LoadedPlugin {
    fn name(&self) -> &str {
        &self.info.name
    }

    fn main(&mut self, host: &mut dyn PluginHost) -> Result<(), PluginError> {
        self.call(self.main, host)
    }

    fn on_group_finalisation(&mut self, host: &mut dyn PluginHost) -> Result<(), PluginError> {
        self.call(self.on_group_finalisation, host)
    }
}

/// Where plugin `name` is looked for in `dir`.
pub fn library_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(library_file_name(name))
}

/// Opens plugin `name` from `dir` and checks its header.
pub fn load(dir: &Path, name: &str) -> Result<LoadedPlugin, LoadError> {
    if !cpg_infra::plugin::is_plugin_name(name) {
        return Err(LoadError::InvalidName(name.to_owned()));
    }
    let path = library_path(dir, name);
    let owned = |s: &str| s.to_owned();
    check_file(name, &path)?;
    // SAFETY: opening a library runs its initialisers. The file is the one the
    // organisation installed for a plugin it enabled by name, which is the trust
    // this design rests on (the reference imports Python entry points the same way).
    let library =
        unsafe { libloading::Library::new(&path) }.map_err(|source| LoadError::NotALibrary {
            name: owned(name),
            path: path.clone(),
            source,
        })?;
    // Never unloaded: nothing the library hands out may dangle.
    let library: &'static libloading::Library = Box::leak(Box::new(library));
    // SAFETY: the symbol's type is the ABI's entry function type; a library that
    // exports this name is a cpg-infra plugin by contract. The pointer stays valid
    // because the library is never unloaded.
    let entry: EntryFn = match unsafe { library.get::<EntryFn>(ENTRY_SYMBOL.as_bytes()) } {
        Ok(symbol) => *symbol,
        Err(_) => {
            return Err(LoadError::NotAPlugin {
                name: owned(name),
                path,
            });
        }
    };
    // SAFETY: calling the entry function is the ABI's first step; it takes no
    // arguments and returns a pointer checked below.
    let header = unsafe { entry() };
    if header.is_null() {
        return Err(LoadError::NotAPlugin {
            name: owned(name),
            path,
        });
    }
    // SAFETY: every ABI version's header starts with these 16 bytes, and the
    // pointer is non-null and points into the never-unloaded library.
    let prefix = unsafe { header.cast::<HeaderPrefix>().read_unaligned() };
    if prefix.magic != MAGIC {
        return Err(LoadError::WrongMagic {
            name: owned(name),
            path,
            found: String::from_utf8_lossy(&prefix.magic).into_owned(),
        });
    }
    if !SUPPORTED_ABI_VERSIONS.contains(&prefix.abi_version) {
        return Err(LoadError::UnsupportedAbi {
            name: owned(name),
            path,
            found: prefix.abi_version,
            supported: SUPPORTED_ABI_VERSIONS,
        });
    }
    if prefix.header_size < HEADER_SIZE_V1 {
        return Err(LoadError::HeaderTooSmall {
            name: owned(name),
            path,
            found: prefix.header_size,
        });
    }
    // SAFETY: the magic, a supported version and a large enough size say the
    // pointer holds a whole version-1 header, in the never-unloaded library.
    let header: &'static PluginHeader = unsafe { &*header };
    let text = |field: &'static str, value| {
        // SAFETY: the header's strings are `'static` in the library (the ABI's rule).
        unsafe { copy_str(value) }.ok_or_else(|| LoadError::BadText {
            name: owned(name),
            path: path.clone(),
            field,
        })
    };
    let found = text("name", header.name)?;
    let version = text("version", header.version)?;
    if found != name {
        return Err(LoadError::NameMismatch {
            expected: owned(name),
            found,
            path,
        });
    }
    Ok(LoadedPlugin {
        info: PluginInfo {
            name: found,
            version,
            abi_version: prefix.abi_version,
            path,
        },
        main: header.main,
        on_group_finalisation: header.on_group_finalisation,
    })
}

/// The system's number for "too many levels of symbolic links" (`ELOOP`).
#[cfg(any(target_os = "linux", target_os = "android"))]
const ELOOP: i32 = 40;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const ELOOP: i32 = 62;

/// Checks the file at `path` before the system loader opens it: a regular file
/// that can be read, and on ELF systems a complete shared object for this machine.
/// Each kind of wrong file gets its own error; nothing is mapped, and a FIFO is
/// never opened.
fn check_file(name: &str, path: &Path) -> Result<(), LoadError> {
    let name = name.to_owned();
    let path = path.to_owned();
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(source) => {
            let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
            if link && source.kind() == std::io::ErrorKind::NotFound {
                return Err(LoadError::BrokenLink { name, path });
            }
            return Err(io_error(name, path, source));
        }
    };
    let kind = file_kind(&metadata.file_type());
    if let Some(kind) = kind {
        return Err(LoadError::NotAFile { name, path, kind });
    }
    let mut file =
        std::fs::File::open(&path).map_err(|e| io_error(name.clone(), path.clone(), e))?;
    let len = file
        .metadata()
        .map_err(|e| io_error(name.clone(), path.clone(), e))?
        .len();
    #[cfg(all(unix, not(target_vendor = "apple")))]
    match crate::elf::check(&mut file, len) {
        // Not ELF at all: the system loader refuses it with its own reason.
        Ok(()) | Err(crate::elf::ElfProblem::NotElf) => {}
        Err(crate::elf::ElfProblem::Malformed(problem)) => {
            return Err(LoadError::Malformed {
                name,
                path,
                problem,
            });
        }
        Err(crate::elf::ElfProblem::Architecture { found, expected }) => {
            return Err(LoadError::WrongArchitecture {
                name,
                path,
                found,
                expected,
            });
        }
    }
    #[cfg(not(all(unix, not(target_vendor = "apple"))))]
    let _ = (&mut file, len);
    Ok(())
}

/// The error for what the system said about a library's path.
fn io_error(name: String, path: PathBuf, source: std::io::Error) -> LoadError {
    match source.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound { name, path },
        std::io::ErrorKind::PermissionDenied => LoadError::PermissionDenied { name, path },
        _ if source.raw_os_error() == Some(ELOOP) => LoadError::SymlinkLoop { name, path },
        _ => LoadError::Unreadable { name, path, source },
    }
}

/// What a file is when it is not a regular file.
fn file_kind(file_type: &std::fs::FileType) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return Some("a device");
        }
    }
    if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_file() {
        None
    } else {
        Some("a special file")
    }
}

/// Opens every plugin `names` lists, in order, from `dir`; every problem is
/// reported, and nothing is returned unless all loaded.
pub fn load_enabled(dir: &Path, names: &[String]) -> Result<Vec<LoadedPlugin>, Vec<LoadError>> {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        if !seen.insert(name.as_str()) {
            errors.push(LoadError::Duplicate(name.clone()));
            continue;
        }
        match load(dir, name) {
            Ok(plugin) => loaded.push(plugin),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// What `deploy plugins` shows for one library.
#[derive(Debug)]
#[non_exhaustive]
pub enum Inspection {
    /// Enabled, and it would load.
    Loads(PluginInfo),
    /// Enabled, and it would not load.
    Refused(LoadError),
    /// A library in the directory no enabled plugin names; not opened.
    NotEnabled {
        /// The file.
        path: PathBuf,
    },
}

/// Each enabled plugin's outcome, in order, then the other libraries in `dir` (by
/// file name), which are listed without being opened.
pub fn inspect(dir: &Path, names: &[String]) -> Vec<Inspection> {
    let mut seen = std::collections::BTreeSet::new();
    let mut found: Vec<Inspection> = names
        .iter()
        .map(|name| {
            if !seen.insert(name.as_str()) {
                return Inspection::Refused(LoadError::Duplicate(name.clone()));
            }
            match load(dir, name) {
                Ok(plugin) => Inspection::Loads(plugin.info),
                Err(error) => Inspection::Refused(error),
            }
        })
        .collect();
    let enabled: std::collections::BTreeSet<PathBuf> =
        names.iter().map(|n| library_path(dir, n)).collect();
    let suffix = std::env::consts::DLL_SUFFIX;
    let mut others: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(suffix))
                && !enabled.contains(path)
        })
        .collect();
    others.sort();
    found.extend(
        others
            .into_iter()
            .map(|path| Inspection::NotEnabled { path }),
    );
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_of_the_system_has_its_own_error() {
        let error = |source| io_error("p".into(), PathBuf::from("libp.so"), source);
        let denied = error(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert_eq!(
            denied.to_string(),
            "plugin \"p\": permission to read libp.so is denied"
        );
        let looped = error(std::io::Error::from_raw_os_error(ELOOP));
        assert_eq!(
            looped.to_string(),
            "plugin \"p\": libp.so is a loop of symbolic links"
        );
        let missing = error(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(matches!(missing, LoadError::NotFound { .. }));
        let other = error(std::io::Error::other("disk on fire"));
        assert!(matches!(other, LoadError::Unreadable { .. }));
    }
}
