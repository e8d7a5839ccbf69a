//! The hail-accounts component: a Hail Batch user per access level, the dataset's
//! billing project, git-credentials access, the hail bucket and the wheels viewers.

use crate::cloud::{
    BucketMembership, BucketSpec, LifecycleRule, Member, ResourceRef, SecretMembership, periods,
};
use crate::config::CloudName;
use crate::graph::{Resource, ResourceId, Value};

use super::super::groups::GroupMember;
use super::{BuildError, CpgDatasetCloudInfrastructure};

/// A Hail Batch user the infrastructure created for an access level.
#[derive(Debug, Clone)]
pub(crate) struct HailAccount {
    /// The Hail username.
    pub username: String,
    /// The user resource; its `cloud_id` output is the account's email.
    pub user: ResourceId,
}

impl HailAccount {
    /// The account as a member of groups and bindings.
    pub fn member(&self) -> Member {
        Member::MachineAccountEmail(Value::output(&self.user, "cloud_id"))
    }
}

impl CpgDatasetCloudInfrastructure<'_> {
    /// The Batch service URL and the auth service URL on this cloud (none on dry-run).
    fn hail_urls(&self) -> (Option<String>, Option<String>) {
        let Some(hail) = &self.state.config.hail else {
            return (None, None);
        };
        match self.cloud {
            CloudName::Gcp => (
                Some(hail.gcp.hail_batch_url.clone()),
                Some(hail.gcp.hail_auth_url.clone()),
            ),
            CloudName::Azure => hail.azure.as_ref().map_or((None, None), |a| {
                (
                    Some(a.hail_batch_url.clone()),
                    Some(a.hail_auth_url.clone()),
                )
            }),
            CloudName::DryRun => (None, None),
        }
    }

    /// The Hail accounts by access level (full, standard, and test when set up),
    /// created on first use; none without the component.
    pub(super) fn hail_accounts(&mut self) -> Result<Vec<(&'static str, HailAccount)>, BuildError> {
        if !self.has(crate::config::Component::HailAccounts) {
            return Ok(Vec::new());
        }
        if let Some(accounts) = &self.memo().hail_accounts {
            return Ok(accounts.clone());
        }
        let mut levels = vec!["full", "standard"];
        if self.dataset.setup_test {
            levels.push("test");
        }
        let dataset_name = match (
            &self.dataset.gcp.hail_service_account_dataset_name_override,
            self.cloud,
        ) {
            (Some(name), CloudName::Gcp) => name.clone(),
            _ => self.dataset.dataset.clone(),
        };
        let prefix = self
            .state
            .config
            .hail
            .as_ref()
            .and_then(|h| h.username_prefix.clone())
            .unwrap_or_default();
        let (_, auth_url) = self.hail_urls();
        let mut accounts = Vec::new();
        for level in levels {
            let username = format!("{prefix}{dataset_name}-{level}");
            let user = self.state.graph.declare(
                Resource::new(
                    cpg_infra_kinds::HAIL_USER,
                    self.pulumi_name(&format!("hail-batch-user-{level}")),
                )
                .input("username", username.as_str())
                .input(
                    "batch_uri",
                    auth_url.clone().map_or(Value::Null, Value::String),
                )
                .input("token_category", self.cloud.as_str()),
            )?;
            accounts.push((level, HailAccount { username, user }));
        }
        self.memo().hail_accounts = Some(accounts.clone());
        Ok(accounts)
    }

    /// The dataset's Hail Batch billing project, created on first use.
    pub(super) fn hail_billing_project(&mut self) -> Result<ResourceId, BuildError> {
        if let Some(project) = &self.memo().hail_billing_project {
            return Ok(project.clone());
        }
        let (batch_url, _) = self.hail_urls();
        let project = self.state.graph.declare(
            Resource::new(
                cpg_infra_kinds::HAIL_BILLING_PROJECT,
                self.pulumi_name("batch-billing-project"),
            )
            .input("name", self.name())
            .input("batch_uri", batch_url.map_or(Value::Null, Value::String))
            .input("token_category", self.cloud.as_str()),
        )?;
        self.memo().hail_billing_project = Some(project.clone());
        Ok(project)
    }

    fn hail_bucket(&mut self) -> Result<ResourceId, BuildError> {
        self.bucket("hail", |_| {
            BucketSpec::new(
                "hail",
                vec![LifecycleRule::Temporary {
                    days: periods::TMP_BUCKET,
                    matches_prefixes: Vec::new(),
                }],
            )
        })
    }

    pub(super) fn setup_hail(&mut self) -> Result<(), BuildError> {
        self.hail_billing_project()?;
        self.setup_git_checkout_token_permissions()?;
        self.setup_hail_bucket_permissions()?;
        self.setup_hail_wheels_bucket_permissions()
    }

    fn setup_git_checkout_token_permissions(&mut self) -> Result<(), BuildError> {
        let Some(hail) = self.state.config.hail.clone() else {
            return Ok(());
        };
        // An empty name counts as none, as in the reference.
        let secret = hail
            .gcp
            .git_credentials_secret_name
            .filter(|name| !name.is_empty());
        let (true, Some(secret)) = (self.is_gcp(), secret) else {
            return Ok(());
        };
        let secret = ResourceRef::Named(secret);
        let project = hail.gcp.git_credentials_secret_project.map(Value::String);
        for level in self.access_levels() {
            let group = self.group_as_member(level)?;
            let key = format!("git-checkout-token-{level}-accessor");
            let project = project.clone();
            self.declare(|cloud, graph| {
                cloud.add_secret_member(
                    graph,
                    &key,
                    &secret,
                    &group,
                    SecretMembership::Accessor,
                    project,
                )
            })?;
        }
        Ok(())
    }

    fn setup_hail_bucket_permissions(&mut self) -> Result<(), BuildError> {
        for (level, account) in self.hail_accounts()? {
            let bucket = self.hail_bucket()?;
            let key = format!("hail-service-account-{level}-hail-bucket-admin");
            self.grant(&key, &bucket, &account.member(), BucketMembership::Mutate)?;
        }
        if self.has(crate::config::Component::AnalysisRunner)
            && self.is_gcp()
            && let Some(runner) = self.state.config.analysis_runner.clone()
        {
            let bucket = self.hail_bucket()?;
            let server = Member::Id(runner.gcp.server_machine_account);
            self.grant(
                "analysis-runner-hail-bucket-admin",
                &bucket,
                &server,
                BucketMembership::Mutate,
            )?;
        }
        Ok(())
    }

    fn setup_hail_wheels_bucket_permissions(&mut self) -> Result<(), BuildError> {
        let bucket = match (&self.state.config.hail, self.is_gcp()) {
            (Some(hail), true) => hail.gcp.wheel_bucket_name.clone(),
            _ => None,
        };
        // The reference skips an empty name as it skips a missing one.
        let Some(bucket) = bucket.filter(|name| !name.is_empty()) else {
            return Ok(());
        };
        let mut keys = vec![("analysis-group".to_owned(), "analysis")];
        keys.extend(self.access_levels().into_iter().map(|l| (l.to_owned(), l)));
        let wheels = self.group("sm-hail-wheels-viewers")?;
        for (key, group) in keys {
            let inner = self.group(group)?;
            let key = self.pulumi_name(&format!("{key}-hail-wheels-viewer"));
            self.state
                .groups
                .add_member(self.cloud, &wheels, key, GroupMember::Group(inner))?;
        }
        let member = self.state.group_member(self.cloud, &wheels)?;
        let bucket = ResourceRef::Named(bucket);
        self.declare(|cloud, graph| {
            cloud.add_member_to_bucket(
                graph,
                "sm-hail-wheels-viewer",
                &bucket,
                &member,
                BucketMembership::Read,
            )
        })
    }
}
