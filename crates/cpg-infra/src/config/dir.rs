//! The config directory: the only place a config, the driver or a plugin reads files
//! from.
//!
//! Every path a config or plugin reads (the config files, function sources,
//! schemas, the files of an asset or archive) is relative to the config directory
//! and must stay inside it once symbolic links are followed: an absolute path, a
//! `..` that leaves the directory and a link that points out of it are errors, so a
//! config cannot put a file of the machine that plans it into a plan, a review or
//! an input sent to the engine. Links that stay inside are followed. Only regular
//! files are read: a FIFO, socket or device is refused from its metadata, before it
//! is opened (opening a FIFO for reading blocks until someone writes to it).
//!
//! ```
//! use std::path::Path;
//! use cpg_infra::config::{ConfigDir, ConfineError};
//!
//! let dir = ConfigDir::new("/nonexistent/config");
//! assert!(matches!(
//!     dir.read(Path::new("../secrets.json")),
//!     Err(ConfineError::LeavesDirectory { .. })
//! ));
//! assert!(matches!(
//!     dir.read(Path::new("/etc/passwd")),
//!     Err(ConfineError::Absolute { .. })
//! ));
//! assert_eq!(dir.read(Path::new("functions/x.py")).ok(), Some(None));
//! ```

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// A config directory, and the rule that reads stay inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDir {
    path: PathBuf,
}

/// What a path inside the config directory is, its links followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character or block device.
    Device,
    /// Anything else the system has.
    Other,
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EntryKind::File => "a regular file",
            EntryKind::Directory => "a directory",
            EntryKind::Fifo => "a FIFO (named pipe)",
            EntryKind::Socket => "a socket",
            EntryKind::Device => "a device",
            EntryKind::Other => "a special file",
        })
    }
}

impl EntryKind {
    fn of(file_type: fs::FileType) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if file_type.is_fifo() {
                return EntryKind::Fifo;
            }
            if file_type.is_socket() {
                return EntryKind::Socket;
            }
            if file_type.is_block_device() || file_type.is_char_device() {
                return EntryKind::Device;
            }
        }
        if file_type.is_file() {
            EntryKind::File
        } else if file_type.is_dir() {
            EntryKind::Directory
        } else {
            EntryKind::Other
        }
    }
}

/// Why a path of the config directory is not read.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfineError {
    /// An absolute path, where paths are relative to the config directory.
    Absolute {
        /// The path as given.
        path: PathBuf,
    },
    /// A path whose `..` leads out of the config directory.
    LeavesDirectory {
        /// The path as given.
        path: PathBuf,
    },
    /// A path that, its symbolic links followed, is outside the config directory.
    LinkOutside {
        /// The path as given.
        path: PathBuf,
        /// Where it leads.
        target: PathBuf,
    },
    /// Something other than a regular file where a file is read.
    NotAFile {
        /// The path as given.
        path: PathBuf,
        /// What is there.
        kind: EntryKind,
    },
    /// Something other than a directory where a directory is read.
    NotADirectory {
        /// The path as given.
        path: PathBuf,
        /// What is there.
        kind: EntryKind,
    },
    /// The system refused to resolve or read the path.
    Read {
        /// The path as given.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

impl ConfineError {
    /// The path as it was given, relative to the config directory.
    pub fn path(&self) -> &Path {
        match self {
            ConfineError::Absolute { path }
            | ConfineError::LeavesDirectory { path }
            | ConfineError::LinkOutside { path, .. }
            | ConfineError::NotAFile { path, .. }
            | ConfineError::NotADirectory { path, .. }
            | ConfineError::Read { path, .. } => path,
        }
    }
}

impl ConfineError {
    /// What is wrong, without the path (for a message that names the file already).
    pub fn reason(&self) -> String {
        match self {
            ConfineError::Absolute { .. } => {
                "an absolute path; paths are relative to the config directory".into()
            }
            ConfineError::LeavesDirectory { .. } => {
                "\"..\" leads out of the config directory".into()
            }
            ConfineError::LinkOutside { target, .. } => format!(
                "a symbolic link leads out of the config directory (to {})",
                target.display()
            ),
            ConfineError::NotAFile { kind, .. } => {
                format!("{kind}, not a regular file; only regular files are read")
            }
            ConfineError::NotADirectory { kind, .. } => format!("{kind}, not a directory"),
            ConfineError::Read { source, .. } => source.to_string(),
        }
    }
}

impl std::fmt::Display for ConfineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The system's message is the source, not repeated here.
            ConfineError::Read { path, .. } => write!(f, "cannot read {}", path.display()),
            other => write!(f, "{}: {}", other.path().display(), other.reason()),
        }
    }
}

