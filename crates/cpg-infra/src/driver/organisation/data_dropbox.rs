//! The data dropbox server's config secret.

use crate::cloud::{Member, ResourceRef, SecretMembership};
use crate::config::CloudName;
use crate::graph::{Value, json_dumps_object};

use super::super::{BuildError, State};
use super::common;

/// The data dropbox server's config: every dataset's dropboxes, as a secret.
pub(super) fn generate_dropbox_config(state: &mut State) -> Result<(), BuildError> {
    let Some(dropbox) = state.config.data_dropbox.clone() else {
        return Ok(());
    };
    let mut dropboxes = Vec::new();
    for project in &state.config_order {
        let config = &state.datasets[project];
        let Some(upload) = &config.upload_config else {
            continue;
        };
        for entry in upload.dropboxes.iter().flatten() {
            let uploaders: Vec<String> = entry
                .uploaders
                .iter()
                .filter_map(|u| state.config.users.get(u)?.clouds.get(&CloudName::Gcp))
                .map(|identity| identity.id.clone())
                .collect();
            let fields: Vec<(&str, Value)> = vec![
                ("id", Value::from(entry.id.as_str())),
                ("name", Value::from(entry.name.as_str())),
                (
                    "allowed_filetypes",
                    Value::strings(entry.allowed_filetypes.clone()),
                ),
                ("uploaders", Value::strings(uploaders)),
                (
                    "max_concurrent_files",
                    entry.max_concurrent_files.map_or(Value::Null, Value::Int),
                ),
                (
                    "description",
                    entry
                        .description
                        .as_deref()
                        .map_or(Value::Null, Value::from),
                ),
                (
                    "max_file_size",
                    entry
                        .max_file_size
                        .as_deref()
                        .map_or(Value::Null, Value::from),
                ),
                (
                    "move_to_bucket",
                    entry
                        .move_to_bucket
                        .as_deref()
                        .map_or(Value::Null, Value::from),
                ),
                (
                    "slack_notification_channel_id",
                    entry
                        .slack_notification_channel_id
                        .as_deref()
                        .map_or(Value::Null, Value::from),
                ),
                ("project", Value::from(project.as_str())),
            ];
            dropboxes.push(json_dumps_object(&fields));
        }
    }
    let common = common(state);
    let project = Value::from(dropbox.gcp.project.as_str());
    let secret = state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.create_secret(graph, "dropbox-server-config", Some(project.clone()), None)
    })?;
    // Every value is known from the config, so the text is rendered here, with each
    // dropbox's keys in the reference's order.
    let contents = Value::from(format!("{{\"dropboxes\": [{}]}}", dropboxes.join(", ")));
    state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.add_secret_version(
            graph,
            "data-dropbox-server-config-latest",
            &secret,
            contents,
        )
    })?;
    let server = Member::Id(dropbox.gcp.server_machine_account.clone());
    let secret = ResourceRef::Declared(secret);
    state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.add_secret_member(
            graph,
            "data-dropbox-server-config-accessor",
            &secret,
            &server,
            SecretMembership::Accessor,
            Some(project),
        )
    })?;
    Ok(())
}
