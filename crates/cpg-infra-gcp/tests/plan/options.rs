//! Organisation-wide options change what is planned as the reference does.

use cpg_infra::config::{AdhocGroup, Config};
use cpg_infra::graph::Graph;

use super::support::{load, plan, reference_dir};

fn small() -> Config {
    load(&reference_dir().join("small"))
}

fn count(graph: &Graph, type_token: &str) -> usize {
    graph
        .resources()
        .iter()
        .filter(|r| &*r.id.type_token == type_token)
        .count()
}

#[test]
fn disabled_group_memberships_declare_no_memberships() {
    let mut config = small();
    assert!(count(&plan(config.clone()), "cpg:google:GroupMembership") > 0);
    config.infrastructure.disable_group_memberships = true;
    let graph = plan(config);
    assert_eq!(count(&graph, "cpg:google:GroupMembership"), 0);
    // The groups themselves stay.
    assert!(count(&graph, "gcp:cloudidentity/group:Group") > 0);
}

#[test]
fn group_creation_options_follow_the_config() {
    let mut config = small();
    let gcp = config.infrastructure.gcp.as_mut().expect("gcp");
    gcp.create_empty_groups = false;
    gcp.allow_external_group_members = false;
    let graph = plan(config);
    assert_eq!(count(&graph, "cpg:google:GroupSettings"), 0);
    let group = graph
        .resources()
        .iter()
        .find(|r| &*r.id.type_token == "gcp:cloudidentity/group:Group")
        .expect("a group");
    assert_eq!(
        group.inputs["initialGroupConfig"].as_str(),
        Some("WITH_INITIAL_OWNER")
    );
}

#[test]
fn budgets_notify_only_with_a_topic() {
    let mut config = small();
    config.infrastructure.budget_notification_thresholds = vec![0.25, 1.0];
    let graph = plan(config.clone());
    let budget = graph
        .resources()
        .iter()
        .find(|r| &*r.id.name == "fewgenomes-gcp-gcp-monthly-budget")
        .expect("budget");
    assert_eq!(
        budget.inputs["thresholdRules"].to_json()[0]["thresholdPercent"],
        0.25
    );
    config
        .infrastructure
        .gcp
        .as_mut()
        .expect("gcp")
        .budget_notification_pubsub = None;
    let graph = plan(config);
    let budget = graph
        .resources()
        .iter()
        .find(|r| &*r.id.name == "fewgenomes-gcp-gcp-monthly-budget")
        .expect("budget");
    assert!(!budget.inputs.contains_key("thresholdRules"));
    assert!(!budget.inputs.contains_key("allUpdatesRule"));
}

#[test]
fn adhoc_groups_get_their_members() {
    let mut config = small();
    config.infrastructure.adhoc_groups = Some(vec![
        AdhocGroup::builder()
            .name("seqr-curators")
            .description("Curators")
            .members(vec!["alice.smith".into(), "bob.nguyen".into()])
            .build(),
    ]);
    let graph = plan(config);
    let group = graph
        .resources()
        .iter()
        .find(|r| &*r.id.name == "common-gcp-seqr-curators-group")
        .expect("group");
    assert_eq!(group.inputs["description"].as_str(), Some("Curators"));
    let members = graph
        .resources()
        .iter()
        .filter(|r| {
            r.id.name.starts_with("common-gcp-seqr-curators-")
                && &*r.id.type_token == "cpg:google:GroupMembership"
        })
        .count();
    assert_eq!(members, 2);
}

#[test]
fn group_prefix_prefixes_group_emails() {
    let mut config = small();
    config.infrastructure.group_prefix = Some("dev-".into());
    let graph = plan(config);
    let group = graph
        .resources()
        .iter()
        .find(|r| &*r.id.name == "fewgenomes-gcp-dev-fewgenomes-analysis-group")
        .expect("prefixed group");
    assert_eq!(
        group.inputs["groupKey"].to_json()["id"],
        "dev-fewgenomes-analysis@populationgenomics.org.au"
    );
}
