//! The organisation-wide configuration: `CPGInfrastructureConfig` in the reference.
//!
//! Field names are the reference's keys; defaults are the reference's defaults, both
//! for deserialisation and for the builders.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use typed_builder::TypedBuilder;

use super::locate::ConfigSources;
use super::names::CloudName;

/// Everything the organisation-wide infrastructure needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CpgInfrastructureConfig {
    /// The organisation's domain, used to look up the GCP organisation.
    #[builder(setter(into))]
    pub domain: String,
    /// The currency budgets are written in, e.g. `AUD`.
    #[builder(setter(into))]
    pub budget_currency: String,
    /// The dataset that hosts organisation-wide resources.
    #[builder(setter(into))]
    pub common_dataset: String,
    /// A `gs://bucket/path` that storage and infrastructure config files are written to.
    #[builder(setter(into))]
    pub config_destination: String,
    /// Every person or machine known to the system, by member key.
    #[builder(default)]
    pub users: BTreeMap<String, User>,
    /// The plugins to run, by name, in order.
    #[builder(default)]
    pub plugins_enabled: Vec<String>,
    /// GCP settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub gcp: Option<GcpConfig>,
    /// Azure settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub azure: Option<AzureConfig>,
    /// Hail Batch settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub hail: Option<HailConfig>,
    /// Analysis-runner settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub analysis_runner: Option<AnalysisRunnerConfig>,
    /// Data dropbox server settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub data_dropbox: Option<DataDropboxConfig>,
    /// Web service (static files from buckets) settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub web_service: Option<WebServiceConfig>,
    /// Notebook service settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub notebooks: Option<NotebooksConfig>,
    /// Cromwell settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub cromwell: Option<CromwellConfig>,
    /// Metamist (sample-metadata) settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub metamist: Option<MetamistConfig>,
    /// Billing account and billing aggregation settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub billing: Option<BillingConfig>,
    /// Additional groups managed outside any dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub adhoc_groups: Option<Vec<AdhocGroup>>,
    /// Removes every managed group membership (the first phase of a two-phase rename).
    #[serde(default)]
    #[builder(default)]
    pub disable_group_memberships: bool,
    /// Prefixed to every group name, to keep two stacks in one organisation apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub group_prefix: Option<String>,
    /// The fractions of a budget at which notifications are sent.
    #[serde(default = "default_budget_notification_thresholds")]
    #[builder(default = default_budget_notification_thresholds())]
    pub budget_notification_thresholds: Vec<f64>,
    /// How the organisation is deployed: one Pulumi stack (the default) or a
    /// stack per shard (`[deploy]` in cpg.toml; see `docs/sharding.md`). Not a
    /// key of the reference's config.
    #[serde(default, skip_serializing_if = "DeployConfig::is_default")]
    #[builder(default)]
    pub deploy: DeployConfig,
    /// The directory the config was loaded from, which
    /// [`load_dir`](super::load_dir) records; not part of any config file. Relative
    /// paths the plan names (plugins' function sources, `$asset`/`$archive` paths)
    /// are relative to it. `None` for a config built in code.
    #[serde(skip)]
    #[builder(default, setter(strip_option, into))]
    pub config_dir: Option<PathBuf>,
    /// Where each value is in the files, which [`load_dir`](super::load_dir)
    /// records; not part of any config file. Validating the config again locates
    /// diagnostics with it as `load_dir` does, and it tells where each dataset and
    /// the infrastructure table are defined. `None` for a config built in code.
    #[serde(skip)]
    #[builder(default, setter(skip))]
    pub sources: Option<Arc<ConfigSources>>,
}

/// The `[deploy]` table of cpg.toml: how the organisation's resources are cut into
/// Pulumi stacks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// One stack for the whole organisation (`single-stack`, the default), or a
    /// stack per shard (`stack-per-dataset`): the organisation, each dataset, and
    /// what comes after the datasets.
    #[serde(default)]
    #[builder(default)]
    pub layout: Layout,
}

