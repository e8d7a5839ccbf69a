//! `access` against a brute-force walk of the plan document: every membership and
//! grant read from the JSON the plan writes, closed transitively by repeated joins
//! until nothing changes.

use std::collections::{BTreeMap, BTreeSet};

use cpg_infra::config::GroupName;
use cpg_infra::synthetic::synthetic_config;
use cpg_infra_azure::tokens as azure;
use cpg_infra_gcp::tokens as gcp;
use cpg_infra_kinds as kinds;
use cpg_infra_review::access::{AccessGraph, TARGET_KEYS};
use proptest::prelude::*;
use serde_json::Value as Json;

use super::support::{add_member, people, plan};

/// A principal as the brute force names it: a resource (`type::name`) or a value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Resource(String),
    Value(String),
}

impl Who {
    fn text(&self) -> String {
        match self {
            Who::Resource(id) | Who::Value(id) => id.clone(),
        }
    }

    fn as_resource(&self) -> String {
        match self {
            Who::Resource(id) => id.clone(),
            Who::Value(key) => format!("group::{key}"),
        }
    }
}

/// Memberships (member, group), grants (member, role, resource) and groups.
#[derive(Default)]
struct Edges {
    memberships: BTreeSet<(Who, Who)>,
    grants: BTreeSet<(Who, String, String)>,
    groups: BTreeSet<Who>,
}

