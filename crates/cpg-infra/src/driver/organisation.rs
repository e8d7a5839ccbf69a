//! The organisation-wide part of the build, in the reference's `main()` order: the
//! members cache, metamist invokers, the Python registry, every dataset, ad-hoc
//! groups, group finalisation, metamist member lists, the dropbox server config and
//! `infrastructure.toml`.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::cloud::{BucketMembership, BucketSpec, Member, ResourceRef, SecretMembership};
use crate::config::CloudName;
use crate::graph::{Function, Resource, ResourceId, Value, json_dumps_object};
use cpg_infra_kinds as custom;

use super::groups::{Group, GroupMember};
use super::naming::{config_object, member_hash, prefixed_group, sort_members};
use super::plugins::{self, Stage};
use super::{BuildError, CpgDatasetInfrastructure, State};
use crate::plugin::{Plugin, PluginContext};

/// What the organisation-wide part created, kept so it is created once.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    members_cache_bucket: Option<ResourceId>,
    /// Datasets that need a temporary-access entitlement.
    pub pam_datasets: BTreeSet<String>,
    /// The temporary-access broker account, when any dataset needs one.
    pub pam_broker: Option<ResourceId>,
}

/// Builds everything.
pub(crate) fn main(
    state: &mut State,
    plugins: &mut [Box<dyn Plugin>],
    plugin_context: &PluginContext,
) -> Result<(), BuildError> {
    state.org.pam_datasets = pam_datasets(state);
    setup_gcp_access_cache_bucket(state)?;
    setup_gcp_metamist_cloudrun_invoker(state)?;
    let common = common(state);
    state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.create_python_registry(graph)
    })?;
    setup_pam_broker(state)?;

    for dataset in state.order.clone() {
        let config = Arc::clone(&state.datasets[&dataset]);
        CpgDatasetInfrastructure::new(state, config).main()?;
    }

    deploy_adhoc(state)?;
    plugins::run(state, plugins, plugin_context, Stage::Main)?;
    finalize_groups(state)?;
    plugins::run(state, plugins, plugin_context, Stage::GroupFinalisation)?;
    setup_hail_batch_billing_project_members(state)?;
    update_metamist_members(state)?;
    generate_dropbox_config(state)?;
    output_infrastructure_config(state)
}

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