impl DeployConfig {
    /// Whether nothing is set (the single stack).
    pub fn is_default(&self) -> bool {
        *self == DeployConfig::default()
    }
}

/// How the organisation's resources are cut into Pulumi stacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Every resource in one stack.
    #[default]
    SingleStack,
    /// A stack for the organisation, one per dataset and one for what comes after
    /// the datasets, joined by stack references and deployed in waves.
    StackPerDataset,
}

/// The reference's default budget notification thresholds: 50%, 90% and 100%.
pub fn default_budget_notification_thresholds() -> Vec<f64> {
    vec![0.5, 0.9, 1.0]
}

fn default_true() -> bool {
    true
}

/// A person or machine, with an identity on each cloud they use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The member key, equal to the key in `users`.
    #[builder(setter(into))]
    pub id: String,
    /// The identity on each cloud.
    #[builder(default)]
    pub clouds: BTreeMap<CloudName, CloudIdentity>,
    /// Whether this user may read the logs of internal datasets.
    #[serde(default)]
    #[builder(default)]
    pub can_access_internal_dataset_logs: bool,
}

/// A user's identity on one cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CloudIdentity {
    /// The cloud's id for the user: an email on GCP, an object id on Azure.
    #[builder(setter(into))]
    pub id: String,
    /// The user's Hail Batch username on this cloud, if they have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub hail_batch_username: Option<String>,
}

/// An additional group managed outside any dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdhocGroup {
    /// The group's name.
    #[builder(setter(into))]
    pub name: String,
    /// What the group is for.
    #[builder(setter(into))]
    pub description: String,
    /// Member keys of the group's members.
    #[serde(default)]
    #[builder(default)]
    pub members: Vec<String>,
}

/// GCP settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GcpConfig {
    /// The Google Workspace customer id groups are created under.
    #[builder(setter(into))]
    pub customer_id: String,
    /// The default region.
    #[builder(setter(into))]
    pub region: String,
    /// The domain of group emails.
    #[builder(setter(into))]
    pub groups_domain: String,
    /// The Pub/Sub topic budget notifications go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub budget_notification_pubsub: Option<String>,
    /// The bucket analysis-runner configs live in.
    #[builder(setter(into))]
    pub config_bucket_name: String,
    /// Prefixed to every dataset bucket name.
    #[builder(setter(into))]
    pub dataset_storage_prefix: String,
    /// Whether groups may have members outside the organisation.
    #[serde(default = "default_true")]
    #[builder(default = true)]
    pub allow_external_group_members: bool,
    /// Whether groups are created without an initial member.
    #[serde(default = "default_true")]
    #[builder(default = true)]
    pub create_empty_groups: bool,
}

/// Azure settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// The default region.
    #[builder(setter(into))]
    pub region: String,
    /// The subscription id.
    #[builder(setter(into))]
    pub subscription: String,
    /// The tenant id.
    #[builder(setter(into))]
    pub tenant: String,
    /// Prefixed to every dataset storage account name.
    #[builder(setter(into))]
    pub dataset_storage_prefix: String,
    /// A container for analysis-runner configs on Azure. Nothing reads it: the
    /// analysis-runner config viewers are given `gcp.config_bucket_name`, where the
    /// organisation-wide resources are. Optional here (the reference requires it); a
    /// warning when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub config_bucket_name: Option<String>,
}

/// Hail Batch settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HailConfig {
    /// Hail Batch on GCP.
    pub gcp: HailGcpConfig,
    /// Hail Batch on Azure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub azure: Option<HailAzureConfig>,
    /// Prefixed to every Hail username the infrastructure creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub username_prefix: Option<String>,
}

/// Hail Batch on GCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HailGcpConfig {
    /// The Batch service's URL.
    #[builder(setter(into))]
    pub hail_batch_url: String,
    /// The auth service's URL.
    #[builder(setter(into))]
    pub hail_auth_url: String,
    /// The secret holding git credentials Hail accounts may read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub git_credentials_secret_name: Option<String>,
    /// The project of that secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub git_credentials_secret_project: Option<String>,
    /// The bucket Hail wheels are published to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub wheel_bucket_name: Option<String>,
}

