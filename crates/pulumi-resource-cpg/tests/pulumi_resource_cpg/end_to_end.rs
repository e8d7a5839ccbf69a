//! End to end: the engine client registers the reference's small config against a mock
//! engine that forwards the `cpg:` resources to this provider (served in-process against
//! the fakes) and answers everything else itself. The fakes end up holding exactly what
//! the plan declares; a second update with the state the first left changes nothing; a
//! preview writes nothing; changes from the state are updated or replaced; injected
//! faults change nothing in the outcome; refused inputs fail their registration.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::{Graph, Invoke, OutputRef, Resolver, Value as GraphValue};
use cpg_infra_azure::AzureProvider;
use cpg_infra_fakes::{Fakes, Fault};
use cpg_infra_gcp::GcpProvider;
use cpg_infra_mock_engine::{
    ForwardedResource, MockEngine, MockOptions, ProviderRoute, Recorded, answering_for,
};
use cpg_infra_pulumi::proto::RegisterResourceRequest;
use cpg_infra_pulumi::wire::{self, Lookup};
use cpg_infra_pulumi::{DeployOptions, Deployed, Session};
use pulumi_resource_cpg::{Engine, HailUserWait, Options, serve};
use serde_json::{Map, Value};

use super::harness::{GOOGLE_TOKEN, HAIL_TOKEN, env, fast_retry, st};
use super::plan::copy_dir;
use cpg_infra_reference::reference_dir;

const ORG_ID: &str = "123456789012";
const MEMBERSHIP: &str = "cpg:google:GroupMembership";
const GROUP: &str = "gcp:cloudidentity/group:Group";

/// The fakes, the options of the providers served against them (one per run), and the
/// small config's plan with Hail pointed at the fake.
struct World {
    runtime: tokio::runtime::Runtime,
    fakes: Fakes,
    options: Options,
    graph: Graph,
}

impl World {
    fn start() -> World {
        World::start_sample("small")
    }

    /// The world of the reference's sample `sample`.
    fn start_sample(sample: &str) -> World {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let fakes = runtime
            .block_on(Fakes::start(GOOGLE_TOKEN, HAIL_TOKEN))
            .expect("fakes");
        let options = Options {
            env: env(&[
                ("HAIL_TOKEN_GCP", HAIL_TOKEN),
                ("HAIL_TOKEN_AZURE", HAIL_TOKEN),
            ]),
            retry: fast_retry(),
            hail_user_wait: HailUserWait {
                attempts: 5,
                interval: Duration::from_millis(5),
            },
        };

        // Removed when dropped, also when the test fails.
        let temp = tempfile::Builder::new()
            .prefix(&format!("cpg-end-to-end-{sample}-"))
            .tempdir()
            .expect("temporary directory");
        let dir = temp.path();
        copy_dir(&reference_dir().join(sample), dir);
        // Every Hail deployment (batch and auth) is the fake.
        let toml = std::fs::read_to_string(dir.join("cpg.toml")).expect("cpg.toml");
        let toml: Vec<String> = toml
            .lines()
            .map(|line| match line.split_once('=') {
                Some((key, _)) if ["hail_batch_url", "hail_auth_url"].contains(&key.trim()) => {
                    format!("{key}= {:?}", fakes.hail.url)
                }
                _ => line.to_owned(),
            })
            .collect();
        std::fs::write(dir.join("cpg.toml"), toml.join("\n")).expect("write");
        let config = load_dir(dir).expect("valid config");
        let graph = CpgInfrastructure::from_validated(config)
            .with_cloud(GcpProvider)
            .with_cloud(AzureProvider)
            .build()
            .expect("plan");
        // The groups the config names by id exist already, as in the organisation.
        for group in existing_groups(&graph) {
            fakes.cloud_identity.add_group(&group);
        }
        for resource in graph.resources() {
            if let Some(GraphValue::String(email)) = resource.inputs.get("group_email") {
                fakes.groups_settings.add_group(email);
            }
        }
        World {
            runtime,
            fakes,
            options,
            graph,
        }
    }

    /// A new provider against the fakes, as the engine starts one for each run (so
    /// nothing one run learnt is remembered by the next): the route to it.
    fn provider(&self) -> ProviderRoute {
        let listener = self
            .runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let engine = Arc::new(Engine::new(None).expect("engine"));
        let options = self.options.clone();
        self.runtime
            .spawn(serve(listener, engine, options, std::future::pending()));
        ProviderRoute {
            package: "cpg".into(),
            address,
            config: st(self.fakes.provider_config()),
        }
    }

