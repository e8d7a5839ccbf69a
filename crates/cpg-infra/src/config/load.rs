//! Loads a config directory:
//!
//! ```text
//! cpg.toml                       the infrastructure config (top level or under [infrastructure])
//! production.yaml                dataset name → dataset options
//! datasets/<dataset>/members.yaml  group → member keys   (fills `members`)
//! datasets/<dataset>/budgets.yaml  cloud → budget        (fills `budgets`)
//! datasets/<dataset>/upload.yaml   upload buckets        (fills `upload_config`)
//! ```
//!
//! `config-infrastructure.yaml` and `config-datasets.yaml` are accepted in place of
//! `cpg.toml` and `production.yaml`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::Config;
use super::dataset::{Budget, CpgDatasetConfig, DatasetGcpConfig, UploadConfig};
use super::decode::{FieldProblem, decode};
use super::diagnostic::{Diagnostic, InvalidConfig, Problem};
use super::dir::ConfigDir;
use super::infrastructure::{CpgInfrastructureConfig, DeployConfig};
use super::locate::{ConfigSources, SourceFile};
use super::names::{CloudName, GroupName};
use super::source::{Key, KeyPath, Node, NodeValue, SyntaxError, parse_toml, parse_yaml};
use super::suggest::Suggestion;
use super::validate::validate_with;

/// The infrastructure config's file names, in order of preference.
pub const INFRASTRUCTURE_FILES: [&str; 2] = ["cpg.toml", "config-infrastructure.yaml"];
/// The dataset config's file names, in order of preference.
pub const DATASETS_FILES: [&str; 2] = ["production.yaml", "config-datasets.yaml"];
/// The top-level tables of an infrastructure config that wraps its keys in
/// `[infrastructure]`: that table, and `[deploy]` (how the organisation is cut into
/// stacks).
const TOP_LEVEL_TABLES: [&str; 2] = ["infrastructure", "deploy"];
/// The per-dataset files and the dataset key each fills.
pub const DATASET_FILES: [(&str, &str); 3] = [
    ("members.yaml", "members"),
    ("budgets.yaml", "budgets"),
    ("upload.yaml", "upload_config"),
];

/// Loads and validates the config directory `dir`, reporting every problem at once:
/// the config with its warnings when nothing is an error, otherwise every error and
/// warning. The config records `dir` as given
/// ([`CpgInfrastructureConfig::config_dir`]), so that what is built from it knows
/// what relative paths are relative to, and where each value is in the files
/// ([`CpgInfrastructureConfig::sources`]): validating it again
/// ([`validate`](super::validate), [`CpgInfrastructure::new`](crate::driver::CpgInfrastructure::new))
/// gives the same diagnostics, with the same files and lines, and
/// [`ConfigSources`](super::ConfigSources) tells where each dataset and the
/// infrastructure table are defined.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Config, InvalidConfig> {
    let mut loader = Loader {
        dir: dir.as_ref().to_path_buf(),
        diagnostics: Vec::new(),
        broken_files: BTreeSet::new(),
        failed_datasets: Vec::new(),
    };
    let loaded = loader.load();
    let schema = loader.diagnostics;
    let mut diagnostics = schema.clone();
    let mut validated = None;
    if let Some((mut config, (infrastructure, datasets, dataset_files))) = loaded {
        config.infrastructure.config_dir = Some(loader.dir.clone());
        // What the loader warned about travels with the files, for validating again.
        let file_warnings = schema.iter().filter(|d| d.is_warning()).cloned().collect();
        let sources = ConfigSources::new(infrastructure, datasets, dataset_files, file_warnings);
        for diagnostic in validate_with(&config.infrastructure, &config.datasets, &sources) {
            // Where a value could not be read, a stand-in took its place: do not
            // report what follows from the stand-in.
            let follows_from_schema = loader.broken_files.contains(&diagnostic.file)
                || loader.failed_datasets.iter().any(|(dataset, file, path)| {
                    diagnostic.file.starts_with(&format!("datasets/{dataset}/"))
                        || (diagnostic.file == *file && diagnostic.path.starts_with(path))
                })
                || schema
                    .iter()
                    .any(|d| d.file == diagnostic.file && diagnostic.path.starts_with(&d.path));
            if !follows_from_schema {
                diagnostics.push(diagnostic);
            }
        }
        config.infrastructure.sources = Some(Arc::new(sources));
        validated = Some(config);
    }
    sort_by_place(&mut diagnostics);
    match validated {
        // Warnings alone do not stop the config: they travel with it.
        Some(config) if diagnostics.iter().all(Diagnostic::is_warning) => Ok(Config {
            warnings: diagnostics,
            ..config
        }),
        _ => Err(InvalidConfig { diagnostics }),
    }
}