/// Hail Batch on Azure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HailAzureConfig {
    /// The Batch service's URL.
    #[builder(setter(into))]
    pub hail_batch_url: String,
    /// The auth service's URL.
    #[builder(setter(into))]
    pub hail_auth_url: String,
}

/// Analysis-runner settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AnalysisRunnerConfig {
    /// The analysis-runner on GCP.
    pub gcp: AnalysisRunnerGcpConfig,
}

/// The analysis-runner on GCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AnalysisRunnerGcpConfig {
    /// The analysis-runner's project.
    #[builder(setter(into))]
    pub project: String,
    /// Its Cloud Run service.
    #[builder(setter(into))]
    pub cloud_run_instance_name: String,
    /// The server's machine account.
    #[builder(setter(into))]
    pub server_machine_account: String,
    /// The logger's machine account.
    #[builder(setter(into))]
    pub logger_machine_account: String,
    /// The analysis-runner's container registry.
    #[builder(setter(into))]
    pub container_registry_name: String,
}

/// Data dropbox server settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DataDropboxConfig {
    /// The dropbox server on GCP.
    pub gcp: DataDropboxGcpConfig,
}

/// The dropbox server on GCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DataDropboxGcpConfig {
    /// The server's project.
    #[builder(setter(into))]
    pub project: String,
    /// The server's machine account.
    #[builder(setter(into))]
    pub server_machine_account: String,
}

/// Web service settings: a server that serves static files from buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WebServiceConfig {
    /// The web service on GCP.
    pub gcp: WebServiceGcpConfig,
    /// A URL template with `{namespace}` and `{dataset}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub web_url_template: Option<String>,
}

/// The web service on GCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WebServiceGcpConfig {
    /// The server's machine account.
    #[builder(setter(into))]
    pub server_machine_account: String,
}

/// Notebook service settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NotebooksConfig {
    /// Notebooks on GCP.
    pub gcp: NotebooksGcpConfig,
}

/// Notebooks on GCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NotebooksGcpConfig {
    /// The notebooks project.
    #[builder(setter(into))]
    pub project: String,
}

/// Cromwell settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CromwellConfig {
    /// Cromwell on GCP.
    pub gcp: CromwellGcpConfig,
}

/// Cromwell on GCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CromwellGcpConfig {
    /// The pre-existing access group, `groups/<id>`.
    #[builder(setter(into))]
    pub access_group_id: String,
    /// Cromwell's runner machine account.
    #[builder(setter(into))]
    pub runner_machine_account: String,
}

/// Metamist (sample-metadata) settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MetamistConfig {
    /// Metamist on GCP.
    pub gcp: MetamistGcpConfig,
    /// ETL settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub etl: Option<EtlConfig>,
    /// The Slack channel for notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub slack_channel: Option<String>,
}

/// Metamist on GCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MetamistGcpConfig {
    /// Metamist's project.
    #[builder(setter(into))]
    pub project: String,
    /// Its Cloud Run service.
    #[builder(setter(into))]
    pub service_name: String,
    /// Its machine account.
    #[builder(setter(into))]
    pub machine_account: String,
    /// Its previous machine account, still in use.
    #[builder(setter(into))]
    pub legacy_machine_account: String,
}

/// Metamist ETL settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EtlConfig {
    /// The ETL accessors.
    pub accessors: Vec<String>,
    /// The parser configuration per payload type, in the config's order (the
    /// accessor configuration lists them in that order, as the reference does).
    pub by_type: crate::config::ordered::OrderedMap<EtlParserConfig>,
    /// The metamist environment ETL functions talk to.
    #[serde(
        default = "default_etl_environment",
        skip_serializing_if = "Option::is_none"
    )]
    #[builder(default = default_etl_environment())]
    pub environment: Option<String>,
    /// Private packages appended to the ETL functions' requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub private_repo_packages: Option<Vec<String>>,
    /// Custom Cloud Run audiences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub custom_audience_list: Option<BTreeMap<String, Vec<String>>>,
    /// The directory holding the ETL functions' sources (`extract/`, `load/`,
    /// `notification/`, `bq_schema.json`, `bq_log_schema.json`), relative to the
    /// config directory; `functions/metamist` when absent. Not in the reference, whose
    /// plugin ships the sources inside its package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub sources_dir: Option<String>,
}

