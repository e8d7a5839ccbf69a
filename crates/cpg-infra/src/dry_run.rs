//! The dry-run cloud: declares what a dataset would get, under `dry-run:` type
//! tokens, with no provider behind them. Useful to see a config's shape without a
//! cloud.

use std::sync::Arc;

use crate::cloud::{
    BucketMembership, BucketSpec, Cloud, CloudProvider, CloudResult, ContainerRegistryMembership,
    DataprocRole, LifecycleRule, MachineAccountRole, Member, ResourceRef, SecretMembership,
    TemporaryBucketAccessType,
};
use crate::config::{CloudName, CpgDatasetConfig, CpgInfrastructureConfig};
use crate::graph::{Graph, Resource, ResourceId, Value};

/// Makes a [`DryRunCloud`] per dataset.
#[derive(Debug, Clone, Copy, Default)]
pub struct DryRunProvider;

impl CloudProvider for DryRunProvider {
    fn name(&self) -> CloudName {
        CloudName::DryRun
    }

    fn for_dataset(
        &self,
        _config: Arc<CpgInfrastructureConfig>,
        dataset: Arc<CpgDatasetConfig>,
    ) -> Box<dyn Cloud> {
        Box::new(DryRunCloud {
            dataset,
            project: None,
        })
    }
}

/// One dataset on the dry-run cloud.
#[derive(Debug)]
pub struct DryRunCloud {
    dataset: Arc<CpgDatasetConfig>,
    project: Option<ResourceId>,
}

fn token(kind: &str) -> String {
    format!("dry-run:{kind}")
}

/// How the dry-run cloud names a member.
fn member_value(member: &Member) -> Value {
    match member {
        Member::Group(id) | Member::MachineAccount(id) | Member::Bucket(id) => {
            Value::output(id, "id")
        }
        Member::Id(id) => Value::from(id.as_str()),
        Member::MachineAccountEmail(email) => email.clone(),
    }
}

fn ref_value(reference: &ResourceRef) -> Value {
    match reference {
        ResourceRef::Declared(id) => Value::output(id, "id"),
        ResourceRef::Named(name) => Value::from(name.as_str()),
    }
}

fn rule_value(rule: &LifecycleRule) -> Value {
    match rule {
        LifecycleRule::Undelete { days } => Value::map([("undeleteDays", Value::Int(*days))]),
        LifecycleRule::Archive { days } => Value::map([("archiveDays", Value::Int(*days))]),
        LifecycleRule::Temporary {
            days,
            matches_prefixes,
        } => Value::map([
            ("deleteDays", Value::Int(*days)),
            ("prefixes", Value::strings(matches_prefixes.clone())),
        ]),
    }
}

impl DryRunCloud {
    fn declare(
        &self,
        graph: &mut Graph,
        kind: &str,
        key: &str,
        inputs: Vec<(&str, Value)>,
    ) -> CloudResult<ResourceId> {
        let mut resource = Resource::new(token(kind), self.pulumi_name(key));
        for (name, value) in inputs {
            resource = resource.input(name, value);
        }
        Ok(graph.declare(resource)?)
    }

    /// `project`, or the dataset's own project id when none is given.
    fn project_or_own(&mut self, graph: &mut Graph, project: Option<Value>) -> CloudResult<Value> {
        match project {
            Some(project) => Ok(project),
            None => self.project_id(graph),
        }
    }

    fn grant(
        &self,
        graph: &mut Graph,
        key: &str,
        target: Value,
        member: &Member,
        role: &str,
    ) -> CloudResult<()> {
        self.declare(
            graph,
            "Grant",
            key,
            vec![
                ("target", target),
                ("member", member_value(member)),
                ("role", Value::from(role)),
            ],
        )?;
        Ok(())
    }
}

impl Cloud for DryRunCloud {
    fn name(&self) -> CloudName {
        CloudName::DryRun
    }

    fn dataset(&self) -> &str {
        &self.dataset.dataset
    }

    fn project(&mut self, graph: &mut Graph) -> CloudResult<ResourceId> {
        if let Some(project) = &self.project {
            return Ok(project.clone());
        }
        let name = Value::from(self.dataset.gcp.project.as_str());
        let project = self.create_project(graph, "project", name)?;
        self.project = Some(project.clone());
        Ok(project)
    }

    fn project_id(&mut self, graph: &mut Graph) -> CloudResult<Value> {
        let project = self.project(graph)?;
        Ok(Value::output(&project, "id"))
    }

    fn finalise(&mut self, graph: &mut Graph) -> CloudResult<()> {
        self.project(graph)?;
        Ok(())
    }

    fn member_id(&self, member: &Member) -> Value {
        member_value(member)
    }

    fn create_project(
        &mut self,
        graph: &mut Graph,
        key: &str,
        name: Value,
    ) -> CloudResult<ResourceId> {
        self.declare(graph, "Project", key, vec![("name", name)])
    }

