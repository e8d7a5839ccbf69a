//! GCP for cpg-infra: a [`Cloud`] that declares the reference's resources with its
//! type tokens, logical names and inputs.
//!
//! ```
//! use cpg_infra::cloud::CloudProvider;
//! let provider = cpg_infra_gcp::GcpProvider;
//! assert_eq!(provider.name(), cpg_infra::config::CloudName::Gcp);
//! ```

mod cloud;
mod lifecycle;
mod members;
mod options;
mod services;
pub mod tokens;

use std::collections::BTreeMap;
use std::sync::Arc;

use cpg_infra::cloud::{Cloud, CloudError, CloudProvider, CloudResult, Member};
use cpg_infra::config::{
    BillingConfig, CloudName, CpgDatasetConfig, CpgInfrastructureConfig, GcpConfig,
};
use cpg_infra::graph::{Graph, Invoke, ResourceId, Value};

pub use members::principal;
pub use options::{resource, sdk_options};
pub use services::Service;

/// Makes a [`GcpCloud`] per dataset.
#[derive(Debug, Clone, Copy, Default)]
pub struct GcpProvider;

impl CloudProvider for GcpProvider {
    fn name(&self) -> CloudName {
        CloudName::Gcp
    }

    fn for_dataset(
        &self,
        config: Arc<CpgInfrastructureConfig>,
        dataset: Arc<CpgDatasetConfig>,
    ) -> Box<dyn Cloud> {
        Box::new(GcpCloud::new(config, dataset))
    }
}

/// One dataset's GCP infrastructure: the reference's `GcpInfrastructure`.
#[derive(Debug)]
pub struct GcpCloud {
    config: Arc<CpgInfrastructureConfig>,
    dataset: Arc<CpgDatasetConfig>,
    region: String,
    project: Option<ResourceId>,
    services: BTreeMap<Service, ResourceId>,
    pam_agent_binding: Option<ResourceId>,
}

/// The temporary-access broker's account id.
pub const PAM_BROKER: &str = "pam-broker";

impl GcpCloud {
    /// The GCP infrastructure of `dataset`.
    pub fn new(config: Arc<CpgInfrastructureConfig>, dataset: Arc<CpgDatasetConfig>) -> Self {
        let region = dataset
            .gcp
            .region
            .clone()
            .or_else(|| config.gcp.as_ref().map(|g| g.region.clone()))
            .unwrap_or_default();
        GcpCloud {
            config,
            dataset,
            region,
            project: None,
            services: BTreeMap::new(),
            pam_agent_binding: None,
        }
    }

    fn gcp(&self) -> CloudResult<&GcpConfig> {
        self.config.gcp.as_ref().ok_or(CloudError::MissingSection {
            cloud: CloudName::Gcp,
            section: "gcp",
        })
    }

    fn billing(&self) -> CloudResult<&BillingConfig> {
        self.config
            .billing
            .as_ref()
            .ok_or(CloudError::MissingSection {
                cloud: CloudName::Gcp,
                section: "billing",
            })
    }

    /// A property of the organisation, looked up by the config's domain.
    pub fn organization(&self, property: &str) -> Value {
        Value::Invoke(Invoke {
            token: tokens::GET_ORGANIZATION.to_owned(),
            args: BTreeMap::from([(
                "domain".to_owned(),
                Value::from(self.config.domain.as_str()),
            )]),
            property: property.to_owned(),
        })
    }

    /// An organisation-level custom role, `organizations/<id>/roles/<name>`.
    fn org_role(&self, name: &str) -> Value {
        Value::concat([
            self.organization("id"),
            Value::String(format!("/roles/{name}")),
        ])
    }

    /// The API service, declared on first use after the service it depends on.
    pub fn service(&mut self, graph: &mut Graph, service: Service) -> CloudResult<ResourceId> {
        if let Some(id) = self.services.get(&service) {
            return Ok(id.clone());
        }
        let dependency = match service.depends_on() {
            Some(dependency) => Some(self.service(graph, dependency)?),
            None => None,
        };
        let project = self.project_id(graph)?;
        let id = graph.declare(
            resource(
                tokens::SERVICE,
                self.pulumi_name(&format!("{}-service", service.key())),
            )
            .input("service", service.api())
            .input("disableOnDestroy", false)
            .input("project", project)
            .depends_on(dependency),
        )?;
        self.services.insert(service, id.clone());
        Ok(id)
    }

    fn budget(
        &mut self,
        graph: &mut Graph,
        key: &str,
        budget: i64,
        project: &ResourceId,
        filter: Value,
    ) -> CloudResult<()> {
        let billing_account = self.billing()?.gcp.account_id.clone();
        let mut budget_resource = resource(tokens::BUDGET, self.pulumi_name(key))
            .input(
                "amount",
                Value::map([(
                    "specifiedAmount",
                    Value::map([
                        ("units", Value::String(budget.to_string())),
                        (
                            "currencyCode",
                            Value::from(self.config.budget_currency.as_str()),
                        ),
                        ("nanos", Value::Int(0)),
                    ]),
                )]),
            )
            .input("billingAccount", billing_account)
            .input("displayName", Value::output(project, "name"))
            .input("budgetFilter", filter);
        if let Some(topic) = self
            .gcp()?
            .budget_notification_pubsub
            .as_ref()
            .filter(|topic| !topic.is_empty())
        {
            budget_resource = budget_resource
                .input(
                    "thresholdRules",
                    Value::List(
                        self.config
                            .budget_notification_thresholds
                            .iter()
                            .map(|t| Value::map([("thresholdPercent", Value::Float(*t))]))
                            .collect(),
                    ),
                )
                .input(
                    "allUpdatesRule",
                    Value::map([
                        ("pubsubTopic", Value::from(topic.as_str())),
                        ("schemaVersion", Value::from("1.0")),
                    ]),
                );
        }
        let budgets_service = self.service(graph, Service::CloudBillingBudgets)?;
        graph.declare(budget_resource.depends_on([budgets_service]))?;
        Ok(())
    }

