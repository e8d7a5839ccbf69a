//! One dataset's configuration: `CPGDatasetConfig` in the reference.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use typed_builder::TypedBuilder;

use super::names::{CloudName, Component, GroupName};

/// Everything needed to build one dataset's infrastructure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CpgDatasetConfig {
    /// The dataset's name.
    #[builder(setter(into))]
    pub dataset: String,
    /// The monthly budget per cloud.
    #[serde(default)]
    #[builder(default)]
    pub budgets: BTreeMap<CloudName, Budget>,
    /// GCP settings; GCP is always a target.
    pub gcp: DatasetGcpConfig,
    /// Azure settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub azure: Option<DatasetAzureConfig>,
    /// Whether the test namespace (buckets, accounts, …) is set up.
    #[serde(default = "default_true")]
    #[builder(default = true)]
    pub setup_test: bool,
    /// Legacy deployment account with test access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub deployment_service_account_test: Option<String>,
    /// Legacy deployment account with standard access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub deployment_service_account_standard: Option<String>,
    /// Legacy deployment account with full access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub deployment_service_account_full: Option<String>,
    /// Creates container registries in the dataset's project (recommended for common).
    #[serde(default)]
    #[builder(default)]
    pub create_container_registry: bool,
    /// The clouds this dataset is deployed to.
    #[serde(default = "default_deploy_locations")]
    #[builder(default = default_deploy_locations())]
    pub deploy_locations: Vec<CloudName>,
    /// Whether the dataset is internal: internal-log users get Hail access to it.
    #[serde(default)]
    #[builder(default)]
    pub is_internal_dataset: bool,
    /// Creates a requester-pays release bucket.
    #[serde(default)]
    #[builder(default)]
    pub enable_release: bool,
    /// Creates a shared project and account that pay for release egress.
    #[serde(default)]
    #[builder(default)]
    pub enable_shared_project: bool,
    /// Creates metamist projects (and a test project when `setup_test`).
    #[serde(default = "default_true")]
    #[builder(default = true)]
    pub enable_metamist_project: bool,
    /// Lets notebook accounts request temporary read access to the main bucket.
    #[serde(default)]
    #[builder(default)]
    pub allow_notebook_tmp_main_read: bool,
    /// Datasets this one gets full access to.
    #[serde(default)]
    #[builder(default)]
    pub depends_on: Vec<String>,
    /// Datasets this one gets read-only access to.
    #[serde(default)]
    #[builder(default)]
    pub depends_on_readonly: Vec<String>,
    /// Extra machine accounts with read access to metamist.
    #[serde(default)]
    #[builder(default)]
    pub sm_read_only_sas: Vec<String>,
    /// Extra machine accounts with write access to metamist.
    #[serde(default)]
    #[builder(default)]
    pub sm_read_write_sas: Vec<String>,
    /// Grace period of archive-tier buckets, in days.
    #[serde(default)]
    #[builder(default)]
    pub archive_age: i64,
    /// Whether non-archive buckets use Autoclass (GCP only).
    #[serde(default = "default_true")]
    #[builder(default = true)]
    pub autoclass: bool,
    /// The components per cloud; a cloud not listed gets its defaults.
    #[serde(default)]
    #[builder(default)]
    pub components: BTreeMap<CloudName, Vec<Component>>,
    /// Member keys per access group.
    #[serde(default)]
    #[builder(default)]
    pub members: BTreeMap<GroupName, Vec<String>>,
    /// Upload buckets and dropboxes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub upload_config: Option<UploadConfig>,
}

impl CpgDatasetConfig {
    /// The components deployed on `cloud`: the configured list, or the cloud's defaults.
    pub fn components_for(&self, cloud: CloudName) -> &[Component] {
        self.components
            .get(&cloud)
            .map_or_else(|| Component::defaults_for(cloud), Vec::as_slice)
    }

    /// Whether `component` is deployed on `cloud`.
    pub fn has_component(&self, cloud: CloudName, component: Component) -> bool {
        self.components_for(cloud).contains(&component)
    }
}

fn default_true() -> bool {
    true
}

/// The reference's default deploy locations: GCP only.
pub fn default_deploy_locations() -> Vec<CloudName> {
    vec![CloudName::Gcp]
}

/// A dataset's GCP settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DatasetGcpConfig {
    /// The dataset's GCP project id.
    #[builder(setter(into))]
    pub project: String,
    /// Overrides the organisation's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub region: Option<String>,
    /// The dataset name the Hail service accounts were created under, when they were
    /// created by hand under another name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub hail_service_account_dataset_name_override: Option<String>,
}

/// A dataset's Azure settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DatasetAzureConfig {
    /// Overrides the organisation's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub region: Option<String>,
}

/// A dataset's budget on one cloud, in whole currency units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The monthly budget.
    pub monthly_budget: i64,
    /// The total budget of the shared project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub shared_total_budget: Option<i64>,
    /// Overrides the organisation's budget currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub currency: Option<String>,
}

/// Upload buckets and dropboxes of a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UploadConfig {
    /// The default `main-upload` bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub default_bucket: Option<DefaultUploadBucket>,
    /// Further `main-upload-<name>` buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub additional_buckets: Option<Vec<AdditionalUploadBucket>>,
    /// Dropboxes served by the data dropbox server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub dropboxes: Option<Vec<UploadDropbox>>,
}

/// The default upload bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DefaultUploadBucket {
    /// Member keys allowed to upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub uploaders: Option<Vec<String>>,
}

/// An additional upload bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdditionalUploadBucket {
    /// The bucket's name suffix.
    #[builder(setter(into))]
    pub name: String,
    /// Member keys allowed to upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub uploaders: Option<Vec<String>>,
}

/// A dropbox: an upload bucket behind the data dropbox server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UploadDropbox {
    /// The dropbox id, unique within the dataset.
    #[builder(setter(into))]
    pub id: String,
    /// A display name.
    #[builder(setter(into))]
    pub name: String,
    /// File types the dropbox accepts.
    pub allowed_filetypes: Vec<String>,
    /// Member keys allowed to upload.
    pub uploaders: Vec<String>,
    /// Files uploaded at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub max_concurrent_files: Option<i64>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub description: Option<String>,
    /// The largest file accepted, e.g. `5GB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub max_file_size: Option<String>,
    /// The upload bucket files move to: `default` or an additional bucket's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub move_to_bucket: Option<String>,
    /// The Slack channel notified of uploads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub slack_notification_channel_id: Option<String>,
}
