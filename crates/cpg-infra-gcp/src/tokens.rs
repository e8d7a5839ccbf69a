//! The Pulumi type tokens GCP resources are declared with: the pulumi-gcp provider's,
//! and this project's own for what the reference made with Python dynamic providers.

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
/// A Privileged Access Manager entitlement.
pub const ENTITLEMENT: &str = "gcp:privilegedaccessmanager/entitlement:entitlement";
/// The organisation data source.
pub const GET_ORGANIZATION: &str = "gcp:organizations/getOrganization:getOrganization";

pub use cpg_infra_kinds::{GROUP_MEMBERSHIP, GROUP_SETTINGS};
