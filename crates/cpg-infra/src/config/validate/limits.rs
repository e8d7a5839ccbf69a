//! Names derived from the config must fit the clouds' limits: GCP service account ids
//! (6–30 characters), bucket names (3–63, of lowercase letters, digits, `-`, `_` and
//! `.`, starting and ending with a letter or digit) and group email local parts (up
//! to 64). Azure's names are checked with the other Azure rules.

use std::ops::RangeInclusive;

use super::{Context, Findings, path, upload_bucket_suffixes};
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
    check_bucket_names(cx, findings);
    for dataset in cx.datasets {
        check_gcp(cx, dataset, findings);
    }
}

/// Where a piece of text sits in a GCP bucket name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BucketPart {
    /// The whole name.
    Whole,
    /// The start of names (a prefix).
    Start,
    /// The end of names (a suffix after `-`).
    End,
}

/// What GCP's bucket naming rules refuse in `text`, as `part` of a bucket name:
/// characters other than lowercase letters, digits, `-`, `_` and `.`; a first or
/// last character that is not a letter or digit; a name starting with `goog`.
fn bucket_problem(text: &str, part: BucketPart) -> Option<String> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if let Some(bad) = text.chars().find(|&c| !allowed(c)) {
        return Some(format!(
            "{text:?} holds {bad:?}: GCP bucket names hold lowercase letters, digits, \"-\", \"_\" and \".\" only"
        ));
    }
    let starts = matches!(part, BucketPart::Whole | BucketPart::Start);
    let ends = matches!(part, BucketPart::Whole | BucketPart::End);
    if (starts && !text.is_empty() && !edge(text.chars().next()))
        || (ends && !edge(text.chars().last()))
    {
        return Some(format!(
            "{text:?}: GCP bucket names start and end with a lowercase letter or digit"
        ));
    }
    if starts && text.starts_with("goog") {
        return Some(format!(
            "{text:?}: GCP bucket names cannot start with \"goog\""
        ));
    }
    None
}

/// The bucket names and the parts of bucket names the config gives.
fn check_bucket_names(cx: &Context<'_>, findings: &mut Findings) {
    let mut infra: Vec<(KeyPath, &str, BucketPart)> = Vec::new();
    if let Some(gcp) = &cx.infra.gcp {
        infra.push((
            path(&["gcp", "dataset_storage_prefix"]),
            &gcp.dataset_storage_prefix,
            BucketPart::Start,
        ));
        infra.push((
            path(&["gcp", "config_bucket_name"]),
            &gcp.config_bucket_name,
            BucketPart::Whole,
        ));
    }
    if let Some(wheels) = cx
        .infra
        .hail
        .as_ref()
        .and_then(|h| h.gcp.wheel_bucket_name.as_deref())
        .filter(|name| !name.is_empty())
    {
        infra.push((
            path(&["hail", "gcp", "wheel_bucket_name"]),
            wheels,
            BucketPart::Whole,
        ));
    }
    if let Some(bucket) = cx
        .infra
        .config_destination
        .strip_prefix("gs://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(bucket, _)| bucket)
        .filter(|bucket| !bucket.is_empty())
    {
        infra.push((path(&["config_destination"]), bucket, BucketPart::Whole));
    }
    for (at, text, part) in infra {
        if let Some(message) = bucket_problem(text, part) {
            findings.infra(at, Problem::Rule { message });
        }
    }
    for dataset in cx.datasets {
        let Some(upload) = &dataset.upload_config else {
            continue;
        };
        if !dataset.deploy_locations.contains(&CloudName::Gcp) {
            continue;
        }
        for (at, suffix) in upload_bucket_suffixes(upload) {
            if let Some(message) = bucket_problem(&suffix, BucketPart::End) {
                findings.dataset(&dataset.dataset, at, Problem::Rule { message });
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_gcps_rules() {
        assert_eq!(bucket_problem("cpg-", BucketPart::Start), None);
        assert_eq!(bucket_problem("", BucketPart::Start), None);
        assert_eq!(bucket_problem("cpg-config", BucketPart::Whole), None);
        assert_eq!(bucket_problem("partner.v2", BucketPart::End), None);
        assert!(bucket_problem("CPG_ /", BucketPart::Start).is_some());
        assert!(bucket_problem("-cpg", BucketPart::Start).is_some());
        assert!(bucket_problem("google-x", BucketPart::Whole).is_some());
        assert!(bucket_problem("bucket-", BucketPart::End).is_some());
        assert!(bucket_problem("a\nb", BucketPart::End).is_some());
    }
}