impl std::error::Error for ConfineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfineError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Checks `relative` without touching the file system: relative, and no `..` that
/// climbs above where it starts.
pub fn check_relative(relative: &Path) -> Result<(), ConfineError> {
    let mut depth = 0usize;
    for component in relative.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                return Err(ConfineError::Absolute {
                    path: relative.to_owned(),
                });
            }
            Component::CurDir => {}
            Component::ParentDir => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| ConfineError::LeavesDirectory {
                        path: relative.to_owned(),
                    })?;
            }
            Component::Normal(_) => depth += 1,
        }
    }
    Ok(())
}

impl ConfigDir {
    /// The config directory at `path` (the current directory when `path` is empty).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        ConfigDir {
            path: if path.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                path
            },
        }
    }

    /// The directory, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What `relative` is, its links followed, and where it really is; `None` when
    /// nothing is there (or the config directory itself is not). Never opens it.
    pub fn locate(&self, relative: &Path) -> Result<Option<(EntryKind, PathBuf)>, ConfineError> {
        check_relative(relative)?;
        let failed = |source| ConfineError::Read {
            path: relative.to_owned(),
            source,
        };
        let root = match fs::canonicalize(&self.path) {
            Ok(root) => root,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed(e)),
        };
        let real = match fs::canonicalize(root.join(relative)) {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed(e)),
        };
        if !real.starts_with(&root) {
            return Err(ConfineError::LinkOutside {
                path: relative.to_owned(),
                target: real,
            });
        }
        let metadata = fs::metadata(&real).map_err(failed)?;
        Ok(Some((EntryKind::of(metadata.file_type()), real)))
    }

    /// Whether `relative` is a directory inside the config directory; `false` when
    /// nothing is there, an error when something else is.
    pub fn is_dir(&self, relative: &Path) -> Result<bool, ConfineError> {
        match self.locate(relative)? {
            None => Ok(false),
            Some((EntryKind::Directory, _)) => Ok(true),
            Some((kind, _)) => Err(ConfineError::NotADirectory {
                path: relative.to_owned(),
                kind,
            }),
        }
    }

    /// The bytes of the regular file `relative`; `None` when nothing is there.
    pub fn read(&self, relative: &Path) -> Result<Option<Vec<u8>>, ConfineError> {
        let Some((kind, real)) = self.locate(relative)? else {
            return Ok(None);
        };
        let not_a_file = |kind| ConfineError::NotAFile {
            path: relative.to_owned(),
            kind,
        };
        if kind != EntryKind::File {
            return Err(not_a_file(kind));
        }
        let failed = |source| ConfineError::Read {
            path: relative.to_owned(),
            source,
        };
        let mut file = fs::File::open(&real).map_err(failed)?;
        // What was opened is what was checked, even if the path changed in between.
        let opened = EntryKind::of(file.metadata().map_err(failed)?.file_type());
        if opened != EntryKind::File {
            return Err(not_a_file(opened));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(failed)?;
        Ok(Some(bytes))
    }

    /// The text of the regular file `relative`; `None` when nothing is there.
    pub fn read_text(&self, relative: &Path) -> Result<Option<String>, ConfineError> {
        self.read(relative)?
            .map(|bytes| {
                String::from_utf8(bytes).map_err(|e| ConfineError::Read {
                    path: relative.to_owned(),
                    source: io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_escapes_are_refused_before_the_disk_is_asked() {
        for ok in ["a", "a/b", "./a", "a/../b", "a/b/../..", ""] {
            assert!(check_relative(Path::new(ok)).is_ok(), "{ok}");
        }
        for leaves in ["..", "../a", "a/../../b", "./.."] {
            assert!(
                matches!(
                    check_relative(Path::new(leaves)),
                    Err(ConfineError::LeavesDirectory { .. })
                ),
                "{leaves}"
            );
        }
        assert!(matches!(
            check_relative(Path::new("/etc/passwd")),
            Err(ConfineError::Absolute { .. })
        ));
    }

    #[test]
    fn a_missing_directory_holds_nothing() {
        let dir = ConfigDir::new("/nonexistent/cpg-infra-config");
        assert_eq!(dir.read(Path::new("a.json")).ok(), Some(None));
        assert_eq!(dir.is_dir(Path::new("src")).ok(), Some(false));
        assert_eq!(ConfigDir::new("").path(), Path::new("."));
    }
}