/// Sorts diagnostics by file and line, keeping the order of those on one line.
pub(crate) fn sort_by_place(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
}

/// The files a config was read from: the infrastructure config, the dataset config,
/// and each dataset's own files.
type Files = (
    SourceFile,
    SourceFile,
    BTreeMap<String, BTreeMap<&'static str, SourceFile>>,
);

struct Loader {
    dir: PathBuf,
    diagnostics: Vec<Diagnostic>,
    /// Files that could not be read or parsed.
    broken_files: BTreeSet<String>,
    /// Datasets whose options could not be decoded (a placeholder stands in for
    /// them), with their key path in the dataset config.
    failed_datasets: Vec<(String, String, KeyPath)>,
}

/// A value from a dataset file, for the dataset key it fills.
enum DatasetPart {
    Members(BTreeMap<GroupName, Vec<String>>),
    Budgets(BTreeMap<CloudName, Budget>),
    Upload(UploadConfig),
}

impl Loader {
    fn load(&mut self) -> Option<(Config, Files)> {
        if let Some(message) = unreadable_dir(&self.dir) {
            // Nothing in it can be read: name the directory once, not every file.
            let dir = self.dir.display().to_string();
            self.push(
                &dir,
                KeyPath::root(),
                None,
                Problem::UnreadableDir { message },
            );
            return None;
        }
        let infrastructure = self.read_one_of(&INFRASTRUCTURE_FILES, "the infrastructure config");
        let datasets_file = self.read_one_of(&DATASETS_FILES, "dataset name → dataset options");

        let mut deploy_table: Option<Node> = None;
        let infrastructure = infrastructure.map(|mut file| {
            if let Some((key, inner)) = file.root.get("infrastructure") {
                let key_line = key.line;
                let others: Vec<Key> = file
                    .root
                    .as_map()
                    .unwrap_or_default()
                    .iter()
                    .filter(|(k, _)| !TOP_LEVEL_TABLES.contains(&k.name.as_str()))
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in others {
                    self.push(
                        &file.name,
                        KeyPath::root().key(key.name.clone()),
                        Some(key.line),
                        Problem::UnknownKey {
                            suggestion: Suggestion::closest(&key.name, TOP_LEVEL_TABLES),
                            key: key.name,
                        },
                    );
                }
                let mut inner = inner.clone();
                inner.line = key_line;
                // `[deploy]` stays a top-level table beside `[infrastructure]`: it
                // is decoded on its own, under its own key path.
                if let Some((_, deploy)) = file.root.get("deploy") {
                    deploy_table = Some(deploy.clone());
                }
                file.root = inner;
                file.prefix = KeyPath::root().key("infrastructure");
            }
            file
        });

        let dataset_dirs = self.read_dataset_dirs();
        let (infrastructure, datasets_file) = (infrastructure?, datasets_file?);

        let mut infra_config = self.decode_into::<CpgInfrastructureConfig>(
            &infrastructure,
            &infrastructure.root,
            &infrastructure.prefix,
        );
        if let Some(node) = &deploy_table {
            let deploy = self.decode_into::<DeployConfig>(
                &infrastructure,
                node,
                &KeyPath::root().key("deploy"),
            );
            if let (Some(config), Some(deploy)) = (infra_config.as_mut(), deploy) {
                config.deploy = deploy;
            }
        }

        let mut datasets = Vec::new();
        let entries: Vec<(Key, Node)> = match &datasets_file.root.value {
            NodeValue::Map(entries) => entries.clone(),
            NodeValue::Null => Vec::new(),
            _ => {
                self.push(
                    &datasets_file.name,
                    KeyPath::root(),
                    Some(datasets_file.root.line),
                    Problem::WrongType {
                        expected: "a mapping of dataset name to dataset options".into(),
                        found: datasets_file.root.kind().into(),
                    },
                );
                return None;
            }
        };

        for (key, files) in &dataset_dirs {
            if !entries.iter().any(|(k, _)| &k.name == key) {
                let name = files
                    .values()
                    .next()
                    .map_or_else(|| format!("datasets/{key}"), |f| f.name.clone());
                self.push(
                    &name,
                    KeyPath::root(),
                    None,
                    Problem::OrphanDatasetDirectory {
                        dataset: key.clone(),
                        suggestion: Suggestion::closest(
                            key,
                            entries.iter().map(|(k, _)| k.name.as_str()),
                        ),
                    },
                );
            }
        }

        for (key, node) in &entries {
            let files = dataset_dirs.get(&key.name);
            datasets.push(self.decode_dataset(&datasets_file, key, node, files));
        }

        let infra_config = infra_config?;
        Some((
            Config {
                infrastructure: infra_config,
                datasets,
                warnings: Vec::new(),
            },
            (infrastructure, datasets_file, dataset_dirs),
        ))
    }

