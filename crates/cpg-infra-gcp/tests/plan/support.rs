//! Loading configs and planning them, and reading the reference's recorded output.

use cpg_infra::config::Config;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra_gcp::GcpProvider;

pub use cpg_infra_reference::{load, read as reference, reference_dir};

/// Plans a config with the GCP cloud.
pub fn plan(config: Config) -> Graph {
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"))
}
