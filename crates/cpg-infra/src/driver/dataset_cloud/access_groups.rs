//! Access groups: how they nest, the machine accounts in the access-level groups,
//! and the wiring into the groups of the datasets this one depends on.

use crate::cloud::Member;
use crate::config::Component;

use super::super::groups::GroupMember;
use super::{BuildError, CpgDatasetCloudInfrastructure};

/// Groups nested into the same group of every dataset this one fully depends on.
const TRANSITIVE_GROUPS: [&str; 16] = [
    "analysis",
    "data-manager",
    "web-access",
    "metadata-access",
    "metadata-contribute",
    "metadata-write",
    "upload",
    "main-list",
    "main-read",
    "main-create",
    "full",
    "images-reader",
    "images-dev-reader",
    "images-writer",
    "images-dev-writer",
    "tmp-main-read-access",
];

impl CpgDatasetCloudInfrastructure<'_> {
    pub(super) fn setup_access_groups(&mut self) -> Result<(), BuildError> {
        self.nest("web-access", "analysis-in-web-access", "analysis")?;
        self.setup_access_level_group_memberships()?;
        self.setup_dependencies_group_memberships()?;

        self.nest("analysis", "data-manager-in-analysis", "data-manager")?;
        self.nest("upload", "data-manager-in-upload", "data-manager")?;
        self.nest("metadata-access", "analysis-in-metadata", "analysis")?;
        self.nest(
            "metadata-contribute",
            "analysis-in-metadata-contribute",
            "analysis",
        )?;
        self.nest("web-access", "metadata-in-web-access", "metadata-access")?;

        if self.dataset.setup_test {
            self.nest("test-read", "test-full-in-test-read", "test-full")?;
            self.nest("test-full", "analysis-group-in-test-full", "analysis")?;
            self.nest("test-full", "full-in-test-full", "full")?;
            self.nest("test-full", "test-in-test-full", "test")?;
        }

        self.nest("main-list", "analysis-group-in-main-list", "analysis")?;
        self.nest("main-read", "main-create-in-main-read", "main-create")?;
        self.nest("main-read", "data-manager-in-main-read", "data-manager")?;
        self.nest("main-create", "standard-in-main-create", "standard")?;
        self.nest("main-create", "full-in-main-create", "full")?;

        if self.is_gcp() {
            self.setup_gcp_monitoring_access()?;
        }
        Ok(())
    }

    /// The working machine accounts (Hail, deployment, Dataproc, Cromwell) join
    /// their access level's group.
    fn setup_access_level_group_memberships(&mut self) -> Result<(), BuildError> {
        let mut accounts: Vec<(&str, &str, Member)> = Vec::new();
        for (level, account) in self.hail_accounts()? {
            accounts.push(("hail", level, account.member()));
        }
        let mut deployment = vec![
            (
                "standard",
                self.dataset.deployment_service_account_standard.clone(),
            ),
            ("full", self.dataset.deployment_service_account_full.clone()),
        ];
        if self.dataset.setup_test {
            deployment.push(("test", self.dataset.deployment_service_account_test.clone()));
        }
        for (level, account) in deployment {
            if let Some(account) = account {
                accounts.push(("deployment", level, Member::Id(account)));
            }
        }
        for (level, account) in self.level_accounts(Component::Spark, "dataproc")? {
            accounts.push(("dataproc", level, Member::MachineAccount(account)));
        }
        for (level, account) in self.level_accounts(Component::Cromwell, "cromwell")? {
            accounts.push(("cromwell", level, Member::MachineAccount(account)));
        }
        let levels = self.access_levels();
        for (kind, level, member) in accounts {
            if !levels.contains(&level) {
                continue;
            }
            let key = format!("{kind}-{level}-access-level-group-membership");
            self.add_to_group(level, &key, GroupMember::Member { member, user: None })?;
        }
        Ok(())
    }

    fn setup_gcp_monitoring_access(&mut self) -> Result<(), BuildError> {
        let analysis = self.group_as_member("analysis")?;
        for (key, role) in [
            ("project-compute-viewer", "roles/compute.viewer"),
            ("project-logging-viewer", "roles/logging.viewer"),
            ("project-monitoring-viewer", "roles/monitoring.viewer"),
        ] {
            self.declare(|cloud, graph| cloud.add_project_role(graph, key, &analysis, role, None))?;
        }
        Ok(())
    }

    /// This dataset's groups join the matching groups of the datasets it depends on
    /// (and of the common dataset); read-only dependencies get the reading groups.
    fn setup_dependencies_group_memberships(&mut self) -> Result<(), BuildError> {
        let mut dependencies = self.dataset.depends_on.clone();
        let common = &self.state.config.common_dataset;
        if !self.is_common() && !dependencies.contains(common) {
            dependencies.push(common.clone());
        }
        for dependency in &dependencies {
            let mut groups: Vec<&str> = TRANSITIVE_GROUPS.to_vec();
            if self.dataset.setup_test {
                // The reference lists test-read twice; once is what it declares.
                groups.extend(["test-read", "test-full"]);
            }
            for group in groups {
                let own = self.group(group)?;
                let target = self.dependency_group(dependency, group)?;
                let key = self.pulumi_name(&format!("transitive-{group}-in-{dependency}-{group}"));
                self.state
                    .groups
                    .add_member(self.cloud, &target, key, GroupMember::Group(own))?;
            }
        }

        for dependency in self.dataset.depends_on_readonly.clone() {
            let mut map: Vec<(&str, Vec<&str>)> = vec![
                ("main-read", vec!["main-read", "main-create", "full"]),
                ("main-list", vec!["main-list"]),
                ("images-reader", vec!["images-reader"]),
                ("images-dev-reader", vec!["images-dev-reader"]),
                ("images-dev-writer", vec!["images-dev-writer"]),
                ("tmp-main-read-access", vec!["tmp-main-read-access"]),
            ];
            if self.dataset.setup_test {
                map.push(("test-read", vec!["test-read", "test-full"]));
            }
            for (target_group, groups) in map {
                let target = self.dependency_group(&dependency, target_group)?;
                for group in groups {
                    let own = self.group(group)?;
                    let key = self.pulumi_name(&format!("transitive-{own}-in-{target}"));
                    self.state.groups.add_member(
                        self.cloud,
                        &target,
                        key,
                        GroupMember::Group(own),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// A group of a dataset this one depends on. The reference expects it to exist
    /// already and fails when the dependency lacks the component that makes it (the
    /// images groups when common has no container registry, the test groups when a
    /// dependency sets up no test namespace); here it is created for the dependency.
    fn dependency_group(&mut self, dependency: &str, suffix: &str) -> Result<String, BuildError> {
        super::ensure_group(self.state, dependency, self.cloud, suffix)
    }
}
