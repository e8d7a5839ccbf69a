//! The `Cloud` trait: everything the drivers ask of a cloud, in the reference's terms
//! (`CloudInfraBase`), and the enums and handles it uses. A cloud declares resources
//! into the [`Graph`]; it never talks to an engine.

use std::sync::Arc;

use crate::config::{CloudName, CpgDatasetConfig, CpgInfrastructureConfig};
use crate::graph::{Graph, GraphError, ResourceId, Value};

/// Access to a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketMembership {
    /// List the bucket's objects.
    List,
    /// Read objects.
    Read,
    /// Read and create objects.
    Append,
    /// Read, create, change and delete objects.
    Mutate,
}

/// Access to a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretMembership {
    /// Read secret versions.
    Accessor,
    /// Manage secret versions.
    Admin,
}

/// Access to a container registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerRegistryMembership {
    /// Pull images.
    Reader,
    /// Push images.
    Writer,
}

/// A role on a machine account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineAccountRole {
    /// Act as the account.
    Access,
    /// Administer the account.
    Admin,
    /// Create the account's keys.
    CredentialsAdmin,
}

/// A Dataproc role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataprocRole {
    /// Create and manage clusters.
    Admin,
    /// Run as a cluster worker.
    Worker,
    /// The organisation's worker role without storage access.
    WorkerWithoutStorageAccess,
}

/// Temporary access to a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporaryBucketAccessType {
    /// Read objects.
    Read,
    /// Write objects.
    Write,
}

impl TemporaryBucketAccessType {
    /// The reference's name for the access type.
    pub fn as_str(self) -> &'static str {
        match self {
            TemporaryBucketAccessType::Read => "read",
            TemporaryBucketAccessType::Write => "write",
        }
    }
}

/// The reference's retention periods, in days.
pub mod periods {
    /// Non-current object versions are kept this long.
    pub const UNDELETE: i64 = 30;
    /// Objects in temporary buckets live this long.
    pub const TMP_BUCKET: i64 = 8;
    /// Objects move to the archive tier after this long, by default.
    pub const ARCHIVE: i64 = 30;
    /// Incomplete multipart uploads are aborted after this long.
    pub const INCOMPLETE_UPLOAD: i64 = 7;
}

/// A bucket lifecycle rule, in the cloud's own terms once declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleRule {
    /// Delete non-current (archived) object versions after `days`.
    Undelete {
        /// Days since the version became non-current.
        days: i64,
    },
    /// Move objects to the archive tier after `days`.
    Archive {
        /// Object age in days.
        days: i64,
    },
    /// Delete objects (under `matches_prefixes`, when given) after `days`.
    Temporary {
        /// Object age in days.
        days: i64,
        /// Object name prefixes the rule applies to; empty for all.
        matches_prefixes: Vec<String>,
    },
}

/// A bucket to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSpec {
    /// The name suffix after `{prefix}{dataset}-`, or the whole name when `unique`.
    pub name: String,
    /// Lifecycle rules, before the cloud's own abort-incomplete-upload rule.
    pub lifecycle_rules: Vec<LifecycleRule>,
    /// `name` is the bucket's whole name.
    pub unique: bool,
    /// Requesters pay for access.
    pub requester_pays: bool,
    /// Objects are versioned.
    pub versioning: bool,
    /// The storage class follows access (GCP Autoclass).
    pub autoclass: bool,
    /// Keep deleted objects for the cloud's default period.
    pub soft_delete_protection: bool,
}

impl BucketSpec {
    /// A dataset bucket with the reference's defaults: versioned, soft-delete
    /// protected, no Autoclass, not requester-pays.
    pub fn new(name: impl Into<String>, lifecycle_rules: Vec<LifecycleRule>) -> Self {
        BucketSpec {
            name: name.into(),
            lifecycle_rules,
            unique: false,
            requester_pays: false,
            versioning: true,
            autoclass: false,
            soft_delete_protection: true,
        }
    }
}

/// Who is granted access: a resource the cloud declared, or an id.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    /// A group the cloud declared.
    Group(ResourceId),
    /// A machine account the cloud declared.
    MachineAccount(ResourceId),
    /// A bucket the cloud declared (as a grant's target).
    Bucket(ResourceId),
    /// A machine account known by an email that is only known at deploy time, such
    /// as a Hail Batch user's account.
    MachineAccountEmail(Value),
    /// An id: an email, a principal (`group:x@y`) or a name.
    Id(String),
}

