//! The spark component: Dataproc machine accounts per access level, the Hail
//! accounts' rights to use them and run clusters, and Dataproc viewers.

use crate::cloud::{DataprocRole, MachineAccountRole, Member};
use crate::config::Component;

use super::{BuildError, CpgDatasetCloudInfrastructure};

impl CpgDatasetCloudInfrastructure<'_> {
    pub(super) fn setup_spark(&mut self) -> Result<(), BuildError> {
        let spark = self.level_accounts(Component::Spark, "dataproc")?;
        let hail = self.hail_accounts()?;
        for (level, account) in &hail {
            let Some((_, spark_account)) = spark.iter().find(|(l, _)| l == level) else {
                continue;
            };
            let key = format!("hail-service-account-{level}-dataproc-service-account-user");
            let member = account.member();
            self.declare(|cloud, graph| {
                cloud.add_member_to_machine_account_role(
                    graph,
                    &key,
                    spark_account,
                    &member,
                    MachineAccountRole::Access,
                )
            })?;
        }
        if !self.is_gcp() {
            return Ok(());
        }
        for (level, account) in &spark {
            let key = format!("dataproc-service-account-{level}-dataproc-worker");
            let member = Member::MachineAccount(account.clone());
            self.declare(|cloud, graph| {
                cloud.add_member_to_dataproc_api(
                    graph,
                    &key,
                    &member,
                    DataprocRole::WorkerWithoutStorageAccess,
                )
            })?;
        }
        for (level, account) in &hail {
            let member = account.member();
            let key = format!("hail-service-account-{level}-dataproc-admin");
            self.declare(|cloud, graph| {
                cloud.add_member_to_dataproc_api(graph, &key, &member, DataprocRole::Admin)
            })?;
            let key = format!("hail-service-account-{level}-dataproc-worker");
            self.declare(|cloud, graph| {
                cloud.add_member_to_dataproc_api(
                    graph,
                    &key,
                    &member,
                    DataprocRole::WorkerWithoutStorageAccess,
                )
            })?;
        }
        let analysis = self.group_as_member("analysis")?;
        self.declare(|cloud, graph| {
            cloud.add_project_role(
                graph,
                "project-dataproc-viewer",
                &analysis,
                "roles/dataproc.viewer",
                None,
            )
        })?;
        if self.dataset.is_internal_dataset {
            let internal = super::super::organisation::internal_logs_access_group(self.state)?;
            self.declare(|cloud, graph| {
                cloud.add_project_role(
                    graph,
                    "internal-users-dataproc-viewer",
                    &internal,
                    "roles/dataproc.viewer",
                    None,
                )
            })?;
        }
        Ok(())
    }
}
