//! A host for testing a plugin in-process, without the driver or a cloud: the
//! configs, a graph, groups a test creates, and the log.
//!
//! ```
//! use cpg_infra::config::{CloudName, Config, CpgInfrastructureConfig};
//! use cpg_infra::graph::{Resource, ResourceId};
//! use cpg_infra_plugin_api::sdk::{GroupMemberRequest, GroupMemberSpec, Plugin, PluginHost};
//! use cpg_infra_plugin_api::testing::MockHost;
//!
//! # fn config() -> Config { unimplemented!() }
//! # fn run(mut plugin: impl Plugin) -> Result<(), Box<dyn std::error::Error>> {
//! let mut host = MockHost::new(config());
//! host.add_group(CloudName::Gcp, "common-analysis", ResourceId::new("cpg:google:Group", "g"));
//! plugin.main(&mut host)?;
//! host.finalise_groups();
//! plugin.on_group_finalisation(&mut host)?;
//! println!("{} resources", host.graph().len());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use cpg_infra::config::{CloudName, Config, CpgDatasetConfig, CpgInfrastructureConfig};
use cpg_infra::graph::{Graph, Resource, ResourceId, Value};
use cpg_infra::plugin::{
    GroupInfo, GroupMemberRequest, GroupMemberSpec, HostError, LogLevel, PluginContext, PluginHost,
};

/// A group of the mock host: its resource and direct members by key.
#[derive(Debug, Clone)]
struct MockGroup {
    resource: ResourceId,
    members: Vec<(String, GroupMemberSpec)>,
}

/// An in-process [`PluginHost`] for tests.
#[derive(Debug)]
pub struct MockHost {
    config: CpgInfrastructureConfig,
    datasets: Vec<CpgDatasetConfig>,
    context: PluginContext,
    graph: Graph,
    groups: BTreeMap<(CloudName, String), MockGroup>,
    finalised: bool,
    log: Vec<(LogLevel, String)>,
}

impl MockHost {
    /// A host over `config`, planning, with no config directory.
    pub fn new(config: Config) -> Self {
        MockHost {
            config: config.infrastructure,
            datasets: config.datasets,
            context: PluginContext::default(),
            graph: Graph::new(),
            groups: BTreeMap::new(),
            finalised: false,
            log: Vec::new(),
        }
    }

    /// Uses `context` (config directory, mode).
    #[must_use]
    pub fn with_context(mut self, context: PluginContext) -> Self {
        self.context = context;
        self
    }

    /// Creates a group the plugin can add members to and read.
    pub fn add_group(&mut self, cloud: CloudName, name: &str, resource: ResourceId) {
        self.groups.insert(
            (cloud, name.to_owned()),
            MockGroup {
                resource,
                members: Vec::new(),
            },
        );
    }

    /// Finalises the groups: from now on members are resolved and none can be added.
    pub fn finalise_groups(&mut self) {
        self.finalised = true;
    }

    /// What the plugin declared.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// What the plugin logged.
    pub fn log_lines(&self) -> &[(LogLevel, String)] {
        &self.log
    }

    /// The ids of a group's members through nested groups, in order, each once.
    fn resolve(
        &self,
        cloud: CloudName,
        name: &str,
        found: &mut Vec<Value>,
        seen: &mut Vec<String>,
    ) {
        if seen.iter().any(|s| s == name) {
            return;
        }
        seen.push(name.to_owned());
        let Some(group) = self.groups.get(&(cloud, name.to_owned())) else {
            return;
        };
        for (_, member) in &group.members {
            let value = match member {
                GroupMemberSpec::Id(id) => Value::from(id.as_str()),
                GroupMemberSpec::MachineAccount(account) => Value::output(account, "email"),
                GroupMemberSpec::Group(nested) => {
                    self.resolve(cloud, nested, found, seen);
                    continue;
                }
            };
            if !found.contains(&value) {
                found.push(value);
            }
        }
    }
}

