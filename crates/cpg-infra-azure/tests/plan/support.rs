//! Loading configs and planning them, and reading the reference's recorded output.

use cpg_infra::config::Config;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra_azure::AzureProvider;
use cpg_infra_gcp::GcpProvider;
use serde_json::Value;

pub use cpg_infra_reference::{load, read as reference, reference_dir};

/// Plans a config with the GCP and Azure clouds.
pub fn plan(config: Config) -> Graph {
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .build()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"))
}

/// Validates a config built in code, then plans it with both clouds.
pub fn plan_validated(config: Config) -> Graph {
    let infra =
        CpgInfrastructure::new(config.infrastructure, config.datasets).unwrap_or_else(|invalid| {
            let shown: Vec<String> = invalid
                .diagnostics
                .iter()
                .map(ToString::to_string)
                .collect();
            panic!("invalid: {shown:#?}")
        });
    infra
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .build()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"))
}

/// The reference's azure-common config: small, with common also on Azure.
pub fn azure_common() -> Config {
    load(&reference_dir().join("azure-common"))
}

/// The resource `type_token::name` of a plan document.
pub fn resource<'a>(plan: &'a Value, type_token: &str, name: &str) -> &'a Value {
    plan["resources"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["type"] == type_token && r["name"] == name)
        })
        .unwrap_or_else(|| panic!("no {type_token}::{name} in the plan"))
}

/// The resources of a plan document of `type_token` whose name starts with `prefix`.
pub fn resources<'a>(plan: &'a Value, type_token: &str, prefix: &str) -> Vec<&'a Value> {
    plan["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["type"] == type_token && r["name"].as_str().is_some_and(|n| n.starts_with(prefix))
        })
        .collect()
}
