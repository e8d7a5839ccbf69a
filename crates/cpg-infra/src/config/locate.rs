//! Maps a place in the typed config back to the file, key path and line it came from.

use std::collections::BTreeMap;

use super::load::DATASET_FILES;
use super::source::{KeyPath, Node, Segment};

/// A place in the typed config, as validation rules name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// A path in the infrastructure config.
    Infrastructure(KeyPath),
    /// A path in one dataset's config.
    Dataset {
        /// The dataset.
        dataset: String,
        /// The path inside its `CpgDatasetConfig`.
        path: KeyPath,
    },
}

/// Where a place is in the files: file name, key path inside the file, line.
pub(crate) type Location = (String, KeyPath, Option<u32>);

/// Finds where a place came from.
pub(crate) trait Locator {
    fn locate(&self, place: &Place) -> Location;

    /// Whether the files give the value at `place` (rather than a default filling
    /// it in); `false` when that cannot be known.
    fn is_given(&self, place: &Place) -> bool;
}

/// For configs built in code: names the value, knows no lines.
pub(crate) struct InCode;

impl Locator for InCode {
    fn locate(&self, place: &Place) -> Location {
        match place {
            Place::Infrastructure(path) => ("infrastructure config".into(), path.clone(), None),
            Place::Dataset { dataset, path } => {
                (format!("dataset config {dataset:?}"), path.clone(), None)
            }
        }
    }

    fn is_given(&self, _place: &Place) -> bool {
        false
    }
}

/// A parsed config file.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// The file's path relative to the config directory.
    pub name: String,
    /// The config's root node (for `cpg.toml`, the `[infrastructure]` table if present).
    pub root: Node,
    /// The key path of `root` inside the file.
    pub prefix: KeyPath,
}

/// The files a config directory was loaded from.
pub(crate) struct SourceMap {
    infrastructure: SourceFile,
    datasets: SourceFile,
    dataset_files: BTreeMap<String, BTreeMap<&'static str, SourceFile>>,
}

impl SourceMap {
    pub(crate) fn new(
        infrastructure: SourceFile,
        datasets: SourceFile,
        dataset_files: BTreeMap<String, BTreeMap<&'static str, SourceFile>>,
    ) -> Self {
        SourceMap {
            infrastructure,
            datasets,
            dataset_files,
        }
    }
}

impl SourceMap {
    /// The file a place is in, and the place's path inside that file's root.
    fn resolve(&self, place: &Place) -> (&SourceFile, KeyPath) {
        match place {
            Place::Infrastructure(path) => (&self.infrastructure, path.clone()),
            Place::Dataset { dataset, path } => {
                if let Some(Segment::Key(first)) = path.0.first() {
                    let own_file = DATASET_FILES
                        .iter()
                        .find(|(_, field)| field == first)
                        .and_then(|(name, _)| self.dataset_files.get(dataset)?.get(name));
                    if let Some(file) = own_file {
                        return (file, KeyPath(path.0[1..].to_vec()));
                    }
                }
                (
                    &self.datasets,
                    KeyPath::root().key(dataset.clone()).join(path),
                )
            }
        }
    }
}

impl Locator for SourceMap {
    fn locate(&self, place: &Place) -> Location {
        let (file, path) = self.resolve(place);
        let line = file.root.line_of(&path.0);
        let shown = match place {
            Place::Infrastructure(_) => file.prefix.join(&path),
            Place::Dataset { .. } => path,
        };
        (file.name.clone(), shown, Some(line))
    }

    fn is_given(&self, place: &Place) -> bool {
        let (file, path) = self.resolve(place);
        file.root.find(&path.0).is_some()
    }
}
