//! Metamist, organisation-wide: who may invoke its Cloud Run service, and each
//! dataset's project member lists once groups are final.

use crate::cloud::Member;
use crate::config::CloudName;
use crate::graph::{Resource, Value};

use super::super::{BuildError, State};
use super::common;
use super::finalisation::{resolved_member_ids, sorted_member_list};
use super::groups::create_org_group;

/// The group whose members may invoke metamist's Cloud Run service.
pub(super) fn setup_gcp_metamist_cloudrun_invoker(state: &mut State) -> Result<(), BuildError> {
    let Some(metamist) = state.config.metamist.clone() else {
        return Ok(());
    };
    let group = Member::Group(create_org_group(
        state,
        "sample-metadata-invokers",
        None,
        false,
    )?);
    let common = common(state);
    state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.add_cloudrun_invoker(
            graph,
            "sample-metadata-cloudrun-invokers",
            &metamist.gcp.service_name,
            &metamist.gcp.project,
            &group,
        )
    })
}

/// The members of a dataset's metamist permission group, sorted (GCP only).
fn metamist_members(state: &State, dataset: &str, permission: &str) -> Value {
    let on_gcp = state
        .clouds
        .contains_key(&(dataset.to_owned(), CloudName::Gcp));
    let group = format!("{dataset}-sample-metadata-{permission}");
    if !on_gcp || state.groups.get(CloudName::Gcp, &group).is_none() {
        return Value::List(Vec::new());
    }
    sorted_member_list(resolved_member_ids(state, CloudName::Gcp, &group))
}

/// Every dataset's metamist project members: read, contribute and write, per
/// namespace.
pub(super) fn update_metamist_members(state: &mut State) -> Result<(), BuildError> {
    for dataset in state.order.clone() {
        let Some((main, test)) = state.metamist_projects.get(&dataset).cloned() else {
            continue;
        };
        let mut lists = vec![(main, format!("{dataset}-metamist-members"), "main")];
        if let Some(test) = test {
            lists.push((test, format!("{dataset}-metamist-test-members"), "test"));
        }
        for (project, name, namespace) in lists {
            let members =
                |kind: &str| metamist_members(state, &dataset, &format!("{namespace}-{kind}"));
            let resource = Resource::new(cpg_infra_kinds::METAMIST_PROJECT_MEMBERS, name)
                .input("project_name", Value::output(&project, "project_name"))
                .input("read_members", members("read"))
                .input("contribute_members", members("contribute"))
                .input("write_members", members("write"));
            state.graph.declare(resource)?;
        }
    }
    Ok(())
}
