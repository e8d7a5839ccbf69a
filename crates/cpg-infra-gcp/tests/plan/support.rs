//! Loading configs and planning them, and reading the reference's recorded output.

use std::path::Path;

use cpg_infra::config::{Config, load_dir};
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra_gcp::GcpProvider;

pub use cpg_infra_reference::{read as reference, reference_dir};

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

/// Plans a config with the GCP cloud.
pub fn plan(config: Config) -> Graph {
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"))
}
