//! `infrastructure.toml`: what the organisation's tools read about the
//! infrastructure, in the config bucket.

use crate::cloud::ResourceRef;
use crate::config::CloudName;
use crate::graph::{Function, Value};

use super::super::config_destination::config_object;
use super::super::{BuildError, State};
use super::members_cache::members_cache_bucket;
use super::{common, not_yet};

/// `infrastructure.toml` in the config bucket: where the members cache is, and the
/// Hail git-credentials secret when configured.
pub(super) fn output_infrastructure_config(state: &mut State) -> Result<(), BuildError> {
    let common = common(state);
    let bucket = members_cache_bucket(state)?;
    let location = state.with_cloud(&common, CloudName::Gcp, |cloud, _| {
        Ok(cloud.bucket_output_path(&bucket))
    })?;
    let mut items = vec![("members_cache_location", location)];
    if let Some(hail) = &state.config.hail {
        if let Some(name) = &hail.gcp.git_credentials_secret_name {
            items.push(("git_credentials_secret_name", Value::from(name.as_str())));
        }
        if let Some(project) = &hail.gcp.git_credentials_secret_project {
            items.push((
                "git_credentials_secret_project",
                Value::from(project.as_str()),
            ));
        }
    }
    let contents = Value::Function(Function::Toml {
        value: Box::new(Value::map([("infrastructure", Value::map(items))])),
        merge: Vec::new(),
    });
    let Some((bucket_name, output_name)) =
        config_object(&state.config.config_destination, "infrastructure.toml")
    else {
        return Err(not_yet(
            "a config_destination other than gs://<bucket>/<path>",
        ));
    };
    let bucket = ResourceRef::Named(bucket_name);
    state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.add_blob_to_bucket(
            graph,
            "infrastructure-config",
            &bucket,
            &output_name,
            contents,
        )
    })?;
    Ok(())
}
