//! Assets and archives: file contents and bundles of files an input sends to the
//! provider, the way Pulumi's `FileAsset`, `StringAsset`, `FileArchive` and
//! `AssetArchive` send them.
//!
//! The plan records each by where it comes from and, when the file or directory is
//! there, by the SHA-256 of its contents, so two plans of the same sources are
//! byte-identical and a changed source shows as a changed hash.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Resource, Value};
use crate::config::dir::check_relative;
use crate::config::{ConfigDir, ConfineError, EntryKind};

/// One file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asset {
    /// Text given in the plan itself (Pulumi's `StringAsset`).
    Text(String),
    /// A file read when deploying (Pulumi's `FileAsset`).
    File {
        /// The file, as the plugin or driver named it.
        path: PathBuf,
        /// Its contents' hash, when the file was there while planning.
        digest: Option<Digest256>,
    },
}

/// A SHA-256 digest and the number of bytes hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest256 {
    /// The digest.
    pub sha256: [u8; 32],
    /// The number of bytes.
    pub len: u64,
}

impl Digest256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Digest256 {
            sha256: Sha256::digest(bytes).into(),
            len: bytes.len() as u64,
        }
    }

    /// The digest as lower-case hex.
    pub fn hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses lower- or upper-case hex of 32 bytes.
    pub fn from_hex(hex: &str, len: u64) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut sha256 = [0u8; 32];
        for (i, byte) in sha256.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Digest256 { sha256, len })
    }
}

/// A bundle of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Archive {
    /// Named assets (Pulumi's `AssetArchive`), in name order.
    Assets(BTreeMap<String, Asset>),
    /// A directory zipped when deploying (Pulumi's `FileArchive`), whose contents
    /// were not there while planning.
    Directory {
        /// The directory.
        path: PathBuf,
    },
}

/// Why a directory could not be archived.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// Reading the directory or one of its files failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A file name is not UTF-8, so it cannot be named in the archive.
    #[error("{}: the file name is not UTF-8", path.display())]
    FileName {
        /// The file.
        path: PathBuf,
    },
    /// The directory or one of its files is outside the config directory, or not
    /// a directory or regular file.
    #[error(transparent)]
    Confined(#[from] ConfineError),
}

/// A directory of payload a plugin reads (function sources, table schemas), named
/// by a config key and relative to the config directory; every read stays inside
/// the config directory (see [`ConfigDir`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDir {
    root: ConfigDir,
    key: &'static str,
    dir: PathBuf,
}

/// Why a plugin's payload could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{key}")]
pub struct SourceError {
    /// The config key that names the directory.
    pub key: &'static str,
    /// What went wrong.
    #[source]
    pub source: ArchiveError,
}

impl SourceDir {
    /// The directory `dir` of the config directory `root`, as config key `key` names it.
    pub fn new(root: ConfigDir, key: &'static str, dir: impl Into<PathBuf>) -> Self {
        SourceDir {
            root,
            key,
            dir: dir.into(),
        }
    }

    /// The directory, relative to the config directory.
    pub fn relative(&self) -> &Path {
        &self.dir
    }

    /// The directory as the user finds it: the config directory joined with it.
    pub fn shown(&self, sub: &str) -> PathBuf {
        self.root.path().join(&self.dir).join(sub)
    }

    fn error(&self, source: impl Into<ArchiveError>) -> SourceError {
        SourceError {
            key: self.key,
            source: source.into(),
        }
    }

    /// Whether `sub` (relative to the directory; empty for the directory itself)
    /// is a directory; an error when it is outside or something else.
    pub fn has_dir(&self, sub: &str) -> Result<bool, SourceError> {
        self.root
            .is_dir(&self.dir.join(sub))
            .map_err(|e| self.error(e))
    }

    /// An archive of the files of `sub` with `extensions` (see [`Archive::from_dir`]).
    pub fn archive(&self, sub: &str, extensions: &[&str]) -> Result<Archive, SourceError> {
        Archive::from_dir(&self.root, &self.dir.join(sub), extensions).map_err(|e| self.error(e))
    }

    /// The text of the file `file` (relative to the directory), when it is there.
    pub fn read_text(&self, file: &Path) -> Result<Option<String>, SourceError> {
        self.root
            .read_text(&self.dir.join(file))
            .map_err(|e| self.error(e))
    }
}

