//! Azure for cpg-infra: a [`Cloud`] that declares the reference's Azure resources
//! with its azure-native and azuread type tokens, logical names and inputs, and
//! fixes what the reference's Azure half broke (see
//! `docs/differences.md`).
//!
//! A dataset on Azure is a resource group holding one storage account (its buckets
//! are blob containers, their lifecycle rules one management policy), user-assigned
//! identities for machine accounts, a Key Vault for secrets, and container
//! registries; groups are Entra ID groups.
//!
//! ```
//! use cpg_infra::cloud::CloudProvider;
//! let provider = cpg_infra_azure::AzureProvider;
//! assert_eq!(provider.name(), cpg_infra::config::CloudName::Azure);
//! ```

mod cloud;
pub mod members;
mod options;
pub mod roles;
pub mod tokens;

use std::collections::BTreeSet;
use std::sync::Arc;

use cpg_infra::cloud::{Cloud, CloudError, CloudProvider, CloudResult, LifecycleRule, Member};
use cpg_infra::config::{
    AzureConfig, CloudName, CpgDatasetConfig, CpgInfrastructureConfig, azure_names,
};
use cpg_infra::graph::{Graph, ResourceId, Value};

pub use options::{resource, sdk_options};

/// Makes an [`AzureCloud`] per dataset.
#[derive(Debug, Clone, Copy, Default)]
pub struct AzureProvider;

impl CloudProvider for AzureProvider {
    fn name(&self) -> CloudName {
        CloudName::Azure
    }

    fn for_dataset(
        &self,
        config: Arc<CpgInfrastructureConfig>,
        dataset: Arc<CpgDatasetConfig>,
    ) -> Box<dyn Cloud> {
        Box::new(AzureCloud::new(config, dataset))
    }
}

/// One dataset's Azure infrastructure: the reference's `AzureInfra`.
#[derive(Debug)]
pub struct AzureCloud {
    config: Arc<CpgInfrastructureConfig>,
    dataset: Arc<CpgDatasetConfig>,
    /// Every person's Entra ID object id, to tell people from applications.
    users: BTreeSet<String>,
    resource_group: Option<ResourceId>,
    storage_account: Option<ResourceId>,
    vault: Option<ResourceId>,
    /// The storage account's lifecycle rules, one management policy for all.
    lifecycle_rules: Vec<Value>,
    /// How long deleted blobs are kept, the longest any container asked for.
    undelete_days: Option<i64>,
}

impl AzureCloud {
    /// The Azure infrastructure of `dataset`.
    pub fn new(config: Arc<CpgInfrastructureConfig>, dataset: Arc<CpgDatasetConfig>) -> Self {
        let users = config
            .users
            .values()
            .filter_map(|user| user.clouds.get(&CloudName::Azure))
            .map(|identity| identity.id.clone())
            .collect();
        AzureCloud {
            config,
            dataset,
            users,
            resource_group: None,
            storage_account: None,
            vault: None,
            lifecycle_rules: Vec::new(),
            undelete_days: None,
        }
    }

    fn azure(&self) -> CloudResult<&AzureConfig> {
        self.config
            .azure
            .as_ref()
            .ok_or(CloudError::MissingSection {
                cloud: CloudName::Azure,
                section: "azure",
            })
    }

    /// The dataset's region (`azure.region` in its config), or the organisation's.
    fn region(&self) -> CloudResult<String> {
        match self.dataset.azure.as_ref().and_then(|a| a.region.clone()) {
            Some(region) => Ok(region),
            None => Ok(self.azure()?.region.clone()),
        }
    }

    fn prefix(&self) -> CloudResult<String> {
        Ok(self.azure()?.dataset_storage_prefix.clone())
    }

    /// The storage account's (and Key Vault's) name.
    pub fn storage_account_name(&self) -> CloudResult<String> {
        Ok(azure_names::storage_account(
            &self.prefix()?,
            &self.dataset.dataset,
        ))
    }

    /// The resource group's name, as other resources' inputs use it.
    fn resource_group_name(&mut self, graph: &mut Graph) -> CloudResult<Value> {
        let group = self.project(graph)?;
        Ok(Value::output(&group, "name"))
    }

    /// The dataset's storage account, declared on first use.
    pub fn storage_account(&mut self, graph: &mut Graph) -> CloudResult<ResourceId> {
        if let Some(account) = &self.storage_account {
            return Ok(account.clone());
        }
        let name = self.storage_account_name()?;
        let group = self.resource_group_name(graph)?;
        let account = graph.declare(
            resource(tokens::STORAGE_ACCOUNT, self.pulumi_name(&name))
                .input("accountName", name.as_str())
                .input("resourceGroupName", group)
                .input("location", self.region()?)
                .input("kind", "StorageV2")
                .input("sku", Value::map([("name", Value::from("Standard_LRS"))])),
        )?;
        self.storage_account = Some(account.clone());
        Ok(account)
    }