    /// A mock engine that forwards `cpg:` to the provider and, as Google would, makes
    /// each group it answers for exist in the fake Cloud Identity and Groups Settings.
    fn mock(&self, dry_run: bool, state: BTreeMap<String, ForwardedResource>) -> MockEngine {
        let options = answering_for(
            &self.graph,
            ORG_ID,
            MockOptions {
                dry_run,
                providers: vec![self.provider()],
                state,
                ..MockOptions::default()
            },
        );
        let computed = options.outputs.clone().expect("computed outputs");
        let ci = self.fakes.cloud_identity.clone();
        let gs = self.fakes.groups_settings.clone();
        let outputs = Arc::new(move |request: &RegisterResourceRequest| {
            let mut added = computed(request);
            if request.r#type == GROUP {
                ci.add_group(&request.name);
                added.insert("id".to_owned(), wire::string(group_id(&request.name)));
                let key = request.object.as_ref().map(wire::struct_to_json);
                if let Some(email) = key.as_ref().and_then(|k| k["groupKey"]["id"].as_str())
                    && gs.settings(email).is_none()
                {
                    gs.add_group(email);
                }
            }
            added
        });
        MockEngine::start(MockOptions {
            outputs: Some(outputs),
            ..options
        })
        .expect("mock listens")
    }

    fn deploy(&self, mock: &MockEngine) -> Deployed {
        Session::connect(mock.settings(8))
            .expect("connects")
            .deploy(&self.graph, &DeployOptions::default())
            .expect("deploys")
    }

    /// Requests that write, over all four fakes.
    fn writes(&self) -> usize {
        let f = &self.fakes;
        let recorders = [
            f.cloud_identity.recorder(),
            f.groups_settings.recorder(),
            f.hail.recorder(),
            f.metamist.recorder(),
        ];
        ["POST", "PUT", "PATCH", "DELETE"]
            .iter()
            .map(|m| recorders.iter().map(|r| r.count(m, "")).sum::<usize>())
            .sum()
    }
}

/// The id Cloud Identity gives the planned group `name` here.
fn group_id(name: &str) -> String {
    format!("groups/{name}")
}

/// The groups memberships name by a literal id (not a planned group's output).
fn existing_groups(graph: &Graph) -> BTreeSet<String> {
    graph
        .resources()
        .iter()
        .filter(|r| &*r.id.type_token == MEMBERSHIP)
        .filter_map(|r| match r.inputs.get("group_key") {
            Some(GraphValue::String(key)) => Some(key.trim_start_matches("groups/").to_owned()),
            _ => None,
        })
        .collect()
}

/// Outputs as the mock answered them (the provider's for forwarded resources).
struct Answered(HashMap<(String, String), (String, prost_types::Struct)>);

impl Answered {
    fn new(recorded: &Recorded) -> Self {
        Answered(
            recorded
                .responses
                .iter()
                .map(|(t, n, r)| {
                    (
                        (t.clone(), n.clone()),
                        (r.id.clone(), r.object.clone().unwrap_or_default()),
                    )
                })
                .collect(),
        )
    }
}

impl Resolver for Answered {
    fn output(&self, output: &OutputRef) -> Option<GraphValue> {
        let (id, object) = self.0.get(&(
            output.resource.type_token.to_string(),
            output.resource.name.to_string(),
        ))?;
        if output.property == "id" {
            return Some(GraphValue::from(id.clone()));
        }
        match wire::lookup(object, &output.property) {
            Lookup::Found(w) => Some(wire::to_value(&w)),
            _ => Some(GraphValue::Null),
        }
    }

    fn invoke(&self, invoke: &Invoke) -> Option<GraphValue> {
        match invoke.property.as_str() {
            "id" => Some(GraphValue::from(format!("organizations/{ORG_ID}"))),
            "orgId" => Some(GraphValue::from(ORG_ID)),
            _ => None,
        }
    }
}

/// Numbers as floats, so `1` and `1.0` compare equal (the wire has only floats).
fn normalise(json: &Value) -> Value {
    match json {
        Value::Number(n) => serde_json::json!(n.as_f64()),
        Value::Array(items) => items.iter().map(normalise).collect(),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| (k.clone(), normalise(v)))
            .collect::<Map<_, _>>()
            .into(),
        other => other.clone(),
    }
}