    fn decode_dataset(
        &mut self,
        datasets_file: &SourceFile,
        key: &Key,
        node: &Node,
        files: Option<&BTreeMap<&'static str, SourceFile>>,
    ) -> CpgDatasetConfig {
        let base = KeyPath::root().key(key.name.clone());
        let mut entries = match &node.value {
            NodeValue::Map(entries) => entries.clone(),
            NodeValue::Null => Vec::new(),
            _ => {
                self.push(
                    &datasets_file.name,
                    base.clone(),
                    Some(node.line),
                    Problem::WrongType {
                        expected: "a mapping of dataset options".into(),
                        found: node.kind().into(),
                    },
                );
                Vec::new()
            }
        };
        match entries.iter().find(|(k, _)| k.name == "dataset") {
            Some((k, value)) => {
                if value.value != NodeValue::Str(key.name.clone()) {
                    self.push(
                        &datasets_file.name,
                        base.key("dataset"),
                        Some(k.line),
                        Problem::DatasetNameMismatch {
                            expected: key.name.clone(),
                            found: match &value.value {
                                NodeValue::Str(s) => s.clone(),
                                _ => value.kind().to_owned(),
                            },
                        },
                    );
                }
            }
            None => entries.insert(
                0,
                (
                    Key {
                        name: "dataset".into(),
                        line: key.line,
                    },
                    Node::new(NodeValue::Str(key.name.clone()), key.line),
                ),
            ),
        }
        let node = Node::new(NodeValue::Map(entries), node.line);
        // A dataset that could not be decoded is kept as a placeholder under its
        // name, so that references to it are not reported as unknown.
        let mut dataset = match self.decode_into::<CpgDatasetConfig>(datasets_file, &node, &base) {
            Some(dataset) => dataset,
            None => {
                self.failed_datasets.push((
                    key.name.clone(),
                    datasets_file.name.clone(),
                    base.clone(),
                ));
                placeholder_dataset(&key.name)
            }
        };
        // The key is the dataset's name; a differing `dataset` value is reported above.
        dataset.dataset.clone_from(&key.name);

        for (file_name, field) in DATASET_FILES {
            let Some(file) = files.and_then(|f| f.get(file_name)) else {
                continue;
            };
            if let Some((k, _)) = node.get(field) {
                self.push(
                    &datasets_file.name,
                    base.key(field),
                    Some(k.line),
                    Problem::GivenTwice {
                        key: field.to_owned(),
                        other_file: file.name.clone(),
                    },
                );
                continue;
            }
            if self.broken_files.contains(&file.name) {
                continue;
            }
            // An empty file lists nothing.
            let empty = Node::new(NodeValue::Map(Vec::new()), file.root.line);
            let root_node = if file.root.value == NodeValue::Null {
                &empty
            } else {
                &file.root
            };
            let root = KeyPath::root();
            let part = match field {
                "members" => self
                    .decode_into(file, root_node, &root)
                    .map(DatasetPart::Members),
                "budgets" => self
                    .decode_into(file, root_node, &root)
                    .map(DatasetPart::Budgets),
                _ => self
                    .decode_into(file, root_node, &root)
                    .map(DatasetPart::Upload),
            };
            match part {
                Some(DatasetPart::Members(members)) => dataset.members = members,
                Some(DatasetPart::Budgets(budgets)) => dataset.budgets = budgets,
                Some(DatasetPart::Upload(upload)) => dataset.upload_config = Some(upload),
                // What validation would say of the missing value follows from the
                // problems already reported for the file.
                None => {
                    self.broken_files.insert(file.name.clone());
                }
            }
        }
        dataset
    }