    /// A project role declared after the API `service` it needs.
    fn project_role_after(
        &mut self,
        graph: &mut Graph,
        key: &str,
        member: &Member,
        role: Value,
        service: Service,
    ) -> CloudResult<()> {
        let project = self.project_id(graph)?;
        let service = self.service(graph, service)?;
        graph.declare(
            resource(tokens::PROJECT_IAM_MEMBER, self.pulumi_name(key))
                .input("role", role)
                .input("member", members::iam_member(member))
                .input("project", project)
                .depends_on([service]),
        )?;
        Ok(())
    }

    /// Privileged Access Manager's service agent, bound once per project.
    fn pam_service_agent_binding(&mut self, graph: &mut Graph) -> CloudResult<ResourceId> {
        if let Some(binding) = &self.pam_agent_binding {
            return Ok(binding.clone());
        }
        let project = self.project_id(graph)?;
        let pam = self.service(graph, Service::PrivilegedAccessManager)?;
        let binding = graph.declare(
            resource(
                tokens::PROJECT_IAM_MEMBER,
                self.pulumi_name("pam-service-agent-binding"),
            )
            .input("project", project)
            .input("role", "roles/privilegedaccessmanager.serviceAgent")
            .input(
                "member",
                Value::concat([
                    Value::from("serviceAccount:service-org-"),
                    self.organization("orgId"),
                    Value::from("@gcp-sa-pam.iam.gserviceaccount.com"),
                ]),
            )
            .depends_on([pam]),
        )?;
        self.pam_agent_binding = Some(binding.clone());
        Ok(binding)
    }

    /// `project`, or the dataset's own project id when none is given.
    fn project_or_own(&mut self, graph: &mut Graph, project: Option<Value>) -> CloudResult<Value> {
        match project {
            Some(project) => Ok(project),
            None => self.project_id(graph),
        }
    }

    fn project_numbers(project: &ResourceId) -> Value {
        Value::List(vec![Value::concat([
            Value::from("projects/"),
            Value::output(project, "number"),
        ])])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpg_infra::config::DatasetGcpConfig;

    fn cloud(dataset: &str) -> GcpCloud {
        let config = CpgInfrastructureConfig::builder()
            .domain("example.org")
            .budget_currency("AUD")
            .common_dataset("common")
            .config_destination("gs://config/deploy")
            .billing(
                BillingConfig::builder()
                    .gcp(
                        cpg_infra::config::BillingGcpConfig::builder()
                            .project_id("b")
                            .account_id("A-B")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let dataset = CpgDatasetConfig::builder()
            .dataset(dataset)
            .gcp(DatasetGcpConfig::builder().project("p").build())
            .build();
        GcpCloud::new(Arc::new(config), Arc::new(dataset))
    }

    #[test]
    fn logical_names_strip_the_dataset_prefix_once() {
        let gcp = cloud("fewgenomes");
        assert_eq!(gcp.pulumi_name("main-bucket"), "fewgenomes-gcp-main-bucket");
        assert_eq!(
            gcp.pulumi_name("fewgenomes-analysis-group"),
            "fewgenomes-gcp-analysis-group"
        );
        assert_eq!(
            gcp.pulumi_name("fewgenomes-fewgenomes-x"),
            "fewgenomes-gcp-fewgenomes-x"
        );
        // The budget quirk: the key is named twice.
        assert_eq!(
            gcp.pulumi_name(&gcp.pulumi_name("monthly-budget")),
            "fewgenomes-gcp-gcp-monthly-budget"
        );
        // Only a whole `{dataset}-` prefix is removed.
        assert_eq!(gcp.pulumi_name("fewgenomesx"), "fewgenomes-gcp-fewgenomesx");
    }

    #[test]
    fn services_are_declared_once_after_their_dependency() {
        let mut gcp = cloud("ds");
        let mut graph = Graph::new();
        let identity = gcp
            .service(&mut graph, Service::CloudIdentity)
            .expect("service");
        let again = gcp
            .service(&mut graph, Service::CloudIdentity)
            .expect("service");
        assert_eq!(identity, again);
        let declared = graph.get(&identity).expect("declared");
        assert_eq!(
            declared.options.depends_on,
            vec![ResourceId::new(
                tokens::SERVICE,
                "ds-gcp-cloudresourcemanager-service"
            )]
        );
        // project, cloudresourcemanager, cloudidentity
        assert_eq!(graph.len(), 3);
    }
}
