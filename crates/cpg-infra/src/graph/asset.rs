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
}

impl Archive {
    /// The files directly in `root/dir` whose names end with one of `extensions`,
    /// each as a file asset with its digest (the reference's `archive_folder`:
    /// subdirectories and other files are left out). Paths are recorded as `dir/…`,
    /// so the plan does not depend on where `root` is. When the directory does not
    /// exist the archive is [`Archive::Directory`], to be read when deploying.
    pub fn from_dir(root: &Path, dir: &Path, extensions: &[&str]) -> Result<Self, ArchiveError> {
        let read = |path: &Path, source| ArchiveError::Read {
            path: path.to_owned(),
            source,
        };
        let full = root.join(dir);
        if !full.is_dir() {
            return Ok(Archive::Directory {
                path: dir.to_owned(),
            });
        }
        let mut assets = BTreeMap::new();
        for entry in std::fs::read_dir(&full).map_err(|e| read(&full, e))? {
            let entry = entry.map_err(|e| read(&full, e))?;
            let path = entry.path();
            if !entry.file_type().map_err(|e| read(&path, e))?.is_file() {
                continue;
            }
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| ArchiveError::FileName { path: path.clone() })?;
            if !extensions.iter().any(|ext| name.ends_with(ext)) {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| read(&path, e))?;
            assets.insert(
                name.clone(),
                Asset::File {
                    path: dir.join(name),
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
        let archive =
            Archive::from_dir(&dir, Path::new("src"), &[".py", ".txt", ".json"]).expect("archive");
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

        let missing = Archive::from_dir(&dir, Path::new("src"), &[".py"]).expect("missing is fine");
        assert_eq!(
            missing,
            Archive::Directory {
                path: PathBuf::from("src")
            }
        );
        assert!(!missing.is_complete());
    }
}
