//! Complete and correct registration of whole plans, in updates and previews.

use cpg_infra_mock_engine::{MockOptions, base64};
use cpg_infra_pulumi::wire;

use super::support::{
    ORG_ID, ROOT_URN, assert_registered_completely, deploy, example_dir, input, mock_for, plan,
    reference_dir, sent,
};

#[test]
fn example_config_is_registered_completely_in_an_update() {
    let graph = plan(&example_dir());
    let mock = mock_for(&graph, MockOptions::default());
    let deployed = deploy(&graph, &mock, 16).expect("deploys");
    assert_eq!(deployed.resources, graph.len());
    assert_eq!(deployed.root_urn, ROOT_URN);
    assert_eq!(deployed.exports, graph.exports().len());
    assert_registered_completely(&graph, &mock.recorded(), false);
}

#[test]
fn reference_small_is_registered_completely_in_an_update_and_a_preview() {
    let graph = plan(&reference_dir().join("small"));
    for dry_run in [false, true] {
        let mock = mock_for(
            &graph,
            MockOptions {
                dry_run,
                ..MockOptions::default()
            },
        );
        let deployed = deploy(&graph, &mock, 8).expect("deploys");
        assert_eq!(deployed.resources, graph.len());
        let recorded = mock.recorded();
        assert_registered_completely(&graph, &recorded, dry_run);
        // One data-source call for the organisation, with the pinned version.
        assert_eq!(recorded.invokes.len(), 1);
        assert_eq!(
            recorded.invokes[0].tok,
            "gcp:organizations/getOrganization:getOrganization"
        );
        assert_eq!(recorded.invokes[0].version, "7.38.0");
    }
}

#[test]
fn a_groups_id_flows_into_its_memberships() {
    let graph = plan(&example_dir());
    let mock = mock_for(&graph, MockOptions::default());
    deploy(&graph, &mock, 16).expect("deploys");
    let recorded = mock.recorded();
    let membership = sent(
        &recorded,
        "cpg:google:GroupMembership",
        "cardiac-gcp-hail-full-access-level-group-membership",
    );
    assert_eq!(
        wire::to_json(input(membership, "group_key")),
        serde_json::json!("cardiac-gcp-full-group-id")
    );
    assert_eq!(
        wire::to_json(input(membership, "member_key")),
        serde_json::json!("cardiac-gcp-hail-batch-user-full.cloud_id")
    );
    // Registered only after the group answered.
    let position = |name: &str| {
        recorded
            .registrations
            .iter()
            .position(|r| r.name == name)
            .expect("registered")
    };
    assert!(position("cardiac-gcp-full-group") < position(&membership.name));
}

#[test]
fn an_id_the_outputs_hook_computes_is_the_resources_id() {
    let graph = plan(&example_dir());
    let computed = cpg_infra_mock_engine::computed_outputs(&graph);
    let options = cpg_infra_mock_engine::answering_for(&graph, ORG_ID, MockOptions::default());
    let hook: cpg_infra_mock_engine::OutputsHook = std::sync::Arc::new(move |request| {
        let mut added = computed(request);
        if request.r#type == "gcp:cloudidentity/group:Group" {
            added.insert(
                "id".into(),
                wire::string(format!("groups/{}", request.name)),
            );
        }
        added
    });
    let mock = cpg_infra_mock_engine::MockEngine::start(MockOptions {
        outputs: Some(hook),
        ..options
    })
    .expect("mock listens");
    deploy(&graph, &mock, 16).expect("deploys");
    let recorded = mock.recorded();
    let (_, _, group) = recorded
        .responses
        .iter()
        .find(|(_, n, _)| n == "cardiac-gcp-full-group")
        .expect("answered");
    assert_eq!(group.id, "groups/cardiac-gcp-full-group");
    let fields = &group.object.as_ref().expect("outputs").fields;
    assert_eq!(
        wire::to_json(&fields["id"]),
        serde_json::json!("groups/cardiac-gcp-full-group")
    );
    let membership = sent(
        &recorded,
        "cpg:google:GroupMembership",
        "cardiac-gcp-hail-full-access-level-group-membership",
    );
    assert_eq!(
        wire::to_json(input(membership, "group_key")),
        serde_json::json!("groups/cardiac-gcp-full-group")
    );
    // Others keep the mock's own ids.
    assert!(
        recorded
            .responses
            .iter()
            .filter(|(t, ..)| t != "gcp:cloudidentity/group:Group")
            .all(|(_, n, r)| r.id.is_empty() || r.id == cpg_infra_mock_engine::answered_id(n))
    );
}