impl PluginHost for MockHost {
    fn infrastructure(&self) -> &CpgInfrastructureConfig {
        &self.config
    }

    fn datasets(&self) -> &[CpgDatasetConfig] {
        &self.datasets
    }

    fn context(&self) -> &PluginContext {
        &self.context
    }

    fn declare(&mut self, resource: Resource) -> Result<ResourceId, HostError> {
        Ok(self.graph.declare(resource)?)
    }

    fn export(&mut self, name: &str, value: Value) -> Result<(), HostError> {
        Ok(self.graph.export(name, value)?)
    }

    fn resource(&self, id: &ResourceId) -> Option<Resource> {
        self.graph.get(id).cloned()
    }

    fn add_group_member(&mut self, request: GroupMemberRequest) -> Result<(), HostError> {
        if self.finalised {
            return Err(HostError::GroupsFinalised {
                group: request.group,
            });
        }
        let key = (request.cloud, request.group.clone());
        let group = self
            .groups
            .get_mut(&key)
            .ok_or_else(|| HostError::UnknownGroup {
                cloud: request.cloud,
                name: request.group.clone(),
            })?;
        if group.members.iter().any(|(k, _)| *k == request.key) {
            return Err(HostError::Membership(format!(
                "group {:?} already has a member under the key {:?}",
                request.group, request.key
            )));
        }
        group.members.push((request.key, request.member));
        Ok(())
    }

    fn group(&self, cloud: CloudName, name: &str) -> Result<GroupInfo, HostError> {
        let group =
            self.groups
                .get(&(cloud, name.to_owned()))
                .ok_or_else(|| HostError::UnknownGroup {
                    cloud,
                    name: name.to_owned(),
                })?;
        let resolved_members = self.finalised.then(|| {
            let mut found = Vec::new();
            self.resolve(cloud, name, &mut found, &mut Vec::new());
            found
        });
        Ok(GroupInfo {
            resource: group.resource.clone(),
            resolved_members,
        })
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.log.push((level, message.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> MockHost {
        let config = Config {
            infrastructure: CpgInfrastructureConfig::builder()
                .domain("example.org")
                .common_dataset("common")
                .budget_currency("AUD")
                .config_destination("gs://b/p")
                .build(),
            datasets: Vec::new(),
            warnings: Vec::new(),
        };
        MockHost::new(config)
    }

    #[test]
    fn members_resolve_through_nested_groups_after_finalisation() {
        let mut host = host();
        host.add_group(CloudName::Gcp, "a", ResourceId::new("t:g:G", "a"));
        host.add_group(CloudName::Gcp, "b", ResourceId::new("t:g:G", "b"));
        let add = |host: &mut MockHost, group: &str, key: &str, member| {
            host.add_group_member(GroupMemberRequest {
                cloud: CloudName::Gcp,
                group: group.into(),
                key: key.into(),
                member,
            })
        };
        add(&mut host, "a", "x", GroupMemberSpec::Id("x@e.org".into())).expect("x");
        add(&mut host, "a", "b", GroupMemberSpec::Group("b".into())).expect("b");
        add(&mut host, "b", "y", GroupMemberSpec::Id("y@e.org".into())).expect("y");
        assert!(add(&mut host, "a", "x", GroupMemberSpec::Id("z@e.org".into())).is_err());
        assert_eq!(
            host.group(CloudName::Gcp, "a").expect("a").resolved_members,
            None
        );
        host.finalise_groups();
        assert_eq!(
            host.group(CloudName::Gcp, "a").expect("a").resolved_members,
            Some(vec![Value::from("x@e.org"), Value::from("y@e.org")])
        );
        assert!(matches!(
            add(
                &mut host,
                "a",
                "late",
                GroupMemberSpec::Id("l@e.org".into())
            ),
            Err(HostError::GroupsFinalised { .. })
        ));
    }
}
