//! Temporary access, organisation-wide: which datasets need it, and the broker
//! account that requests it.

use std::collections::BTreeSet;

use crate::config::{CloudName, GroupName};

use super::super::{BuildError, State};
use super::common;

/// Datasets that ask for temporary access, and those they depend on.
pub(super) fn pam_datasets(state: &State) -> BTreeSet<String> {
    let mut needed = BTreeSet::new();
    for dataset in state.datasets.values() {
        let has_members = dataset
            .members
            .get(&GroupName::TmpMainReadAccess)
            .is_some_and(|m| !m.is_empty());
        if dataset.allow_notebook_tmp_main_read || has_members {
            needed.insert(dataset.dataset.clone());
            needed.extend(
                dataset
                    .depends_on
                    .iter()
                    .chain(&dataset.depends_on_readonly)
                    .cloned(),
            );
        }
    }
    needed
}

/// The broker account that requests temporary access, in the common project, when
/// any dataset needs temporary access.
pub(super) fn setup_pam_broker(state: &mut State) -> Result<(), BuildError> {
    if state.org.pam_datasets.is_empty() {
        return Ok(());
    }
    let common = common(state);
    let Some(project) = state.datasets.get(&common).map(|d| d.gcp.project.clone()) else {
        return Err(BuildError::UnknownGroup {
            cloud: CloudName::Gcp,
            name: format!("common dataset {common:?}"),
        });
    };
    let broker = state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.create_pam_broker(graph, &project)
    })?;
    state.org.pam_broker = Some(broker);
    Ok(())
}
