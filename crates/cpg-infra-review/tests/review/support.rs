//! Plans of generated configs.

use cpg_infra::config::{Config, GroupName};
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra_azure::AzureProvider;
use cpg_infra_gcp::GcpProvider;

/// The plan of `config`, with GCP and Azure; `None` when the config is invalid.
pub fn plan(config: Config) -> Option<Graph> {
    let infrastructure = CpgInfrastructure::new(config.infrastructure, config.datasets).ok()?;
    Some(
        infrastructure
            .with_cloud(GcpProvider)
            .with_cloud(AzureProvider)
            .build()
            .expect("a valid config plans"),
    )
}

/// `config` with `person` (a user key) added to `group` of the dataset at `index`,
/// unless already there.
pub fn add_member(config: &mut Config, index: usize, group: GroupName, person: &str) {
    let count = config.datasets.len();
    let dataset = &mut config.datasets[index % count];
    let members = dataset.members.entry(group).or_default();
    if !members.iter().any(|m| m == person) {
        members.push(person.to_owned());
    }
}

/// The people (user keys) of `config`.
pub fn people(config: &Config) -> Vec<String> {
    config
        .infrastructure
        .users
        .keys()
        .filter(|k| k.starts_with("person."))
        .cloned()
        .collect()
}