#[test]
fn a_preview_sends_unknowns_for_what_is_not_known_yet() {
    let graph = plan(&example_dir());
    let mock = mock_for(
        &graph,
        MockOptions {
            dry_run: true,
            ..MockOptions::default()
        },
    );
    deploy(&graph, &mock, 16).expect("previews");
    let recorded = mock.recorded();
    let membership = sent(
        &recorded,
        "cpg:google:GroupMembership",
        "cardiac-gcp-hail-full-access-level-group-membership",
    );
    assert_eq!(input(membership, "group_key"), &wire::unknown());
    // A value computed from an unknown is unknown; one from known inputs is not.
    let viewer = sent(
        &recorded,
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "cardiac-gcp-analysis-group-main-analysis-bucket-viewer",
    );
    assert_eq!(
        wire::to_json(input(viewer, "bucket")),
        serde_json::json!("exg-cardiac-main-analysis")
    );
    assert_registered_completely(&graph, &recorded, true);
}

#[test]
fn secrets_arrive_as_secrets() {
    let graph = plan(&example_dir());
    let mock = mock_for(&graph, MockOptions::default());
    deploy(&graph, &mock, 16).expect("deploys");
    let recorded = mock.recorded();
    let version = sent(
        &recorded,
        "gcp:secretmanager/secretVersion:SecretVersion",
        "cardiac-gcp-cromwell-service-account-full-secret-version",
    );
    let data = input(version, "secretData");
    let inner = wire::secret_inner(data).expect("secretData is sent as a secret");
    assert_eq!(
        wire::to_json(inner),
        serde_json::json!("{\"key\": \"cardiac-gcp-cromwell-service-account-full-key\"}")
    );
    // The key came back as a secret (additionalSecretOutputs) and was decoded.
    let key_response = recorded
        .responses
        .iter()
        .find(|(_, n, _)| n == "cardiac-gcp-cromwell-service-account-full-key")
        .map(|(_, _, r)| r.object.clone().unwrap_or_default())
        .expect("key registered");
    let private_key = &key_response.fields["privateKey"];
    assert_eq!(
        wire::secret_inner(private_key).map(wire::to_json),
        Some(serde_json::json!(base64(
            "{\"key\": \"cardiac-gcp-cromwell-service-account-full-key\"}"
        )))
    );
}

#[test]
fn without_alias_specs_aliases_are_sent_as_urns_and_without_secrets_as_plain_values() {
    let graph = plan(&example_dir());
    let mut options = MockOptions::default();
    options.features.remove("aliasSpecs");
    options.features.remove("secrets");
    options.features.remove("outputValues");
    options.features.remove("resourceReferences");
    let mock = mock_for(&graph, options);
    deploy(&graph, &mock, 16).expect("deploys");
    let recorded = mock.recorded();
    let aliased = graph
        .resources()
        .iter()
        .find(|r| !r.options.aliases.is_empty())
        .expect("the example has aliases");
    let request = sent(&recorded, &aliased.id.type_token, &aliased.id.name);
    assert!(request.aliases.is_empty() && !request.alias_specs);
    let expected: Vec<String> = aliased
        .options
        .aliases
        .iter()
        .map(|a| {
            format!(
                "urn:pulumi:test::cpg::{}::{}",
                a.type_token.as_deref().unwrap_or(&aliased.id.type_token),
                a.name.as_deref().unwrap_or(&aliased.id.name)
            )
        })
        .collect();
    assert_eq!(request.alias_ur_ns, expected);
    let version = sent(
        &recorded,
        "gcp:secretmanager/secretVersion:SecretVersion",
        "cardiac-gcp-cromwell-service-account-full-secret-version",
    );
    assert!(wire::secret_inner(input(version, "secretData")).is_none());
    assert!(
        !request.accept_resources,
        "resource references are not supported"
    );
}

