//! The [`Cloud`] trait for Azure: each of the reference's abstraction methods as the
//! azure-native and azuread resources it declares, or the reason Azure has no
//! equivalent (validation reports those before anything is built).

use cpg_infra::cloud::{
    BucketMembership, BucketSpec, Cloud, CloudResult, ContainerRegistryMembership, DataprocRole,
    MachineAccountRole, Member, ResourceRef, SecretMembership, TemporaryBucketAccessType,
};
use cpg_infra::config::{CloudName, azure_names};
use cpg_infra::graph::{ResourceId, Value};

use crate::options::resource;
use crate::{AzureCloud, members, roles, tokens};

type Graph = cpg_infra::graph::Graph;

impl Cloud for AzureCloud {
    fn name(&self) -> CloudName {
        CloudName::Azure
    }

    fn dataset(&self) -> &str {
        &self.dataset.dataset
    }

    /// The dataset's resource group, `{prefix}{dataset}`.
    fn project(&mut self, graph: &mut Graph) -> CloudResult<ResourceId> {
        if let Some(group) = &self.resource_group {
            return Ok(group.clone());
        }
        let name = azure_names::resource_group(&self.prefix()?, &self.dataset.dataset);
        let group = graph.declare(
            resource(tokens::RESOURCE_GROUP, self.pulumi_name(&name))
                .input("resourceGroupName", name.as_str())
                .input("location", self.region()?),
        )?;
        self.resource_group = Some(group.clone());
        Ok(group)
    }

    fn project_id(&mut self, graph: &mut Graph) -> CloudResult<Value> {
        self.resource_group_name(graph)
    }

    /// The storage account exists whatever the dataset used, with the lifecycle
    /// rules and delete retention its containers asked for.
    fn finalise(&mut self, graph: &mut Graph) -> CloudResult<()> {
        self.declare_account_policies(graph)
    }

    fn member_id(&self, member: &Member) -> Value {
        members::object_id(member).unwrap_or(Value::Null)
    }

    /// A resource group named `name`, under the logical name of `key` (the
    /// reference passed the name where the arguments go, and never built one).
    fn create_project(
        &mut self,
        graph: &mut Graph,
        key: &str,
        name: Value,
    ) -> CloudResult<ResourceId> {
        Ok(graph.declare(
            resource(tokens::RESOURCE_GROUP, self.pulumi_name(key))
                .input("resourceGroupName", name)
                .input("location", self.region()?),
        )?)
    }

    fn create_monthly_budget(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _budget: i64,
        _project: Option<&ResourceId>,
    ) -> CloudResult<()> {
        Err(Self::unsupported("budgets"))
    }

    fn create_fixed_budget(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _budget: i64,
        _project: &ResourceId,
    ) -> CloudResult<()> {
        Err(Self::unsupported("budgets"))
    }

    /// A blob container in the dataset's storage account; its lifecycle rules join
    /// the account's management policy. Versioning, Autoclass, requester-pays and
    /// soft-delete settings have no per-container equivalent (validation warns about
    /// the requester pays and Autoclass a config asks of Azure), and container names
    /// are the account's own, so `unique` changes nothing.
    fn create_bucket(&mut self, graph: &mut Graph, spec: &BucketSpec) -> CloudResult<ResourceId> {
        let name = spec.name.as_str();
        for rule in &spec.lifecycle_rules {
            self.add_lifecycle_rule(name, rule);
        }
        let account = self.storage_account(graph)?;
        let group = self.resource_group_name(graph)?;
        Ok(graph.declare(
            resource(
                tokens::BLOB_CONTAINER,
                self.pulumi_name(&format!("{name}-blob-container")),
            )
            .input("accountName", Value::output(&account, "name"))
            .input("resourceGroupName", group)
            .input("containerName", name)
            .input("metadata", Value::map([("bucket", Value::from(name))])),
        )?)
    }

    /// `https://<account>.blob.core.windows.net/<container>/`.
    fn bucket_output_path(&self, bucket: &ResourceId) -> Value {
        let account = self
            .storage_account
            .as_ref()
            .map_or(Value::Null, |account| Value::output(account, "name"));
        Value::concat([
            Value::from("https://"),
            account,
            Value::from(".blob.core.windows.net/"),
            Value::output(bucket, "name"),
            Value::from("/"),
        ])
    }