    fn create_monthly_budget(
        &mut self,
        graph: &mut Graph,
        key: &str,
        budget: i64,
        project: Option<&ResourceId>,
    ) -> CloudResult<()> {
        let project = match project {
            Some(project) => project.clone(),
            None => self.project(graph)?,
        };
        self.declare(
            graph,
            "Budget",
            key,
            vec![
                ("amount", Value::Int(budget)),
                ("period", Value::from("month")),
                ("project", Value::output(&project, "id")),
            ],
        )?;
        Ok(())
    }

    fn create_fixed_budget(
        &mut self,
        graph: &mut Graph,
        key: &str,
        budget: i64,
        project: &ResourceId,
    ) -> CloudResult<()> {
        self.declare(
            graph,
            "Budget",
            key,
            vec![
                ("amount", Value::Int(budget)),
                ("period", Value::from("all-time")),
                ("project", Value::output(project, "id")),
            ],
        )?;
        Ok(())
    }

    fn create_bucket(&mut self, graph: &mut Graph, spec: &BucketSpec) -> CloudResult<ResourceId> {
        let name = if spec.unique {
            spec.name.clone()
        } else {
            format!("{}-{}", self.dataset.dataset, spec.name)
        };
        self.declare(
            graph,
            "Bucket",
            &format!("{}-bucket", spec.name),
            vec![
                ("name", Value::from(name.as_str())),
                (
                    "lifecycleRules",
                    Value::List(spec.lifecycle_rules.iter().map(rule_value).collect()),
                ),
                ("versioning", Value::Bool(spec.versioning)),
                ("requesterPays", Value::Bool(spec.requester_pays)),
            ],
        )
    }

    fn bucket_output_path(&self, bucket: &ResourceId) -> Value {
        Value::concat([Value::from("dry-run://"), Value::output(bucket, "name")])
    }

    fn add_member_to_bucket(
        &mut self,
        graph: &mut Graph,
        key: &str,
        bucket: &ResourceRef,
        member: &Member,
        membership: BucketMembership,
    ) -> CloudResult<()> {
        let role = match membership {
            BucketMembership::List => "list",
            BucketMembership::Read => "read",
            BucketMembership::Append => "append",
            BucketMembership::Mutate => "mutate",
        };
        self.grant(graph, key, ref_value(bucket), member, role)
    }

    fn give_member_ability_to_list_buckets(
        &mut self,
        graph: &mut Graph,
        key: &str,
        member: &Member,
    ) -> CloudResult<()> {
        let project = self.project_id(graph)?;
        self.grant(graph, key, project, member, "list-buckets")
    }

    fn add_blob_to_bucket(
        &mut self,
        graph: &mut Graph,
        resource_name: &str,
        bucket: &ResourceRef,
        output_name: &str,
        contents: Value,
    ) -> CloudResult<ResourceId> {
        Ok(graph.declare(
            Resource::new(token("Blob"), resource_name)
                .input("bucket", ref_value(bucket))
                .input("name", output_name)
                .input("contents", contents),
        )?)
    }

    fn create_machine_account(
        &mut self,
        graph: &mut Graph,
        name: &str,
        project: Option<Value>,
        resource_key: Option<&str>,
    ) -> CloudResult<ResourceId> {
        let project = self.project_or_own(graph, project)?;
        let key = resource_key.map_or_else(|| format!("service-account-{name}"), str::to_owned);
        self.declare(
            graph,
            "MachineAccount",
            &key,
            vec![("name", Value::from(name)), ("project", project)],
        )
    }

