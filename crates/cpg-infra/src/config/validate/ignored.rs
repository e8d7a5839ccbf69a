//! Settings the reference accepts and builds nothing from, or builds less from than a
//! reader would expect: each is a warning where it is given.

use super::{Context, Findings, path};
use crate::config::diagnostic::Problem;
use crate::config::names::{CloudName, Component, GroupName};

/// The metamist plugin's name in `plugins_enabled`.
const METAMIST_PLUGIN: &str = "metamist";

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    check_infrastructure(cx, findings);
    check_metamist_plugin(cx, findings);
    for dataset in cx.datasets {
        check_extra_accounts(dataset, findings);
        let name = &dataset.dataset;
        for (cloud, budget) in &dataset.budgets {
            if budget.currency.is_some() {
                findings.dataset(
                    name,
                    path(&["budgets", cloud.as_str(), "currency"]),
                    no_effect(
                        "currency",
                        "budgets are written in the organisation's budget_currency",
                    ),
                );
            }
        }
        // The reference sends metamist the dataset's metamist groups' members, which
        // only the metamist component makes: without it, it warns and sends nothing.
        if dataset.enable_metamist_project
            && dataset.deploy_locations.contains(&CloudName::Gcp)
            && !dataset.has_component(CloudName::Gcp, Component::Metamist)
        {
            for group in [
                GroupName::MetadataAccess,
                GroupName::MetadataContribute,
                GroupName::MetadataWrite,
            ] {
                if dataset.members.get(&group).is_some_and(|m| !m.is_empty()) {
                    findings.dataset(
                        name,
                        path(&["members", group.as_str()]),
                        Problem::NoEffect {
                            setting: format!("the {group} members"),
                            effect: "reach no metamist project".into(),
                            reason: "enable_metamist_project is on but the dataset has no \
                                     metamist component on gcp, so its metamist groups are not \
                                     made and metamist is sent no members"
                                .into(),
                        },
                    );
                }
            }
        }
    }
}

fn no_effect(setting: &str, reason: &str) -> Problem {
    Problem::NoEffect {
        setting: setting.into(),
        effect: "has no effect".into(),
        reason: reason.into(),
    }
}

/// Organisation-wide optional fields that nothing reads.
fn check_infrastructure(cx: &Context<'_>, findings: &mut Findings) {
    let billing = cx.infra.billing.as_ref();
    let aggregator = billing.and_then(|b| b.aggregator.as_ref());
    let cost_controls = billing.and_then(|b| b.gcp_cost_controls.as_ref());
    let azure = cx.infra.azure.as_ref();
    let unused: [(bool, &[&str], &str); 4] = [
        (
            aggregator.is_some_and(|a| a.billing_sheet_id.is_some()),
            &["billing", "aggregator", "billing_sheet_id"],
            "no resource or function configuration reads it",
        ),
        (
            aggregator.is_some_and(|a| a.monthly_summary_table.is_some()),
            &["billing", "aggregator", "monthly_summary_table"],
            "no resource or function configuration reads it",
        ),
        (
            cost_controls.is_some_and(|c| c.pubsub_topic.is_some()),
            &["billing", "gcp_cost_controls", "pubsub_topic"],
            "the cost control is triggered by gcp.budget_notification_pubsub, the topic \
             budgets notify",
        ),
        (
            azure.is_some_and(|a| a.config_bucket_name.is_some()),
            &["azure", "config_bucket_name"],
            "the analysis-runner config viewers are given gcp.config_bucket_name, where the \
             organisation-wide resources are",
        ),
    ];
    for (_, keys, reason) in unused.into_iter().filter(|(given, _, _)| *given) {
        let setting = keys.last().copied().unwrap_or_default();
        findings.infra(path(keys), no_effect(setting, reason));
    }
}

/// The metamist plugin declares nothing without `metamist.etl`.
fn check_metamist_plugin(cx: &Context<'_>, findings: &mut Findings) {
    let has_etl = cx
        .infra
        .metamist
        .as_ref()
        .is_some_and(|metamist| metamist.etl.is_some());
    if has_etl {
        return;
    }
    for (i, plugin) in cx.infra.plugins_enabled.iter().enumerate() {
        if plugin == METAMIST_PLUGIN {
            findings.infra(
                path(&["plugins_enabled"]).index(i),
                Problem::NoEffect {
                    setting: "the metamist plugin".into(),
                    effect: "declares nothing".into(),
                    reason: "the infrastructure config has no [metamist.etl] section".into(),
                },
            );
        }
    }
}

/// Two `sm_read_only_sas` / `sm_read_write_sas` accounts that derive the same
/// membership name: the reference keeps the later account's memberships under that
/// name, and so does the plan.
fn check_extra_accounts(dataset: &crate::config::CpgDatasetConfig, findings: &mut Findings) {
    let accounts = ["sm_read_only_sas", "sm_read_write_sas"]
        .into_iter()
        .zip([&dataset.sm_read_only_sas, &dataset.sm_read_write_sas])
        .flat_map(|(key, list)| list.iter().enumerate().map(move |(i, a)| (key, i, a)));
    let mut first: std::collections::BTreeMap<String, (&str, usize, &String)> =
        std::collections::BTreeMap::new();
    for (key, i, account) in accounts {
        let derived = crate::config::names::name_from_account(account);
        match first.get(&derived) {
            Some((first_key, first_index, first_account)) if *first_account != account => {
                findings.dataset(
                    &dataset.dataset,
                    path(&[key]).index(i),
                    Problem::Questionable {
                        message: format!(
                            "{account:?} and {first_account:?} ({first_key}[{first_index}]) \
                             both derive the metamist membership name {derived:?}; the later \
                             account's memberships are kept under it, as the reference keeps them"
                        ),
                    },
                );
            }
            Some(_) => {}
            None => {
                first.insert(derived, (key, i, account));
            }
        }
    }
}