/// The reference's default ETL environment, `PRODUCTION`.
pub fn default_etl_environment() -> Option<String> {
    Some("PRODUCTION".to_owned())
}

/// The parser for one ETL payload type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EtlParserConfig {
    /// The metamist parser's entry-point name.
    #[builder(setter(into))]
    pub parser_name: String,
    /// The ETL accessors allowed to submit this type.
    pub accessors: Vec<String>,
    /// Members of this dataset's analysis group may submit ETL jobs too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub analysis_group_dataset: Option<String>,
    /// Default parser parameters, in the order the config gives them (the
    /// accessor configuration writes them in that order, as the reference does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub default_parameters: Option<crate::config::ordered::JsonObject>,
}

/// Billing settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    /// The GCP billing account.
    pub gcp: BillingGcpConfig,
    /// The machine account that coordinates billing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub coordinator_machine_account: Option<String>,
    /// The billing aggregator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub aggregator: Option<BillingAggregatorConfig>,
    /// Cost controls that disable billing on a project over budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option))]
    pub gcp_cost_controls: Option<GcpCostControlsConfig>,
    /// The aggregator's Hail username, added to every Hail billing project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub hail_aggregator_username: Option<String>,
}

/// The GCP billing account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BillingGcpConfig {
    /// The billing project.
    #[builder(setter(into))]
    pub project_id: String,
    /// The billing account id.
    #[builder(setter(into))]
    pub account_id: String,
    /// The BigQuery billing export table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub source_bq_table: Option<String>,
}

/// The billing aggregator's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BillingAggregatorConfig {
    /// The aggregated BigQuery table.
    #[builder(setter(into))]
    pub destination_bq_table: String,
    /// The Slack channel for notifications.
    #[builder(setter(into))]
    pub slack_channel: String,
    /// The secret holding the Slack token.
    #[builder(setter(into))]
    pub slack_token_secret_name: String,
    /// The aggregation functions to deploy.
    pub functions: Vec<String>,
    /// The billing sheet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub billing_sheet_id: Option<String>,
    /// The monthly summary table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub monthly_summary_table: Option<String>,
    /// Hours between aggregations, 1 to 24.
    #[serde(default = "default_interval_hours")]
    #[builder(default = default_interval_hours())]
    pub interval_hours: i64,
    /// The raw ICA table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub ica_raw_table: Option<String>,
    /// The secret holding the ICA API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub ica_api_secret_name: Option<String>,
    /// The directory holding the functions' sources (`aggregate/`,
    /// `gcp_cost_control/`, `gcp_cost_report_slack_bot/`), relative to the config
    /// directory; `functions/billing_aggregator` when absent. Not in the reference,
    /// which ships the sources inside its package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub sources_dir: Option<String>,
}

/// The reference's default aggregation interval: 4 hours.
pub fn default_interval_hours() -> i64 {
    4
}

/// Settings of the cost control that disables billing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TypedBuilder)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GcpCostControlsConfig {
    /// The cost control's machine account.
    #[builder(setter(into))]
    pub machine_account: String,
    /// The Slack channel for notifications.
    #[builder(setter(into))]
    pub slack_channel: String,
    /// A Pub/Sub topic for the cost control. Nothing reads it: the cost control is
    /// triggered by `gcp.budget_notification_pubsub`, the topic budgets notify.
    /// Optional here (the reference requires it); a warning when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[builder(default, setter(strip_option, into))]
    pub pubsub_topic: Option<String>,
    /// The time zone budgets are computed in.
    #[builder(setter(into))]
    pub timezone: String,
}
