//! The notebooks component: the notebook account, who may use it, and its rights in
//! the notebooks project.

use crate::cloud::{MachineAccountRole, Member};
use crate::config::CloudName;
use crate::graph::{ResourceId, Value};

use super::super::groups::GroupMember;
use super::{BuildError, CpgDatasetCloudInfrastructure};

impl CpgDatasetCloudInfrastructure<'_> {
    /// The dataset's notebook account in the notebooks project, created on first
    /// use, with its id and email exported (on GCP).
    pub(super) fn notebook_account(&mut self) -> Result<ResourceId, BuildError> {
        if let Some(account) = &self.memo().notebook_account {
            return Ok(account.clone());
        }
        let project = self
            .state
            .config
            .notebooks
            .as_ref()
            .map(|n| Value::from(n.gcp.project.as_str()));
        let name = format!("notebook-{}", self.name());
        let account =
            self.declare(|cloud, graph| cloud.create_machine_account(graph, &name, project, None))?;
        // The exports name no cloud: they are the GCP account's, for the PAM stack.
        if self.is_gcp() {
            self.state
                .export(&format!("{name}-id"), Value::output(&account, "id"))?;
            self.state
                .export(&format!("{name}-email"), Value::output(&account, "email"))?;
        }
        self.memo().notebook_account = Some(account.clone());
        Ok(account)
    }

    pub(super) fn setup_notebooks(&mut self) -> Result<(), BuildError> {
        let account = self.notebook_account()?;
        let analysis = self.group_as_member("analysis")?;
        self.declare(|cloud, graph| {
            cloud.add_member_to_machine_account_role(
                graph,
                "notebook-account-users",
                &account,
                &analysis,
                MachineAccountRole::Access,
            )
        })?;
        let member = GroupMember::Member {
            member: Member::MachineAccount(account.clone()),
            user: None,
        };
        self.add_to_group("analysis", "notebook-service-account-group-member", member)?;
        match self.cloud {
            CloudName::Gcp => {
                let project = self
                    .state
                    .config
                    .notebooks
                    .as_ref()
                    .map(|n| Value::from(n.gcp.project.as_str()));
                let account = Member::MachineAccount(account);
                self.declare(|cloud, graph| {
                    cloud.add_project_role(
                        graph,
                        "notebook-account-compute-admin",
                        &account,
                        "roles/compute.admin",
                        project,
                    )
                })
            }
            CloudName::DryRun => Ok(()),
            CloudName::Azure => {
                Err(self.not_yet("compute admin for the notebook account on azure"))
            }
        }
    }
}
