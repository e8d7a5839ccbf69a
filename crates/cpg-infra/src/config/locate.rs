//! Maps a place in the typed config back to the file, key path and line it came from.

use std::collections::BTreeMap;

use super::diagnostic::Diagnostic;
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
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SourceFile {
    /// The file's path relative to the config directory.
    pub name: String,
    /// The config's root node (for `cpg.toml`, the `[infrastructure]` table if present).
    pub root: Node,
    /// The key path of `root` inside the file.
    pub prefix: KeyPath,
}

/// A line in a config file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourcePosition {
    /// The file's path relative to the config directory
    /// ([`CpgInfrastructureConfig::config_dir`](super::CpgInfrastructureConfig::config_dir)),
    /// e.g. `production.yaml` or `datasets/fewgenomes/members.yaml`.
    pub file: String,
    /// The line, 1-based.
    pub line: u32,
}

impl std::fmt::Display for SourcePosition {
    /// `production.yaml:14`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Where a configuration [`load_dir`](super::load_dir) loaded came from: its files,
/// with the line of every key. The loader leaves it in
/// [`CpgInfrastructureConfig::sources`](super::CpgInfrastructureConfig::sources), so
/// that what is done with the config later can point at the line that asked for it:
/// [`validate`](super::validate) (and so
/// [`CpgInfrastructure::new`](crate::driver::CpgInfrastructure::new)) locates its
/// diagnostics with it exactly as `load_dir` does, and a deploy can name the line that
/// declared a resource.
///
/// ```no_run
/// let config = cpg_infra::config::load_dir("config")?;
/// let sources = config.infrastructure.sources.as_deref().expect("loaded from files");
/// // `cpg.toml:4`: the `[infrastructure]` table.
/// println!("{}", sources.infrastructure());
/// for (dataset, position) in sources.datasets() {
///     // `production.yaml:12`: the dataset's key.
///     println!("{dataset} is defined at {position}");
/// }
/// # Ok::<(), cpg_infra::config::InvalidConfig>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct ConfigSources {
    infrastructure: SourceFile,
    datasets: SourceFile,
    dataset_files: BTreeMap<String, BTreeMap<&'static str, SourceFile>>,
    /// The warnings about the files themselves rather than a value (such as a file in
    /// `datasets/` that is no dataset directory), which validation repeats.
    file_warnings: Vec<Diagnostic>,
}

impl std::fmt::Debug for ConfigSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut files = vec![&self.infrastructure.name, &self.datasets.name];
        files.extend(
            self.dataset_files
                .values()
                .flat_map(BTreeMap::values)
                .map(|file| &file.name),
        );
        f.debug_struct("ConfigSources")
            .field("files", &files)
            .finish_non_exhaustive()
    }
}

impl ConfigSources {
    pub(crate) fn new(
        infrastructure: SourceFile,
        datasets: SourceFile,
        dataset_files: BTreeMap<String, BTreeMap<&'static str, SourceFile>>,
        file_warnings: Vec<Diagnostic>,
    ) -> Self {
        ConfigSources {
            infrastructure,
            datasets,
            dataset_files,
            file_warnings,
        }
    }

    /// Where the infrastructure config is: the line of the `[infrastructure]` table
    /// in `cpg.toml` (of the `infrastructure:` key in `config-infrastructure.yaml`),
    /// or the file's first line when its settings are at the top level.
    pub fn infrastructure(&self) -> SourcePosition {
        SourcePosition {
            file: self.infrastructure.name.clone(),
            line: self.infrastructure.root.line,
        }
    }

    /// Where a dataset is defined: the line of its key in `production.yaml`;
    /// `None` for a dataset the files do not define.
    pub fn dataset(&self, dataset: &str) -> Option<SourcePosition> {
        self.datasets
            .root
            .get(dataset)
            .map(|(key, _)| SourcePosition {
                file: self.datasets.name.clone(),
                line: key.line,
            })
    }

    /// Every dataset the files define, with where, in the order of
    /// `production.yaml`.
    pub fn datasets(&self) -> impl Iterator<Item = (&str, SourcePosition)> + '_ {
        self.datasets
            .root
            .as_map()
            .unwrap_or_default()
            .iter()
            .map(|(key, _)| {
                (
                    key.name.as_str(),
                    SourcePosition {
                        file: self.datasets.name.clone(),
                        line: key.line,
                    },
                )
            })
    }

    /// Where the files give the infrastructure config's value at `path` (a path in
    /// [`CpgInfrastructureConfig`](super::CpgInfrastructureConfig), e.g.
    /// `billing.gcp.account_id`); `None` when they do not give it.
    pub fn infrastructure_value(&self, path: &KeyPath) -> Option<SourcePosition> {
        self.given(&Place::Infrastructure(path.clone()))
    }

    /// Where the files give a dataset's value at `path` (a path in
    /// [`CpgDatasetConfig`](super::CpgDatasetConfig), e.g. `members.analysis[0]`,
    /// found in `datasets/<dataset>/members.yaml` when that file gives the members);
    /// `None` when they do not give it.
    pub fn dataset_value(&self, dataset: &str, path: &KeyPath) -> Option<SourcePosition> {
        self.given(&Place::Dataset {
            dataset: dataset.to_owned(),
            path: path.clone(),
        })
    }

    /// The warnings about the files themselves, which validation reports beside what
    /// it finds in the values.
    pub(crate) fn file_warnings(&self) -> &[Diagnostic] {
        &self.file_warnings
    }

    /// Whether the files define `place`'s dataset (always, for the infrastructure).
    fn defines(&self, place: &Place) -> bool {
        match place {
            Place::Infrastructure(_) => true,
            Place::Dataset { dataset, .. } => self.datasets.root.get(dataset).is_some(),
        }
    }

    /// Where the files give the value at `place`.
    fn given(&self, place: &Place) -> Option<SourcePosition> {
        if !self.defines(place) {
            return None;
        }
        let (file, path) = self.resolve(place);
        file.root.find(&path.0)?;
        Some(SourcePosition {
            file: file.name.clone(),
            line: file.root.line_of(&path.0),
        })
    }

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

/// A dataset the files do not define (one added in code after loading) is named as
/// [`InCode`] names it.
impl Locator for ConfigSources {
    fn locate(&self, place: &Place) -> Location {
        if !self.defines(place) {
            return InCode.locate(place);
        }
        let (file, path) = self.resolve(place);
        let line = file.root.line_of(&path.0);
        let shown = match place {
            Place::Infrastructure(_) => file.prefix.join(&path),
            Place::Dataset { .. } => path,
        };
        (file.name.clone(), shown, Some(line))
    }

    fn is_given(&self, place: &Place) -> bool {
        self.given(place).is_some()
    }
}