fn text_of(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Object(o) if o.contains_key("$output") => {
            let out = &o["$output"];
            format!(
                "${{{}.{}}}",
                out["resource"].as_str().unwrap_or_default(),
                out["property"].as_str().unwrap_or_default()
            )
        }
        Json::Object(o) if o.contains_key("$invoke") => {
            let invoke = &o["$invoke"];
            let token = invoke["token"].as_str().unwrap_or_default();
            format!(
                "${{{}.{}}}",
                token.rsplit(':').next().unwrap_or(token),
                invoke["property"].as_str().unwrap_or_default()
            )
        }
        Json::Object(o) if o.contains_key("$concat") => o["$concat"]
            .as_array()
            .map(|parts| parts.iter().map(text_of).collect())
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Every resource a value refers to.
fn refs(value: &Json, found: &mut BTreeSet<String>) {
    match value {
        Json::Object(o) => {
            if let Some(out) = o.get("$output") {
                found.insert(out["resource"].as_str().unwrap_or_default().to_owned());
            }
            o.values().for_each(|v| refs(v, found));
        }
        Json::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

fn read(plan: &Json) -> Edges {
    let resources = plan["resources"].as_array().expect("resources");
    let mut emails: BTreeMap<String, String> = BTreeMap::new();
    let mut edges = Edges::default();
    for r in resources {
        let id = format!(
            "{}::{}",
            r["type"].as_str().expect("type"),
            r["name"].as_str().expect("name")
        );
        if r["type"] == azure::GROUP {
            edges.groups.insert(Who::Resource(id.clone()));
        }
        if r["type"] == gcp::GROUP {
            edges.groups.insert(Who::Resource(id.clone()));
            if let Some(email) = r["inputs"]["groupKey"]["id"].as_str() {
                emails.insert(email.to_lowercase(), id);
            }
        }
    }
    let who = |value: &Json| -> Who {
        let mut found = BTreeSet::new();
        refs(value, &mut found);
        let text = text_of(value);
        if found.len() == 1
            && (value.get("$output").is_some() || text.contains(':'))
            && let Some(only) = found.into_iter().next()
        {
            return Who::Resource(only);
        }
        let bare = text
            .strip_prefix("user:")
            .or_else(|| text.strip_prefix("group:"))
            .or_else(|| text.strip_prefix("serviceAccount:"))
            .unwrap_or(&text);
        let bare = if bare.contains('@') {
            bare.to_lowercase()
        } else {
            bare.to_owned()
        };
        match emails.get(&bare) {
            Some(group) => Who::Resource(group.clone()),
            None => Who::Value(bare),
        }
    };
    let target = |value: &Json, kind: &str| -> String {
        let mut found = BTreeSet::new();
        refs(value, &mut found);
        if found.len() == 1 {
            found.into_iter().next().unwrap_or_default()
        } else {
            format!("{kind}::{}", text_of(value))
        }
    };
    let items = |value: &Json| -> Vec<Json> {
        match value {
            Json::Array(items) => items.clone(),
            Json::Object(o) if o.contains_key("$sortedmembers") => {
                o["$sortedmembers"].as_array().cloned().unwrap_or_default()
            }
            other => vec![other.clone()],
        }
    };
    for r in resources {
        let token = r["type"].as_str().expect("type");
        let inputs = &r["inputs"];
        let id = format!("{token}::{}", r["name"].as_str().expect("name"));
        if token == kinds::GROUP_MEMBERSHIP {
            let group = who(&inputs["group_key"]);
            edges.groups.insert(group.clone());
            edges
                .memberships
                .insert((who(&inputs["member_key"]), group));
        } else if token == azure::GROUP_MEMBER {
            let group = who(&inputs["groupObjectId"]);
            edges.groups.insert(group.clone());
            edges
                .memberships
                .insert((who(&inputs["memberObjectId"]), group));
        } else if token == azure::ROLE_ASSIGNMENT {
            let mut scope = BTreeSet::new();
            refs(&inputs["scope"], &mut scope);
            let resource = if scope.len() == 1 {
                scope.into_iter().next().unwrap_or_default()
            } else {
                id.clone()
            };
            edges.grants.insert((
                who(&inputs["principalId"]),
                text_of(&inputs["roleDefinitionId"]),
                resource,
            ));
        } else if token.ends_with("IAMMember") || token.ends_with("IamMember") {
            let (key, kind) = TARGET_KEYS
                .iter()
                .find(|(k, _)| inputs.get(*k).is_some())
                .expect("an IAM member names its resource");
            let resource = if *key == "service" {
                format!(
                    "{kind}::{}/{}/{}",
                    text_of(&inputs["project"]),
                    text_of(&inputs["location"]),
                    text_of(&inputs["service"])
                )
            } else {
                target(&inputs[*key], kind)
            };
            edges
                .grants
                .insert((who(&inputs["member"]), text_of(&inputs["role"]), resource));
        } else if token == kinds::HAIL_BILLING_PROJECT_MEMBERSHIP {
            let resource = target(&inputs["billing_project"], kinds::HAIL_BILLING_PROJECT);
            edges.grants.insert((
                who(&inputs["user"]),
                "hail-billing-project-member".into(),
                resource,
            ));
        } else if token == kinds::METAMIST_PROJECT_MEMBERS {
            let resource = target(&inputs["project_name"], kinds::METAMIST_PROJECT);
            for level in ["read", "write", "contribute"] {
                for member in items(&inputs[format!("{level}_members")]) {
                    edges.grants.insert((
                        who(&member),
                        format!("metamist-{level}"),
                        resource.clone(),
                    ));
                }
            }
        } else if token == gcp::ENTITLEMENT {
            for users in inputs["eligibleUsers"].as_array().into_iter().flatten() {
                for principal in items(&users["principals"]) {
                    edges.grants.insert((
                        who(&principal),
                        "entitlement-requester".into(),
                        id.clone(),
                    ));
                }
            }
        }
    }
    edges
}

/// (principal, role, resource) → the length of the shortest chain, by joining the
/// membership relation with itself until nothing changes.
fn brute_force(edges: &Edges) -> BTreeMap<(String, String, String), usize> {
    // (member, group) → the fewest memberships between them.
    let mut reach: BTreeMap<(Who, Who), usize> = edges
        .memberships
        .iter()
        .map(|(m, g)| ((m.clone(), g.clone()), 1))
        .collect();
    loop {
        let mut changed = false;
        let snapshot = reach.clone();
        for ((member, group), d) in &snapshot {
            for (inner, outer) in &edges.memberships {
                if inner != group {
                    continue;
                }
                let key = (member.clone(), outer.clone());
                if member != outer && reach.get(&key).is_none_or(|old| *old > d + 1) {
                    reach.insert(key, d + 1);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let principals: BTreeSet<&Who> = edges
        .memberships
        .iter()
        .map(|(m, _)| m)
        .chain(edges.grants.iter().map(|(m, ..)| m))
        .filter(|m| !edges.groups.contains(m))
        .collect();
    let mut found: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut offer = |key: (String, String, String), length: usize| {
        let entry = found.entry(key).or_insert(length);
        *entry = (*entry).min(length);
    };
    for principal in principals {
        for (member, role, resource) in &edges.grants {
            if member == principal {
                offer((principal.text(), role.clone(), resource.clone()), 1);
            }
        }
        for ((member, group), d) in &reach {
            if member != principal {
                continue;
            }
            offer((principal.text(), "member".into(), group.as_resource()), *d);
            for (holder, role, resource) in &edges.grants {
                if holder == group {
                    offer((principal.text(), role.clone(), resource.clone()), d + 1);
                }
            }
        }
    }
    found
}

fn check(config: cpg_infra::config::Config) -> Result<(), TestCaseError> {
    let Some(graph) = plan(config) else {
        return Err(TestCaseError::reject("mutation made the config invalid"));
    };
    let access = AccessGraph::from_graph(&graph);
    let walked: BTreeMap<(String, String, String), usize> = access
        .effective()
        .iter()
        .map(|a| {
            (
                (
                    a.principal.to_string(),
                    a.role.clone(),
                    a.resource.to_string(),
                ),
                a.chain.len(),
            )
        })
        .collect();
    let edges = read(&graph.to_plan_json());
    let expected = brute_force(&edges);
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !walked.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = walked
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .take(5)
        .collect();
    prop_assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    // A metamist grant explained by the group it comes from has a chain to that
    // group, longer than the shortest; every other chain is a shortest one.
    let explained: BTreeSet<(String, String, String)> = access
        .grants()
        .iter()
        .filter(|g| !g.through.is_empty())
        .map(|g| (g.member.to_string(), g.role.clone(), g.resource.to_string()))
        .collect();
    let shortest = |lengths: &BTreeMap<(String, String, String), usize>| {
        lengths
            .iter()
            .filter(|(k, _)| !explained.contains(*k))
            .map(|(k, v)| (k.clone(), *v))
            .collect::<BTreeMap<_, _>>()
    };
    prop_assert_eq!(shortest(&walked), shortest(&expected));
    for key in &explained {
        prop_assert!(walked[key] > 1, "{key:?} is explained by a group");
    }
    // Each chain is a path of direct memberships from the principal.
    let direct: BTreeSet<(String, String)> = edges
        .memberships
        .iter()
        .map(|(m, g)| (m.text(), g.text()))
        .collect();
    for entry in access.effective() {
        prop_assert_eq!(&entry.chain[0], &entry.principal);
        for pair in entry.chain.windows(2) {
            prop_assert!(
                direct.contains(&(pair[0].to_string(), pair[1].to_string())),
                "{pair:?}"
            );
        }
    }
    prop_assert!(!walked.is_empty());
    Ok(())
}

const GROUPS: &[GroupName] = &[
    GroupName::DataManager,
    GroupName::Analysis,
    GroupName::MetadataAccess,
    GroupName::WebAccess,
    GroupName::ReleaseAccess,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn access_equals_a_brute_force_walk(
        datasets in 1usize..5,
        seed in any::<u64>(),
        additions in proptest::collection::vec((any::<usize>(), 0..GROUPS.len(), any::<usize>()), 0..4),
    ) {
        let mut config = synthetic_config(datasets, seed);
        let people = people(&config);
        for (dataset, group, person) in additions {
            add_member(&mut config, dataset, GROUPS[group], &people[person % people.len()]);
        }
        check(config)?;
    }
}

#[test]
fn access_of_the_example_config_equals_a_brute_force_walk() {
    let config = cpg_infra::config::load_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/deploy/config"
    ))
    .expect("the example config is valid");
    check(config).expect("equal");
}

#[test]
fn the_dry_run_cloud_grants_through_its_groups_too() {
    use cpg_infra::config::CloudName;
    use cpg_infra::graph::ResourceId;
    use cpg_infra_review::access::Principal;

    let mut config = synthetic_config(2, 5);
    for dataset in &mut config.datasets {
        dataset.deploy_locations = vec![CloudName::Gcp, CloudName::DryRun];
    }
    for user in config.infrastructure.users.values_mut() {
        if let Some(gcp) = user.clouds.get(&CloudName::Gcp).cloned() {
            user.clouds.insert(CloudName::DryRun, gcp);
        }
    }
    let graph = plan(config.clone()).expect("valid with the dry-run cloud");
    let access = AccessGraph::from_graph(&graph);
    let dataset = &config.datasets[1];
    let person = &dataset.members[&GroupName::Analysis][0];
    let email = config.infrastructure.users[person].clouds[&CloudName::DryRun]
        .id
        .to_lowercase();
    let reached = access.access_of(&Principal::Id(email));
    let group = ResourceId::new(
        "dry-run:Group",
        format!("{}-dry-run-analysis-group", dataset.dataset),
    );
    let through_group: Vec<_> = reached
        .iter()
        .filter(|a| a.resource.type_token.starts_with("dry-run:") && a.chain.len() > 1)
        .collect();
    assert!(
        through_group
            .iter()
            .any(|a| a.chain[1] == Principal::Resource(group.clone())),
        "{reached:#?}"
    );
    assert!(
        through_group.iter().any(|a| a.role == "read"),
        "{through_group:#?}"
    );
}

/// `access::write_json` streams the document `access::to_json` builds, byte for
/// byte, with user keys and role names in it.
#[test]
fn streamed_access_json_is_the_built_document() {
    let config = synthetic_config(3, 42);
    let names = cpg_infra_review::names::Names::from_config(&config.infrastructure);
    let graph = plan(config).expect("generated configs are valid");
    let access = AccessGraph::with_names(&graph, names);
    let entries = access.effective();
    assert!(entries.iter().any(|e| e.user.is_some()));
    let built = serde_json::to_string_pretty(&cpg_infra_review::access::to_json(&entries))
        .expect("json")
        + "\n";
    let mut streamed = Vec::new();
    cpg_infra_review::access::write_json(|| entries.iter(), &mut streamed).expect("written");
    assert_eq!(String::from_utf8(streamed).expect("utf-8"), built);
    // Made a principal at a time.
    let mut made = Vec::new();
    cpg_infra_review::access::write_json(|| access.each_effective(), &mut made).expect("written");
    assert_eq!(String::from_utf8(made).expect("utf-8"), built);
}