/// A bucket, secret or registry: one the cloud declared, or one that exists by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    /// Declared by the cloud.
    Declared(ResourceId),
    /// Existing, by name.
    Named(String),
}

/// What a cloud could not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// Declaring a resource failed.
    #[error("cannot declare a resource")]
    Graph(#[from] GraphError),
    /// The cloud has no such thing.
    #[error("{cloud} does not support {operation}")]
    Unsupported {
        /// The cloud.
        cloud: CloudName,
        /// What was asked.
        operation: &'static str,
    },
    /// The config lacks a section the cloud needs (validation reports it first).
    #[error("{cloud} needs the [{section}] config section")]
    MissingSection {
        /// The cloud.
        cloud: CloudName,
        /// The section.
        section: &'static str,
    },
}

/// The result of declaring through a cloud.
pub type CloudResult<T> = Result<T, CloudError>;

/// One cloud's infrastructure for one dataset: the reference's `CloudInfraBase`.
///
/// Resources are created lazily and once: a cloud keeps what it declared (its
/// project, its API services) and returns the same id when asked again.
pub trait Cloud {
    /// The cloud's name.
    fn name(&self) -> CloudName;

    /// The dataset this instance declares for.
    fn dataset(&self) -> &str;

    /// The logical name for `key`: `{dataset}-{cloud}-{key}`, with one leading
    /// `{dataset}-` removed from `key`.
    fn pulumi_name(&self, key: &str) -> String {
        let dataset = self.dataset();
        let key = key
            .strip_prefix(dataset)
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(key);
        format!("{dataset}-{}-{key}", self.name())
    }

    /// The dataset's project (declared on first use).
    fn project(&mut self, graph: &mut Graph) -> CloudResult<ResourceId>;

    /// The dataset's project id, as other resources' inputs use it.
    fn project_id(&mut self, graph: &mut Graph) -> CloudResult<Value>;

    /// Declares what every dataset needs whatever it used.
    fn finalise(&mut self, graph: &mut Graph) -> CloudResult<()>;

    /// The id of a member, as member lists and caches hold it.
    fn member_id(&self, member: &Member) -> Value;

    /// Declares a project.
    fn create_project(
        &mut self,
        graph: &mut Graph,
        key: &str,
        name: Value,
    ) -> CloudResult<ResourceId>;

    /// Declares a monthly budget on `project` (the dataset's own when `None`).
    fn create_monthly_budget(
        &mut self,
        graph: &mut Graph,
        key: &str,
        budget: i64,
        project: Option<&ResourceId>,
    ) -> CloudResult<()>;

    /// Declares a budget over all time on `project`.
    fn create_fixed_budget(
        &mut self,
        graph: &mut Graph,
        key: &str,
        budget: i64,
        project: &ResourceId,
    ) -> CloudResult<()>;

    /// Declares a bucket.
    fn create_bucket(&mut self, graph: &mut Graph, spec: &BucketSpec) -> CloudResult<ResourceId>;

    /// The bucket's URL, e.g. `gs://name`.
    fn bucket_output_path(&self, bucket: &ResourceId) -> Value;

    /// Grants `member` `membership` on `bucket`.
    fn add_member_to_bucket(
        &mut self,
        graph: &mut Graph,
        key: &str,
        bucket: &ResourceRef,
        member: &Member,
        membership: BucketMembership,
    ) -> CloudResult<()>;

    /// Lets `member` list the project's buckets.
    fn give_member_ability_to_list_buckets(
        &mut self,
        graph: &mut Graph,
        key: &str,
        member: &Member,
    ) -> CloudResult<()>;

    /// Writes `contents` to `bucket` as `output_name`. `resource_name` is used as is.
    fn add_blob_to_bucket(
        &mut self,
        graph: &mut Graph,
        resource_name: &str,
        bucket: &ResourceRef,
        output_name: &str,
        contents: Value,
    ) -> CloudResult<ResourceId>;

    /// Declares a machine account `name` in `project` (the dataset's when `None`),
    /// under `resource_key` or `service-account-{name}`.
    fn create_machine_account(
        &mut self,
        graph: &mut Graph,
        name: &str,
        project: Option<Value>,
        resource_key: Option<&str>,
    ) -> CloudResult<ResourceId>;

