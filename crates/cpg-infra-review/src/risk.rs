//! Data at risk: the data-bearing resources (buckets and containers, projects and
//! resource groups, BigQuery datasets and tables, secrets, registries, key vaults,
//! storage accounts) that a change destroys or replaces, each with what holds the
//! data (the bucket's name, the dataset's id).

use cpg_infra::graph::{Resource, ResourceId, Value};
use cpg_infra_azure::tokens as azure;
use cpg_infra_gcp::tokens as gcp;
use serde::Serialize;

use crate::describe::describe;
use crate::diff::PlanDiff;

/// A data-bearing resource type: its token, what people call it, and the input that
/// names what holds the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataBearing {
    /// The type token.
    pub token: &'static str,
    /// What it is, for people (`bucket`).
    pub kind: &'static str,
    /// The input naming the data's holder (`name` of a bucket).
    pub holder: &'static str,
}

const fn bearing(token: &'static str, kind: &'static str, holder: &'static str) -> DataBearing {
    DataBearing {
        token,
        kind,
        holder,
    }
}

/// Every data-bearing resource type the plans declare.
pub const DATA_BEARING: [DataBearing; 12] = [
    bearing(gcp::PROJECT, "project", "projectId"),
    bearing(gcp::BUCKET, "bucket", "name"),
    bearing(gcp::DATASET, "BigQuery dataset", "datasetId"),
    bearing(gcp::TABLE, "BigQuery table", "tableId"),
    bearing(gcp::SECRET, "secret", "secretId"),
    bearing(gcp::REPOSITORY, "registry", "repositoryId"),
    bearing(azure::RESOURCE_GROUP, "resource group", "resourceGroupName"),
    bearing(azure::STORAGE_ACCOUNT, "storage account", "accountName"),
    bearing(azure::BLOB_CONTAINER, "container", "containerName"),
    bearing(azure::VAULT, "key vault", "vaultName"),
    bearing(azure::SECRET, "secret", "secretName"),
    bearing(azure::REGISTRY, "registry", "registryName"),
];

/// The data-bearing description of a type, if it is one.
pub fn data_bearing(token: &str) -> Option<&'static DataBearing> {
    DATA_BEARING.iter().find(|b| b.token == token)
}

/// How the data is lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// The resource is destroyed.
    Destroy,
    /// The resource is deleted and created again.
    Replace,
}

impl Loss {
    /// `destroy` or `replace`.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Destroy => "destroy",
            Loss::Replace => "replace",
        }
    }
}

/// A data-bearing resource a change destroys or replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtRisk {
    /// The resource.
    pub id: ResourceId,
    /// Destroyed or replaced.
    pub loss: Loss,
    /// What it is (`bucket`).
    pub kind: &'static str,
    /// What holds the data: the holder input's value (`cpg-x-main`), or the logical
    /// name when the plan does not give it.
    pub holds: String,
    /// For a replacement, the inputs that force it.
    pub because: Vec<String>,
}

impl AtRisk {
    /// `bucket cpg-x-main`.
    pub fn holder(&self) -> String {
        format!("{} {}", self.kind, self.holds)
    }

    /// The JSON form: `{"resource", "type", "loss", "kind", "holds", "because"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "resource": self.id.to_string(),
            "type": &*self.id.type_token,
            "loss": self.loss.name(),
            "kind": self.kind,
            "holds": self.holds,
            "because": self.because,
        })
    }
}

/// What holds the data of `resource`, if its type is data-bearing: the holder
/// input's value, or the logical name when the plan does not give it.
pub(crate) fn holder_of(resource: &Resource) -> Option<String> {
    let bearing = data_bearing(&resource.id.type_token)?;
    Some(match resource.inputs.get(bearing.holder) {
        Some(Value::String(name)) => name.clone(),
        Some(other) => describe(other),
        None => resource.id.name.to_string(),
    })
}

impl PlanDiff {
    /// The data-bearing resources this change destroys or replaces: destroyed first,
    /// then replaced, each in the diff's order. A removed resource that the old plan
    /// only read (it has the `id` option) destroys nothing.
    pub fn data_at_risk(&self) -> Vec<AtRisk> {
        let destroyed = self.removed.iter().filter_map(|resource| {
            // A resource read by id (Pulumi's `id` option) is not managed: leaving
            // it out of the plan forgets it and destroys nothing.
            if resource.options.id.is_some() {
                return None;
            }
            let bearing = data_bearing(&resource.id.type_token)?;
            Some(AtRisk {
                id: resource.id.clone(),
                loss: Loss::Destroy,
                kind: bearing.kind,
                holds: holder_of(resource)?,
                because: Vec::new(),
            })
        });
        let replaced = self.replaced().into_iter().filter_map(|(change, because)| {
            let bearing = data_bearing(&change.id.type_token)?;
            Some(AtRisk {
                id: change.id.clone(),
                loss: Loss::Replace,
                kind: bearing.kind,
                // The data is where the old resource is.
                holds: self
                    .holders
                    .get(&change.id)
                    .cloned()
                    .unwrap_or_else(|| change.id.name.to_string()),
                because,
            })
        });
        destroyed.chain(replaced).collect()
    }
}

#[cfg(test)]
mod tests {
    use cpg_infra::graph::{Graph, ResourceOptions};

    use super::*;

    fn bucket(name: &str, read: bool) -> Resource {
        Resource::new(gcp::BUCKET, name)
            .input("name", name)
            .options(ResourceOptions {
                id: read.then(|| format!("projects/p/buckets/{name}")),
                ..ResourceOptions::default()
            })
    }

    #[test]
    fn removing_a_read_bucket_puts_no_data_at_risk() {
        let mut old = Graph::new();
        old.declare(bucket("managed", false)).expect("managed");
        old.declare(bucket("read", true)).expect("read");
        let diff = PlanDiff::between(&old, &Graph::new());
        assert_eq!(diff.removed.len(), 2);
        let at_risk: Vec<String> = diff
            .data_at_risk()
            .iter()
            .map(|r| r.id.name.to_string())
            .collect();
        assert_eq!(at_risk, ["managed"]);
    }
}
