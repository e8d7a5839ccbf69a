//! Rules on the organisation-wide config alone.

use std::collections::BTreeSet;

use super::{Context, Findings, path};
use crate::config::diagnostic::Problem;

/// Organisation-wide groups the infrastructure creates itself.
const RESERVED_GROUPS: [&str; 3] = [
    "sample-metadata-invokers",
    "analysis-runner-config-viewers-group",
    "internal-logs-access",
];

/// The billing aggregator runs between once an hour and once a day.
const INTERVAL_HOURS: std::ops::RangeInclusive<i64> = 1..=24;

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    let destination = &cx.infra.config_destination;
    let well_formed = destination
        .strip_prefix("gs://")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(bucket, _)| !bucket.is_empty());
    if !well_formed {
        findings.infra(
            path(&["config_destination"]),
            Problem::Invalid {
                message: format!("{destination:?} is not of the form gs://<bucket>/<path>"),
            },
        );
    }
    let mut seen = BTreeSet::new();
    for (i, plugin) in cx.infra.plugins_enabled.iter().enumerate() {
        if !crate::plugin::is_plugin_name(plugin) {
            findings.infra(
                path(&["plugins_enabled"]).index(i),
                Problem::Invalid {
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
        && !INTERVAL_HOURS.contains(&aggregator.interval_hours)
    {
        findings.infra(
            path(&["billing", "aggregator", "interval_hours"]),
            Problem::OutOfRange {
                value: aggregator.interval_hours,
                range: "1 to 24 hours".into(),
            },
        );
    }

    let mut groups = BTreeSet::new();
    for (i, group) in cx.infra.adhoc_groups.iter().flatten().enumerate() {
        let name = &group.name;
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let taken = RESERVED_GROUPS.contains(&name.as_str())
            || cx
                .by_name
                .keys()
                .any(|dataset| name.starts_with(&format!("{dataset}-")));
        if !valid || taken {
            findings.infra(
                path(&["adhoc_groups"]).index(i).key("name"),
                Problem::Invalid {
                    message: if valid {
                        format!("the group name {name:?} is taken by the infrastructure's own groups")
                    } else {
                        format!("the group name {name:?} may hold lowercase letters, digits and hyphens only")
                    },
                },
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
                Problem::Invalid {
                    message: format!(
                        "threshold {threshold} must be a positive fraction of the budget"
                    ),
                },
            );
        }
    }
}