    /// Grants `member` `role` on `machine_account`.
    fn add_member_to_machine_account_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        machine_account: &ResourceId,
        member: &Member,
        role: MachineAccountRole,
    ) -> CloudResult<()>;

    /// Declares a key for `account` and returns its decoded credentials.
    fn get_credentials_for_machine_account(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &ResourceId,
    ) -> CloudResult<Value>;

    /// Declares a group `name`.
    fn create_group(
        &mut self,
        graph: &mut Graph,
        name: &str,
        description: Option<&str>,
    ) -> CloudResult<ResourceId>;

    /// Adds `member` to `group` (a declared group, or an existing one by id); `key` is
    /// used as is when `unique_key`.
    fn add_group_member(
        &mut self,
        graph: &mut Graph,
        key: &str,
        group: &Member,
        member: &Member,
        unique_key: bool,
    ) -> CloudResult<()>;

    /// Declares a secret.
    fn create_secret(
        &mut self,
        graph: &mut Graph,
        name: &str,
        project: Option<Value>,
        resource_key: Option<&str>,
    ) -> CloudResult<ResourceId>;

    /// Grants `member` `membership` on a secret (declared, or by name in `project`).
    fn add_secret_member(
        &mut self,
        graph: &mut Graph,
        key: &str,
        secret: &ResourceRef,
        member: &Member,
        membership: SecretMembership,
        project: Option<Value>,
    ) -> CloudResult<()>;

    /// Adds a version with `contents` to `secret`.
    fn add_secret_version(
        &mut self,
        graph: &mut Graph,
        key: &str,
        secret: &ResourceId,
        contents: Value,
    ) -> CloudResult<ResourceId>;

    /// Declares a container registry `name`.
    fn create_container_registry(
        &mut self,
        graph: &mut Graph,
        name: &str,
    ) -> CloudResult<ResourceId>;

    /// Grants `member` `membership` on `registry` (declared, or by name in `project`).
    fn add_member_to_container_registry(
        &mut self,
        graph: &mut Graph,
        key: &str,
        registry: &ResourceRef,
        member: &Member,
        membership: ContainerRegistryMembership,
        project: Option<Value>,
    ) -> CloudResult<()>;

    /// Grants `member` a project-level `role` (GCP), in `project` or the dataset's.
    fn add_project_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        member: &Member,
        role: &str,
        project: Option<Value>,
    ) -> CloudResult<()>;

    /// Lets `account` report on Batch jobs (GCP).
    fn add_batch_agent_reporter_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
    ) -> CloudResult<()>;

    /// Lets `account` edit Batch jobs (GCP).
    fn add_batch_jobs_editor_role(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
    ) -> CloudResult<()>;

    /// Grants `account` a Dataproc role (GCP).
    fn add_member_to_dataproc_api(
        &mut self,
        graph: &mut Graph,
        key: &str,
        account: &Member,
        role: DataprocRole,
    ) -> CloudResult<()>;

    /// Declares an entitlement that lets `principals` request `access` to `bucket`
    /// for at most `max_duration` (GCP: Privileged Access Manager).
    fn create_temporary_bucket_access(
        &mut self,
        graph: &mut Graph,
        key: &str,
        bucket: &ResourceId,
        access: TemporaryBucketAccessType,
        principals: Vec<Value>,
        max_duration: &str,
    ) -> CloudResult<ResourceId>;

    /// Declares the organisation's temporary-access broker account in `project`.
    fn create_pam_broker(&mut self, graph: &mut Graph, project: &str) -> CloudResult<ResourceId>;

    /// Lets `member` create access tokens for `machine_account`.
    fn add_token_creator(
        &mut self,
        graph: &mut Graph,
        key: &str,
        machine_account: &ResourceId,
        member: &Member,
    ) -> CloudResult<()>;

    /// Declares the organisation's private Python package registry (GCP).
    fn create_python_registry(&mut self, graph: &mut Graph) -> CloudResult<ResourceId>;

    /// Lets `member` invoke a Cloud Run `service` in `project` (GCP).
    fn add_cloudrun_invoker(
        &mut self,
        graph: &mut Graph,
        key: &str,
        service: &str,
        project: &str,
        member: &Member,
    ) -> CloudResult<()>;
}

/// Makes the [`Cloud`] for one dataset on one cloud.
pub trait CloudProvider {
    /// The cloud this provider makes.
    fn name(&self) -> CloudName;

    /// A cloud instance for `dataset`.
    fn for_dataset(
        &self,
        config: Arc<CpgInfrastructureConfig>,
        dataset: Arc<CpgDatasetConfig>,
    ) -> Box<dyn Cloud>;
}
