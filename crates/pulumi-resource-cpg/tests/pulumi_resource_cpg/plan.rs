//! The plan of the reference's small config, its `cpg:` resources created through the
//! provider in dependency order (other resources' outputs are what the reference's mock
//! engine answered), leaves the fakes holding exactly what the plan declares; a second
//! run adopts everything and changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::{Invoke, OutputRef, Resolver, Value as GraphValue};
use cpg_infra_gcp::GcpProvider;
use serde_json::{Map, Value};

use super::harness::{Created, Harness};
use cpg_infra_reference::{Reference, from_json, reference_dir};

/// Outputs of the resources created so far, over the reference's mock answers.
struct Outputs {
    created: BTreeMap<String, (String, Value)>,
    mocked: Reference,
}

impl Resolver for Outputs {
    fn output(&self, output: &OutputRef) -> Option<GraphValue> {
        let Some((id, outputs)) = self.created.get(&output.resource.to_string()) else {
            // A `cpg:` resource's outputs are what the provider answered, never the mocks'.
            if output.resource.type_token.starts_with("cpg:") {
                return None;
            }
            return Resolver::output(&self.mocked, output);
        };
        if output.property == "id" {
            return Some(GraphValue::from(id.as_str()));
        }
        let mut value = outputs.clone();
        for part in output.property.split('.') {
            value = value.get(part)?.clone();
        }
        Some(from_json(&value))
    }