    /// The dataset's Key Vault, declared on first use.
    pub fn vault(&mut self, graph: &mut Graph) -> CloudResult<ResourceId> {
        if let Some(vault) = &self.vault {
            return Ok(vault.clone());
        }
        let name = azure_names::key_vault(&self.prefix()?, &self.dataset.dataset);
        let tenant = self.azure()?.tenant.clone();
        let group = self.resource_group_name(graph)?;
        let vault = graph.declare(
            resource(tokens::VAULT, self.pulumi_name("vault"))
                .input("resourceGroupName", group)
                .input("vaultName", name)
                .input("location", self.region()?)
                .input(
                    "properties",
                    Value::map([
                        ("tenantId", Value::from(tenant)),
                        (
                            "sku",
                            Value::map([
                                ("family", Value::from("A")),
                                ("name", Value::from("standard")),
                            ]),
                        ),
                        ("enableRbacAuthorization", Value::Bool(true)),
                        ("enabledForDeployment", Value::Bool(true)),
                        ("enabledForDiskEncryption", Value::Bool(true)),
                        ("enabledForTemplateDeployment", Value::Bool(true)),
                    ]),
                ),
        )?;
        self.vault = Some(vault.clone());
        Ok(vault)
    }

    /// Declares a role assignment of `role` on `scope` to `member`, as `name`.
    fn role_assignment(
        &self,
        graph: &mut Graph,
        name: String,
        scope: Value,
        member: &Member,
        role: &str,
    ) -> CloudResult<()> {
        let principal_type = members::principal_type(member, |id| self.users.contains(id));
        graph.declare(
            resource(tokens::ROLE_ASSIGNMENT, name)
                .input("principalId", members::object_id(member)?)
                .input("principalType", principal_type.as_str())
                .input("roleDefinitionId", roles::definition(role))
                .input("scope", scope),
        )?;
        Ok(())
    }

    /// Adds `rule` for container `container` to the account's management policy;
    /// the undelete rule becomes the account's delete retention instead.
    fn add_lifecycle_rule(&mut self, container: &str, rule: &LifecycleRule) {
        let (action, kind, days, prefixes) = match rule {
            LifecycleRule::Undelete { days } => {
                self.undelete_days = Some(self.undelete_days.map_or(*days, |d| d.max(*days)));
                return;
            }
            LifecycleRule::Archive { days } => ("tierToArchive", "archive", *days, &[][..]),
            LifecycleRule::Temporary {
                days,
                matches_prefixes,
            } => ("delete", "tmp", *days, matches_prefixes.as_slice()),
        };
        // Azure matches `container/prefix`; a bare container name is the reference's
        // filter for a rule over the whole container.
        let prefix_match = if prefixes.is_empty() {
            vec![container.to_owned()]
        } else {
            prefixes
                .iter()
                .map(|prefix| format!("{container}/{prefix}"))
                .collect()
        };
        self.lifecycle_rules.push(Value::map([
            (
                "name",
                Value::String(format!("{container}-bucket-rule-{kind}")),
            ),
            ("type", Value::from("Lifecycle")),
            (
                "definition",
                Value::map([
                    (
                        "actions",
                        Value::map([(
                            "baseBlob",
                            Value::map([(
                                action,
                                Value::map([(
                                    "daysAfterModificationGreaterThan",
                                    Value::Int(days),
                                )]),
                            )]),
                        )]),
                    ),
                    (
                        "filters",
                        Value::map([
                            ("prefixMatch", Value::strings(prefix_match)),
                            ("blobTypes", Value::strings(["blockBlob".to_owned()])),
                        ]),
                    ),
                ]),
            ),
        ]));
    }

    /// Declares the management policy and the delete retention, once every
    /// container has added its rules.
    fn declare_account_policies(&mut self, graph: &mut Graph) -> CloudResult<()> {
        let account = self.storage_account(graph)?;
        let name = self.storage_account_name()?;
        let group = self.resource_group_name(graph)?;
        if !self.lifecycle_rules.is_empty() {
            graph.declare(
                resource(
                    tokens::MANAGEMENT_POLICY,
                    self.pulumi_name(&format!("{name}-management-policy")),
                )
                .input("accountName", Value::output(&account, "name"))
                .input("resourceGroupName", group.clone())
                .input(
                    "policy",
                    Value::map([("rules", Value::List(self.lifecycle_rules.clone()))]),
                )
                .input("managementPolicyName", "default"),
            )?;
        }
        if let Some(days) = self.undelete_days {
            graph.declare(
                resource(
                    tokens::BLOB_SERVICE_PROPERTIES,
                    self.pulumi_name(&format!("{name}-{days}day-undelete-rule")),
                )
                .input("accountName", Value::output(&account, "name"))
                .input("blobServicesName", "default")
                .input(
                    "deleteRetentionPolicy",
                    Value::map([("days", Value::Int(days)), ("enabled", Value::Bool(true))]),
                )
                .input("resourceGroupName", group),
            )?;
        }
        Ok(())
    }

    fn unsupported(operation: &'static str) -> CloudError {
        CloudError::Unsupported {
            cloud: CloudName::Azure,
            operation,
        }
    }
}
