//! Loading configs and planning them, and reading the reference's recorded output.

use std::path::{Path, PathBuf};

use cpg_infra::config::{Config, load_dir};
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra_azure::AzureProvider;
use cpg_infra_gcp::GcpProvider;
use serde_json::Value;

/// The recorded reference outputs (`../shared/reference` beside the workspace, or
/// `CPG_INFRA_REFERENCE`).
pub fn reference_dir() -> PathBuf {
    std::env::var_os("CPG_INFRA_REFERENCE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"),
        PathBuf::from,
    )
}

/// Loads a config directory, which must be valid.
pub fn load(dir: &Path) -> Config {
    load_dir(dir).unwrap_or_else(|invalid| {
        let shown: Vec<String> = invalid
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        panic!("{} is invalid: {shown:#?}", dir.display())
    })
}

/// Plans a config with the GCP and Azure clouds.
pub fn plan(config: Config) -> Graph {
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .build()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"))
}

/// Reads `<name>.reference.json`.
pub fn reference(name: &str) -> Value {
    let path = reference_dir().join(format!("{name}.reference.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
