//! One dataset on one cloud: the reference's `CPGDatasetCloudInfrastructure`.
//!
//! Groups, buckets and accounts are created on first use and once, as the
//! reference's cached properties are; each component lives in its own module.

mod access_groups;
mod analysis_runner;
mod container_registry;
mod cromwell;
mod hail;
mod metamist;
mod notebooks;
mod shared_project;
mod spark;
mod storage;
mod temporary_access;

pub(crate) use hail::HailAccount;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cloud::{Cloud, CloudResult, Member};
use crate::config::{CloudName, Component, CpgDatasetConfig};
use crate::graph::{Graph, ResourceId, Value};

use super::groups::{GroupMember, prefixed_name};
use super::member_hash::member_hash;
use super::{BuildError, State};

/// What a dataset on a cloud created, kept so it is created once.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    buckets: BTreeMap<String, ResourceId>,
    main_upload_account: Option<ResourceId>,
    upload_buckets: Option<Vec<storage::UploadBucket>>,
    /// Hail accounts by access level.
    pub hail_accounts: Option<Vec<(&'static str, HailAccount)>>,
    /// The Hail Batch billing project.
    pub hail_billing_project: Option<ResourceId>,
    level_accounts: BTreeMap<String, Vec<(&'static str, ResourceId)>>,
    notebook_account: Option<ResourceId>,
    /// The storage config TOML per namespace (`main`, `test`), for dependants.
    pub storage_tomls: BTreeMap<String, Value>,
}

/// Groups whose resolved members are written to the members cache.
fn caches_members(suffix: &str) -> bool {
    matches!(suffix, "analysis" | "web-access") || suffix.starts_with("sample-metadata-")
}

/// The group `{dataset}-{suffix}` of `dataset` on `cloud`, created on first use
/// through that dataset's cloud.
pub(crate) fn ensure_group(
    state: &mut State,
    dataset: &str,
    cloud: CloudName,
    suffix: &str,
) -> Result<String, BuildError> {
    let name = format!("{dataset}-{suffix}");
    if state.groups.get(cloud, &name).is_none() {
        let prefixed = prefixed_name(state.config.group_prefix.as_deref(), &name);
        let resource = state.with_cloud(dataset, cloud, |instance, graph| {
            instance.create_group(graph, &prefixed, None)
        })?;
        let origin = state.tagger.current().clone();
        state
            .groups
            .insert(cloud, &name, resource, caches_members(suffix), origin)?;
    }
    Ok(name)
}

/// Builds one dataset on one cloud.
pub struct CpgDatasetCloudInfrastructure<'s> {
    state: &'s mut State,
    dataset: Arc<CpgDatasetConfig>,
    cloud: CloudName,
}

impl<'s> CpgDatasetCloudInfrastructure<'s> {
    pub(crate) fn new(
        state: &'s mut State,
        dataset: Arc<CpgDatasetConfig>,
        cloud: CloudName,
    ) -> Self {
        CpgDatasetCloudInfrastructure {
            state,
            dataset,
            cloud,
        }
    }

    fn name(&self) -> &str {
        &self.dataset.dataset
    }

    fn has(&self, component: Component) -> bool {
        self.dataset.has_component(self.cloud, component)
    }

    fn is_gcp(&self) -> bool {
        self.cloud == CloudName::Gcp
    }

    fn is_common(&self) -> bool {
        self.dataset.dataset == self.state.config.common_dataset
    }

    fn memo(&mut self) -> &mut Memo {
        self.state
            .memos
            .entry((self.dataset.dataset.clone(), self.cloud))
            .or_default()
    }

    /// Declares through this dataset's cloud.
    fn declare<T>(
        &mut self,
        declare: impl FnOnce(&mut dyn Cloud, &mut Graph) -> CloudResult<T>,
    ) -> Result<T, BuildError> {
        let dataset = self.dataset.dataset.clone();
        self.state.with_cloud(&dataset, self.cloud, declare)
    }

    /// The logical name of `key` on this dataset and cloud.
    fn pulumi_name(&self, key: &str) -> String {
        self.state
            .pulumi_name(&self.dataset.dataset, self.cloud, key)
    }

    /// The group `{dataset}-{suffix}`, created on first use.
    fn group(&mut self, suffix: &str) -> Result<String, BuildError> {
        let dataset = self.dataset.dataset.clone();
        ensure_group(self.state, &dataset, self.cloud, suffix)
    }

