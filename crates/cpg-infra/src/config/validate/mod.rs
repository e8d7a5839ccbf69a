//! Every rule the configuration must satisfy before anything is built.
//!
//! Schema problems (unknown keys, wrong types, invalid values, missing keys) are
//! found while decoding; the rules here check what the types cannot: references
//! between datasets and users, budgets, the sections enabled components need, and the
//! names the clouds will be asked to create.

mod azure;
mod components;
mod datasets;
pub(crate) mod identities;
mod ignored;
mod limits;
mod members;
mod organisation;

pub use organisation::infrastructure_group_names;
mod uploads;

use std::collections::BTreeMap;

use super::dataset::CpgDatasetConfig;
use super::diagnostic::{Diagnostic, InvalidConfig, Problem};
use super::infrastructure::CpgInfrastructureConfig;
use super::locate::{InCode, Locator, Place};
use super::source::KeyPath;

/// Validates a configuration, returning its warnings when it has no errors.
///
/// For a configuration [`load_dir`](super::load_dir) loaded
/// ([`CpgInfrastructureConfig::sources`] is set), the diagnostics are `load_dir`'s:
/// each names its file, key path and line, the loader's warnings about the files
/// are among them, and they are sorted by file and line. A dataset added in code,
/// and every value of a configuration built in code, is named by value (`dataset
/// config "x"`, `infrastructure config`) instead of a file, with no line.
pub fn validate(
    infrastructure: &CpgInfrastructureConfig,
    datasets: &[CpgDatasetConfig],
) -> Result<Vec<Diagnostic>, InvalidConfig> {
    let diagnostics = match infrastructure.sources.as_deref() {
        Some(sources) => {
            let mut diagnostics = sources.file_warnings().to_vec();
            diagnostics.extend(validate_with(infrastructure, datasets, sources));
            super::load::sort_by_place(&mut diagnostics);
            diagnostics
        }
        None => validate_with(infrastructure, datasets, &InCode),
    };
    if diagnostics.iter().all(Diagnostic::is_warning) {
        Ok(diagnostics)
    } else {
        Err(InvalidConfig { diagnostics })
    }
}

/// Runs every rule and locates what they find.
pub(crate) fn validate_with(
    infrastructure: &CpgInfrastructureConfig,
    datasets: &[CpgDatasetConfig],
    locator: &dyn Locator,
) -> Vec<Diagnostic> {
    let context = Context::new(infrastructure, datasets);
    let mut findings = Findings::default();
    organisation::check(&context, &mut findings);
    datasets::check(&context, &mut findings);
    members::check(&context, &mut findings);
    uploads::check(&context, &mut findings);
    components::check(&context, &mut findings);
    limits::check(&context, &mut findings);
    identities::check(&context, &mut findings);
    azure::check(&context, &mut findings);
    ignored::check(&context, &mut findings);
    let Findings {
        mut found,
        if_given,
    } = findings;
    found.extend(
        if_given
            .into_iter()
            .filter(|(place, _)| locator.is_given(place)),
    );
    found
        .into_iter()
        .map(|(place, problem)| {
            let (file, path, line) = locator.locate(&place);
            Diagnostic {
                file,
                path,
                line,
                problem,
            }
        })
        .collect()
}

/// What the rules look at.
pub(crate) struct Context<'a> {
    pub infra: &'a CpgInfrastructureConfig,
    pub datasets: &'a [CpgDatasetConfig],
    /// The first dataset of each name.
    pub by_name: BTreeMap<&'a str, &'a CpgDatasetConfig>,
}

impl<'a> Context<'a> {
    fn new(infra: &'a CpgInfrastructureConfig, datasets: &'a [CpgDatasetConfig]) -> Self {
        let mut by_name = BTreeMap::new();
        for dataset in datasets {
            by_name.entry(dataset.dataset.as_str()).or_insert(dataset);
        }
        Context {
            infra,
            datasets,
            by_name,
        }
    }

    /// The dataset names, for suggestions.
    pub fn dataset_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.by_name.keys().copied()
    }
}

/// What the rules found, in the order they found it.
#[derive(Default)]
pub(crate) struct Findings {
    found: Vec<(Place, Problem)>,
    /// Problems with a value that only count when the files give the value: a
    /// default the user never wrote is no mistake of theirs.
    if_given: Vec<(Place, Problem)>,
}

impl Findings {
    /// A problem in the infrastructure config.
    pub fn infra(&mut self, path: KeyPath, problem: Problem) {
        self.found.push((Place::Infrastructure(path), problem));
    }

    /// A problem in a dataset's config.
    pub fn dataset(&mut self, dataset: &str, path: KeyPath, problem: Problem) {
        self.found.push((dataset_place(dataset, path), problem));
    }

    /// A problem with a dataset's value that is reported only when the files give
    /// that value (never for a default, nor for a config built in code).
    pub fn dataset_if_given(&mut self, dataset: &str, path: KeyPath, problem: Problem) {
        self.if_given.push((dataset_place(dataset, path), problem));
    }
}

fn dataset_place(dataset: &str, path: KeyPath) -> Place {
    Place::Dataset {
        dataset: dataset.to_owned(),
        path,
    }
}

/// A key path from a list of keys.
pub(crate) fn path(keys: &[&str]) -> KeyPath {
    KeyPath(
        keys.iter()
            .map(|k| super::source::Segment::Key((*k).to_owned()))
            .collect(),
    )
}

/// The bucket suffixes a dataset's uploads give: each additional bucket's `name`
/// (bucket `main-upload-{name}`) and each dropbox's `id` (bucket
/// `main-upload-db-{id}`), with where each is given.
pub(crate) fn upload_bucket_suffixes(
    upload: &super::dataset::UploadConfig,
) -> impl Iterator<Item = (KeyPath, String)> + '_ {
    let buckets = upload
        .additional_buckets
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, bucket)| {
            (
                path(&["upload_config", "additional_buckets"])
                    .index(i)
                    .key("name"),
                format!("main-upload-{}", bucket.name),
            )
        });
    let dropboxes = upload
        .dropboxes
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, dropbox)| {
            (
                path(&["upload_config", "dropboxes"]).index(i).key("id"),
                format!("main-upload-db-{}", dropbox.id),
            )
        });
    buckets.chain(dropboxes)
}