/// Datasets that ask for temporary access, and those they depend on.
fn pam_datasets(state: &State) -> BTreeSet<String> {
    let mut needed = BTreeSet::new();
    for dataset in state.datasets.values() {
        let has_members = dataset
            .members
            .get(&crate::config::GroupName::TmpMainReadAccess)
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
fn setup_pam_broker(state: &mut State) -> Result<(), BuildError> {
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

fn members_cache_bucket(state: &mut State) -> Result<ResourceId, BuildError> {
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

fn setup_gcp_access_cache_bucket(state: &mut State) -> Result<(), BuildError> {
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

/// Creates an organisation-wide group in the common dataset's cloud.
fn create_org_group(
    state: &mut State,
    name: &str,
    description: Option<&str>,
    cache_members: bool,
) -> Result<ResourceId, BuildError> {
    let common = common(state);
    let prefixed = prefixed_group(state.config.group_prefix.as_deref(), name);
    let resource = state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.create_group(graph, &prefixed, description)
    })?;
    state
        .groups
        .insert(CloudName::Gcp, name, resource.clone(), cache_members)?;
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
    state.with_cloud(&common, CloudName::Gcp, |cloud, graph| {
        cloud.add_member_to_bucket(
            graph,
            "analysis-runner-config-viewers",
            &bucket,
            &group,
            BucketMembership::Read,
        )
    })?;
    Ok(name.to_owned())
}

/// The group of users who may read internal datasets' logs, created on first use.
pub(crate) fn internal_logs_access_group(state: &mut State) -> Result<Member, BuildError> {
    let name = "internal-logs-access";
    if state.groups.get(CloudName::Gcp, name).is_none() {
        create_org_group(state, name, None, true)?;
        let common = common(state);
        let users: Vec<(String, crate::config::CloudIdentity)> = state
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

fn setup_gcp_metamist_cloudrun_invoker(state: &mut State) -> Result<(), BuildError> {
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

fn deploy_adhoc(state: &mut State) -> Result<(), BuildError> {
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
fn sorted_member_list(ids: Vec<Value>) -> Value {
    let known: Option<Vec<&str>> = ids.iter().map(Value::as_str).collect();
    match known {
        Some(known) => Value::strings(sort_members(known)),
        None => Value::Function(Function::SortedMembers(ids)),
    }
}

/// Declares one membership per direct member of every group (nested groups stay
/// groups), and the members cache of cached groups.
fn finalize_groups(state: &mut State) -> Result<(), BuildError> {
    let common = common(state);
    for cloud in state.groups.clouds().collect::<Vec<_>>() {
        let groups: Vec<Group> = state.groups.ordered(cloud)?.into_iter().cloned().collect();
        for Group {
            name,
            resource,
            cache_members,
            members,
        } in groups
        {
            for (key, member) in members {
                let member = match member {
                    GroupMember::Member { member, .. } => member,
                    GroupMember::Group(nested) => state.group_member(cloud, &nested)?,
                };
                let group = Member::Group(resource.clone());
                state.with_cloud(&common, cloud, |instance, graph| {
                    instance.add_group_member(graph, &key, &group, &member, true)
                })?;
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
                state.with_cloud(&common, cloud, |instance, graph| {
                    instance.add_blob_to_bucket(
                        graph,
                        &resource_name,
                        &bucket,
                        &output_name,
                        contents,
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// Every dataset's Hail billing project gets the billing aggregator, the dataset's
/// Hail accounts, and every person with a Hail username in its analysis group (and,
/// for internal datasets, the internal-log users).
fn setup_hail_batch_billing_project_members(state: &mut State) -> Result<(), BuildError> {
    let aggregator = state
        .config
        .billing
        .as_ref()
        .and_then(|b| b.hail_aggregator_username.clone());
    for dataset in state.order.clone() {
        let config = Arc::clone(&state.datasets[&dataset]);
        for cloud in config.deploy_locations.clone() {
            let Some(memo) = state.memos.get(&(dataset.clone(), cloud)) else {
                continue;
            };
            let (Some(project), Some(accounts)) = (
                memo.hail_billing_project.clone(),
                memo.hail_accounts.clone(),
            ) else {
                continue;
            };
            let billing_project = Value::output(&project, "id");
            let mut memberships: Vec<(String, String)> = Vec::new();
            if let Some(aggregator) = &aggregator {
                memberships.push((
                    "batch-billing-member-billing-aggregator".into(),
                    aggregator.clone(),
                ));
            }
            for (level, account) in &accounts {
                memberships.push((
                    format!("batch-billing-member-hail-{level}"),
                    account.username.clone(),
                ));
            }
            let mut usernames: BTreeSet<String> = state
                .groups
                .resolve(cloud, &format!("{dataset}-analysis"))
                .into_iter()
                .filter_map(|m| match m {
                    GroupMember::Member {
                        user: Some(user), ..
                    } => user.hail_batch_username.clone(),
                    _ => None,
                })
                .collect();
            if config.is_internal_dataset {
                usernames.extend(
                    state
                        .config
                        .users
                        .values()
                        .filter(|u| u.can_access_internal_dataset_logs)
                        .filter_map(|u| u.clouds.get(&cloud)?.hail_batch_username.clone()),
                );
            }
            for username in usernames {
                let hash = member_hash(&dataset, &username, cloud.as_str());
                memberships.push((format!("batch-billing-member-{hash}"), username));
            }
            for (key, user) in memberships {
                let name = state.pulumi_name(&dataset, cloud, &key);
                state.graph.declare(
                    Resource::new(custom::HAIL_BILLING_PROJECT_MEMBERSHIP, name)
                        .input("billing_project", billing_project.clone())
                        .input("user", user),
                )?;
            }
        }
    }
    Ok(())
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

fn update_metamist_members(state: &mut State) -> Result<(), BuildError> {
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
            let resource = Resource::new(custom::METAMIST_PROJECT_MEMBERS, name)
                .input("project_name", Value::output(&project, "project_name"))
                .input("read_members", members("read"))
                .input("contribute_members", members("contribute"))
                .input("write_members", members("write"));
            state.graph.declare(resource)?;
        }
    }
    Ok(())
}

/// The data dropbox server's config: every dataset's dropboxes, as a secret.
fn generate_dropbox_config(state: &mut State) -> Result<(), BuildError> {
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

/// `infrastructure.toml` in the config bucket: where the members cache is, and the
/// Hail git-credentials secret when configured.
fn output_infrastructure_config(state: &mut State) -> Result<(), BuildError> {
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
