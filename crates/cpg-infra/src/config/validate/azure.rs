//! Azure: every derived name is valid and unique, upload containers are named as
//! Azure allows, nothing is asked of Azure that it has no equivalent for, and what
//! the Azure build leaves out, or what a dataset not on Azure sets for Azure, is
//! reported.

use std::collections::BTreeMap;

use super::limits::fits;
use super::{Context, Findings, path, upload_bucket_suffixes};
use crate::config::CpgDatasetConfig;
use crate::config::azure_names::{self, AzureNameError};
use crate::config::diagnostic::Problem;
use crate::config::names::{CloudName, Component, GroupName};

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    check_names(cx, findings);
    for dataset in cx.datasets {
        if dataset.deploy_locations.contains(&CloudName::Azure) {
            check_upload_containers(dataset, findings);
            check_no_equivalent(dataset, findings);
            check_ignored_on_azure(dataset, findings);
        } else {
            check_azure_settings_unused(dataset, findings);
        }
    }
}

/// What a dataset on Azure asks for that the Azure build leaves out: warnings, as the
/// reference builds the rest (and leaves these out, silently or with a log line).
fn check_ignored_on_azure(dataset: &CpgDatasetConfig, findings: &mut Findings) {
    let name = &dataset.dataset;
    if dataset.budgets.contains_key(&CloudName::Azure) {
        findings.dataset(
            name,
            path(&["budgets", "azure"]),
            Problem::NoEffect {
                setting: "the azure budget".into(),
                effect: "has no effect".into(),
                reason: "budgets are not built on azure, so nothing watches this dataset's \
                         Azure spending"
                    .into(),
            },
        );
    }
    if !dataset.has_component(CloudName::Azure, Component::Storage) {
        return;
    }
    if dataset.enable_release {
        findings.dataset(
            name,
            path(&["enable_release"]),
            Problem::NoEffect {
                setting: "enable_release".into(),
                effect: "makes a release container on azure that is not requester-pays".into(),
                reason: "Azure has no requester pays, so the dataset's subscription pays for \
                         what readers download"
                    .into(),
            },
        );
    }
    // Autoclass is a GCP setting: on a dataset that also deploys to GCP it has its
    // effect there. It is on by default, so only a value the files give is reported.
    if dataset.autoclass && !dataset.deploy_locations.contains(&CloudName::Gcp) {
        findings.dataset_if_given(
            name,
            path(&["autoclass"]),
            Problem::NoEffect {
                setting: "autoclass".into(),
                effect: "has no effect".into(),
                reason: "Azure has no Autoclass and this dataset does not deploy to gcp".into(),
            },
        );
    }
}

/// Azure settings of a dataset that does not deploy to Azure.
fn check_azure_settings_unused(dataset: &CpgDatasetConfig, findings: &mut Findings) {
    let name = &dataset.dataset;
    let unused = [
        (
            dataset.azure.is_some(),
            "the azure section",
            path(&["azure"]),
        ),
        (
            dataset.budgets.contains_key(&CloudName::Azure),
            "the azure budget",
            path(&["budgets", "azure"]),
        ),
    ];
    for (_, setting, at) in unused.into_iter().filter(|(given, ..)| *given) {
        findings.dataset(
            name,
            at,
            Problem::NoEffect {
                setting: setting.into(),
                effect: "has no effect".into(),
                reason: "the dataset does not deploy to azure".into(),
            },
        );
    }
}

