//! The [`Cloud`] trait for GCP: each of the reference's abstraction methods as the
//! pulumi-gcp resources it declares.

use cpg_infra::cloud::{
    BucketMembership, BucketSpec, Cloud, CloudResult, ContainerRegistryMembership, DataprocRole,
    MachineAccountRole, Member, ResourceRef, SecretMembership, TemporaryBucketAccessType,
};
use cpg_infra::config::CloudName;
use cpg_infra::graph::{Alias, Function, Graph, ResourceId, Value};

use crate::lifecycle::{abort_incomplete_uploads, bucket_role, lifecycle_rule};
use crate::options::resource;
use crate::{GcpCloud, PAM_BROKER, Service, members, tokens};

impl Cloud for GcpCloud {
    fn name(&self) -> CloudName {
        CloudName::Gcp
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
        Ok(Value::output(&project, "projectId"))
    }

    fn finalise(&mut self, graph: &mut Graph) -> CloudResult<()> {
        self.service(graph, Service::ServiceUsage)?;
        Ok(())
    }

    fn member_id(&self, member: &Member) -> Value {
        members::member_id(member)
    }

    fn create_project(
        &mut self,
        graph: &mut Graph,
        key: &str,
        name: Value,
    ) -> CloudResult<ResourceId> {
        let mut project = resource(tokens::PROJECT, self.pulumi_name(key))
            .input("orgId", self.organization("orgId"))
            .input("projectId", name.clone())
            .input("name", name)
            .input("billingAccount", self.billing()?.gcp.account_id.as_str())
            .input("deletionPolicy", "ABANDON");
        if key.contains("shared") {
            project.options.aliases.push(Alias {
                name: Some(format!("gcp-{}-shared-project", self.dataset.gcp.project)),
                ..Alias::default()
            });
        }
        Ok(graph.declare(project)?)
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
        let filter = Value::map([
            ("projects", Self::project_numbers(&project)),
            ("calendarPeriod", Value::from("MONTH")),
            ("creditTypesTreatment", Value::from("INCLUDE_ALL_CREDITS")),
        ]);
        // The reference names budgets twice over: `{ds}-gcp-gcp-monthly-budget`.
        let key = self.pulumi_name(key);
        self.budget(graph, &key, budget, &project, filter)
    }

    fn create_fixed_budget(
        &mut self,
        graph: &mut Graph,
        key: &str,
        budget: i64,
        project: &ResourceId,
    ) -> CloudResult<()> {
        let start = Value::map([
            ("year", Value::Int(2022)),
            ("month", Value::Int(1)),
            ("day", Value::Int(1)),
        ]);
        let filter = Value::map([
            ("projects", Self::project_numbers(project)),
            ("customPeriod", Value::map([("startDate", start)])),
        ]);
        let key = self.pulumi_name(key);
        self.budget(graph, &key, budget, project, filter)
    }

    fn create_bucket(&mut self, graph: &mut Graph, spec: &BucketSpec) -> CloudResult<ResourceId> {
        let name = if spec.unique {
            spec.name.clone()
        } else {
            format!(
                "{}{}-{}",
                self.gcp()?.dataset_storage_prefix,
                self.dataset.dataset,
                spec.name
            )
        };
        let mut rules: Vec<Value> = spec.lifecycle_rules.iter().map(lifecycle_rule).collect();
        rules.push(abort_incomplete_uploads());
        let project = self.project_id(graph)?;
        let mut bucket = resource(
            tokens::BUCKET,
            self.pulumi_name(&format!("{}-bucket", spec.name)),
        )
        .input("name", name.as_str())
        .input("location", self.region.as_str())
        .input("uniformBucketLevelAccess", true)
        .input(
            "versioning",
            Value::map([("enabled", Value::Bool(spec.versioning))]),
        )
        .input(
            "labels",
            Value::map([("bucket", Value::from(name.as_str()))]),
        )
        .input("lifecycleRules", Value::List(rules))
        .input("requesterPays", spec.requester_pays)
        .input("project", project);
        if spec.autoclass {
            bucket = bucket.input("autoclass", Value::map([("enabled", Value::Bool(true))]));
        }
        if !spec.soft_delete_protection {
            bucket = bucket.input(
                "softDeletePolicy",
                Value::map([("retentionDurationSeconds", Value::Int(0))]),
            );
        }
        Ok(graph.declare(bucket)?)
    }

