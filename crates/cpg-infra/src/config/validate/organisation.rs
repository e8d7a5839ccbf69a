//! Rules on the organisation-wide config alone.

use std::collections::BTreeSet;

use super::{Context, Findings, path};
use crate::config::CpgDatasetConfig;
use crate::config::diagnostic::Problem;

/// Organisation-wide groups the infrastructure creates itself.
pub(crate) const ORGANISATION_GROUPS: [&str; 3] = [
    "sample-metadata-invokers",
    "analysis-runner-config-viewers-group",
    "internal-logs-access",
];

/// Every group the infrastructure may create for a dataset, as `{dataset}-{suffix}`.
pub(crate) const DATASET_GROUP_SUFFIXES: [&str; 28] = [
    "analysis",
    "data-manager",
    "full",
    "images-dev-reader",
    "images-dev-writer",
    "images-reader",
    "images-writer",
    "main-create",
    "main-list",
    "main-read",
    "metadata-access",
    "metadata-contribute",
    "metadata-write",
    "release-access",
    "sample-metadata-main-contribute",
    "sample-metadata-main-read",
    "sample-metadata-main-write",
    "sample-metadata-test-contribute",
    "sample-metadata-test-read",
    "sample-metadata-test-write",
    "sm-hail-wheels-viewers",
    "standard",
    "test",
    "test-full",
    "test-read",
    "tmp-main-read-access",
    "upload",
    "web-access",
];

/// Every group name the infrastructure may create itself (without the group
/// prefix): the organisation-wide groups, and `{dataset}-{suffix}` for each dataset
/// and each of the groups a dataset can have. Ad-hoc groups may take any other name.
pub fn infrastructure_group_names(datasets: &[CpgDatasetConfig]) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ORGANISATION_GROUPS
        .iter()
        .map(|g| (*g).to_owned())
        .collect();
    for dataset in datasets {
        for suffix in DATASET_GROUP_SUFFIXES {
            names.insert(format!("{}-{suffix}", dataset.dataset));
        }
    }
    names
}

/// The group of the infrastructure's own that is named `name`, if any: an
/// organisation-wide group, or `{dataset}-{suffix}` for one of the datasets.
fn own_group(cx: &Context<'_>, name: &str) -> Option<String> {
    if ORGANISATION_GROUPS.contains(&name) {
        return Some(format!("the organisation-wide group {name:?}"));
    }
    cx.dataset_names().find_map(|dataset| {
        let suffix = name.strip_prefix(dataset)?.strip_prefix('-')?;
        DATASET_GROUP_SUFFIXES
            .contains(&suffix)
            .then(|| format!("dataset {dataset:?}'s {suffix} group"))
    })
}

/// The billing aggregator runs between once an hour and once a day.
const INTERVAL_HOURS: std::ops::RangeInclusive<i64> = 1..=24;