#[test]
fn registrations_stay_within_parallel() {
    let graph = plan(&example_dir());
    let mock = mock_for(
        &graph,
        MockOptions {
            delay: std::time::Duration::from_millis(2),
            ..MockOptions::default()
        },
    );
    let deployed = deploy(&graph, &mock, 4).expect("deploys");
    let recorded = mock.recorded();
    assert!(recorded.max_in_flight <= 4, "{}", recorded.max_in_flight);
    assert!(recorded.max_in_flight >= 2, "{}", recorded.max_in_flight);
    assert!(deployed.max_in_flight <= 4);
    assert_eq!(
        recorded.features,
        [
            "secrets",
            "resourceReferences",
            "outputValues",
            "aliasSpecs",
            "deletedWith"
        ]
    );
}

/// A graph that uses every resource option.
fn every_option() -> cpg_infra::graph::Graph {
    use cpg_infra::graph::{Alias, AliasParent, Graph, Resource, ResourceOptions, Value};
    let mut graph = Graph::new();
    let provider = graph
        .declare(Resource::new("pulumi:providers:gcp", "admin").input("project", "admin-project"))
        .expect("provider");
    let parent = graph
        .declare(Resource::new("gcp:organizations/project:Project", "p").input("projectId", "p-1"))
        .expect("parent");
    let first = graph
        .declare(Resource::new("gcp:storage/bucket:Bucket", "first").input("name", "b-1"))
        .expect("first");
    graph
        .declare(
            Resource::new("gcp:storage/bucket:Bucket", "child")
                .input("project", Value::output(&parent, "projectId"))
                .input("name", "b-2")
                .options(ResourceOptions {
                    depends_on: vec![first.clone()],
                    parent: Some(parent.clone()),
                    protect: true,
                    ignore_changes: vec!["labels".into()],
                    delete_before_replace: true,
                    aliases: vec![
                        Alias {
                            name: Some("old-child".into()),
                            type_token: None,
                            parent: AliasParent::NoParent,
                        },
                        // A second alias that keeps the parent.
                        Alias {
                            name: Some("older-child".into()),
                            type_token: None,
                            parent: AliasParent::Inherit,
                        },
                    ],
                    provider: Some(provider.clone()),
                    additional_secret_outputs: vec!["selfLink".into()],
                    replace_on_changes: vec!["location".into()],
                    // Registered, not read: `id` is for resources read from the engine.
                    id: None,
                }),
        )
        .expect("child");
    graph
}

#[test]
fn every_resource_option_is_sent() {
    use cpg_infra_pulumi::proto::alias::{Alias, Spec, spec::Parent};
    let graph = every_option();
    for dry_run in [false, true] {
        let mock = super::support::mock_for(
            &graph,
            MockOptions {
                dry_run,
                ..MockOptions::default()
            },
        );
        deploy(&graph, &mock, 4).expect("deploys");
        let recorded = mock.recorded();
        let provider = sent(&recorded, "pulumi:providers:gcp", "admin");
        assert_eq!(provider.version, "7.38.0");
        assert!(provider.custom);
        let child = sent(&recorded, "gcp:storage/bucket:Bucket", "child");
        let parent_urn = "urn:pulumi:test::cpg::gcp:organizations/project:Project::p";
        assert_eq!(child.parent, parent_urn);
        let provider_id = if dry_run { wire::UNKNOWN } else { "admin-id" };
        assert_eq!(
            child.provider,
            format!("urn:pulumi:test::cpg::pulumi:providers:gcp::admin::{provider_id}")
        );
        assert_eq!(child.protect, Some(true));
        assert_eq!(child.ignore_changes, ["labels"]);
        assert!(child.delete_before_replace && child.delete_before_replace_defined);
        assert_eq!(child.additional_secret_outputs, ["selfLink"]);
        assert_eq!(child.replace_on_changes, ["location"]);
        assert_eq!(
            child.dependencies,
            [
                parent_urn,
                "urn:pulumi:test::cpg::gcp:storage/bucket:Bucket::first"
            ]
        );
        assert_eq!(child.property_dependencies["project"].urns, [parent_urn]);
        assert!(child.property_dependencies["name"].urns.is_empty());
        assert!(child.alias_specs);
        let spec = |name: &str, parent| {
            Some(Alias::Spec(Spec {
                name: name.into(),
                r#type: String::new(),
                stack: String::new(),
                project: String::new(),
                parent: Some(parent),
            }))
        };
        let aliases: Vec<_> = child.aliases.iter().map(|a| a.alias.clone()).collect();
        assert_eq!(
            aliases,
            [
                spec("old-child", Parent::NoParent(true)),
                // As Pulumi's Python SDK: the parent oneof set to an empty URN.
                spec("older-child", Parent::ParentUrn(String::new())),
            ]
        );
        // The mock's URN shows the parent's type.
        let answered = recorded
            .responses
            .iter()
            .find(|(_, n, _)| n == "child")
            .map(|(_, _, r)| r.urn.clone());
        assert_eq!(
            answered.as_deref(),
            Some(
                "urn:pulumi:test::cpg::gcp:organizations/project:Project$gcp:storage/bucket:Bucket::child"
            )
        );
    }
}

