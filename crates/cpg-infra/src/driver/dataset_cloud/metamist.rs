//! The metamist component: the six sample-metadata groups and who is in them,
//! metamist invokers, and metamist's list access to the dataset's buckets.

use crate::cloud::Member;
use crate::config::Component;

use super::super::groups::GroupMember;
use super::{BuildError, CpgDatasetCloudInfrastructure};

const TEST_READ: &str = "test-read";
const TEST_WRITE: &str = "test-write";
const TEST_CONTRIBUTE: &str = "test-contribute";
const MAIN_READ: &str = "main-read";
const MAIN_WRITE: &str = "main-write";
const MAIN_CONTRIBUTE: &str = "main-contribute";

/// Every metamist permission, in the reference's order.
pub(crate) const METAMIST_PERMISSIONS: [&str; 6] = [
    TEST_READ,
    TEST_WRITE,
    TEST_CONTRIBUTE,
    MAIN_READ,
    MAIN_WRITE,
    MAIN_CONTRIBUTE,
];

/// Who gets a set of metamist permissions.
enum Accessor {
    /// One of the dataset's groups, by suffix.
    Group(&'static str),
    /// An account by email.
    Account(String),
}

use crate::config::names::name_from_account;

impl CpgDatasetCloudInfrastructure<'_> {
    /// The sample-metadata groups by permission, created on first use.
    fn metamist_group(&mut self, permission: &str) -> Result<String, BuildError> {
        self.group(&format!("sample-metadata-{permission}"))
    }

    pub(super) fn setup_metamist(&mut self) -> Result<(), BuildError> {
        for permission in METAMIST_PERMISSIONS {
            self.metamist_group(permission)?;
        }
        self.setup_metamist_access_permissions()?;
        if self.is_gcp() {
            self.setup_metamist_cloudrun_permissions()?;
            self.setup_metamist_dataset_storage_permissions()?;
        } else if self.has(Component::Metamist) && self.cloud == crate::config::CloudName::Azure {
            return Err(self.not_yet("the metamist component on azure"));
        }
        Ok(())
    }

    fn add_account(&mut self, group: &str, key: &str, email: String) -> Result<(), BuildError> {
        let key = self.pulumi_name(key);
        let member = GroupMember::Member {
            member: Member::Id(email),
            user: None,
        };
        self.state.groups.add_member(self.cloud, group, key, member)
    }

