//! The JSON documents the callbacks exchange, beside the plan's own forms.

use cpg_infra::config::{CloudName, CpgDatasetConfig, CpgInfrastructureConfig};
use cpg_infra::graph::ResourceId;
use cpg_infra::plugin::PluginContext;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The answer of `configs`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Configs {
    pub infrastructure: CpgInfrastructureConfig,
    pub datasets: Vec<CpgDatasetConfig>,
    pub context: PluginContext,
}

/// The request of `export`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ExportRequest {
    pub name: String,
    /// A value in the plan's form.
    pub value: Json,
}

/// The request of `group`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct GroupRequest {
    pub cloud: CloudName,
    pub name: String,
}

/// The answer of `group`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct GroupAnswer {
    pub resource: ResourceId,
    /// Values in the plan's form.
    pub resolved_members: Option<Vec<Json>>,
}