    fn bucket_output_path(&self, bucket: &ResourceId) -> Value {
        Value::concat([Value::from("gs://"), Value::output(bucket, "name")])
    }

    fn add_member_to_bucket(
        &mut self,
        graph: &mut Graph,
        key: &str,
        bucket: &ResourceRef,
        member: &Member,
        membership: BucketMembership,
    ) -> CloudResult<()> {
        let (role, key) = bucket_role(membership, key);
        let identity = self.service(graph, Service::CloudIdentity)?;
        graph.declare(
            resource(tokens::BUCKET_IAM_MEMBER, self.pulumi_name(&key))
                .input("bucket", members::bucket_name(bucket))
                .input("member", members::iam_member(member))
                .input("role", self.org_role(role))
                .depends_on([identity]),
        )?;
        Ok(())
    }

    fn give_member_ability_to_list_buckets(
        &mut self,
        graph: &mut Graph,
        key: &str,
        member: &Member,
    ) -> CloudResult<()> {
        let (role, key) = bucket_role(BucketMembership::List, key);
        let project = self.project_id(graph)?;
        let identity = self.service(graph, Service::CloudIdentity)?;
        graph.declare(
            resource(tokens::PROJECT_IAM_MEMBER, self.pulumi_name(&key))
                .input("role", self.org_role(role))
                .input("member", members::iam_member(member))
                .input("project", project)
                .depends_on([identity]),
        )?;
        Ok(())
    }

    fn add_blob_to_bucket(
        &mut self,
        graph: &mut Graph,
        resource_name: &str,
        bucket: &ResourceRef,
        output_name: &str,
        contents: Value,
    ) -> CloudResult<ResourceId> {
        // pulumi-gcp marks an object's content secret.
        let contents = match contents {
            Value::Secret(_) => contents,
            other => other.secret(),
        };
        Ok(graph.declare(
            resource(tokens::BUCKET_OBJECT, resource_name)
                .input("bucket", members::bucket_name(bucket))
                .input("name", output_name)
                .input("content", contents),
        )?)
    }

