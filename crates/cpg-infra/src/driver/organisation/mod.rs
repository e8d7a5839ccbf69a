//! The organisation-wide part of the build, in the reference's `main()` order: the
//! members cache, metamist invokers, the Python registry, every dataset, ad-hoc
//! groups, group finalisation, metamist member lists, the dropbox server config and
//! `infrastructure.toml`.

mod data_dropbox;
mod finalisation;
mod groups;
mod hail;
mod infrastructure_config;
mod members_cache;
mod metamist;
mod temporary_access;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::config::CloudName;
use crate::graph::ResourceId;
use crate::plugin::{Plugin, PluginContext};

use super::plugins::{self, Stage};
use super::{BuildError, CpgDatasetInfrastructure, Origin, State};

pub(crate) use finalisation::resolved_member_ids;
pub(crate) use groups::{config_viewer_group, internal_logs_access_group};

/// What the organisation-wide part created, kept so it is created once.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    members_cache_bucket: Option<ResourceId>,
    /// Datasets that need a temporary-access entitlement.
    pub pam_datasets: BTreeSet<String>,
    /// The temporary-access broker account, when any dataset needs one.
    pub pam_broker: Option<ResourceId>,
}

/// Builds everything, tagging each resource with the part of the build that
/// declared it (see [`Origin`]).
pub(crate) fn main(
    state: &mut State,
    plugins: &mut [Box<dyn Plugin>],
    plugin_context: &PluginContext,
) -> Result<(), BuildError> {
    state.org.pam_datasets = temporary_access::pam_datasets(state);
    members_cache::setup_gcp_access_cache_bucket(state)?;
    metamist::setup_gcp_metamist_cloudrun_invoker(state)?;
    let common = common(state);
    state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.create_python_registry(graph)
    })?;
    temporary_access::setup_pam_broker(state)?;

    for dataset in state.order.clone() {
        state.set_origin(Origin::Dataset(dataset.clone()));
        let config = Arc::clone(&state.datasets[&dataset]);
        CpgDatasetInfrastructure::new(state, config).main()?;
    }

    state.set_origin(Origin::Organisation);
    groups::deploy_adhoc(state)?;
    plugins::run(state, plugins, plugin_context, Stage::Main)?;
    // Each group's memberships and members-cache object come from the group's part.
    finalisation::finalize_groups(state)?;
    state.set_origin(Origin::AfterDatasets);
    plugins::run(state, plugins, plugin_context, Stage::GroupFinalisation)?;
    hail::setup_hail_batch_billing_project_members(state)?;
    metamist::update_metamist_members(state)?;
    data_dropbox::generate_dropbox_config(state)?;
    infrastructure_config::output_infrastructure_config(state)
}

/// The common dataset, whose clouds hold the organisation-wide resources.
fn common(state: &State) -> String {
    state.config.common_dataset.clone()
}

/// An organisation-wide feature this release does not build.
fn not_yet(feature: &str) -> BuildError {
    BuildError::NotYetSupported {
        dataset: None,
        feature: feature.to_owned(),
    }
}