    fn add_member_to_bucket(
        &mut self,
        graph: &mut Graph,
        key: &str,
        bucket: &ResourceRef,
        member: &Member,
        membership: BucketMembership,
    ) -> CloudResult<()> {
        self.role_assignment(
            graph,
            self.pulumi_name(key),
            members::scope(bucket),
            member,
            roles::bucket(membership),
        )
    }

    /// Read access to the whole storage account: Azure has no list-only role.
    fn give_member_ability_to_list_buckets(
        &mut self,
        graph: &mut Graph,
        key: &str,
        member: &Member,
    ) -> CloudResult<()> {
        let account = self.storage_account(graph)?;
        self.role_assignment(
            graph,
            self.pulumi_name(key),
            Value::output(&account, "id"),
            member,
            roles::bucket(BucketMembership::List),
        )
    }

    fn add_blob_to_bucket(
        &mut self,
        _graph: &mut Graph,
        _resource_name: &str,
        _bucket: &ResourceRef,
        _output_name: &str,
        _contents: Value,
    ) -> CloudResult<ResourceId> {
        // azure-native takes a blob's contents as an asset, which the plan cannot
        // carry; configs are written to the GCP config bucket instead.
        Err(Self::unsupported("writing blobs"))
    }

    /// A user-assigned managed identity in the dataset's resource group (or the
    /// resource group named `project`).
    fn create_machine_account(
        &mut self,
        graph: &mut Graph,
        name: &str,
        project: Option<Value>,
        resource_key: Option<&str>,
    ) -> CloudResult<ResourceId> {
        let key = resource_key.map_or_else(|| format!("service-account-{name}"), str::to_owned);
        let group = match project {
            Some(project) => project,
            None => self.resource_group_name(graph)?,
        };
        Ok(graph.declare(
            resource(tokens::USER_ASSIGNED_IDENTITY, self.pulumi_name(&key))
                .input("resourceName", name)
                .input("location", self.region()?)
                .input("resourceGroupName", group),
        )?)
    }

    fn add_member_to_machine_account_role(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _machine_account: &ResourceId,
        _member: &Member,
        _role: MachineAccountRole,
    ) -> CloudResult<()> {
        Err(Self::unsupported("roles on machine accounts"))
    }

    fn get_credentials_for_machine_account(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _account: &ResourceId,
    ) -> CloudResult<Value> {
        Err(Self::unsupported("machine account credentials"))
    }

    /// A security-enabled Entra ID group.
    fn create_group(
        &mut self,
        graph: &mut Graph,
        name: &str,
        description: Option<&str>,
    ) -> CloudResult<ResourceId> {
        Ok(graph.declare(
            resource(tokens::GROUP, self.pulumi_name(&format!("{name}-group")))
                .input("displayName", name)
                .input("description", description.map_or(Value::Null, Value::from))
                .input("securityEnabled", true),
        )?)
    }

    fn add_group_member(
        &mut self,
        graph: &mut Graph,
        key: &str,
        group: &Member,
        member: &Member,
        unique_key: bool,
    ) -> CloudResult<()> {
        if self.config.disable_group_memberships {
            return Ok(());
        }
        let name = if unique_key {
            key.to_owned()
        } else {
            self.pulumi_name(key)
        };
        graph.declare(
            resource(tokens::GROUP_MEMBER, name)
                .input("groupObjectId", members::object_id(group)?)
                .input("memberObjectId", members::object_id(member)?),
        )?;
        Ok(())
    }

    /// A secret in the dataset's Key Vault.
    fn create_secret(
        &mut self,
        graph: &mut Graph,
        name: &str,
        _project: Option<Value>,
        resource_key: Option<&str>,
    ) -> CloudResult<ResourceId> {
        let resource_name = resource_key.map_or_else(
            || self.pulumi_name(&format!("secret-{name}")),
            str::to_owned,
        );
        let vault = self.vault(graph)?;
        let group = self.resource_group_name(graph)?;
        Ok(graph.declare(
            resource(tokens::SECRET, resource_name)
                .input("secretName", name)
                .input("properties", Value::map(Vec::<(String, Value)>::new()))
                .input("resourceGroupName", group)
                .input("vaultName", Value::output(&vault, "name")),
        )?)
    }