    fn create_machine_account(
        &mut self,
        graph: &mut Graph,
        name: &str,
        project: Option<Value>,
        resource_key: Option<&str>,
    ) -> CloudResult<ResourceId> {
        let key = resource_key.map_or_else(|| format!("service-account-{name}"), str::to_owned);
        let project = self.project_or_own(graph, project)?;
        let iam = self.service(graph, Service::Iam)?;
        Ok(graph.declare(
            resource(tokens::SERVICE_ACCOUNT, self.pulumi_name(&key))
                .input("accountId", name)
                .input("createIgnoreAlreadyExists", true)
                .input("project", project)
                .depends_on([iam]),
        )?)
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
            MachineAccountRole::Access => "roles/iam.serviceAccountUser",
            MachineAccountRole::Admin => "roles/iam.serviceAccountAdmin",
            MachineAccountRole::CredentialsAdmin => "roles/iam.serviceAccountKeyAdmin",
        };
        let identity = self.service(graph, Service::CloudIdentity)?;
        let iam = self.service(graph, Service::Iam)?;
        graph.declare(
            resource(tokens::SERVICE_ACCOUNT_IAM_MEMBER, self.pulumi_name(key))
                .input("serviceAccountId", Value::output(machine_account, "name"))
                .input("role", role)
                .input("member", members::iam_member(member))
                .depends_on([identity, iam]),
        )?;
        Ok(())
    }

    fn get_credentials_for_machine_account(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &ResourceId,
    ) -> CloudResult<Value> {
        let key = graph.declare(
            resource(tokens::SERVICE_ACCOUNT_KEY, self.pulumi_name(key))
                .input("serviceAccountId", Value::output(account, "email")),
        )?;
        Ok(Value::Function(Function::Base64Decode(Box::new(
            Value::output(&key, "privateKey"),
        ))))
    }

    fn create_group(
        &mut self,
        graph: &mut Graph,
        name: &str,
        description: Option<&str>,
    ) -> CloudResult<ResourceId> {
        let gcp = self.gcp()?.clone();
        let mail = format!("{name}@{}", gcp.groups_domain);
        let identity = self.service(graph, Service::CloudIdentity)?;
        let mut group = resource(tokens::GROUP, self.pulumi_name(&format!("{name}-group")))
            .input("displayName", name)
            .input("description", description.map_or(Value::Null, Value::from))
            .input(
                "initialGroupConfig",
                if gcp.create_empty_groups {
                    "EMPTY"
                } else {
                    "WITH_INITIAL_OWNER"
                },
            )
            .input("groupKey", Value::map([("id", Value::from(mail.as_str()))]))
            .input(
                "labels",
                Value::map([(
                    "cloudidentity.googleapis.com/groups.discussion_forum",
                    Value::from(""),
                )]),
            )
            .input("parent", format!("customers/{}", gcp.customer_id))
            .depends_on([identity]);
        // Pre-existing groups may hold null instead of EMPTY.
        group
            .options
            .ignore_changes
            .push("initialGroupConfig".to_owned());
        let group = graph.declare(group)?;
        if gcp.allow_external_group_members {
            graph.declare(
                resource(
                    tokens::GROUP_SETTINGS,
                    self.pulumi_name(&format!("{name}-group-settings")),
                )
                .input("group_email", mail.as_str())
                .input(
                    "settings",
                    Value::map([("allowExternalMembers", Value::from("true"))]),
                )
                .depends_on([group.clone()]),
            )?;
        }
        Ok(group)
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
        let groups_domain = self.gcp()?.groups_domain.clone();
        let identity = self.service(graph, Service::CloudIdentity)?;
        graph.declare(
            resource(tokens::GROUP_MEMBERSHIP, name)
                .input("group_key", members::group_key(group, &groups_domain))
                .input("member_key", members::membership_key(member))
                .depends_on([identity]),
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
        let resource_name = resource_key.map_or_else(|| self.pulumi_name(name), str::to_owned);
        let project = self.project_or_own(graph, project)?;
        let secret_manager = self.service(graph, Service::SecretManager)?;
        let replicas = Value::List(vec![Value::map([(
            "location",
            Value::from(self.region.as_str()),
        )])]);
        Ok(graph.declare(
            resource(tokens::SECRET, resource_name)
                .input("secretId", name)
                .input(
                    "replication",
                    Value::map([("userManaged", Value::map([("replicas", replicas)]))]),
                )
                .input("project", project)
                .depends_on([secret_manager]),
        )?)
    }

    fn add_secret_member(
        &mut self,
        graph: &mut Graph,
        key: &str,
        secret: &ResourceRef,
        member: &Member,
        membership: SecretMembership,
        project: Option<Value>,
    ) -> CloudResult<()> {
        let role = match membership {
            SecretMembership::Admin => "roles/secretmanager.secretVersionManager",
            SecretMembership::Accessor => "roles/secretmanager.secretAccessor",
        };
        let project = self.project_or_own(graph, project)?;
        let secret_id = match secret {
            ResourceRef::Declared(id) => Value::output(id, "id"),
            ResourceRef::Named(name) if name.matches('/').count() == 3 => {
                Value::from(name.as_str())
            }
            ResourceRef::Named(name) => Value::concat([
                Value::from("projects/"),
                project.clone(),
                Value::String(format!("/secrets/{name}")),
            ]),
        };
        graph.declare(
            resource(tokens::SECRET_IAM_MEMBER, self.pulumi_name(key))
                .input("project", project)
                .input("secretId", secret_id)
                .input("role", role)
                .input("member", members::iam_member(member)),
        )?;
        Ok(())
    }

    fn add_secret_version(
        &mut self,
        graph: &mut Graph,
        key: &str,
        secret: &ResourceId,
        contents: Value,
    ) -> CloudResult<ResourceId> {
        Ok(graph.declare(
            resource(tokens::SECRET_VERSION, self.pulumi_name(key))
                .input("secret", Value::output(secret, "id"))
                .input("secretData", contents.secret()),
        )?)
    }

    fn create_container_registry(
        &mut self,
        graph: &mut Graph,
        name: &str,
    ) -> CloudResult<ResourceId> {
        let project = self.project_id(graph)?;
        Ok(graph.declare(
            resource(
                tokens::REPOSITORY,
                self.pulumi_name(&format!("artifact-registry-{name}")),
            )
            .input("repositoryId", name)
            .input("project", project)
            .input("format", "DOCKER")
            .input("location", self.region.as_str()),
        )?)
    }

    fn add_member_to_container_registry(
        &mut self,
        graph: &mut Graph,
        key: &str,
        registry: &ResourceRef,
        member: &Member,
        membership: ContainerRegistryMembership,
        project: Option<Value>,
    ) -> CloudResult<()> {
        let role = match membership {
            ContainerRegistryMembership::Reader => "roles/artifactregistry.reader",
            ContainerRegistryMembership::Writer => "roles/artifactregistry.writer",
        };
        let project = self.project_or_own(graph, project)?;
        let repository = match registry {
            ResourceRef::Declared(id) => Value::output(id, "id"),
            ResourceRef::Named(name) => Value::from(name.as_str()),
        };
        graph.declare(
            resource(tokens::REPOSITORY_IAM_MEMBER, self.pulumi_name(key))
                .input("project", project)
                .input("location", self.region.as_str())
                .input("repository", repository)
                .input("role", role)
                .input("member", members::iam_member(member)),
        )?;
        Ok(())
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
        graph.declare(
            resource(tokens::PROJECT_IAM_MEMBER, self.pulumi_name(key))
                .input("project", project)
                .input("role", role)
                .input("member", members::iam_member(member)),
        )?;
        Ok(())
    }

    fn add_batch_agent_reporter_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
    ) -> CloudResult<()> {
        self.project_role_after(
            graph,
            key,
            account,
            Value::from("roles/batch.agentReporter"),
            Service::Batch,
        )
    }

    fn add_batch_jobs_editor_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
    ) -> CloudResult<()> {
        self.project_role_after(
            graph,
            key,
            account,
            Value::from("roles/batch.jobsEditor"),
            Service::Batch,
        )
    }

    fn add_member_to_dataproc_api(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
        role: DataprocRole,
    ) -> CloudResult<()> {
        let role = match role {
            DataprocRole::Admin => Value::from("roles/dataproc.admin"),
            DataprocRole::Worker => Value::from("roles/dataproc.worker"),
            DataprocRole::WorkerWithoutStorageAccess => {
                self.org_role("DataprocWorkerWithoutStorageAccess")
            }
        };
        self.project_role_after(graph, key, account, role, Service::Dataproc)
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
        let role = match access {
            TemporaryBucketAccessType::Read => "roles/storage.objectViewer",
            TemporaryBucketAccessType::Write => "roles/storage.objectAdmin",
        };
        let name = Value::output(bucket, "name");
        let condition = Value::concat([
            Value::from(
                "resource.service == \"storage.googleapis.com\" && (resource.name == \"projects/_/buckets/",
            ),
            name.clone(),
            Value::from("\" || resource.name.startsWith(\"projects/_/buckets/"),
            name,
            Value::from("/objects/\"))"),
        ]);
        let project = self.project(graph)?;
        let number = Value::output(&project, "number");
        let pam = self.service(graph, Service::PrivilegedAccessManager)?;
        let agent = self.pam_service_agent_binding(graph)?;
        let mut entitlement = resource(tokens::ENTITLEMENT, self.pulumi_name(key))
            .input(
                "parent",
                Value::concat([Value::from("projects/"), number.clone()]),
            )
            .input(
                "entitlementId",
                format!("pam-{}-{}", self.dataset.dataset, access.as_str()),
            )
            .input("maxRequestDuration", max_duration)
            .input("location", "global")
            .input(
                "requesterJustificationConfig",
                Value::map([("unstructured", Value::map(Vec::<(String, Value)>::new()))]),
            )
            .input(
                "eligibleUsers",
                Value::List(vec![Value::map([("principals", Value::List(principals))])]),
            )
            .input(
                "privilegedAccess",
                Value::map([(
                    "gcpIamAccess",
                    Value::map([
                        (
                            "resourceType",
                            Value::from("cloudresourcemanager.googleapis.com/Project"),
                        ),
                        (
                            "resource",
                            Value::concat([
                                Value::from("//cloudresourcemanager.googleapis.com/projects/"),
                                number,
                            ]),
                        ),
                        (
                            "roleBindings",
                            Value::List(vec![Value::map([
                                ("role", Value::from(role)),
                                ("conditionExpression", condition),
                            ])]),
                        ),
                    ]),
                )]),
            )
            .depends_on([pam, agent]);
        // Replacing an entitlement in place fails with "already exists".
        entitlement.options.delete_before_replace = true;
        Ok(graph.declare(entitlement)?)
    }

    fn create_pam_broker(&mut self, graph: &mut Graph, project: &str) -> CloudResult<ResourceId> {
        Ok(graph.declare(
            resource(tokens::SERVICE_ACCOUNT, format!("{project}-{PAM_BROKER}"))
                .input("accountId", PAM_BROKER)
                .input("displayName", "PAM Broker for GitHub Actions")
                .input(
                    "description",
                    "Service account used by GitHub Actions to request PAM grants",
                )
                .input("project", project)
                .input("createIgnoreAlreadyExists", true),
        )?)
    }

    fn add_token_creator(
        &mut self,
        graph: &mut Graph,
        key: &str,
        machine_account: &ResourceId,
        member: &Member,
    ) -> CloudResult<()> {
        graph.declare(
            resource(tokens::SERVICE_ACCOUNT_IAM_MEMBER, self.pulumi_name(key))
                .input("serviceAccountId", Value::output(machine_account, "id"))
                .input("role", "roles/iam.serviceAccountTokenCreator")
                .input("member", members::iam_member(member)),
        )?;
        Ok(())
    }

    fn create_python_registry(&mut self, graph: &mut Graph) -> CloudResult<ResourceId> {
        let region = self.gcp()?.region.clone();
        let project = self.project_id(graph)?;
        Ok(graph.declare(
            resource(tokens::REPOSITORY, "python-artifact-registry")
                .input("repositoryId", "python-registry")
                .input("project", project)
                .input("format", "PYTHON")
                .input("location", region)
                .input("description", "Python packages for CPG"),
        )?)
    }

    fn add_cloudrun_invoker(
        &mut self,
        graph: &mut Graph,
        key: &str,
        service: &str,
        project: &str,
        member: &Member,
    ) -> CloudResult<()> {
        graph.declare(
            resource(tokens::CLOUDRUN_IAM_MEMBER, self.pulumi_name(key))
                .input("location", self.region.as_str())
                .input("project", project)
                .input("service", service)
                .input("role", "roles/run.invoker")
                .input("member", members::iam_member(member)),
        )?;
        Ok(())
    }
}