    fn add_member_to_machine_account_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        machine_account: &ResourceId,
        member: &Member,
        role: MachineAccountRole,
    ) -> CloudResult<()> {
        let role = match role {
            MachineAccountRole::Access => "access",
            MachineAccountRole::Admin => "admin",
            MachineAccountRole::CredentialsAdmin => "credentials-admin",
        };
        self.grant(
            graph,
            key,
            Value::output(machine_account, "id"),
            member,
            role,
        )
    }

    fn get_credentials_for_machine_account(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &ResourceId,
    ) -> CloudResult<Value> {
        let credentials = self.declare(
            graph,
            "MachineAccountKey",
            key,
            vec![("account", Value::output(account, "id"))],
        )?;
        Ok(Value::output(&credentials, "credentials").secret())
    }

    fn create_group(
        &mut self,
        graph: &mut Graph,
        name: &str,
        description: Option<&str>,
    ) -> CloudResult<ResourceId> {
        self.declare(
            graph,
            "Group",
            &format!("{name}-group"),
            vec![
                ("name", Value::from(name)),
                ("description", description.map_or(Value::Null, Value::from)),
            ],
        )
    }

    fn add_group_member(
        &mut self,
        graph: &mut Graph,
        key: &str,
        group: &Member,
        member: &Member,
        unique_key: bool,
    ) -> CloudResult<()> {
        let name = if unique_key {
            key.to_owned()
        } else {
            self.pulumi_name(key)
        };
        graph.declare(
            Resource::new(token("GroupMembership"), name)
                .input("group", member_value(group))
                .input("member", member_value(member)),
        )?;
        Ok(())
    }

    fn create_secret(
        &mut self,
        graph: &mut Graph,
        name: &str,
        project: Option<Value>,
        resource_key: Option<&str>,
    ) -> CloudResult<ResourceId> {
        let project = self.project_or_own(graph, project)?;
        let resource_name = resource_key.map_or_else(|| self.pulumi_name(name), str::to_owned);
        Ok(graph.declare(
            Resource::new(token("Secret"), resource_name)
                .input("name", name)
                .input("project", project),
        )?)
    }

    fn add_secret_member(
        &mut self,
        graph: &mut Graph,
        key: &str,
        secret: &ResourceRef,
        member: &Member,
        membership: SecretMembership,
        _project: Option<Value>,
    ) -> CloudResult<()> {
        let role = match membership {
            SecretMembership::Accessor => "accessor",
            SecretMembership::Admin => "admin",
        };
        self.grant(graph, key, ref_value(secret), member, role)
    }

    fn add_secret_version(
        &mut self,
        graph: &mut Graph,
        key: &str,
        secret: &ResourceId,
        contents: Value,
    ) -> CloudResult<ResourceId> {
        self.declare(
            graph,
            "SecretVersion",
            key,
            vec![
                ("secret", Value::output(secret, "id")),
                ("contents", contents.secret()),
            ],
        )
    }

    fn create_container_registry(
        &mut self,
        graph: &mut Graph,
        name: &str,
    ) -> CloudResult<ResourceId> {
        self.declare(
            graph,
            "ContainerRegistry",
            &format!("artifact-registry-{name}"),
            vec![("name", Value::from(name))],
        )
    }

    fn add_member_to_container_registry(
        &mut self,
        graph: &mut Graph,
        key: &str,
        registry: &ResourceRef,
        member: &Member,
        membership: ContainerRegistryMembership,
        _project: Option<Value>,
    ) -> CloudResult<()> {
        let role = match membership {
            ContainerRegistryMembership::Reader => "reader",
            ContainerRegistryMembership::Writer => "writer",
        };
        self.grant(graph, key, ref_value(registry), member, role)
    }

    fn add_project_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        member: &Member,
        role: &str,
        project: Option<Value>,
    ) -> CloudResult<()> {
        let project = self.project_or_own(graph, project)?;
        self.grant(graph, key, project, member, role)
    }

    fn add_batch_agent_reporter_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
    ) -> CloudResult<()> {
        let project = self.project_id(graph)?;
        self.grant(graph, key, project, account, "batch-agent-reporter")
    }

    fn add_batch_jobs_editor_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
    ) -> CloudResult<()> {
        let project = self.project_id(graph)?;
        self.grant(graph, key, project, account, "batch-jobs-editor")
    }

    fn add_member_to_dataproc_api(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
        role: DataprocRole,
    ) -> CloudResult<()> {
        let role = match role {
            DataprocRole::Admin => "dataproc-admin",
            DataprocRole::Worker => "dataproc-worker",
            DataprocRole::WorkerWithoutStorageAccess => "dataproc-worker-without-storage",
        };
        let project = self.project_id(graph)?;
        self.grant(graph, key, project, account, role)
    }

    fn create_temporary_bucket_access(
        &mut self,
        graph: &mut Graph,
        key: &str,
        bucket: &ResourceId,
        access: TemporaryBucketAccessType,
        principals: Vec<Value>,
        max_duration: &str,
    ) -> CloudResult<ResourceId> {
        self.declare(
            graph,
            "TemporaryAccess",
            key,
            vec![
                ("bucket", Value::output(bucket, "id")),
                ("access", Value::from(access.as_str())),
                ("principals", Value::List(principals)),
                ("maxDuration", Value::from(max_duration)),
            ],
        )
    }

    fn create_pam_broker(&mut self, graph: &mut Graph, project: &str) -> CloudResult<ResourceId> {
        self.declare(
            graph,
            "MachineAccount",
            "pam-broker",
            vec![
                ("name", Value::from("pam-broker")),
                ("project", Value::from(project)),
            ],
        )
    }

    fn add_token_creator(
        &mut self,
        graph: &mut Graph,
        key: &str,
        machine_account: &ResourceId,
        member: &Member,
    ) -> CloudResult<()> {
        self.grant(
            graph,
            key,
            Value::output(machine_account, "id"),
            member,
            "token-creator",
        )
    }

    fn create_python_registry(&mut self, graph: &mut Graph) -> CloudResult<ResourceId> {
        self.declare(
            graph,
            "PackageRegistry",
            "python-registry",
            vec![("format", Value::from("python"))],
        )
    }

    fn add_cloudrun_invoker(
        &mut self,
        graph: &mut Graph,
        key: &str,
        service: &str,
        project: &str,
        member: &Member,
    ) -> CloudResult<()> {
        let target = Value::String(format!("{project}/{service}"));
        self.grant(graph, key, target, member, "invoker")
    }
}
