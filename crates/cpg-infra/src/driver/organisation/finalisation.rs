//! Group finalisation: one membership per direct member of every group, once
//! every group is known, and the members cache of cached groups.

use crate::cloud::{Member, ResourceRef};
use crate::config::CloudName;
use crate::graph::{Function, Value, sort_members};

use super::super::groups::{Group, GroupMember};
use super::super::{BuildError, Origin, State};
use super::common;
use super::members_cache::members_cache_bucket;

/// The ids of a group's resolved members, as the cloud names them.
pub(crate) fn resolved_member_ids(state: &State, cloud: CloudName, group: &str) -> Vec<Value> {
    let common = common(state);
    let Some(instance) = state.clouds.get(&(common, cloud)) else {
        return Vec::new();
    };
    state
        .groups
        .resolve(cloud, group)
        .into_iter()
        .filter_map(|member| match member {
            GroupMember::Member { member, .. } => Some(instance.member_id(member)),
            GroupMember::Group(_) => None,
        })
        .collect()
}

/// Sorted member ids: computed now when all are known, at deploy time otherwise.
pub(super) fn sorted_member_list(ids: Vec<Value>) -> Value {
    let known: Option<Vec<&str>> = ids.iter().map(Value::as_str).collect();
    match known {
        Some(known) => Value::strings(sort_members(known)),
        None => Value::Function(Function::SortedMembers(ids)),
    }
}

/// Declares one membership per direct member of every group (nested groups stay
/// groups), and the members cache of cached groups.
pub(super) fn finalize_groups(state: &mut State) -> Result<(), BuildError> {
    let common = common(state);
    for cloud in state.groups.clouds().collect::<Vec<_>>() {
        let groups: Vec<Group> = state.groups.ordered(cloud)?.into_iter().cloned().collect();
        for Group {
            name,
            resource,
            cache_members,
            members,
            origin,
        } in groups
        {
            state.set_origin(origin.clone());
            for (key, member) in members {
                let member = match member {
                    GroupMember::Member { member, .. } => member,
                    GroupMember::Group(nested) => state.group_member(cloud, &nested)?,
                };
                let group = Member::Group(resource.clone());
                let start = state.graph.len();
                state.with_cloud(&common, cloud, |instance, graph| {
                    instance.add_group_member(graph, &key, &group, &member, true)
                })?;
                // A membership of another part's group or account comes from the
                // later part, which can read the earlier one's outputs.
                let from = state.reading_origin(start, &origin);
                state.tagger.pin_since(&state.graph, start, &from);
            }
            if cache_members && cloud == CloudName::Gcp {
                let ids = resolved_member_ids(state, cloud, &name);
                // One id per line, or a single newline when there is none.
                let contents = match sorted_member_list(ids) {
                    Value::List(items) => {
                        let lines: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                        let text = lines.join("\n");
                        Value::String(if text.is_empty() {
                            "\n".to_owned()
                        } else {
                            text
                        })
                    }
                    deferred => Value::Function(Function::Lines(Box::new(deferred))),
                };
                let bucket = ResourceRef::Declared(members_cache_bucket(state)?);
                let resource_name = format!("{name}-group-cache-members");
                let output_name = format!("{name}-members.txt");
                let start = state.graph.len();
                state.with_cloud(&common, cloud, |instance, graph| {
                    instance.add_blob_to_bucket(
                        graph,
                        &resource_name,
                        &bucket,
                        &output_name,
                        contents,
                    )
                })?;
                // Members gathered from other parts are written once they all
                // exist: after the datasets.
                if state.reading_origin(start, &origin) != origin {
                    state
                        .tagger
                        .pin_since(&state.graph, start, &Origin::AfterDatasets);
                }
            }
        }
    }
    Ok(())
}