    /// The group `{dataset}-{suffix}` as a member of bindings.
    fn group_as_member(&mut self, suffix: &str) -> Result<Member, BuildError> {
        let name = self.group(suffix)?;
        self.state.group_member(self.cloud, &name)
    }

    /// Adds group `{dataset}-{inner}` to group `{dataset}-{outer}` under the logical
    /// name of `key`.
    fn nest(&mut self, outer: &str, key: &str, inner: &str) -> Result<(), BuildError> {
        let outer = self.group(outer)?;
        let inner = self.group(inner)?;
        let key = self.pulumi_name(key);
        self.state
            .groups
            .add_member(self.cloud, &outer, key, GroupMember::Group(inner))
    }

    /// Adds a member to group `{dataset}-{group}` under the logical name of `key`.
    fn add_to_group(
        &mut self,
        group: &str,
        key: &str,
        member: GroupMember,
    ) -> Result<(), BuildError> {
        let group = self.group(group)?;
        let key = self.pulumi_name(key);
        self.state
            .groups
            .add_member(self.cloud, &group, key, member)
    }

    /// The access-level groups: standard, full, and test when set up.
    fn access_levels(&self) -> Vec<&'static str> {
        if self.dataset.setup_test {
            vec!["standard", "full", "test"]
        } else {
            vec!["standard", "full"]
        }
    }

    /// Declares the dataset's resources on this cloud, in the reference's order.
    pub fn main(&mut self) -> Result<(), BuildError> {
        self.setup_access_groups()?;
        self.setup_externally_specified_members()?;
        self.setup_billing()?;
        if self.has(Component::Storage) {
            self.setup_storage()?;
        }
        if self.has(Component::Metamist) {
            self.setup_metamist()?;
        }
        if self.has(Component::HailAccounts) {
            self.setup_hail()?;
        }
        if self.has(Component::Cromwell) {
            self.setup_cromwell()?;
        }
        if self.has(Component::Spark) {
            self.setup_spark()?;
        }
        if self.has(Component::Notebooks) {
            self.setup_notebooks()?;
        }
        if self.has(Component::ContainerRegistry) {
            self.setup_container_registry()?;
        }
        if self.dataset.enable_shared_project {
            self.setup_shared_project()?;
        }
        if self.has(Component::AnalysisRunner) {
            self.setup_analysis_runner()?;
        }
        self.setup_tmp_main_read_access()?;
        self.declare(|cloud, graph| cloud.finalise(graph))
    }

    fn not_yet(&self, feature: &str) -> BuildError {
        BuildError::NotYetSupported {
            dataset: Some(self.dataset.dataset.clone()),
            feature: feature.to_owned(),
        }
    }

    /// People from `members`, by group, with a hashed key each.
    fn setup_externally_specified_members(&mut self) -> Result<(), BuildError> {
        for group in [
            "data-manager",
            "analysis",
            "metadata-access",
            "metadata-contribute",
            "metadata-write",
            "web-access",
            "release-access",
        ] {
            let full_name = self.group(group)?;
            let members = crate::config::GroupName::from_name(group)
                .and_then(|g| self.dataset.members.get(&g))
                .cloned()
                .unwrap_or_default();
            for member_key in members {
                let Some(user) = self.state.config.users.get(&member_key) else {
                    continue;
                };
                let Some(identity) = user.clouds.get(&self.cloud) else {
                    continue;
                };
                let hash = member_hash(self.name(), &user.id, self.cloud.as_str());
                let key = format!("{full_name}-member-{hash}");
                let member = GroupMember::Member {
                    member: Member::Id(identity.id.clone()),
                    user: Some(identity.clone()),
                };
                self.add_to_group(group, &key, member)?;
            }
        }
        Ok(())
    }

    /// The monthly budget (GCP only, as in the reference).
    fn setup_billing(&mut self) -> Result<(), BuildError> {
        if !self.is_gcp() {
            return Ok(());
        }
        let Some(budget) = self
            .dataset
            .budgets
            .get(&self.cloud)
            .map(|b| b.monthly_budget)
        else {
            // Validation requires it; a config built in code may still lack it.
            return Err(self.not_yet("a deploy location without a budget"));
        };
        self.declare(|cloud, graph| {
            cloud.create_monthly_budget(graph, "monthly-budget", budget, None)
        })
    }
}
