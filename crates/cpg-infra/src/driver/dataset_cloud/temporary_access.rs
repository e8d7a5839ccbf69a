//! Temporary read access to the main bucket: the tmp-main-read-access group, and
//! when asked for, a Privileged Access Manager entitlement for it.

use crate::cloud::{Member, TemporaryBucketAccessType};
use crate::config::GroupName;
use crate::graph::Value;

use super::super::groups::GroupMember;
use super::super::member_hash::member_hash;
use super::{BuildError, CpgDatasetCloudInfrastructure};

/// The longest a temporary grant lasts: seven days.
const MAX_DURATION: &str = "604800s";

impl CpgDatasetCloudInfrastructure<'_> {
    /// The group always exists on GCP, so dependants can nest into it; the
    /// entitlement is made when the dataset has temporary-access members, lets
    /// notebooks ask, or is a dependency of a dataset that does.
    pub(super) fn setup_tmp_main_read_access(&mut self) -> Result<(), BuildError> {
        if !self.is_gcp() {
            return Ok(());
        }
        let group = self.group("tmp-main-read-access")?;
        let members = self
            .dataset
            .members
            .get(&GroupName::TmpMainReadAccess)
            .cloned()
            .unwrap_or_default();
        let wants_access = !members.is_empty()
            || self.dataset.allow_notebook_tmp_main_read
            || self.state.org.pam_datasets.contains(self.name());
        if !wants_access {
            return Ok(());
        }

        let group_member = self.state.group_member(self.cloud, &group)?;
        self.declare(|cloud, graph| {
            cloud.add_project_role(
                graph,
                "tmp-main-read-access-project-browser",
                &group_member,
                "roles/browser",
                None,
            )
        })?;
        let Some(broker) = self.state.org.pam_broker.clone() else {
            return Err(self.not_yet("temporary access without the PAM broker account"));
        };

        for member_key in members {
            let Some(user) = self.state.config.users.get(&member_key) else {
                continue;
            };
            let Some(identity) = user.clouds.get(&self.cloud) else {
                continue;
            };
            let hash = member_hash(self.name(), &user.id, self.cloud.as_str());
            let member = GroupMember::Member {
                member: Member::Id(identity.id.clone()),
                user: Some(identity.clone()),
            };
            self.add_to_group(
                "tmp-main-read-access",
                &format!("tmp-main-read-access-member-{hash}"),
                member,
            )?;
        }

        // Without the notebooks component there is no notebook account to add: the
        // rest is built, as the reference builds it (validation warns).
        if self.dataset.allow_notebook_tmp_main_read
            && self.has(crate::config::Component::Notebooks)
        {
            let notebook = self.notebook_account()?;
            let broker_member = Member::MachineAccount(broker);
            self.declare(|cloud, graph| {
                cloud.add_token_creator(
                    graph,
                    "pam-broker-token-creator",
                    &notebook,
                    &broker_member,
                )
            })?;
            let member = GroupMember::Member {
                member: Member::MachineAccount(notebook),
                user: None,
            };
            self.add_to_group(
                "tmp-main-read-access",
                "notebook-sa-in-tmp-main-read-access",
                member,
            )?;
        }

        // The principal is the group's email, with the group prefix the group was
        // created with (the reference leaves the prefix out).
        let domain = self
            .state
            .config
            .gcp
            .as_ref()
            .map(|g| g.groups_domain.clone())
            .unwrap_or_default();
        let prefix = self.state.config.group_prefix.clone().unwrap_or_default();
        let principal = Value::String(format!("group:{prefix}{group}@{domain}"));
        let main = self.standard_bucket("main")?;
        self.declare(|cloud, graph| {
            cloud.create_temporary_bucket_access(
                graph,
                "temporary-bucket-access-main-read",
                &main,
                TemporaryBucketAccessType::Read,
                vec![principal],
                MAX_DURATION,
            )
        })?;
        let name = self.name().to_owned();
        self.state.export(
            &format!("pam-entitlement-{name}-read"),
            Value::String(format!("pam-{name}-read")),
        )
    }
}