    /// A role on the secret (the reference granted nothing).
    fn add_secret_member(
        &mut self,
        graph: &mut Graph,
        key: &str,
        secret: &ResourceRef,
        member: &Member,
        membership: SecretMembership,
        _project: Option<Value>,
    ) -> CloudResult<()> {
        let scope = match secret {
            ResourceRef::Declared(id) => Value::output(id, "id"),
            ResourceRef::Named(name) if name.starts_with("/subscriptions/") => {
                Value::from(name.as_str())
            }
            ResourceRef::Named(name) => {
                let vault = self.vault(graph)?;
                Value::concat([
                    Value::output(&vault, "id"),
                    Value::String(format!("/secrets/{name}")),
                ])
            }
        };
        self.role_assignment(
            graph,
            self.pulumi_name(key),
            scope,
            member,
            roles::secret(membership),
        )
    }

    /// The secret declared again with a value: Key Vault makes it a new version.
    fn add_secret_version(
        &mut self,
        graph: &mut Graph,
        key: &str,
        secret: &ResourceId,
        contents: Value,
    ) -> CloudResult<ResourceId> {
        let vault = self.vault(graph)?;
        let group = self.resource_group_name(graph)?;
        Ok(graph.declare(
            resource(tokens::SECRET, self.pulumi_name(key))
                .input("secretName", Value::output(secret, "name"))
                .input("properties", Value::map([("value", contents.secret())]))
                .input("resourceGroupName", group)
                .input("vaultName", Value::output(&vault, "name")),
        )?)
    }

    /// A Basic registry named from prefix, dataset and `name`.
    fn create_container_registry(
        &mut self,
        graph: &mut Graph,
        name: &str,
    ) -> CloudResult<ResourceId> {
        let registry =
            azure_names::container_registry(&self.prefix()?, &self.dataset.dataset, name);
        let group = self.resource_group_name(graph)?;
        Ok(graph.declare(
            resource(
                tokens::REGISTRY,
                self.pulumi_name(&format!("container-registry-{name}")),
            )
            .input("adminUserEnabled", true)
            .input("location", self.region()?)
            .input("registryName", registry)
            .input("resourceGroupName", group)
            .input("sku", Value::map([("name", Value::from("Basic"))]))
            // The SDK's defaults, sent as the reference's SDK sent them.
            .input("networkRuleBypassOptions", "AzureServices")
            .input("publicNetworkAccess", "Enabled")
            .input("zoneRedundancy", "Disabled"),
        )?)
    }

    /// One role assignment per role the membership needs (`-pull`, `-push`,
    /// `-delete`).
    fn add_member_to_container_registry(
        &mut self,
        graph: &mut Graph,
        key: &str,
        registry: &ResourceRef,
        member: &Member,
        membership: ContainerRegistryMembership,
        _project: Option<Value>,
    ) -> CloudResult<()> {
        let scope = members::scope(registry);
        for (suffix, role) in roles::registry(membership) {
            self.role_assignment(
                graph,
                self.pulumi_name(&format!("{key}-{suffix}")),
                scope.clone(),
                member,
                role,
            )?;
        }
        Ok(())
    }

    fn add_project_role(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _member: &Member,
        _role: &str,
        _project: Option<Value>,
    ) -> CloudResult<()> {
        Err(Self::unsupported("GCP project roles"))
    }

    fn add_batch_agent_reporter_role(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _account: &Member,
    ) -> CloudResult<()> {
        Err(Self::unsupported("GCP Batch roles"))
    }

    fn add_batch_jobs_editor_role(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _account: &Member,
    ) -> CloudResult<()> {
        Err(Self::unsupported("GCP Batch roles"))
    }

    fn add_member_to_dataproc_api(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _account: &Member,
        _role: DataprocRole,
    ) -> CloudResult<()> {
        Err(Self::unsupported("Dataproc"))
    }