    fn invoke(&self, invoke: &Invoke) -> Option<GraphValue> {
        self.mocked.invoke(invoke)
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[tokio::test]
async fn the_planned_cpg_resources_end_up_in_the_fakes_exactly() {
    let mut h = Harness::start().await;
    // The small config with Hail pointed at the fake.
    // Removed when dropped, also when the test fails.
    let temp = tempfile::Builder::new()
        .prefix("cpg-plan-small-")
        .tempdir()
        .expect("temporary directory");
    let dir = temp.path();
    copy_dir(&reference_dir().join("small"), dir);
    let toml = std::fs::read_to_string(dir.join("cpg.toml")).expect("cpg.toml");
    let toml = toml
        .replace("https://batch.hail.populationgenomics.org.au", &h.hail.url)
        .replace("https://auth.hail.populationgenomics.org.au", &h.hail.url);
    std::fs::write(dir.join("cpg.toml"), toml).expect("write");
    let config = load_dir(dir).expect("valid config");
    let graph = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .expect("plan");

    let mut resolver = Outputs {
        created: BTreeMap::new(),
        mocked: Reference::new(&cpg_infra_reference::read("small")),
    };

    // Create in dependency order: whatever can be evaluated now, until nothing is left.
    let mut pending: Vec<_> = graph
        .resources()
        .iter()
        .filter(|r| r.id.type_token.starts_with("cpg:"))
        .collect();
    let total = pending.len();
    let mut planned: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut created: Vec<Created> = Vec::new();
    while !pending.is_empty() {
        let mut ready = Vec::new();
        pending.retain(|r| {
            let inputs: Option<Map<String, Value>> = r
                .inputs
                .iter()
                .map(|(k, v)| v.evaluate(&resolver).ok().map(|v| (k.clone(), v.to_json())))
                .collect();
            match inputs {
                Some(inputs) => {
                    ready.push((r.id.clone(), inputs));
                    false
                }
                None => true,
            }
        });
        assert!(!ready.is_empty(), "no progress: {} left", pending.len());
        for (id, inputs) in ready {
            if let Some(group) = inputs.get("group_key").and_then(Value::as_str) {
                h.ci.add_group(group.trim_start_matches("groups/"));
            }
            if let Some(email) = inputs.get("group_email").and_then(Value::as_str)
                && h.gs.settings(email).is_none()
            {
                h.gs.add_group(email);
            }
            let c = h
                .create(&id.type_token, &id.name, Value::Object(inputs.clone()))
                .await
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            resolver
                .created
                .insert(id.to_string(), (c.id.clone(), c.outputs.clone()));
            planned.push((id.type_token.to_string(), inputs));
            created.push(c);
        }
    }
    assert_eq!(created.len(), total);
    // The reference's 448 dynamic resources and the 5 memberships added on purpose.
    assert_eq!(total, 453);

    // The fakes hold exactly what the plan declares.
    let mut want_members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut want_users = BTreeSet::new();
    let mut want_billing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut want_projects = BTreeSet::new();
    for (token, inputs) in &planned {
        let s = |k: &str| inputs[k].as_str().unwrap_or("").to_string();
        match token.as_str() {
            "cpg:google:GroupMembership" => {
                want_members
                    .entry(s("group_key").trim_start_matches("groups/").to_string())
                    .or_default()
                    .insert(s("member_key").to_lowercase());
            }
            "cpg:google:GroupSettings" => {
                let stored = h.gs.settings(&s("group_email")).unwrap_or_default();
                for (k, v) in inputs["settings"].as_object().into_iter().flatten() {
                    assert_eq!(stored.get(k), Some(v), "{} {k}", s("group_email"));
                }
            }
            "cpg:hail:User" => {
                want_users.insert(s("username"));
            }
            "cpg:hail:BillingProject" => {
                want_billing.entry(s("name")).or_default();
            }
            "cpg:hail:BillingProjectMembership" => {
                let project = s("billing_project")
                    .rsplit("::")
                    .next()
                    .unwrap_or("")
                    .to_string();
                want_billing.entry(project).or_default().insert(s("user"));
            }
            "cpg:metamist:Project" => {
                want_projects.insert(s("project_name"));
            }
            "cpg:metamist:ProjectMembers" => {
                let stored = h.metamist.members(&s("project_name"));
                let mut expected: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
                for (key, role) in [
                    ("read_members", "reader"),
                    ("write_members", "writer"),
                    ("contribute_members", "contributor"),
                ] {
                    for m in inputs[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        expected.entry(m.to_string()).or_default().insert(role);
                    }
                }
                let stored: BTreeMap<String, BTreeSet<&str>> = stored
                    .iter()
                    .map(|(m, roles)| (m.clone(), roles.iter().map(String::as_str).collect()))
                    .collect();
                assert_eq!(stored, expected, "{}", s("project_name"));
            }
            other => panic!("unexpected {other}"),
        }
    }
    for (group, members) in &want_members {
        let held: BTreeSet<String> = h.ci.members(group).into_iter().collect();
        assert_eq!(&held, members, "groups/{group}");
    }
    assert_eq!(
        h.hail.users().into_iter().collect::<BTreeSet<_>>(),
        want_users
    );
    for (project, users) in &want_billing {
        let held = h
            .hail
            .project(project)
            .map(|(open, u)| (open, u.into_iter().collect::<BTreeSet<_>>()));
        assert_eq!(held, Some((true, users.clone())), "{project}");
    }
    assert_eq!(
        h.metamist
            .projects()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        want_projects
    );
    assert_eq!(
        (want_users.len(), want_billing.len(), want_projects.len()),
        (8, 3, 5)
    );
    assert_eq!(want_billing.values().map(BTreeSet::len).sum::<usize>(), 15);
    // One listing per group for the whole run.
    for group in want_members.keys() {
        assert_eq!(h.ci.listings(group), 1, "groups/{group}");
    }

    // A second run adopts everything: no diff, and nothing new is written.
    let posts = h.ci.recorder().count("POST", "");
    let mut second = h.next_run().await;
    for c in &created {
        let d = second.diff(c, c.inputs.clone()).await;
        assert_eq!(d.changes, 1, "{}: {:?}", c.urn, d.diffs);
    }
    for c in created
        .iter()
        .filter(|c| c.urn.contains("cpg:google:GroupMembership"))
    {
        let again = second
            .create(
                c.urn.split("::").nth(2).unwrap_or(""),
                c.urn.rsplit("::").next().unwrap_or(""),
                c.inputs.clone(),
            )
            .await
            .expect("adopt");
        assert_eq!(again.id, c.id);
    }
    assert_eq!(h.ci.recorder().count("POST", ""), posts);
}
