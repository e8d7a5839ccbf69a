//! The API services a dataset's project enables, each declared once, on first use,
//! after the services it depends on.

/// An API service the reference enables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    /// Cloud Resource Manager.
    CloudResourceManager,
    /// Cloud Identity (groups).
    CloudIdentity,
    /// Service Usage.
    ServiceUsage,
    /// Secret Manager.
    SecretManager,
    /// Dataproc.
    Dataproc,
    /// Batch.
    Batch,
    /// Cloud Billing.
    CloudBilling,
    /// Billing Budgets.
    CloudBillingBudgets,
    /// IAM.
    Iam,
    /// Privileged Access Manager.
    PrivilegedAccessManager,
}

impl Service {
    /// The key in the resource's logical name, `{key}-service`.
    pub fn key(self) -> &'static str {
        match self {
            Service::CloudResourceManager => "cloudresourcemanager",
            Service::CloudIdentity => "cloudidentity",
            Service::ServiceUsage => "serviceusage",
            Service::SecretManager => "secretmanager",
            Service::Dataproc => "dataproc",
            Service::Batch => "batch",
            Service::CloudBilling => "cloudbilling",
            Service::CloudBillingBudgets => "cloudbillingbudgets",
            Service::Iam => "iam",
            Service::PrivilegedAccessManager => "privilegedaccessmanager",
        }
    }

    /// The API's name.
    pub fn api(self) -> &'static str {
        match self {
            Service::CloudResourceManager => "cloudresourcemanager.googleapis.com",
            Service::CloudIdentity => "cloudidentity.googleapis.com",
            Service::ServiceUsage => "serviceusage.googleapis.com",
            Service::SecretManager => "secretmanager.googleapis.com",
            Service::Dataproc => "dataproc.googleapis.com",
            Service::Batch => "batch.googleapis.com",
            Service::CloudBilling => "cloudbilling.googleapis.com",
            Service::CloudBillingBudgets => "billingbudgets.googleapis.com",
            Service::Iam => "iam.googleapis.com",
            Service::PrivilegedAccessManager => "privilegedaccessmanager.googleapis.com",
        }
    }

    /// The service this one is declared after (its explicit `dependsOn`).
    pub fn depends_on(self) -> Option<Service> {
        match self {
            Service::CloudResourceManager | Service::ServiceUsage => None,
            Service::Batch => Some(Service::ServiceUsage),
            Service::CloudBillingBudgets => Some(Service::CloudBilling),
            Service::CloudIdentity
            | Service::SecretManager
            | Service::Dataproc
            | Service::CloudBilling
            | Service::Iam
            | Service::PrivilegedAccessManager => Some(Service::CloudResourceManager),
        }
    }
}
