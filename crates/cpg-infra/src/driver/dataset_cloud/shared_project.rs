//! The shared project: a project with a fixed budget whose account pays for access
//! to the requester-pays release bucket.

use crate::cloud::{BucketMembership, MachineAccountRole, Member};
use crate::graph::Value;

use super::{BuildError, CpgDatasetCloudInfrastructure};

impl CpgDatasetCloudInfrastructure<'_> {
    pub(super) fn setup_shared_project(&mut self) -> Result<(), BuildError> {
        // Validation guarantees the release bucket and the total budget.
        let Some(total) = self
            .dataset
            .budgets
            .get(&self.cloud)
            .and_then(|b| b.shared_total_budget)
        else {
            return Err(
                self.not_yet("a shared project without budgets.<cloud>.shared_total_budget")
            );
        };
        let release = self.release_bucket()?;
        let project_id = self.declare(|cloud, graph| cloud.project_id(graph))?;
        let name = Value::concat([project_id, Value::from("-shared")]);
        let shared =
            self.declare(|cloud, graph| cloud.create_project(graph, "shared-project", name))?;
        self.declare(|cloud, graph| {
            cloud.create_fixed_budget(graph, "shared-budget", total, &shared)
        })?;
        let account = self.declare(|cloud, graph| {
            cloud.create_machine_account(
                graph,
                "shared",
                Some(Value::output(&shared, "projectId")),
                Some("budget-shared-service-account"),
            )
        })?;
        let account_member = Member::MachineAccount(account.clone());
        if self.is_gcp() {
            // A project passed where an id is expected stands for the project's id.
            let shared_project = Value::output(&shared, "id");
            let data_manager = self.group_as_member("data-manager")?;
            let project = Some(shared_project.clone());
            self.declare(|cloud, graph| {
                cloud.add_project_role(
                    graph,
                    "shared-project-serviceusage-consumer",
                    &account_member,
                    "roles/serviceusage.serviceUsageConsumer",
                    project,
                )
            })?;
            self.declare(|cloud, graph| {
                cloud.add_member_to_machine_account_role(
                    graph,
                    "shared-project-sa-data-manager-credentials-generator",
                    &account,
                    &data_manager,
                    MachineAccountRole::CredentialsAdmin,
                )
            })?;
            self.declare(|cloud, graph| {
                cloud.add_project_role(
                    graph,
                    "data-manager-shared-iam-viewer",
                    &data_manager,
                    "roles/iam.roleViewer",
                    Some(shared_project),
                )
            })?;
        }
        self.grant(
            "release-shared-membership",
            &release,
            &account_member,
            BucketMembership::Read,
        )
    }
}