/// The planned `cpg:` resources, (type, name, inputs), evaluated with what was answered;
/// checks on the way that the engine client sent exactly these inputs.
fn planned(graph: &Graph, recorded: &Recorded) -> Vec<(String, String, Map<String, Value>)> {
    let answered = Answered::new(recorded);
    let sent: HashMap<(&str, &str), &RegisterResourceRequest> = recorded
        .registrations
        .iter()
        .map(|r| ((r.r#type.as_str(), r.name.as_str()), r))
        .collect();
    graph
        .resources()
        .iter()
        .filter(|r| r.id.type_token.starts_with("cpg:"))
        .map(|r| {
            let id = &r.id;
            let inputs: Map<String, Value> = r
                .inputs
                .iter()
                .map(|(k, v)| {
                    let value = v
                        .evaluate(&answered)
                        .unwrap_or_else(|e| panic!("{id}: {k}: {e}"));
                    (k.clone(), value.to_json())
                })
                .collect();
            let request = sent[&(id.type_token.as_ref(), id.name.as_ref())];
            let object = wire::struct_to_json(&request.object.clone().unwrap_or_default());
            assert_eq!(
                normalise(&object),
                normalise(&Value::Object(inputs.clone())),
                "{id}: sent inputs"
            );
            (id.type_token.to_string(), id.name.to_string(), inputs)
        })
        .collect()
}

/// What the fakes hold, by kind, compared with what `planned` declares: every planned
/// group holds exactly its planned members (and every group the mock made in the fake,
/// planned members or not, exactly those), settings as planned, exactly the planned
/// Hail users, billing projects with exactly their planned members, exactly the planned
/// metamist projects with exactly their planned members. Returns the counts checked.
fn assert_fakes_hold_exactly(
    world: &World,
    planned: &[(String, String, Map<String, Value>)],
) -> BTreeMap<&'static str, usize> {
    let f = &world.fakes;
    let mut members: BTreeMap<String, BTreeSet<String>> = world
        .graph
        .resources()
        .iter()
        .filter(|r| &*r.id.type_token == GROUP)
        .map(|r| r.id.name.to_string())
        .chain(existing_groups(&world.graph))
        .map(|group| (group, BTreeSet::new()))
        .collect();
    let mut users = BTreeSet::new();
    let mut billing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut projects = BTreeSet::new();
    let mut counts = BTreeMap::new();
    for (token, name, inputs) in planned {
        let s = |k: &str| inputs[k].as_str().unwrap_or_default().to_owned();
        match token.as_str() {
            MEMBERSHIP => {
                members
                    .entry(s("group_key").trim_start_matches("groups/").to_owned())
                    .or_default()
                    .insert(s("member_key").to_lowercase());
            }
            "cpg:google:GroupSettings" => {
                let stored = f
                    .groups_settings
                    .settings(&s("group_email"))
                    .unwrap_or_else(|| panic!("{name}: no settings for {}", s("group_email")));
                let wanted = inputs["settings"].as_object().expect("settings map");
                assert!(!wanted.is_empty(), "{name}: settings");
                for (k, v) in wanted {
                    assert_eq!(stored.get(k), Some(v), "{name}: {k}");
                }
                *counts.entry("group settings").or_default() += 1;
            }
            "cpg:hail:User" => {
                users.insert(s("username"));
            }
            "cpg:hail:BillingProject" => {
                billing.entry(s("name")).or_default();
            }
            "cpg:hail:BillingProjectMembership" => {
                let project = s("billing_project");
                let project = project.rsplit("::").next().unwrap_or_default().to_owned();
                billing.entry(project).or_default().insert(s("user"));
            }
            "cpg:metamist:Project" => {
                projects.insert(s("project_name"));
            }
            "cpg:metamist:ProjectMembers" => {
                let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                for (key, role) in [
                    ("read_members", "reader"),
                    ("write_members", "writer"),
                    ("contribute_members", "contributor"),
                ] {
                    for m in inputs[key].as_array().into_iter().flatten() {
                        let m = m.as_str().expect("member").to_owned();
                        wanted.entry(m).or_default().insert(role.to_owned());
                    }
                }
                let held: BTreeMap<String, BTreeSet<String>> = f
                    .metamist
                    .members(&s("project_name"))
                    .into_iter()
                    .map(|(m, roles)| (m, roles.into_iter().collect()))
                    .collect();
                assert_eq!(held, wanted, "{name}");
                *counts.entry("metamist project members").or_default() += 1;
            }
            other => panic!("{name}: unexpected kind {other}"),
        }
    }
    for (group, wanted) in &members {
        let held: BTreeSet<String> = f
            .cloud_identity
            .members(group)
            .into_iter()
            .map(|m| m.to_lowercase())
            .collect();
        assert_eq!(&held, wanted, "groups/{group}");
    }
    let held_users: BTreeSet<String> = f.hail.users().into_iter().collect();
    assert_eq!(held_users, users, "Hail users");
    for (project, wanted) in &billing {
        let held = f
            .hail
            .project(project)
            .map(|(open, u)| (open, u.into_iter().collect::<BTreeSet<_>>()));
        assert_eq!(
            held,
            Some((true, wanted.clone())),
            "billing project {project}"
        );
    }
    let held_projects: BTreeSet<String> = f.metamist.projects().into_keys().collect();
    assert_eq!(held_projects, projects, "metamist projects");
    counts.insert("groups", members.len());
    counts.insert(
        "memberships",
        members.values().map(BTreeSet::len).sum::<usize>(),
    );
    counts.insert("hail users", users.len());
    counts.insert("billing projects", billing.len());
    counts.insert(
        "billing project members",
        billing.values().map(BTreeSet::len).sum::<usize>(),
    );
    counts.insert("metamist projects", projects.len());
    counts
}

/// How often the mock called `method` of the provider, by URN.
fn calls(recorded: &Recorded, method: &str) -> BTreeMap<String, usize> {
    let mut by_urn = BTreeMap::new();
    for call in recorded
        .provider_calls
        .iter()
        .filter(|c| c.method == method)
    {
        *by_urn.entry(call.urn.clone()).or_default() += 1;
    }
    by_urn
}

/// The URNs of the planned `cpg:` resources.
fn cpg_urns(graph: &Graph) -> BTreeSet<String> {
    graph
        .resources()
        .iter()
        .filter(|r| r.id.type_token.starts_with("cpg:"))
        .map(|r| format!("urn:pulumi:test::cpg::{}::{}", r.id.type_token, r.id.name))
        .collect()
}

#[test]
fn the_engine_client_deploys_small_through_the_provider_into_the_fakes() {
    let world = World::start();
    let graph = &world.graph;
    let urns = cpg_urns(graph);
    // The reference's 448 dynamic resources and the 5 memberships added on purpose.
    assert_eq!(urns.len(), 453);

    // A preview from an empty state checks and previews every `cpg:` resource and
    // writes nothing.
    let preview = world.mock(true, BTreeMap::new());
    assert_eq!(world.deploy(&preview).resources, graph.len());
    let recorded = preview.recorded();
    assert_eq!(world.writes(), 0, "a preview writes nothing");
    assert!(world.fakes.hail.users().is_empty());
    assert!(world.fakes.metamist.projects().is_empty());
    assert_eq!(
        calls(&recorded, "Check")
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        urns
    );
    assert_eq!(calls(&recorded, "Create").len(), urns.len());
    assert!(recorded.state.is_empty(), "a preview changes no state");
    drop(preview);

    // The update creates every planned `cpg:` resource exactly once, through the
    // provider, configured once.
    let first = world.mock(false, BTreeMap::new());
    let deployed = world.deploy(&first);
    assert_eq!(deployed.resources, graph.len());
    let recorded = first.recorded();
    assert_eq!(calls(&recorded, "CheckConfig").values().sum::<usize>(), 1);
    assert_eq!(calls(&recorded, "Configure").values().sum::<usize>(), 1);
    let created = calls(&recorded, "Create");
    assert_eq!(created.keys().cloned().collect::<BTreeSet<_>>(), urns);
    assert!(created.values().all(|n| *n == 1), "each created once");
    assert!(calls(&recorded, "Update").is_empty() && calls(&recorded, "Delete").is_empty());
    assert_eq!(
        recorded.state.keys().cloned().collect::<BTreeSet<_>>(),
        urns
    );

    let declared = planned(graph, &recorded);
    let counts = assert_fakes_hold_exactly(&world, &declared);
    assert_eq!(
        counts,
        BTreeMap::from([
            ("billing project members", 15),
            ("billing projects", 3),
            ("group settings", 83),
            ("groups", 84),
            ("hail users", 8),
            ("memberships", 334),
            ("metamist project members", 5),
            ("metamist projects", 5),
        ])
    );
    let memberships = declared.iter().filter(|(t, ..)| t == MEMBERSHIP).count();
    assert_eq!(counts["memberships"], memberships, "no membership twice");
    // Every planned `cpg:` resource is accounted for on the fakes.
    let kinds = [
        "memberships",
        "group settings",
        "hail users",
        "billing projects",
    ];
    let more = [
        "billing project members",
        "metamist projects",
        "metamist project members",
    ];
    let accounted: usize = kinds.iter().chain(&more).map(|k| counts[k]).sum();
    assert_eq!(accounted, urns.len());

    // Outputs flow: a membership's group is the id the mock answered for its group,
    // and the id the provider gave the membership names it.
    let mut flowed = 0;
    for resource in graph
        .resources()
        .iter()
        .filter(|r| &*r.id.type_token == MEMBERSHIP)
    {
        let Some(GraphValue::Output(group)) = resource.inputs.get("group_key") else {
            continue;
        };
        assert_eq!(group.resource.type_token.as_ref(), GROUP);
        let (_, name, inputs) = declared
            .iter()
            .find(|(t, n, _)| t == MEMBERSHIP && *n == resource.id.name.as_ref())
            .expect("planned");
        let group_id = group_id(&group.resource.name);
        assert_eq!(inputs["group_key"], Value::from(group_id.clone()), "{name}");
        let urn = format!("urn:pulumi:test::cpg::{MEMBERSHIP}::{name}");
        let id = &recorded.state[&urn].id;
        assert!(
            id.starts_with(&format!("{group_id}/memberships/")),
            "{name}: {id}"
        );
        flowed += 1;
    }
    // Every membership but those of the groups the config names by id.
    assert_eq!(flowed, 326);
    // And the provider's answers flow on: inputs read from other `cpg:` resources
    // (billing project ids, metamist project names…) are what the provider returned,
    // as `planned` checked for every input.
    let from_provider = graph
        .resources()
        .iter()
        .filter(|r| r.id.type_token.starts_with("cpg:"))
        .filter(|r| {
            r.inputs
                .values()
                .flat_map(GraphValue::dependencies)
                .any(|d| d.type_token.starts_with("cpg:"))
        })
        .count();
    assert_eq!(from_provider, 36);

    // A second update, from the state the first left, diffs everything and changes
    // nothing.
    let writes = world.writes();
    let second = world.mock(false, recorded.state.clone());
    world.deploy(&second);
    let again = second.recorded();
    assert_eq!(
        calls(&again, "Diff")
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        urns
    );
    for method in ["Create", "Update", "Delete"] {
        assert!(
            calls(&again, method).is_empty(),
            "{method} in the second run"
        );
    }
    assert_eq!(world.writes(), writes, "the second run writes nothing");
    assert_eq!(again.state, recorded.state);
    assert_eq!(
        assert_fakes_hold_exactly(&world, &planned(graph, &again)),
        counts
    );

    // A preview from that state writes nothing. The mock keeps no state for what it
    // answers itself, so in a preview the planned groups' ids are unknown again: only
    // resources whose inputs hold an unknown may be previewed as changed.
    let last = world.mock(true, recorded.state.clone());
    world.deploy(&last);
    let previewed = last.recorded();
    assert_eq!(
        calls(&previewed, "Diff")
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        urns
    );
    let unknown: BTreeSet<String> = previewed
        .registrations
        .iter()
        .filter(|r| r.r#type.starts_with("cpg:"))
        .filter(|r| {
            r.object
                .as_ref()
                .is_some_and(|o| o.fields.values().any(wire::contains_unknown))
        })
        .map(|r| format!("urn:pulumi:test::cpg::{}::{}", r.r#type, r.name))
        .collect();
    let changed: BTreeSet<String> = ["Create", "Update"]
        .iter()
        .flat_map(|m| calls(&previewed, m).into_keys())
        .collect();
    assert!(!unknown.is_empty());
    assert!(
        changed.is_subset(&unknown),
        "{:?}",
        changed.difference(&unknown)
    );
    assert!(calls(&previewed, "Delete").is_empty());
    assert_eq!(world.writes(), writes, "a preview writes nothing");
}

/// `object` with `edit` applied to its JSON form.
fn edited(
    object: &prost_types::Struct,
    edit: impl Fn(&mut Map<String, Value>),
) -> prost_types::Struct {
    let mut json = wire::struct_to_json(object);
    if let Some(fields) = json.as_object_mut() {
        edit(fields);
    }
    st(json)
}

#[test]
fn changes_from_the_state_are_updated_or_replaced_through_the_provider() {
    let world = World::start();
    let first = world.mock(false, BTreeMap::new());
    world.deploy(&first);
    let mut state = first.recorded().state;

    // A membership the state records for another member (who is in the group), and
    // group settings the state and the service both hold with another value.
    let (membership, group) = state
        .iter()
        .filter(|(urn, _)| urn.contains(MEMBERSHIP))
        .find_map(|(urn, r)| {
            let key = wire::struct_to_json(&r.inputs)["group_key"]
                .as_str()?
                .to_owned();
            world
                .graph
                .resources()
                .iter()
                .any(|g| &*g.id.type_token == GROUP && group_id(&g.id.name) == key)
                .then(|| (urn.clone(), key))
        })
        .expect("a membership of a planned group");
    let former = "former-member@example.org";
    let former_id = format!("{group}/memberships/former");
    assert!(
        world
            .fakes
            .cloud_identity
            .add_named_member(&former_id, former)
    );
    let entry = state.get_mut(&membership).expect("in the state");
    let set_member = |f: &mut Map<String, Value>| {
        if f.contains_key("member_key") {
            f.insert("member_key".into(), Value::from(former));
        }
    };
    entry.inputs = edited(&entry.inputs, set_member);
    entry.outputs = edited(&entry.outputs, set_member);
    entry.id = former_id.clone();

    let settings = state
        .keys()
        .find(|urn| urn.contains("cpg:google:GroupSettings"))
        .cloned()
        .expect("group settings");
    let entry = state.get_mut(&settings).expect("in the state");
    let inputs = wire::struct_to_json(&entry.inputs);
    let email = inputs["group_email"].as_str().expect("email").to_owned();
    let key = inputs["settings"]
        .as_object()
        .and_then(|s| s.keys().next().cloned())
        .expect("a setting");
    world.fakes.groups_settings.set(&email, &key, "DRIFTED");
    let drift = |f: &mut Map<String, Value>| {
        if let Some(Value::Object(s)) = f.get_mut("settings") {
            s.insert(key.clone(), Value::from("DRIFTED"));
        }
    };
    entry.inputs = edited(&entry.inputs, drift);
    entry.outputs = edited(&entry.outputs, drift);

    let third = world.mock(false, state);
    world.deploy(&third);
    let recorded = third.recorded();
    let only = |urn: &str| BTreeSet::from([urn.to_owned()]);
    let keys = |method: &str| {
        calls(&recorded, method)
            .into_keys()
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(keys("Update"), only(&settings));
    assert_eq!(keys("Create"), only(&membership));
    assert_eq!(keys("Delete"), only(&membership));
    let replaced = &recorded.state[&membership].id;
    assert!(replaced.starts_with(&format!("{group}/memberships/")) && *replaced != former_id);
    // The fakes hold exactly the plan again: the former member is gone, the setting
    // is back.
    assert!(
        !world
            .fakes
            .cloud_identity
            .members(group.trim_start_matches("groups/"))
            .contains(&former.to_owned())
    );
    let declared = planned(&world.graph, &recorded);
    assert_eq!(
        assert_fakes_hold_exactly(&world, &declared)["memberships"],
        334
    );
    assert_ne!(
        world
            .fakes
            .groups_settings
            .settings(&email)
            .expect("settings")[&key],
        Value::from("DRIFTED")
    );
}

#[test]
fn races_and_server_errors_during_the_deploy_still_leave_the_plan() {
    let world = World::start();
    let f = &world.fakes;
    f.cloud_identity.recorder().inject(
        "POST",
        "/memberships",
        [
            Fault::ConcurrentCreate,
            Fault::Status(503),
            Fault::Status(429),
            Fault::Status(409),
            Fault::Delay(Duration::from_millis(200)),
            Fault::ConcurrentCreate,
            Fault::Status(500),
        ],
    );
    f.hail
        .recorder()
        .inject("POST", "/create", [Fault::Status(500), Fault::Status(503)]);
    f.metamist
        .recorder()
        .inject("PUT", "/api/v1/project/", [Fault::Status(502)]);
    f.metamist.recorder().inject(
        "PATCH",
        "/members",
        [Fault::Status(503), Fault::Status(429)],
    );
    let mock = world.mock(false, BTreeMap::new());
    assert_eq!(world.deploy(&mock).resources, world.graph.len());
    let recorded = mock.recorded();
    let created = calls(&recorded, "Create");
    assert_eq!(
        created.keys().cloned().collect::<BTreeSet<_>>(),
        cpg_urns(&world.graph)
    );
    assert!(created.values().all(|n| *n == 1), "each created once");
    assert!(
        recorded.max_in_flight > 1,
        "registrations forwarded at once"
    );
    let counts = assert_fakes_hold_exactly(&world, &planned(&world.graph, &recorded));
    assert_eq!(counts["memberships"], 334);
    // The faults were met: more creates were sent than there are new memberships (two
    // were made by the races, so fewer succeeded).
    assert!(f.cloud_identity.recorder().count("POST", "/memberships") > 334);
    assert!(f.metamist.recorder().count("PATCH", "/members") > 5);
    assert!(f.hail.recorder().count("POST", "/create") > 8);
}

#[test]
fn inputs_the_provider_refuses_fail_their_registration_naming_the_property() {
    let world = World::start();
    // Groups answered with the mock's own ids, which are not Cloud Identity names.
    let mock = MockEngine::start(answering_for(
        &world.graph,
        ORG_ID,
        MockOptions {
            providers: vec![world.provider()],
            ..MockOptions::default()
        },
    ))
    .expect("mock listens");
    let error = Session::connect(mock.settings(8))
        .expect("connects")
        .deploy(&world.graph, &DeployOptions::default())
        .expect_err("refused");
    let text = error.to_string();
    assert!(text.starts_with(MEMBERSHIP), "{text}");
    assert!(
        text.contains("the provider refused the inputs: group_key:")
            && text.contains("is not a group resource name"),
        "{text}"
    );
    // What the provider refused never reached its Create.
    let cpg_infra_pulumi::DeployError::Register { resource, .. } = &error else {
        panic!("{error:?}");
    };
    let urn = format!(
        "urn:pulumi:test::cpg::{}::{}",
        resource.type_token, resource.name
    );
    let recorded = mock.recorded();
    assert_eq!(calls(&recorded, "Check").get(&urn), Some(&1));
    assert_eq!(calls(&recorded, "Create").get(&urn), None);
}

#[test]
fn every_other_reference_sample_deploys_into_the_fakes_exactly() {
    // (sample, `cpg:` resources, memberships): the reference's dynamic resources and
    // the memberships added on purpose.
    for (sample, resources, memberships) in [
        ("features", 472, 349),
        ("storage-only", 181, 110),
        ("azure-common", 453, 334),
    ] {
        let world = World::start_sample(sample);
        let urns = cpg_urns(&world.graph);
        let first = world.mock(false, BTreeMap::new());
        assert_eq!(
            world.deploy(&first).resources,
            world.graph.len(),
            "{sample}"
        );
        let recorded = first.recorded();
        let created = calls(&recorded, "Create");
        assert_eq!(
            created.keys().cloned().collect::<BTreeSet<_>>(),
            urns,
            "{sample}"
        );
        assert!(
            created.values().all(|n| *n == 1),
            "{sample}: each created once"
        );
        let counts = assert_fakes_hold_exactly(&world, &planned(&world.graph, &recorded));
        assert_eq!(
            (urns.len(), counts["memberships"]),
            (resources, memberships),
            "{sample}"
        );
        let held: usize = counts
            .iter()
            .filter(|(k, _)| **k != "groups")
            .map(|(_, n)| n)
            .sum();
        assert_eq!(held, urns.len(), "{sample}: every resource accounted for");
        let writes = world.writes();
        let second = world.mock(false, recorded.state.clone());
        world.deploy(&second);
        let again = second.recorded();
        for method in ["Create", "Update", "Delete"] {
            assert!(
                calls(&again, method).is_empty(),
                "{sample}: {method} in the second run"
            );
        }
        assert_eq!(
            world.writes(),
            writes,
            "{sample}: the second run writes nothing"
        );
    }
}
