//! Running the enabled plugins: the [`PluginHost`] the driver gives them, over the
//! build's state.

use crate::cloud::Member;
use crate::config::{CloudName, ConfigDir, CpgDatasetConfig, CpgInfrastructureConfig};
use crate::graph::{Resource, ResourceId, Value, check_asset_paths};
use crate::plugin::{
    GroupInfo, GroupMemberRequest, GroupMemberSpec, HostError, LogLevel, Plugin, PluginContext,
    PluginHost, PluginLog,
};

use super::groups::GroupMember;
use super::organisation::resolved_member_ids;
use super::{BuildError, State};

/// A lifecycle step of the plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `main`, before groups are finalised.
    Main,
    /// `on_group_finalisation`, right after.
    GroupFinalisation,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Main => "main",
            Stage::GroupFinalisation => "on_group_finalisation",
        })
    }
}

/// Runs `stage` of every enabled plugin, in `plugins_enabled` order.
pub(crate) fn run(
    state: &mut State,
    plugins: &mut [Box<dyn Plugin>],
    context: &PluginContext,
    stage: Stage,
) -> Result<(), BuildError> {
    let datasets: Vec<CpgDatasetConfig> = state
        .config_order
        .iter()
        .filter_map(|name| state.datasets.get(name))
        .map(|d| d.as_ref().clone())
        .collect();
    let config = std::sync::Arc::clone(&state.config);
    for name in &config.plugins_enabled {
        let plugin = plugins
            .iter_mut()
            .find(|p| p.name() == name)
            .ok_or_else(|| BuildError::PluginNotLoaded(name.clone()))?;
        let mut host = Host {
            state,
            config: &config,
            datasets: &datasets,
            context,
            plugin: name,
            finalised: stage == Stage::GroupFinalisation,
        };
        let outcome = match stage {
            Stage::Main => plugin.main(&mut host),
            Stage::GroupFinalisation => plugin.on_group_finalisation(&mut host),
        };
        outcome.map_err(|source| BuildError::Plugin {
            plugin: name.clone(),
            stage,
            source,
        })?;
    }
    Ok(())
}

/// The host one plugin sees during one lifecycle call.
struct Host<'a> {
    state: &'a mut State,
    config: &'a CpgInfrastructureConfig,
    datasets: &'a [CpgDatasetConfig],
    context: &'a PluginContext,
    plugin: &'a str,
    finalised: bool,
}

impl PluginHost for Host<'_> {
    fn infrastructure(&self) -> &CpgInfrastructureConfig {
        self.config
    }

    fn datasets(&self) -> &[CpgDatasetConfig] {
        self.datasets
    }

    fn context(&self) -> &PluginContext {
        self.context
    }

    fn declare(&mut self, resource: Resource) -> Result<ResourceId, HostError> {
        let root = self.context.config_dir.as_deref().map(ConfigDir::new);
        check_asset_paths(&resource, root.as_ref()).map_err(|e| HostError::AssetPath {
            resource: resource.id.to_string(),
            reason: crate::error_chain(&e),
        })?;
        Ok(self.state.graph.declare(resource)?)
    }

    fn export(&mut self, name: &str, value: Value) -> Result<(), HostError> {
        Ok(self.state.graph.export(name, value)?)
    }

    fn resource(&self, id: &ResourceId) -> Option<Resource> {
        self.state.graph.get(id).cloned()
    }

    fn add_group_member(&mut self, request: GroupMemberRequest) -> Result<(), HostError> {
        if self.finalised {
            return Err(HostError::GroupsFinalised {
                group: request.group,
            });
        }
        let member = match request.member {
            GroupMemberSpec::Id(id) => GroupMember::Member {
                member: Member::Id(id),
                user: None,
            },
            GroupMemberSpec::MachineAccount(account) => GroupMember::Member {
                member: Member::MachineAccount(account),
                user: None,
            },
            GroupMemberSpec::Group(name) => GroupMember::Group(name),
        };
        self.state
            .groups
            .add_member(request.cloud, &request.group, request.key, member)
            .map_err(|error| match error {
                BuildError::UnknownGroup { cloud, name } => HostError::UnknownGroup { cloud, name },
                other => HostError::Membership(other.to_string()),
            })
    }

    fn group(&self, cloud: CloudName, name: &str) -> Result<GroupInfo, HostError> {
        let group = self
            .state
            .groups
            .get(cloud, name)
            .ok_or_else(|| HostError::UnknownGroup {
                cloud,
                name: name.to_owned(),
            })?;
        Ok(GroupInfo {
            resource: group.resource.clone(),
            resolved_members: self
                .finalised
                .then(|| resolved_member_ids(self.state, cloud, name)),
        })
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.state.plugin_log.push(PluginLog {
            plugin: self.plugin.to_owned(),
            level,
            message: message.to_owned(),
        });
    }
}