/// Whether GCP accepts `id` as a service account id: 6 to 30 lowercase letters,
/// digits and hyphens, starting with a letter and not ending with a hyphen.
fn is_service_account_id(id: &str) -> bool {
    (6..=30).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Each metamist ETL accessor is a service account `metamist-etl-{name}` (the
/// reference's id): a name GCP refuses stops the deploy when the account is created.
/// The reference's sample configs give accessors as emails, which it plans (under
/// Pulumi's mocks) and a deploy cannot create, so this is a warning.
fn check_etl_accessors(cx: &Context<'_>, findings: &mut Findings) {
    let Some(etl) = cx.infra.metamist.as_ref().and_then(|m| m.etl.as_ref()) else {
        return;
    };
    for (i, name) in etl.accessors.iter().enumerate() {
        let id = format!("metamist-etl-{name}");
        if is_service_account_id(&id) {
            continue;
        }
        let hint = if name.contains('@') {
            "; an accessor is a name, not an email: its account is \
             metamist-etl-<name>@<metamist project>.iam.gserviceaccount.com"
        } else {
            ""
        };
        findings.infra(
            path(&["metamist", "etl", "accessors"]).index(i),
            Problem::Questionable {
                message: format!(
                    "ETL accessor {name:?} gives the service account id {id:?} ({} \
                     characters), which GCP refuses (6 to 30 lowercase letters, digits and hyphens, starting with a \
                     letter){hint}",
                    id.chars().count()
                ),
            },
        );
    }
}

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    check_etl_accessors(cx, findings);
    let destination = &cx.infra.config_destination;
    let well_formed = destination
        .strip_prefix("gs://")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(bucket, _)| !bucket.is_empty());
    if !well_formed {
        findings.infra(
            path(&["config_destination"]),
            Problem::Rule {
                message: format!("{destination:?} is not of the form gs://<bucket>/<path>"),
            },
        );
    }
    let mut seen = BTreeSet::new();
    for (i, plugin) in cx.infra.plugins_enabled.iter().enumerate() {
        if !crate::config::names::is_plugin_name(plugin) {
            findings.infra(
                path(&["plugins_enabled"]).index(i),
                Problem::Rule {
                    message: format!(
                        "{plugin:?} is not a plugin name: lowercase letters, digits and \"_\", starting with a letter (the library file is named after it)"
                    ),
                },
            );
        }
        if !seen.insert(plugin.as_str()) {
            findings.infra(
                path(&["plugins_enabled"]).index(i),
                Problem::Duplicate {
                    what: "plugin".into(),
                    name: plugin.clone(),
                },
            );
        }
    }

    if let Some(aggregator) = cx
        .infra
        .billing
        .as_ref()
        .and_then(|b| b.aggregator.as_ref())
    {
        let at = path(&["billing", "aggregator", "interval_hours"]);
        let hours = aggregator.interval_hours;
        if !INTERVAL_HOURS.contains(&hours) {
            findings.infra(
                at,
                Problem::OutOfRange {
                    value: hours,
                    range: "1 to 24 hours".into(),
                },
            );
        } else if 24 % hours != 0 {
            // The reference prints this and schedules the runs anyway.
            findings.infra(
                at,
                Problem::Questionable {
                    message: format!(
                        "{hours} hours do not divide a day, so two runs may fall within one interval"
                    ),
                },
            );
        }
    }

    let mut groups = BTreeSet::new();
    for (i, group) in cx.infra.adhoc_groups.iter().flatten().enumerate() {
        let name = &group.name;
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let message = if valid {
            own_group(cx, name).map(|owner| format!("the group name {name:?} is taken by {owner}"))
        } else {
            Some(format!(
                "the group name {name:?} may hold lowercase letters, digits and hyphens only"
            ))
        };
        if let Some(message) = message {
            findings.infra(
                path(&["adhoc_groups"]).index(i).key("name"),
                Problem::Rule { message },
            );
        }
        if group.members.is_empty() {
            findings.infra(
                path(&["adhoc_groups"]).index(i).key("members"),
                Problem::EmptyGroup { name: name.clone() },
            );
        }
        if !groups.insert(group.name.as_str()) {
            findings.infra(
                path(&["adhoc_groups"]).index(i).key("name"),
                Problem::Duplicate {
                    what: "ad-hoc group".into(),
                    name: group.name.clone(),
                },
            );
        }
    }

    for (i, threshold) in cx.infra.budget_notification_thresholds.iter().enumerate() {
        if !threshold.is_finite() || *threshold <= 0.0 {
            findings.infra(
                path(&["budget_notification_thresholds"]).index(i),
                Problem::Rule {
                    message: format!(
                        "threshold {threshold} must be a positive fraction of the budget"
                    ),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CpgInfrastructureConfig, validate};

    fn config() -> (CpgInfrastructureConfig, Vec<CpgDatasetConfig>) {
        let config = crate::synthetic::synthetic_config(3, 7);
        (config.infrastructure, config.datasets)
    }

    #[test]
    fn service_account_ids_as_gcp_accepts_them() {
        assert!(is_service_account_id("metamist-etl-bbv"));
        assert!(is_service_account_id("abcdef"));
        assert!(is_service_account_id(&"a".repeat(30)));
        assert!(!is_service_account_id("abcde"));
        assert!(!is_service_account_id(&"a".repeat(31)));
        assert!(!is_service_account_id("metamist-etl-x@y.com"));
        assert!(!is_service_account_id("metamist-etl-Bbv"));
        assert!(!is_service_account_id("1metamist"));
        assert!(!is_service_account_id("metamist-etl-"));
    }

    #[test]
    fn own_groups_are_whole_names() {
        let (infra, datasets) = config();
        let cx = Context::new(&infra, &datasets);
        let dataset = datasets[1].dataset.clone();
        assert!(own_group(&cx, &format!("{dataset}-analysis")).is_some());
        assert!(own_group(&cx, &format!("{dataset}-tmp-main-read-access")).is_some());
        assert!(own_group(&cx, "internal-logs-access").is_some());
        assert_eq!(own_group(&cx, &format!("{dataset}-reviewers")), None);
        assert_eq!(own_group(&cx, &format!("{dataset}-analysis-team")), None);
        let names = infrastructure_group_names(&datasets);
        assert_eq!(
            names.len(),
            ORGANISATION_GROUPS.len() + datasets.len() * DATASET_GROUP_SUFFIXES.len()
        );
    }

    #[test]
    fn adhoc_group_with_a_dataset_prefix_validates() {
        let (mut infra, datasets) = config();
        let member = infra.users.keys().next().cloned().expect("a user");
        let name = format!("{}-reviewers", datasets[1].dataset);
        infra.adhoc_groups = Some(vec![crate::config::AdhocGroup {
            name,
            description: "Reviewers".into(),
            members: vec![member],
        }]);
        assert_eq!(validate(&infra, &datasets), Ok(Vec::new()));
    }
}
