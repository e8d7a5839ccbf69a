//! Loading configs and planning them, and reading the reference's recorded output.

use cpg_infra::config::Config;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra::synthetic::Features;
use cpg_infra_gcp::GcpProvider;
use proptest::prelude::*;

pub use cpg_infra_reference::{load, read as reference, reference_dir};

/// Plans a config with the GCP cloud.
pub fn plan(config: Config) -> Graph {
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"))
}

/// Any combination of the generator's features.
pub fn features() -> impl Strategy<Value = Features> {
    proptest::array::uniform6(any::<bool>()).prop_map(|flags| {
        let mut features = Features::default();
        features.temporary_access = flags[0];
        features.adhoc_groups = flags[1];
        features.component_subsets = flags[2];
        features.dependencies_everywhere = flags[3];
        features.frequent = flags[4];
        features.group_prefix = flags[5];
        features
    })
}