    fn setup_metamist_access_permissions(&mut self) -> Result<(), BuildError> {
        let coordinator = self
            .state
            .config
            .billing
            .as_ref()
            .and_then(|b| b.coordinator_machine_account.clone());
        if let Some(coordinator) = coordinator {
            let group = self.metamist_group(MAIN_READ)?;
            self.add_account(
                &group,
                "sample-metadata-main-read-billing-coordinator",
                coordinator,
            )?;
        }

        let all = &METAMIST_PERMISSIONS[..];
        let mut levels: Vec<(String, Accessor, &[&str])> = vec![
            (
                "human".into(),
                Accessor::Group("analysis"),
                &[
                    MAIN_READ,
                    MAIN_CONTRIBUTE,
                    TEST_READ,
                    TEST_WRITE,
                    TEST_CONTRIBUTE,
                ],
            ),
            (
                "data-manager-group".into(),
                Accessor::Group("data-manager"),
                all,
            ),
            (
                "metadata-group".into(),
                Accessor::Group("metadata-access"),
                &[MAIN_READ, TEST_READ, TEST_WRITE],
            ),
            (
                "metadata-contribute-group".into(),
                Accessor::Group("metadata-contribute"),
                &[
                    MAIN_READ,
                    MAIN_CONTRIBUTE,
                    TEST_READ,
                    TEST_WRITE,
                    TEST_CONTRIBUTE,
                ],
            ),
            (
                "test-read".into(),
                Accessor::Group("test-read"),
                &[MAIN_READ, TEST_READ, TEST_WRITE],
            ),
            (
                "test-write".into(),
                Accessor::Group("test-full"),
                &[MAIN_READ, TEST_READ, TEST_WRITE],
            ),
            (
                "main-read".into(),
                Accessor::Group("main-read"),
                &[MAIN_READ],
            ),
            (
                "main-write".into(),
                Accessor::Group("main-create"),
                &[MAIN_READ, MAIN_WRITE],
            ),
            ("full".into(), Accessor::Group("full"), all),
            (
                "metadata-write-group".into(),
                Accessor::Group("metadata-write"),
                &[MAIN_READ, MAIN_WRITE, TEST_READ, TEST_WRITE],
            ),
        ];
        if let Some(runner) = &self.state.config.analysis_runner {
            levels.push((
                "analysis-runner-logger".into(),
                Accessor::Account(runner.gcp.logger_machine_account.clone()),
                all,
            ));
        }
        for account in self.dataset.sm_read_only_sas.clone() {
            levels.push((
                name_from_account(&account),
                Accessor::Account(account),
                &[MAIN_READ],
            ));
        }
        for account in self.dataset.sm_read_write_sas.clone() {
            levels.push((
                name_from_account(&account),
                Accessor::Account(account),
                &[MAIN_READ, MAIN_WRITE],
            ));
        }

        // Two extra accounts may derive one name: the reference keeps the last
        // membership under each key, so an earlier one under a key a later account
        // also takes is left out (validation warns about it).
        let memberships: Vec<(&str, String, &Accessor)> = levels
            .iter()
            .flat_map(|(name, accessor, permissions)| {
                permissions.iter().map(move |permission| {
                    let key = format!("sample-metadata-{permission}-{name}-group-membership");
                    (*permission, key, accessor)
                })
            })
            .collect();
        let last_by_key: std::collections::BTreeMap<&str, usize> = memberships
            .iter()
            .enumerate()
            .map(|(i, (_, key, _))| (key.as_str(), i))
            .collect();
        for (i, (permission, key, accessor)) in memberships.iter().enumerate() {
            if last_by_key.get(key.as_str()) != Some(&i) {
                continue;
            }
            let (permission, key, accessor) = (*permission, key.clone(), *accessor);
            {
                let group = self.metamist_group(permission)?;
                match &accessor {
                    Accessor::Group(suffix) => {
                        let inner = self.group(suffix)?;
                        let key = self.pulumi_name(&key);
                        self.state.groups.add_member(
                            self.cloud,
                            &group,
                            key,
                            GroupMember::Group(inner),
                        )?;
                    }
                    Accessor::Account(email) => self.add_account(&group, &key, email.clone())?,
                }
            }
        }
        Ok(())
    }

    fn setup_metamist_cloudrun_permissions(&mut self) -> Result<(), BuildError> {
        let invokers = "sample-metadata-invokers";
        let analysis = self.group("analysis")?;
        let key = self.pulumi_name("sample-metadata-analysis-invoker");
        self.state
            .groups
            .add_member(self.cloud, invokers, key, GroupMember::Group(analysis))?;
        for permission in METAMIST_PERMISSIONS {
            let group = self.metamist_group(permission)?;
            let key = self.pulumi_name(&format!("sample-metadata-{permission}-invoker"));
            self.state
                .groups
                .add_member(self.cloud, invokers, key, GroupMember::Group(group))?;
        }
        Ok(())
    }

    /// Metamist's accounts list the dataset's buckets through main-list.
    fn setup_metamist_dataset_storage_permissions(&mut self) -> Result<(), BuildError> {
        let Some(metamist) = self.state.config.metamist.clone() else {
            return Ok(());
        };
        let main_list = self.group("main-list")?;
        // The reference adds both accounts under one key, so only the legacy account
        // reaches the group; the current account gets a key of its own.
        self.add_account(
            &main_list,
            "metamist-machine-account-in-main-list",
            metamist.gcp.machine_account,
        )?;
        self.add_account(
            &main_list,
            "metamist-service-account-in-main-list",
            metamist.gcp.legacy_machine_account,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::name_from_account;

    #[test]
    fn names_from_accounts_match_the_reference() {
        assert_eq!(
            name_from_account("my-service-account@project.iam.gserviceaccount.com"),
            "my-service-account-project"
        );
        assert_eq!(
            name_from_account("yourname@populationgenomics.org.au"),
            "yourname"
        );
        assert_eq!(
            name_from_account("my.service-account+extra@domain.com"),
            "my-service-account-extra"
        );
    }
}
