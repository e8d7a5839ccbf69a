//! The configuration: types, loading a config directory, and validation.
//!
//! Data flows in two stages. Files are parsed into a raw tree that remembers where
//! each value came from ([`source`]); the tree is decoded into the plain types of
//! [`infrastructure`] and [`dataset`], and validated as a whole, with every problem
//! reported at once as a [`Diagnostic`] naming the file, key path and line.

pub mod azure_names;
pub mod dataset;
mod decode;
pub mod diagnostic;
pub mod dir;
pub mod infrastructure;
mod load;
mod locate;
pub mod names;
pub mod ordered;
pub mod source;
pub mod suggest;
mod validate;

pub use dataset::{
    AdditionalUploadBucket, Budget, CpgDatasetConfig, DatasetAzureConfig, DatasetGcpConfig,
    DefaultUploadBucket, UploadConfig, UploadDropbox,
};
pub use diagnostic::{Diagnostic, InvalidConfig, Problem, Severity};
pub use dir::{ConfigDir, ConfineError, EntryKind};
pub use infrastructure::{
    AdhocGroup, AnalysisRunnerConfig, AnalysisRunnerGcpConfig, AzureConfig,
    BillingAggregatorConfig, BillingConfig, BillingGcpConfig, CloudIdentity,
    CpgInfrastructureConfig, CromwellConfig, CromwellGcpConfig, DataDropboxConfig,
    DataDropboxGcpConfig, DeployConfig, EtlConfig, EtlParserConfig, GcpConfig,
    GcpCostControlsConfig, HailAzureConfig, HailConfig, HailGcpConfig, Layout, MetamistConfig,
    MetamistGcpConfig, NotebooksConfig, NotebooksGcpConfig, User, WebServiceConfig,
    WebServiceGcpConfig,
};
pub use load::{DATASET_FILES, DATASETS_FILES, INFRASTRUCTURE_FILES, load_dir};
pub use locate::{ConfigSources, SourcePosition};
pub use names::{CloudName, Component, GroupName};
pub use ordered::{JsonObject, OrderedJson, OrderedMap};
pub use validate::{infrastructure_group_names, validate};

/// A validated configuration: the organisation-wide config and every dataset, in the
/// order the dataset config lists them, and the warnings validation found.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The organisation-wide config.
    pub infrastructure: CpgInfrastructureConfig,
    /// Every dataset.
    pub datasets: Vec<CpgDatasetConfig>,
    /// What validation warned about (every one a [`Severity::Warning`]), in the order
    /// of file and line; empty for a configuration built in code until it is validated.
    pub warnings: Vec<Diagnostic>,
}
