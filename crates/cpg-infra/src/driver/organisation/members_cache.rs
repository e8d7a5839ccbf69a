//! The members cache: the bucket that holds each cached group's resolved members,
//! and the services that may read it.

use crate::cloud::{BucketMembership, BucketSpec, Member, ResourceRef};
use crate::config::CloudName;
use crate::graph::ResourceId;

use super::super::{BuildError, State};
use super::common;

/// The members cache bucket, created on first use and exported.
pub(super) fn members_cache_bucket(state: &mut State) -> Result<ResourceId, BuildError> {
    if let Some(bucket) = &state.org.members_cache_bucket {
        return Ok(bucket.clone());
    }
    let prefix = state
        .config
        .gcp
        .as_ref()
        .map(|g| g.dataset_storage_prefix.clone())
        .unwrap_or_default();
    let spec = BucketSpec {
        unique: true,
        ..BucketSpec::new(format!("{prefix}members-group-cache"), Vec::new())
    };
    let common = common(state);
    let bucket = state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.create_bucket(graph, &spec)
    })?;
    let path = state.with_cloud(&common, CloudName::Gcp, |cloud, _| {
        Ok(cloud.bucket_output_path(&bucket))
    })?;
    state.export("members-cache-bucket", path)?;
    state.org.members_cache_bucket = Some(bucket.clone());
    Ok(bucket)
}

/// Read access to the members cache for the services that use it.
pub(super) fn setup_gcp_access_cache_bucket(state: &mut State) -> Result<(), BuildError> {
    let bucket = ResourceRef::Declared(members_cache_bucket(state)?);
    let mut accessors = Vec::new();
    if let Some(runner) = &state.config.analysis_runner {
        accessors.push(("analysis-runner", runner.gcp.server_machine_account.clone()));
    }
    if let Some(metamist) = &state.config.metamist {
        accessors.push((
            "sample-metadata",
            metamist.gcp.legacy_machine_account.clone(),
        ));
    }
    if let Some(web) = &state.config.web_service {
        accessors.push(("web-service", web.gcp.server_machine_account.clone()));
    }
    let common = common(state);
    for (key, account) in accessors {
        let key = format!("{key}-members-group-cache-accessor");
        let member = Member::Id(account);
        state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
            cloud.add_member_to_bucket(graph, &key, &bucket, &member, BucketMembership::Read)
        })?;
    }
    Ok(())
}