    fn create_temporary_bucket_access(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _bucket: &ResourceId,
        _access: TemporaryBucketAccessType,
        _principals: Vec<Value>,
        _max_duration: &str,
    ) -> CloudResult<ResourceId> {
        Err(Self::unsupported("temporary bucket access"))
    }

    fn create_pam_broker(&mut self, _graph: &mut Graph, _project: &str) -> CloudResult<ResourceId> {
        Err(Self::unsupported("temporary bucket access"))
    }

    fn add_token_creator(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _machine_account: &ResourceId,
        _member: &Member,
    ) -> CloudResult<()> {
        Err(Self::unsupported("roles on machine accounts"))
    }

    fn create_python_registry(&mut self, _graph: &mut Graph) -> CloudResult<ResourceId> {
        Err(Self::unsupported("a Python package registry"))
    }

    fn add_cloudrun_invoker(
        &mut self,
        _graph: &mut Graph,
        _key: &str,
        _service: &str,
        _project: &str,
        _member: &Member,
    ) -> CloudResult<()> {
        Err(Self::unsupported("Cloud Run"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cpg_infra::cloud::{BucketSpec, CloudError, LifecycleRule};
    use cpg_infra::config::{
        AzureConfig, CpgDatasetConfig, CpgInfrastructureConfig, DatasetGcpConfig,
    };

    use super::*;

    fn cloud(dataset: &str) -> AzureCloud {
        let config = CpgInfrastructureConfig::builder()
            .domain("example.org")
            .budget_currency("AUD")
            .common_dataset("common")
            .config_destination("gs://config/deploy")
            .azure(
                AzureConfig::builder()
                    .region("australiaeast")
                    .subscription("sub")
                    .tenant("tenant")
                    .dataset_storage_prefix("cpg")
                    .config_bucket_name("config")
                    .build(),
            )
            .build();
        let dataset = CpgDatasetConfig::builder()
            .dataset(dataset)
            .gcp(DatasetGcpConfig::builder().project("p").build())
            .build();
        AzureCloud::new(Arc::new(config), Arc::new(dataset))
    }

    fn inputs(graph: &Graph, type_token: &str, name: &str) -> serde_json::Value {
        let id = ResourceId::new(type_token, name);
        let resource = graph.get(&id).unwrap_or_else(|| panic!("no {id}"));
        Value::Map(resource.inputs.clone()).to_json()
    }

    #[test]
    fn each_dataset_gets_its_own_key_vault() {
        let mut graph = Graph::new();
        for dataset in ["ds1", "ds2"] {
            let mut azure = cloud(dataset);
            let secret = azure
                .create_secret(&mut graph, "token", None, None)
                .expect("secret");
            azure
                .add_secret_version(&mut graph, "token-version", &secret, Value::from("s3cret"))
                .expect("version");
        }
        let one = inputs(&graph, tokens::VAULT, "ds1-azure-vault");
        let two = inputs(&graph, tokens::VAULT, "ds2-azure-vault");
        // The reference named every vault `secrets`.
        assert_eq!(one["vaultName"], "cpgds1");
        assert_eq!(two["vaultName"], "cpgds2");
        // A vault needs a SKU; its secrets are governed by role assignments.
        assert_eq!(one["properties"]["sku"]["name"], "standard");
        assert_eq!(one["properties"]["enableRbacAuthorization"], true);
        assert_eq!(one["properties"]["tenantId"], "tenant");
        let version = inputs(&graph, tokens::SECRET, "ds1-azure-token-version");
        assert_eq!(
            version["properties"]["value"],
            serde_json::json!({"$secret": "s3cret"})
        );
    }

    #[test]
    fn secret_members_get_a_role_on_the_secret() {
        let mut graph = Graph::new();
        let mut azure = cloud("ds");
        let secret = azure
            .create_secret(&mut graph, "token", None, None)
            .expect("secret");
        azure
            .add_secret_member(
                &mut graph,
                "reader",
                &ResourceRef::Declared(secret.clone()),
                &Member::Id("robot".into()),
                SecretMembership::Accessor,
                None,
            )
            .expect("member");
        let grant = inputs(&graph, tokens::ROLE_ASSIGNMENT, "ds-azure-reader");
        assert_eq!(
            grant["roleDefinitionId"],
            roles::definition(roles::SECRETS_USER)
        );
        assert_eq!(grant["scope"]["$output"]["resource"], secret.to_string());
    }

    #[test]
    fn create_project_declares_a_resource_group_with_a_location() {
        let mut graph = Graph::new();
        let mut azure = cloud("ds");
        let group = azure
            .create_project(&mut graph, "shared-project", Value::from("cpgds-shared"))
            .expect("resource group");
        assert_eq!(&*group.name, "ds-azure-shared-project");
        let declared = inputs(&graph, tokens::RESOURCE_GROUP, "ds-azure-shared-project");
        assert_eq!(declared["resourceGroupName"], "cpgds-shared");
        assert_eq!(declared["location"], "australiaeast");
    }

    #[test]
    fn lifecycle_rules_become_one_management_policy() {
        let mut graph = Graph::new();
        let mut azure = cloud("ds");
        let incomplete = LifecycleRule::Temporary {
            days: 8,
            matches_prefixes: vec!["incomplete/".into()],
        };
        azure
            .create_bucket(
                &mut graph,
                &BucketSpec::new("main-upload-db-x", vec![incomplete]),
            )
            .expect("dropbox");
        azure
            .create_bucket(
                &mut graph,
                &BucketSpec::new("main", vec![LifecycleRule::Undelete { days: 30 }]),
            )
            .expect("main");
        azure
            .create_bucket(
                &mut graph,
                &BucketSpec::new("archive", vec![LifecycleRule::Undelete { days: 45 }]),
            )
            .expect("archive");
        azure.finalise(&mut graph).expect("finalise");
        let policy = inputs(
            &graph,
            tokens::MANAGEMENT_POLICY,
            "ds-azure-cpgds-management-policy",
        );
        let rules = policy["policy"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 1);
        // Only incomplete uploads expire, not the whole dropbox.
        assert_eq!(
            rules[0]["definition"]["filters"]["prefixMatch"],
            serde_json::json!(["main-upload-db-x/incomplete/"])
        );
        assert_eq!(rules[0]["name"], "main-upload-db-x-bucket-rule-tmp");
        // The longest retention any container asked for, never a silent overwrite.
        let retention = inputs(
            &graph,
            tokens::BLOB_SERVICE_PROPERTIES,
            "ds-azure-cpgds-45day-undelete-rule",
        );
        assert_eq!(retention["deleteRetentionPolicy"]["days"], 45);
    }

    #[test]
    fn a_dataset_region_overrides_the_organisations() {
        let mut graph = Graph::new();
        let mut azure = cloud("ds");
        let mut dataset = (*azure.dataset).clone();
        dataset.azure = Some(
            cpg_infra::config::DatasetAzureConfig::builder()
                .region("westeurope")
                .build(),
        );
        azure.dataset = Arc::new(dataset);
        azure.storage_account(&mut graph).expect("account");
        let account = inputs(&graph, tokens::STORAGE_ACCOUNT, "ds-azure-cpgds");
        assert_eq!(account["location"], "westeurope");
        let group = inputs(&graph, tokens::RESOURCE_GROUP, "ds-azure-cpgds");
        assert_eq!(group["location"], "westeurope");
    }

    #[test]
    fn what_azure_has_no_equivalent_of_is_an_error() {
        let mut graph = Graph::new();
        let mut azure = cloud("ds");
        let account = azure
            .create_machine_account(&mut graph, "robot", None, None)
            .expect("identity");
        let refused = azure.add_member_to_machine_account_role(
            &mut graph,
            "key",
            &account,
            &Member::Id("x".into()),
            MachineAccountRole::Access,
        );
        assert!(matches!(
            refused,
            Err(CloudError::Unsupported {
                cloud: CloudName::Azure,
                ..
            })
        ));
        assert!(
            azure
                .create_monthly_budget(&mut graph, "monthly-budget", 10, None)
                .is_err()
        );
        assert!(
            azure
                .get_credentials_for_machine_account(&mut graph, "key", &account)
                .is_err()
        );
    }
}
