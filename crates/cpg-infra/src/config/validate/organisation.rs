//! Rules on the organisation-wide config alone.

use std::collections::BTreeSet;

use super::{Context, Findings, path};
use crate::config::diagnostic::Problem;

/// The billing aggregator runs between once an hour and once a day.
const INTERVAL_HOURS: std::ops::RangeInclusive<i64> = 1..=24;

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    let mut seen = BTreeSet::new();
    for (i, plugin) in cx.infra.plugins_enabled.iter().enumerate() {
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
