//! Names derived from the config must fit the clouds' limits: GCP service account ids
//! (6–30 characters), bucket names (3–63) and group email local parts (up to 64).
//! Azure's names are checked with the other Azure rules.

use std::ops::RangeInclusive;

use super::{Context, Findings, path};
use crate::config::CpgDatasetConfig;
use crate::config::diagnostic::Problem;
use crate::config::names::{CloudName, Component};
use crate::config::source::KeyPath;

const SERVICE_ACCOUNT_ID: RangeInclusive<usize> = 6..=30;
const BUCKET_NAME: RangeInclusive<usize> = 3..=63;
const GROUP_LOCAL_PART: RangeInclusive<usize> = 1..=64;
const GCP_PROJECT_ID: RangeInclusive<usize> = 6..=30;

/// The fixed bucket suffixes of the storage component, longest first.
const FIXED_BUCKET_SUFFIXES: [&str; 4] = ["main-analysis", "main-upload", "archive", "main"];

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    for dataset in cx.datasets {
        check_gcp(cx, dataset, findings);
    }
}

pub(super) fn fits(
    findings: &mut Findings,
    dataset: &str,
    at: KeyPath,
    what: &str,
    name: String,
    limit: RangeInclusive<usize>,
) {
    let length = name.chars().count();
    if !limit.contains(&length) {
        findings.dataset(
            dataset,
            at,
            Problem::NameOutOfLimits {
                what: what.into(),
                name,
                length,
                limit: format!("allowed: {} to {}", limit.start(), limit.end()),
            },
        );
    }
}

fn check_gcp(cx: &Context<'_>, dataset: &CpgDatasetConfig, findings: &mut Findings) {
    let cloud = CloudName::Gcp;
    if !dataset.deploy_locations.contains(&cloud) {
        return;
    }
    let name = &dataset.dataset;
    let here = path(&["dataset"]);
    fits(
        findings,
        name,
        path(&["gcp", "project"]),
        "GCP project id",
        dataset.gcp.project.clone(),
        GCP_PROJECT_ID,
    );

    if dataset.has_component(cloud, Component::Notebooks) {
        fits(
            findings,
            name,
            here.clone(),
            "notebook service account id",
            format!("notebook-{name}"),
            SERVICE_ACCOUNT_ID,
        );
    }

    if let Some(gcp) = &cx.infra.gcp {
        let prefix = &gcp.dataset_storage_prefix;
        if dataset.has_component(cloud, Component::Storage) {
            let longest = FIXED_BUCKET_SUFFIXES[0];
            fits(
                findings,
                name,
                here.clone(),
                "bucket name",
                format!("{prefix}{name}-{longest}"),
                BUCKET_NAME,
            );
            if let Some(upload) = &dataset.upload_config {
                for (i, bucket) in upload.additional_buckets.iter().flatten().enumerate() {
                    fits(
                        findings,
                        name,
                        path(&["upload_config", "additional_buckets"])
                            .index(i)
                            .key("name"),
                        "bucket name",
                        format!("{prefix}{name}-main-upload-{}", bucket.name),
                        BUCKET_NAME,
                    );
                }
                for (i, dropbox) in upload.dropboxes.iter().flatten().enumerate() {
                    fits(
                        findings,
                        name,
                        path(&["upload_config", "dropboxes"]).index(i).key("id"),
                        "bucket name",
                        format!("{prefix}{name}-main-upload-db-{}", dropbox.id),
                        BUCKET_NAME,
                    );
                }
            }
        }
        let group_prefix = cx.infra.group_prefix.as_deref().unwrap_or_default();
        let longest_group = longest_group_suffix(dataset);
        fits(
            findings,
            name,
            here,
            "group email local part",
            format!("{group_prefix}{name}-{longest_group}"),
            GROUP_LOCAL_PART,
        );
    }
}

/// The longest group name suffix the dataset gets on GCP.
fn longest_group_suffix(dataset: &CpgDatasetConfig) -> &'static str {
    if dataset.has_component(CloudName::Gcp, Component::Metamist) {
        "sample-metadata-main-contribute"
    } else if dataset.has_component(CloudName::Gcp, Component::HailAccounts) {
        "sm-hail-wheels-viewers"
    } else {
        "tmp-main-read-access"
    }
}