    fn decode_into<T: DeserializeOwned>(
        &mut self,
        file: &SourceFile,
        node: &Node,
        base: &KeyPath,
    ) -> Option<T> {
        let (value, problems) = decode::<T>(node, base);
        for FieldProblem {
            path,
            line,
            problem,
        } in problems
        {
            self.push(&file.name, path, Some(line), problem);
        }
        value
    }

    fn push(&mut self, file: &str, path: KeyPath, line: Option<u32>, problem: Problem) {
        self.diagnostics.push(Diagnostic {
            file: file.to_owned(),
            path,
            line,
            problem,
        });
    }

    /// Reads the first of `names` that exists; two existing is ambiguous.
    fn read_one_of(&mut self, names: &[&str], holds: &str) -> Option<SourceFile> {
        let present: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| fs::symlink_metadata(self.dir.join(name)).is_ok())
            .collect();
        match present.as_slice() {
            [] => {
                self.push(
                    names[0],
                    KeyPath::root(),
                    None,
                    Problem::MissingFile {
                        dir: self.dir.display().to_string(),
                        holds: holds.to_owned(),
                    },
                );
                None
            }
            [name] => self.read_file(name),
            [first, rest @ ..] => {
                for other in rest {
                    self.push(
                        other,
                        KeyPath::root(),
                        None,
                        Problem::ConflictingFiles {
                            other: (*first).to_owned(),
                        },
                    );
                }
                None
            }
        }
    }

    fn read_file(&mut self, relative: &str) -> Option<SourceFile> {
        let file = self.parse_file(relative);
        if file.is_none() {
            self.broken_files.insert(relative.to_owned());
        }
        file
    }

    fn parse_file(&mut self, relative: &str) -> Option<SourceFile> {
        // Only regular files inside the directory: a FIFO would block the read, a
        // link out of the directory would read another file of the machine.
        let read = ConfigDir::new(&self.dir).read(Path::new(relative));
        let text = match read {
            Ok(Some(bytes)) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    self.push(
                        relative,
                        KeyPath::root(),
                        None,
                        Problem::Unreadable {
                            message: "the file is not UTF-8".into(),
                        },
                    );
                    return None;
                }
            },
            Ok(None) => {
                self.push(
                    relative,
                    KeyPath::root(),
                    None,
                    Problem::Unreadable {
                        message: "it is gone".into(),
                    },
                );
                return None;
            }
            Err(error) => {
                self.push(
                    relative,
                    KeyPath::root(),
                    None,
                    Problem::Unreadable {
                        message: error.reason(),
                    },
                );
                return None;
            }
        };
        let parsed = if relative.ends_with(".toml") {
            parse_toml(&text)
        } else {
            parse_yaml(&text)
        };
        match parsed {
            Ok(root) => Some(SourceFile {
                name: relative.to_owned(),
                root,
                prefix: KeyPath::root(),
            }),
            Err(SyntaxError {
                message,
                line,
                duplicate,
            }) => {
                match duplicate {
                    Some(duplicate) => {
                        let key = match duplicate.path.0.last() {
                            Some(super::source::Segment::Key(key)) => key.clone(),
                            _ => String::new(),
                        };
                        self.push(
                            relative,
                            duplicate.path,
                            line,
                            Problem::DuplicateKey {
                                key,
                                first_line: duplicate.first_line,
                            },
                        );
                    }
                    None => self.push(relative, KeyPath::root(), line, Problem::Syntax { message }),
                }
                None
            }
        }
    }

    /// Reads `datasets/<dataset>/<file>` for every dataset directory.
    fn read_dataset_dirs(&mut self) -> BTreeMap<String, BTreeMap<&'static str, SourceFile>> {
        let mut dirs = BTreeMap::new();
        let root = self.dir.join("datasets");
        let entries = match list_dir(&root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return dirs,
            Err(error) => {
                self.push(
                    "datasets",
                    KeyPath::root(),
                    None,
                    Problem::Unreadable {
                        message: error.to_string(),
                    },
                );
                return dirs;
            }
        };
        for (name, is_dir) in entries {
            if name.starts_with('.') {
                // Dotfiles (.gitkeep, .DS_Store) are no one's config.
                continue;
            }
            if !is_dir {
                self.push(
                    &format!("datasets/{name}"),
                    KeyPath::root(),
                    None,
                    Problem::NotADatasetDir,
                );
                continue;
            }
            let mut files = BTreeMap::new();
            let dir_entries = match list_dir(&root.join(&name)) {
                Ok(entries) => entries,
                Err(error) => {
                    self.push(
                        &format!("datasets/{name}"),
                        KeyPath::root(),
                        None,
                        Problem::Unreadable {
                            message: error.to_string(),
                        },
                    );
                    continue;
                }
            };
            for (file, _) in dir_entries {
                let relative = format!("datasets/{name}/{file}");
                match DATASET_FILES.iter().find(|(known, _)| *known == file) {
                    Some((known, _)) => {
                        // A file that cannot be read still counts as given, so the
                        // dataset's own value is not used in its place.
                        let source = self.read_file(&relative).unwrap_or_else(|| SourceFile {
                            name: relative.clone(),
                            root: Node::new(NodeValue::Null, 1),
                            prefix: KeyPath::root(),
                        });
                        files.insert(*known, source);
                    }
                    None if file.ends_with(".yaml")
                        || file.ends_with(".yml")
                        || file.ends_with(".toml") =>
                    {
                        self.push(
                            &relative,
                            KeyPath::root(),
                            None,
                            Problem::UnknownFile {
                                expected: DATASET_FILES
                                    .iter()
                                    .map(|(f, _)| (*f).to_owned())
                                    .collect(),
                                suggestion: Suggestion::closest(
                                    &file,
                                    DATASET_FILES.iter().map(|(f, _)| *f),
                                ),
                            },
                        );
                    }
                    None => {}
                }
            }
            dirs.insert(name, files);
        }
        dirs
    }
}

/// Stands in for a dataset whose options could not be decoded.
fn placeholder_dataset(name: &str) -> CpgDatasetConfig {
    CpgDatasetConfig::builder()
        .dataset(name)
        .gcp(DatasetGcpConfig::builder().project(name).build())
        .build()
}

/// Why the config directory `dir` cannot be read, or `None` when it can be listed.
fn unreadable_dir(dir: &Path) -> Option<String> {
    match fs::metadata(dir) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            Some(if fs::symlink_metadata(dir).is_ok() {
                "a symbolic link to nothing".to_owned()
            } else {
                "it does not exist".to_owned()
            })
        }
        Err(error) => Some(error.to_string()),
        Ok(metadata) if !metadata.is_dir() => Some("it is not a directory".to_owned()),
        Ok(_) => fs::read_dir(dir).err().map(|error| error.to_string()),
    }
}

/// The entries of a directory, sorted by name, with whether each is a directory.
fn list_dir(dir: &Path) -> io::Result<Vec<(String, bool)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Follows symbolic links: a linked dataset directory is a directory. A link
        // to nothing is listed as a file, so that reading it names it.
        let is_dir = fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        entries.push((name, is_dir));
    }
    entries.sort();
    Ok(entries)
}