impl Archive {
    /// The files directly in `dir` (relative to the config directory `root`) whose
    /// names end with one of `extensions`, each as a file asset with its digest (the
    /// reference's `archive_folder`: subdirectories and other files are left out).
    /// Symbolic links are followed while they stay inside `root`; one that leads
    /// out, or a FIFO, socket or device among the matching names, is an error, as
    /// is a `dir` that is absolute or leaves `root`. Paths are recorded as `dir/…`,
    /// so the plan does not depend on where `root` is. When the directory does not
    /// exist the archive is [`Archive::Directory`], to be read when deploying.
    pub fn from_dir(
        root: &ConfigDir,
        dir: &Path,
        extensions: &[&str],
    ) -> Result<Self, ArchiveError> {
        let read = |path: &Path, source| ArchiveError::Read {
            path: path.to_owned(),
            source,
        };
        let Some((kind, real)) = root.locate(dir)? else {
            return Ok(Archive::Directory {
                path: dir.to_owned(),
            });
        };
        if kind != EntryKind::Directory {
            return Err(ConfineError::NotADirectory {
                path: dir.to_owned(),
                kind,
            }
            .into());
        }
        let mut assets = BTreeMap::new();
        for entry in std::fs::read_dir(&real).map_err(|e| read(dir, e))? {
            let entry = entry.map_err(|e| read(dir, e))?;
            let name = entry
                .file_name()
                .into_string()
                .map_err(|name| ArchiveError::FileName {
                    path: dir.join(name),
                })?;
            if !extensions.iter().any(|ext| name.ends_with(ext)) {
                continue;
            }
            let path = dir.join(&name);
            match root.locate(&path)? {
                Some((EntryKind::Directory, _)) => continue,
                Some((EntryKind::File, _)) => {}
                Some((kind, _)) => return Err(ConfineError::NotAFile { path, kind }.into()),
                None => {
                    let gone = std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "a symbolic link to nothing",
                    );
                    return Err(read(&path, gone));
                }
            }
            let Some(bytes) = root.read(&path)? else {
                let gone = std::io::Error::new(std::io::ErrorKind::NotFound, "removed while read");
                return Err(read(&path, gone));
            };
            assets.insert(
                name,
                Asset::File {
                    path,
                    digest: Some(Digest256::of(&bytes)),
                },
            );
        }
        Ok(Archive::Assets(assets))
    }

    /// Whether every file of the archive was there while planning.
    pub fn is_complete(&self) -> bool {
        match self {
            Archive::Assets(assets) => assets.values().all(|asset| match asset {
                Asset::Text(_) => true,
                Asset::File { digest, .. } => digest.is_some(),
            }),
            Archive::Directory { .. } => false,
        }
    }
}

impl Asset {
    /// The digest of the asset's contents, when known.
    pub fn digest(&self) -> Option<Digest256> {
        match self {
            Asset::Text(text) => Some(Digest256::of(text.as_bytes())),
            Asset::File { digest, .. } => *digest,
        }
    }
}

/// Checks every file and directory the assets and archives of `resource`'s inputs
/// name: relative, inside the config directory `root` once links are followed (when
/// the config came from one), and a regular file or directory as named. A file not
/// there while planning passes; deploying needs it anyway.
pub fn check_asset_paths(
    resource: &Resource,
    root: Option<&ConfigDir>,
) -> Result<(), ConfineError> {
    let mut named = Vec::new();
    for value in resource.inputs.values() {
        asset_paths(value, &mut named);
    }
    for (path, wanted) in named {
        check_relative(path)?;
        let Some(root) = root else { continue };
        match root.locate(path)? {
            Some((kind, _)) if kind != wanted => {
                let path = path.to_owned();
                return Err(if wanted == EntryKind::File {
                    ConfineError::NotAFile { path, kind }
                } else {
                    ConfineError::NotADirectory { path, kind }
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The paths of the file assets (regular files) and directory archives
/// (directories) in `value`.
fn asset_paths<'a>(value: &'a Value, found: &mut Vec<(&'a Path, EntryKind)>) {
    for value in value.walk() {
        match value {
            Value::Asset(Asset::File { path, .. }) => found.push((path, EntryKind::File)),
            Value::Archive(Archive::Directory { path }) => {
                found.push((path, EntryKind::Directory));
            }
            Value::Archive(Archive::Assets(assets)) => {
                for asset in assets.values() {
                    if let Asset::File { path, .. } = asset {
                        found.push((path, EntryKind::File));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_hashes_as_sha256_of_nothing() {
        let digest = Asset::Text(String::new()).digest().expect("digest");
        assert_eq!(
            digest.hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(digest.len, 0);
        assert_eq!(Digest256::from_hex(&digest.hex(), 0), Some(digest));
        assert_eq!(Digest256::from_hex("zz", 0), None);
    }

    #[test]
    fn archive_takes_matching_top_level_files_only() {
        let dir = std::env::temp_dir().join(format!("cpg-infra-archive-{}", std::process::id()));
        let src = dir.join("src");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(src.join("bq")).expect("mkdir");
        std::fs::write(src.join("main.py"), "print('hi')\n").expect("write");
        std::fs::write(src.join("notes.md"), "skipped").expect("write");
        std::fs::write(src.join("bq/q.sql"), "skipped").expect("write");
        let archive = Archive::from_dir(
            &ConfigDir::new(&dir),
            Path::new("src"),
            &[".py", ".txt", ".json"],
        )
        .expect("archive");
        let Archive::Assets(assets) = &archive else {
            panic!("{archive:?}")
        };
        assert_eq!(assets.keys().collect::<Vec<_>>(), ["main.py"]);
        assert_eq!(
            assets["main.py"],
            Asset::File {
                path: PathBuf::from("src/main.py"),
                digest: Some(Digest256::of(b"print('hi')\n"))
            }
        );
        assert!(archive.is_complete());
        std::fs::remove_dir_all(&dir).expect("clean up");

        let missing = Archive::from_dir(&ConfigDir::new(&dir), Path::new("src"), &[".py"])
            .expect("missing is fine");
        assert_eq!(
            missing,
            Archive::Directory {
                path: PathBuf::from("src")
            }
        );
        assert!(!missing.is_complete());
    }
}
