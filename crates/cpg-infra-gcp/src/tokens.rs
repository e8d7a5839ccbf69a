//! The Pulumi package, version and type tokens GCP resources are declared with: the
//! pulumi-gcp provider's, for this crate and the plugins, and this project's own for
//! what the reference made with Python dynamic providers.

/// The Pulumi package of the pulumi-gcp tokens: the first segment of each.
pub const PACKAGE: &str = "gcp";
/// The pulumi-gcp version the reference's stacks were made with: another major version
/// would plan changes across a whole stack. `provider-schemas/pulumi-gcp.json` is its
/// schema.
pub const VERSION: &str = "7.38.0";

/// A GCP project.
pub const PROJECT: &str = "gcp:organizations/project:Project";
/// An enabled API service.
pub const SERVICE: &str = "gcp:projects/service:Service";
/// A billing budget.
pub const BUDGET: &str = "gcp:billing/budget:Budget";
/// A storage bucket.
pub const BUCKET: &str = "gcp:storage/bucket:Bucket";
/// A role on a bucket.
pub const BUCKET_IAM_MEMBER: &str = "gcp:storage/bucketIAMMember:BucketIAMMember";
/// An object in a bucket.
pub const BUCKET_OBJECT: &str = "gcp:storage/bucketObject:BucketObject";
/// A role on a project.
pub const PROJECT_IAM_MEMBER: &str = "gcp:projects/iAMMember:IAMMember";
/// A service account.
pub const SERVICE_ACCOUNT: &str = "gcp:serviceaccount/account:Account";
/// A role on a service account.
pub const SERVICE_ACCOUNT_IAM_MEMBER: &str = "gcp:serviceaccount/iAMMember:IAMMember";
/// A service account key.
pub const SERVICE_ACCOUNT_KEY: &str = "gcp:serviceaccount/key:Key";
/// A Cloud Identity group.
pub const GROUP: &str = "gcp:cloudidentity/group:Group";
/// A Secret Manager secret.
pub const SECRET: &str = "gcp:secretmanager/secret:Secret";
/// A role on a secret.
pub const SECRET_IAM_MEMBER: &str = "gcp:secretmanager/secretIamMember:SecretIamMember";
/// A secret version.
pub const SECRET_VERSION: &str = "gcp:secretmanager/secretVersion:SecretVersion";
/// An Artifact Registry repository.
pub const REPOSITORY: &str = "gcp:artifactregistry/repository:Repository";
/// A role on a repository.
pub const REPOSITORY_IAM_MEMBER: &str =
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember";
/// A role on a Cloud Run service.
pub const CLOUDRUN_IAM_MEMBER: &str = "gcp:cloudrun/iamMember:IamMember";
/// A Cloud Run service: never declared here, named by value as the target of a
/// [`CLOUDRUN_IAM_MEMBER`].
pub const CLOUDRUN_SERVICE: &str = "gcp:cloudrun/service:Service";
/// A Privileged Access Manager entitlement (pulumi-gcp 7.38.0 registers it with a
/// lower-case kind).
pub const ENTITLEMENT: &str = "gcp:privilegedaccessmanager/entitlement:entitlement";
/// A Cloud Functions (2nd gen) function.
pub const FUNCTION: &str = "gcp:cloudfunctionsv2/function:Function";
/// A role on a Cloud Functions (2nd gen) function.
pub const FUNCTION_IAM_MEMBER: &str = "gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember";
/// A BigQuery dataset.
pub const DATASET: &str = "gcp:bigquery/dataset:Dataset";
/// An access entry of a BigQuery dataset.
pub const DATASET_ACCESS: &str = "gcp:bigquery/datasetAccess:DatasetAccess";
/// A BigQuery table.
pub const TABLE: &str = "gcp:bigquery/table:Table";
/// A Pub/Sub topic.
pub const TOPIC: &str = "gcp:pubsub/topic:Topic";
/// A Pub/Sub topic's IAM policy.
pub const TOPIC_IAM_POLICY: &str = "gcp:pubsub/topicIAMPolicy:TopicIAMPolicy";
/// A Pub/Sub subscription.
pub const SUBSCRIPTION: &str = "gcp:pubsub/subscription:Subscription";
/// A Pub/Sub subscription's IAM policy.
pub const SUBSCRIPTION_IAM_POLICY: &str = "gcp:pubsub/subscriptionIAMPolicy:SubscriptionIAMPolicy";
/// A Cloud Monitoring notification channel.
pub const NOTIFICATION_CHANNEL: &str = "gcp:monitoring/notificationChannel:NotificationChannel";
/// A Cloud Monitoring alert policy.
pub const ALERT_POLICY: &str = "gcp:monitoring/alertPolicy:AlertPolicy";
/// A Cloud Scheduler job.
pub const SCHEDULER_JOB: &str = "gcp:cloudscheduler/job:Job";
/// The organisation data source.
pub const GET_ORGANIZATION: &str = "gcp:organizations/getOrganization:getOrganization";
/// The project data source.
pub const GET_PROJECT: &str = "gcp:organizations/getProject:getProject";
/// The IAM policy document data source.
pub const GET_IAM_POLICY: &str = "gcp:organizations/getIAMPolicy:getIAMPolicy";
/// The data source that reads a secret version's payload.
pub const GET_SECRET_VERSION_ACCESS: &str =
    "gcp:secretmanager/getSecretVersionAccess:getSecretVersionAccess";

pub use cpg_infra_kinds::{GROUP_MEMBERSHIP, GROUP_SETTINGS};