/// Storage account, Key Vault and registry names: valid, and one dataset's each.
fn check_names(cx: &Context<'_>, findings: &mut Findings) {
    let Some(azure) = &cx.infra.azure else {
        // A missing [azure] section is reported for the deploy location.
        return;
    };
    let prefix = &azure.dataset_storage_prefix;
    let mut taken: BTreeMap<String, &str> = BTreeMap::new();
    for dataset in cx.datasets {
        if !dataset.deploy_locations.contains(&CloudName::Azure) {
            continue;
        }
        let name = &dataset.dataset;
        match azure_names::check(prefix, name) {
            Ok(account) => {
                if let Some(first) = taken.get(&account).filter(|first| **first != name) {
                    findings.dataset(
                        name,
                        path(&["dataset"]),
                        Problem::Rule {
                            message: format!(
                                "Azure storage account, Key Vault and registry names \
                                 {account:?} are also derived from dataset {first:?}; \
                                 rename one of the two"
                            ),
                        },
                    );
                } else {
                    taken.insert(account, name);
                }
            }
            Err(AzureNameError::Length { name: account, .. }) => fits(
                findings,
                name,
                path(&["dataset"]),
                "Azure storage account name",
                account,
                azure_names::ACCOUNT_LENGTH,
            ),
            Err(error) => findings.dataset(
                name,
                path(&["dataset"]),
                Problem::Rule {
                    message: error.to_string(),
                },
            ),
        }
    }
}

/// The blob containers of additional upload buckets and dropboxes, named from the
/// config (`main-upload-{name}`, `main-upload-db-{id}`): GCS accepts `_`, `.` and
/// double hyphens where Azure refuses them, and an Azure-only dataset has no GCP
/// bucket name whose length check would catch a long one.
fn check_upload_containers(dataset: &CpgDatasetConfig, findings: &mut Findings) {
    let Some(upload) = &dataset.upload_config else {
        return;
    };
    if !dataset.has_component(CloudName::Azure, Component::Storage) {
        return;
    }
    for (at, container) in upload_bucket_suffixes(upload) {
        match azure_names::check_container(&container) {
            Ok(()) => {}
            Err(AzureNameError::ContainerLength { name, .. }) => fits(
                findings,
                &dataset.dataset,
                at,
                "Azure blob container name",
                name,
                azure_names::CONTAINER_LENGTH,
            ),
            Err(error) => findings.dataset(
                &dataset.dataset,
                at,
                Problem::Rule {
                    message: error.to_string(),
                },
            ),
        }
    }
}

/// What a dataset on Azure asks for that Azure has no equivalent of.
fn check_no_equivalent(dataset: &CpgDatasetConfig, findings: &mut Findings) {
    let name = &dataset.dataset;
    for component in dataset.components_for(CloudName::Azure) {
        let needs = match component {
            Component::Cromwell => "machine-account roles and credentials",
            Component::Spark => "Dataproc and machine-account roles",
            Component::Notebooks => "the notebooks project and machine-account roles",
            Component::Metamist => "metamist's Cloud Run service",
            Component::Storage
            | Component::HailAccounts
            | Component::AnalysisRunner
            | Component::ContainerRegistry => continue,
        };
        let at = if dataset.components.contains_key(&CloudName::Azure) {
            path(&["components", "azure"])
        } else {
            path(&["deploy_locations"])
        };
        findings.dataset(
            name,
            at,
            Problem::Rule {
                message: format!(
                    "the {component} component has no Azure equivalent (it needs {needs})"
                ),
            },
        );
    }
    if dataset.enable_shared_project {
        findings.dataset(
            name,
            path(&["enable_shared_project"]),
            Problem::Rule {
                message: "a shared project has no Azure equivalent (it needs a budget and \
                          machine-account roles); deploy this dataset to gcp only"
                    .into(),
            },
        );
    }
    if dataset.deploy_locations.contains(&CloudName::Gcp) {
        return;
    }
    let temporary = dataset
        .members
        .get(&GroupName::TmpMainReadAccess)
        .is_some_and(|members| !members.is_empty());
    let asks = [
        (temporary, path(&["members", "tmp-main-read-access"])),
        (
            dataset.allow_notebook_tmp_main_read,
            path(&["allow_notebook_tmp_main_read"]),
        ),
    ];
    for (_, at) in asks.into_iter().filter(|(asked, _)| *asked) {
        findings.dataset(
            name,
            at,
            Problem::Rule {
                message: "temporary main-bucket access has no Azure equivalent and this \
                          dataset does not deploy to gcp"
                    .into(),
            },
        );
    }
}
