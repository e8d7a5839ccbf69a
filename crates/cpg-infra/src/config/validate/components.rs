//! The config sections that enabled components and features need, budgets, and the
//! shared project's prerequisites.

use super::{Context, Findings, path};
use crate::config::CpgDatasetConfig;
use crate::config::diagnostic::Problem;
use crate::config::infrastructure::CpgInfrastructureConfig;
use crate::config::names::{CloudName, Component};
use crate::config::source::KeyPath;

/// An infrastructure config section that may be absent.
#[derive(Clone, Copy)]
enum Section {
    Gcp,
    Azure,
    Hail,
    HailAzure,
    Cromwell,
    AnalysisRunner,
    Notebooks,
    Metamist,
    Billing,
    DataDropbox,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::Gcp => "gcp",
            Section::Azure => "azure",
            Section::Hail => "hail",
            Section::HailAzure => "hail.azure",
            Section::Cromwell => "cromwell",
            Section::AnalysisRunner => "analysis_runner",
            Section::Notebooks => "notebooks",
            Section::Metamist => "metamist",
            Section::Billing => "billing",
            Section::DataDropbox => "data_dropbox",
        }
    }

    fn present(self, infra: &CpgInfrastructureConfig) -> bool {
        match self {
            Section::Gcp => infra.gcp.is_some(),
            Section::Azure => infra.azure.is_some(),
            Section::Hail => infra.hail.is_some(),
            Section::HailAzure => infra.hail.as_ref().is_some_and(|h| h.azure.is_some()),
            Section::Cromwell => infra.cromwell.is_some(),
            Section::AnalysisRunner => infra.analysis_runner.is_some(),
            Section::Notebooks => infra.notebooks.is_some(),
            Section::Metamist => infra.metamist.is_some(),
            Section::Billing => infra.billing.is_some(),
            Section::DataDropbox => infra.data_dropbox.is_some(),
        }
    }
}

/// The sections a component needs on a cloud.
fn component_sections(component: Component, cloud: CloudName) -> &'static [Section] {
    match (component, cloud) {
        (Component::HailAccounts, CloudName::Azure) => {
            &[Section::Hail, Section::HailAzure, Section::Billing]
        }
        (Component::HailAccounts, _) => &[Section::Hail, Section::Billing],
        (Component::Cromwell, _) => &[Section::Cromwell, Section::AnalysisRunner],
        (Component::Notebooks, _) => &[Section::Notebooks],
        (Component::Metamist, _) => &[Section::Metamist],
        (Component::AnalysisRunner, _) => &[Section::AnalysisRunner],
        (Component::Storage | Component::Spark | Component::ContainerRegistry, _) => &[],
    }
}

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    let infra = cx.infra;
    // The organisation-wide resources live in the common dataset's GCP project and
    // always include the metamist invoker group.
    for section in [Section::Gcp, Section::Metamist] {
        if !section.present(infra) {
            findings.infra(
                KeyPath::root(),
                missing(section, "the organisation-wide resources".into()),
            );
        }
    }

    for dataset in cx.datasets {
        let name = &dataset.dataset;
        for (i, cloud) in dataset.deploy_locations.iter().enumerate() {
            let at = path(&["deploy_locations"]).index(i);
            let needs: &[Section] = match cloud {
                CloudName::Gcp => &[Section::Gcp, Section::Billing],
                CloudName::Azure => &[Section::Azure],
                CloudName::DryRun => &[],
            };
            for section in needs {
                if !section.present(infra) {
                    findings.dataset(
                        name,
                        at.clone(),
                        missing(*section, format!("deploying to {cloud}")),
                    );
                }
            }
            for component in dataset.components_for(*cloud) {
                for section in component_sections(*component, *cloud) {
                    if !section.present(infra) {
                        let at = components_path(dataset, *cloud);
                        findings.dataset(
                            name,
                            at,
                            missing(*section, format!("the {component} component on {cloud}")),
                        );
                    }
                }
            }
            if *cloud == CloudName::Gcp && !dataset.budgets.contains_key(cloud) {
                findings.dataset(
                    name,
                    path(&["budgets", cloud.as_str()]),
                    Problem::MissingBudget { cloud: *cloud },
                );
            }
        }

        // The reference builds the rest of the temporary access (group, browser role,
        // entitlement) and only leaves the notebooks out.
        if dataset.allow_notebook_tmp_main_read
            && dataset.deploy_locations.contains(&CloudName::Gcp)
            && !dataset.has_component(CloudName::Gcp, Component::Notebooks)
        {
            findings.dataset(
                name,
                path(&["allow_notebook_tmp_main_read"]),
                Problem::NoEffect {
                    setting: "allow_notebook_tmp_main_read".into(),
                    effect: "gives notebooks no access".into(),
                    reason: "the dataset has no notebooks component on gcp".into(),
                },
            );
        }
        let has_dropboxes = dataset
            .upload_config
            .as_ref()
            .and_then(|u| u.dropboxes.as_ref())
            .is_some_and(|d| !d.is_empty());
        if !dataset.setup_test && dataset.deployment_service_account_test.is_some() {
            findings.dataset(
                name,
                path(&["deployment_service_account_test"]),
                Problem::NoEffect {
                    setting: "deployment_service_account_test".into(),
                    effect: "has no effect".into(),
                    reason: "setup_test is false, so there is no test access level to join".into(),
                },
            );
        }
        // The reference makes the dropboxes' buckets and leaves the server config out.
        if has_dropboxes && !Section::DataDropbox.present(infra) {
            findings.dataset(
                name,
                path(&["upload_config", "dropboxes"]),
                Problem::NoEffect {
                    setting: "dropboxes".into(),
                    effect: "reach no dropbox server".into(),
                    reason: "the infrastructure config has no [data_dropbox] section, so their buckets are made and the server config is not".into(),
                },
            );
        }
        check_shared_project(dataset, findings);
    }
}

fn components_path(dataset: &CpgDatasetConfig, cloud: CloudName) -> KeyPath {
    if dataset.components.contains_key(&cloud) {
        path(&["components", cloud.as_str()])
    } else {
        path(&["deploy_locations"])
    }
}

fn missing(section: Section, needed_by: String) -> Problem {
    Problem::MissingSection {
        section: section.name().into(),
        needed_by,
    }
}

fn check_shared_project(dataset: &CpgDatasetConfig, findings: &mut Findings) {
    if !dataset.enable_shared_project || !dataset.deploy_locations.contains(&CloudName::Gcp) {
        return;
    }
    let name = &dataset.dataset;
    let at = path(&["enable_shared_project"]);
    if !dataset.enable_release {
        findings.dataset(
            name,
            at.clone(),
            Problem::SharedProjectIncomplete {
                needs: "enable_release: the release bucket is what it shares".into(),
            },
        );
    }
    match dataset.budgets.get(&CloudName::Gcp) {
        // A missing budget is already reported for the deploy location.
        None => {}
        Some(budget) if budget.shared_total_budget.is_none_or(|total| total <= 0) => findings
            .dataset(
                name,
                path(&["budgets", "gcp", "shared_total_budget"]),
                Problem::SharedProjectIncomplete {
                    needs: "budgets.gcp.shared_total_budget".into(),
                },
            ),
        Some(_) => {}
    }
}
