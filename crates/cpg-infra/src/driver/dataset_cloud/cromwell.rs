//! The cromwell component: a machine account per access level, its key in two
//! secrets (the analysis-runner's project and the dataset's), and Batch roles.

use crate::cloud::{MachineAccountRole, Member, ResourceRef, SecretMembership};
use crate::config::Component;
use crate::graph::{ResourceId, Value};

use super::{BuildError, CpgDatasetCloudInfrastructure};

impl CpgDatasetCloudInfrastructure<'_> {
    /// The machine accounts `{prefix}-{level}` per access level (test, standard,
    /// full), created on first use; none without `component`.
    pub(super) fn level_accounts(
        &mut self,
        component: Component,
        prefix: &str,
    ) -> Result<Vec<(&'static str, ResourceId)>, BuildError> {
        if !self.has(component) {
            return Ok(Vec::new());
        }
        if let Some(accounts) = self.memo().level_accounts.get(prefix) {
            return Ok(accounts.clone());
        }
        let mut levels = Vec::new();
        if self.dataset.setup_test {
            levels.push("test");
        }
        levels.extend(["standard", "full"]);
        let mut accounts = Vec::new();
        for level in levels {
            let name = format!("{prefix}-{level}");
            let account = self
                .declare(|cloud, graph| cloud.create_machine_account(graph, &name, None, None))?;
            accounts.push((level, account));
        }
        self.memo()
            .level_accounts
            .insert(prefix.to_owned(), accounts.clone());
        Ok(accounts)
    }

    pub(super) fn setup_cromwell(&mut self) -> Result<(), BuildError> {
        let Some(cromwell) = self.state.config.cromwell.clone() else {
            return Ok(());
        };
        let runner = Member::Id(cromwell.gcp.runner_machine_account.clone());
        let accounts = self.level_accounts(Component::Cromwell, "cromwell")?;
        for (level, account) in &accounts {
            let itself = Member::MachineAccount(account.clone());
            let key = format!("cromwell-service-account-{level}-service-account-user");
            self.declare(|cloud, graph| {
                cloud.add_member_to_machine_account_role(
                    graph,
                    &key,
                    account,
                    &itself,
                    MachineAccountRole::Access,
                )
            })?;
            let key = format!("cromwell-runner-{level}-service-account-user");
            self.declare(|cloud, graph| {
                cloud.add_member_to_machine_account_role(
                    graph,
                    &key,
                    account,
                    &runner,
                    MachineAccountRole::Access,
                )
            })?;
        }
        if self.is_gcp() {
            let access_group = Member::Id(cromwell.gcp.access_group_id.clone());
            for (level, hail) in self.hail_accounts()? {
                let key = format!("hail-service-account-{level}-cromwell-access");
                self.declare(|cloud, graph| {
                    cloud.add_group_member(graph, &key, &access_group, &hail.member(), false)
                })?;
            }
            for (level, account) in &accounts {
                let key = format!("cromwell-service-account-{level}-workflows-runner");
                let account = Member::MachineAccount(account.clone());
                self.declare(|cloud, graph| {
                    cloud.add_batch_agent_reporter_role(graph, &key, &account)
                })?;
            }
            self.declare(|cloud, graph| {
                cloud.add_batch_jobs_editor_role(
                    graph,
                    "cromwell-runner-batch-jobs-editor",
                    &runner,
                )
            })?;
        }
        self.setup_cromwell_credentials(&accounts)
    }

    fn setup_cromwell_credentials(
        &mut self,
        accounts: &[(&'static str, ResourceId)],
    ) -> Result<(), BuildError> {
        let Some(runner) = self.state.config.analysis_runner.clone() else {
            return Ok(());
        };
        let server = Member::Id(runner.gcp.server_machine_account.clone());
        let runner_project = Value::from(runner.gcp.project.as_str());
        let hail_accounts = self.hail_accounts()?;
        for (level, account) in accounts {
            let key = format!("cromwell-service-account-{level}-key");
            let credentials = self.declare(|cloud, graph| {
                cloud.get_credentials_for_machine_account(graph, &key, account)
            })?;
            let hail = hail_accounts
                .iter()
                .find(|(l, _)| l == level)
                .map(|(_, a)| a.member());
            let secret_name = format!("{}-cromwell-{level}-key", self.name());

            // The dataset's own copy, created later than the other, hence "-2".
            let resource_key = format!("{}-2", self.pulumi_name(&secret_name));
            let secret = self.declare(|cloud, graph| {
                cloud.create_secret(graph, &secret_name, None, Some(&resource_key))
            })?;
            self.store_credentials(
                level,
                "-2",
                &secret,
                credentials.clone(),
                &server,
                hail.as_ref(),
                None,
            )?;

            // The copy in the analysis-runner's project.
            let project = Some(runner_project.clone());
            let old = self
                .declare(|cloud, graph| cloud.create_secret(graph, &secret_name, project, None))?;
            self.store_credentials(
                level,
                "",
                &old,
                credentials,
                &server,
                hail.as_ref(),
                Some(runner_project.clone()),
            )?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn store_credentials(
        &mut self,
        level: &str,
        suffix: &str,
        secret: &ResourceId,
        credentials: Value,
        server: &Member,
        hail: Option<&Member>,
        project: Option<Value>,
    ) -> Result<(), BuildError> {
        let key = format!("cromwell-service-account-{level}-secret-version{suffix}");
        self.declare(|cloud, graph| cloud.add_secret_version(graph, &key, secret, credentials))?;
        let reference = ResourceRef::Declared(secret.clone());
        let key = format!("cromwell-service-account-{level}-secret-accessor{suffix}");
        let accessor_project = project.clone();
        self.declare(|cloud, graph| {
            cloud.add_secret_member(
                graph,
                &key,
                &reference,
                server,
                SecretMembership::Accessor,
                accessor_project,
            )
        })?;
        if let Some(hail) = hail {
            let key = format!("cromwell-service-account-{level}-self-accessor{suffix}");
            self.declare(|cloud, graph| {
                cloud.add_secret_member(
                    graph,
                    &key,
                    &reference,
                    hail,
                    SecretMembership::Accessor,
                    project,
                )
            })?;
        }
        Ok(())
    }
}