#[test]
fn aliases_as_urns_name_the_parents_type_unless_no_parent() {
    let graph = every_option();
    let mut options = MockOptions::default();
    options.features.remove("aliasSpecs");
    let mock = super::support::mock_for(&graph, options);
    deploy(&graph, &mock, 4).expect("deploys");
    let recorded = mock.recorded();
    let child = sent(&recorded, "gcp:storage/bucket:Bucket", "child");
    assert_eq!(
        child.alias_ur_ns,
        [
            "urn:pulumi:test::cpg::gcp:storage/bucket:Bucket::old-child",
            "urn:pulumi:test::cpg::gcp:organizations/project:Project$gcp:storage/bucket:Bucket::older-child",
        ]
    );
}

#[test]
fn reference_small_registrations_carry_the_references_urns_versions_and_dependencies() {
    use std::collections::{BTreeMap, BTreeSet};
    let dir = reference_dir();
    // The recording by this project's `type::name`.
    let reference = cpg_infra_reference::Reference::new(&cpg_infra_reference::read("small"));
    let graph = plan(&dir.join("small"));
    let mock = super::support::mock_for(&graph, MockOptions::default());
    deploy(&graph, &mock, 8).expect("deploys");
    let sent = mock.recorded();
    // URN → `type::name` of what was registered.
    let id_of = |urn: &str| {
        let mut parts = urn.rsplitn(2, "::");
        let name = parts.next().unwrap_or_default().to_owned();
        let qualified = parts
            .next()
            .and_then(|p| p.rsplit("::").next())
            .unwrap_or_default();
        format!("{qualified}::{name}")
    };
    let mut compared = 0;
    let mut with_property_dependencies = 0;
    let mut with_aliases = 0;
    let mut mismatches = Vec::new();
    for request in &sent.registrations[1..] {
        let id = format!("{}::{}", request.r#type, request.name);
        let Some(expected) = reference.resources().get(&id) else {
            continue;
        };
        compared += 1;
        if !expected["dynamic_provider"].is_string() {
            let urn = expected["urn"].as_str().expect("urn");
            let answered = sent
                .responses
                .iter()
                .find(|(t, n, _)| *t == request.r#type && *n == request.name)
                .map(|(_, _, r)| r.urn.clone());
            if answered.as_deref() != Some(urn) {
                mismatches.push(format!("{id}: urn {answered:?} != {urn}"));
            }
            if request.version != expected["version"].as_str().unwrap_or_default() {
                mismatches.push(format!("{id}: version {}", request.version));
            }
        }
        let depends: BTreeSet<String> = expected["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str())
            .map(|d| reference.id(d))
            .collect();
        let mut property: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (key, deps) in expected["property_dependencies"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let deps: BTreeSet<String> = deps
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .map(|d| reference.id(d))
                .collect();
            if !deps.is_empty() {
                property.insert(key.clone(), deps);
            }
        }
        let ours: BTreeMap<String, BTreeSet<String>> = request
            .property_dependencies
            .iter()
            .filter(|(_, d)| !d.urns.is_empty())
            .map(|(k, d)| (k.clone(), d.urns.iter().map(|u| id_of(u)).collect()))
            .collect();
        if !ours.is_empty() {
            with_property_dependencies += 1;
        }
        if ours != property {
            mismatches.push(format!(
                "{id}: property dependencies {ours:?} != {property:?}"
            ));
        }
        // Alias specs in protobuf's JSON form, as the recording writes them.
        let recorded_aliases: Vec<&serde_json::Value> = expected["options"]["aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let sent_aliases: Vec<serde_json::Value> = request.aliases.iter().map(alias_json).collect();
        if recorded_aliases.iter().copied().ne(sent_aliases.iter()) {
            mismatches.push(format!(
                "{id}: aliases {sent_aliases:?} != {recorded_aliases:?}"
            ));
        }
        if !sent_aliases.is_empty() {
            with_aliases += 1;
        }
        let all: BTreeSet<String> = request.dependencies.iter().map(|u| id_of(u)).collect();
        let expected_all: BTreeSet<String> = property
            .values()
            .flatten()
            .cloned()
            .chain(depends)
            .collect();
        if all != expected_all {
            mismatches.push(format!("{id}: dependencies {all:?} != {expected_all:?}"));
        }
    }
    assert!(compared > 900, "{compared}");
    assert!(
        with_property_dependencies > 700,
        "{with_property_dependencies}"
    );
    assert!(with_aliases >= 50, "{with_aliases}");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// An alias as protobuf's JSON form writes it: empty strings left out, the parent
/// oneof written whenever it is set.
fn alias_json(alias: &cpg_infra_pulumi::proto::Alias) -> serde_json::Value {
    use cpg_infra_pulumi::proto::alias::{Alias, spec::Parent};
    let mut json = serde_json::Map::new();
    match &alias.alias {
        Some(Alias::Urn(urn)) => {
            json.insert("urn".into(), urn.as_str().into());
        }
        Some(Alias::Spec(spec)) => {
            let mut fields = serde_json::Map::new();
            for (key, value) in [
                ("name", &spec.name),
                ("type", &spec.r#type),
                ("stack", &spec.stack),
                ("project", &spec.project),
            ] {
                if !value.is_empty() {
                    fields.insert(key.into(), value.as_str().into());
                }
            }
            match &spec.parent {
                Some(Parent::ParentUrn(urn)) => {
                    fields.insert("parentUrn".into(), urn.as_str().into())
                }
                Some(Parent::NoParent(no)) => fields.insert("noParent".into(), (*no).into()),
                None => None,
            };
            json.insert("spec".into(), fields.into());
        }
        None => {}
    }
    json.into()
}

/// Outputs are held only while a resource still to be registered reads them, or
/// for a stack export: a chain of resources each reading the one before holds a
/// few at a time, an unused resource's none, and only the exported one's remain.
#[test]
fn outputs_are_dropped_once_nothing_still_needs_them() {
    use cpg_infra::graph::{Graph, Resource, Value};
    const BUCKET: &str = "gcp:storage/bucket:Bucket";
    const CHAIN: usize = 50;
    let mut graph = Graph::new();
    let mut previous = graph
        .declare(Resource::new(BUCKET, "link-0").input("name", "b-0"))
        .expect("first link");
    for i in 1..CHAIN {
        previous = graph
            .declare(
                Resource::new(BUCKET, format!("link-{i}"))
                    .input("name", format!("b-{i}"))
                    .input("project", Value::output(&previous, "name")),
            )
            .expect("link");
    }
    graph
        .declare(Resource::new(BUCKET, "unused").input("name", "u"))
        .expect("unused");
    let exported = graph
        .declare(Resource::new(BUCKET, "exported").input("name", "e"))
        .expect("exported");
    graph
        .export("bucket", Value::output(&exported, "name"))
        .expect("export");
    let mock = mock_for(&graph, MockOptions::default());
    let deployed = deploy(&graph, &mock, 1).expect("deploys");
    assert_eq!(deployed.resources, CHAIN + 2);
    assert_eq!(deployed.outputs_kept, 1, "only the exported resource's");
    assert!(
        (2..=3).contains(&deployed.max_outputs_kept),
        "held at most: {}",
        deployed.max_outputs_kept
    );
    // The chain's values did flow from each link to the next.
    let recorded = mock.recorded();
    let last = sent(&recorded, BUCKET, &format!("link-{}", CHAIN - 1));
    assert_eq!(
        wire::to_json(input(last, "project")),
        serde_json::json!(format!("b-{}", CHAIN - 2))
    );
}
