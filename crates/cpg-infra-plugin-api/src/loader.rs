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
    if !path.is_file() {
        return Err(LoadError::NotFound {
            name: owned(name),
            path,
        });
    }
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
