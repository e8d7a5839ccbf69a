//! The organisation-wide groups: created in the common dataset's cloud on first
//! use (config viewers, internal-logs access) or from `adhoc_groups`.

use crate::cloud::{BucketMembership, Member, ResourceRef};
use crate::config::{CloudIdentity, CloudName};
use crate::graph::ResourceId;

use super::super::groups::{GroupMember, prefixed_name};
use super::super::member_hash::member_hash;
use super::super::{BuildError, Origin, State};
use super::common;

/// Creates an organisation-wide group in the common dataset's cloud. Its origin
/// is the organisation, whichever part of the build creates it first.
pub(super) fn create_org_group(
    state: &mut State,
    name: &str,
    description: Option<&str>,
    cache_members: bool,
) -> Result<ResourceId, BuildError> {
    let common = common(state);
    let prefixed = prefixed_name(state.config.group_prefix.as_deref(), name);
    let resource = state.for_organisation(|state| {
        state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
            cloud.create_group(graph, &prefixed, description)
        })
    })?;
    state.groups.insert(
        CloudName::Gcp,
        name,
        resource.clone(),
        cache_members,
        Origin::Organisation,
    )?;
    Ok(resource)
}

/// The group whose members may read the analysis-runner configs, created on first
/// use with its read access to the config bucket.
pub(crate) fn config_viewer_group(state: &mut State) -> Result<String, BuildError> {
    let name = "analysis-runner-config-viewers-group";
    if state.groups.get(CloudName::Gcp, name).is_some() {
        return Ok(name.to_owned());
    }
    let group = Member::Group(create_org_group(state, name, None, false)?);
    let bucket = ResourceRef::Named(
        state
            .config
            .gcp
            .as_ref()
            .map(|g| g.config_bucket_name.clone())
            .unwrap_or_default(),
    );
    let common = common(state);
    state.for_organisation(|state| {
        state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
            cloud.add_member_to_bucket(
                graph,
                "analysis-runner-config-viewers",
                &bucket,
                &group,
                BucketMembership::Read,
            )
        })
    })?;
    Ok(name.to_owned())
}

/// The group of users who may read internal datasets' logs, created on first use.
pub(crate) fn internal_logs_access_group(state: &mut State) -> Result<Member, BuildError> {
    let name = "internal-logs-access";
    if state.groups.get(CloudName::Gcp, name).is_none() {
        create_org_group(state, name, None, true)?;
        let common = common(state);
        let users: Vec<(String, CloudIdentity)> = state
            .config
            .users
            .values()
            .filter(|u| u.can_access_internal_dataset_logs)
            .filter_map(|u| Some((u.id.clone(), u.clouds.get(&CloudName::Gcp)?.clone())))
            .collect();
        for (id, identity) in users {
            let hash = member_hash("", &id, CloudName::Gcp.as_str());
            let key = state.pulumi_name(
                &common,
                CloudName::Gcp,
                &format!("internal-logs-access-{hash}"),
            );
            let member = GroupMember::Member {
                member: Member::Id(identity.id.clone()),
                user: Some(identity),
            };
            state.groups.add_member(CloudName::Gcp, name, key, member)?;
        }
    }
    state.group_member(CloudName::Gcp, name)
}

/// The `adhoc_groups` and their members.
pub(super) fn deploy_adhoc(state: &mut State) -> Result<(), BuildError> {
    let common = common(state);
    for group in state.config.adhoc_groups.clone().unwrap_or_default() {
        create_org_group(state, &group.name, Some(&group.description), false)?;
        for member_key in &group.members {
            let Some(identity) = state
                .config
                .users
                .get(member_key)
                .and_then(|u| u.clouds.get(&CloudName::Gcp))
                .cloned()
            else {
                continue;
            };
            let hash = member_hash("", member_key, CloudName::Gcp.as_str());
            let key = state.pulumi_name(&common, CloudName::Gcp, &format!("{}-{hash}", group.name));
            let member = GroupMember::Member {
                member: Member::Id(identity.id.clone()),
                user: Some(identity),
            };
            state
                .groups
                .add_member(CloudName::Gcp, &group.name, key, member)?;
        }
    }
    Ok(())
}
