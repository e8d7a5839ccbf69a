//! Hail Batch, organisation-wide: the members of every dataset's billing project.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::graph::{Resource, Value};

use super::super::groups::GroupMember;
use super::super::member_hash::member_hash;
use super::super::{BuildError, State};

/// Every dataset's Hail billing project gets the billing aggregator, the dataset's
/// Hail accounts, and every person with a Hail username in its analysis group (and,
/// for internal datasets, the internal-log users).
pub(super) fn setup_hail_batch_billing_project_members(
    state: &mut State,
) -> Result<(), BuildError> {
    let aggregator = state
        .config
        .billing
        .as_ref()
        .and_then(|b| b.hail_aggregator_username.clone());
    for dataset in state.order.clone() {
        let config = Arc::clone(&state.datasets[&dataset]);
        for cloud in config.deploy_locations.clone() {
            let Some(memo) = state.memos.get(&(dataset.clone(), cloud)) else {
                continue;
            };
            let (Some(project), Some(accounts)) = (
                memo.hail_billing_project.clone(),
                memo.hail_accounts.clone(),
            ) else {
                continue;
            };
            let billing_project = Value::output(&project, "id");
            let mut memberships: Vec<(String, String)> = Vec::new();
            if let Some(aggregator) = &aggregator {
                memberships.push((
                    "batch-billing-member-billing-aggregator".into(),
                    aggregator.clone(),
                ));
            }
            for (level, account) in &accounts {
                memberships.push((
                    format!("batch-billing-member-hail-{level}"),
                    account.username.clone(),
                ));
            }
            let mut usernames: BTreeSet<String> = state
                .groups
                .resolve(cloud, &format!("{dataset}-analysis"))
                .into_iter()
                .filter_map(|m| match m {
                    GroupMember::Member {
                        user: Some(user), ..
                    } => user.hail_batch_username.clone(),
                    _ => None,
                })
                .collect();
            if config.is_internal_dataset {
                usernames.extend(
                    state
                        .config
                        .users
                        .values()
                        .filter(|u| u.can_access_internal_dataset_logs)
                        .filter_map(|u| u.clouds.get(&cloud)?.hail_batch_username.clone()),
                );
            }
            for username in usernames {
                let hash = member_hash(&dataset, &username, cloud.as_str());
                memberships.push((format!("batch-billing-member-{hash}"), username));
            }
            for (key, user) in memberships {
                let name = state.pulumi_name(&dataset, cloud, &key);
                state.graph.declare(
                    Resource::new(cpg_infra_kinds::HAIL_BILLING_PROJECT_MEMBERSHIP, name)
                        .input("billing_project", billing_project.clone())
                        .input("user", user),
                )?;
            }
        }
    }
    Ok(())
}
