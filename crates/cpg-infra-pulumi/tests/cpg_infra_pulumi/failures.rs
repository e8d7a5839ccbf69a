//! Failures: a refused registration, a vanished engine, an unreachable engine.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cpg_infra::graph::{Graph, ResourceId};
use cpg_infra_mock_engine::MockOptions;
use cpg_infra_pulumi::proto::LogSeverity;
use cpg_infra_pulumi::{DeployError, EngineSettings, Session};

use super::support::{deploy, example_dir, mock_for, plan};

/// Every resource that waits, directly or not, for `failed`.
fn dependants(graph: &Graph, failed: &ResourceId) -> BTreeSet<ResourceId> {
    let mut found: BTreeSet<ResourceId> = BTreeSet::from([failed.clone()]);
    loop {
        let before = found.len();
        for resource in graph.resources() {
            let waits = resource
                .inputs
                .values()
                .flat_map(|v| v.dependencies())
                .chain(resource.options.depends_on.iter().cloned());
            if waits.into_iter().any(|d| found.contains(&d)) {
                found.insert(resource.id.clone());
            }
        }
        if found.len() == before {
            found.remove(failed);
            return found;
        }
    }
}

/// The settings of an engine (monitor and engine alike) at `address`.
fn settings_for(address: &str) -> EngineSettings {
    let env = [
        ("PULUMI_MONITOR", address.to_owned()),
        ("PULUMI_ENGINE", address.to_owned()),
        ("PULUMI_PROJECT", "cpg".into()),
        ("PULUMI_STACK", "test".into()),
        ("PULUMI_DRY_RUN", "false".into()),
        ("PULUMI_PARALLEL", "4".into()),
    ];
    EngineSettings::from_lookup(|name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
        .expect("settings")
}

#[test]
fn a_refused_registration_names_the_resource_and_registers_no_dependant() {
    let graph = plan(&example_dir());
    let group = ResourceId::new("gcp:cloudidentity/group:Group", "cardiac-gcp-full-group");
    let waiting = dependants(&graph, &group);
    assert!(waiting.len() > 5, "the group has dependants");
    let mock = mock_for(
        &graph,
        MockOptions {
            fail: Some((group.type_token.to_string(), group.name.to_string())),
            ..MockOptions::default()
        },
    );
    let error = deploy(&graph, &mock, 8).expect_err("fails");
    assert!(
        matches!(&error, DeployError::Register { resource, .. } if *resource == group),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "gcp:cloudidentity/group:Group cardiac-gcp-full-group: creating cardiac-gcp-full-group failed: injected failure"
    );
    let recorded = mock.recorded();
    for request in &recorded.registrations {
        let id = ResourceId::new(&request.r#type, &request.name);
        assert!(!waiting.contains(&id), "dependant {id} was registered");
    }
    assert_eq!(
        recorded
            .registrations
            .iter()
            .filter(|r| r.name == *group.name)
            .count(),
        1
    );
    assert!(
        recorded
            .logs
            .iter()
            .any(|log| log.severity == LogSeverity::Error as i32
                && log
                    .message
                    .contains("gcp:cloudidentity/group:Group cardiac-gcp-full-group")
                && log.message.contains("injected failure")),
        "{:?}",
        recorded.logs
    );
    assert!(recorded.outputs.is_empty(), "no exports after a failure");
    // New registrations stopped: far fewer than the whole graph went out.
    assert!(recorded.registrations.len() < graph.len());
}

#[test]
fn an_engine_that_stops_serving_mid_run_ends_the_deployment_within_seconds() {
    let graph = plan(&example_dir());
    let mock = mock_for(
        &graph,
        MockOptions {
            stop_after: Some(40),
            ..MockOptions::default()
        },
    );
    let started = Instant::now();
    let error = deploy(&graph, &mock, 8).expect_err("the engine went away");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, DeployError::EngineGone { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("the Pulumi engine went away while "),
        "{error}"
    );
}

#[test]
fn an_unreachable_engine_is_an_error_within_seconds() {
    // A port that was free a moment ago and has no listener now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let settings = settings_for(&format!("127.0.0.1:{port}"));
    let started = Instant::now();
    let error = Session::connect(settings).expect_err("nothing listens");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        error.to_string(),
        format!("cannot reach the Pulumi resource monitor at 127.0.0.1:{port}")
    );
}

#[test]
fn a_failed_data_source_names_its_user_and_registers_nothing_that_needs_it() {
    let graph = plan(&example_dir());
    let options = MockOptions {
        invoke: Some(std::sync::Arc::new(
            |_request: &cpg_infra_pulumi::proto::ResourceInvokeRequest| {
                Err("organisation not found".to_owned())
            },
        )),
        ..MockOptions::default()
    };
    let mock = cpg_infra_mock_engine::MockEngine::start(MockOptions {
        outputs: Some(cpg_infra_mock_engine::computed_outputs(&graph)),
        ..options
    })
    .expect("mock");
    let error = deploy(&graph, &mock, 8).expect_err("fails");
    let DeployError::Invoke {
        token,
        resource,
        message,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(token, "gcp:organizations/getOrganization:getOrganization");
    assert_eq!(message, "organisation not found");
    assert!(
        error
            .to_string()
            .contains(&format!("{} {}", resource.type_token, resource.name))
    );
    let recorded = mock.recorded();
    let needs_org: BTreeSet<(String, String)> = graph
        .resources()
        .iter()
        .filter(|r| serde_json::to_string(&r.to_json()).is_ok_and(|j| j.contains("$invoke")))
        .map(|r| (r.id.type_token.to_string(), r.id.name.to_string()))
        .collect();
    assert!(!needs_org.is_empty());
    for request in &recorded.registrations {
        assert!(
            !needs_org.contains(&(request.r#type.clone(), request.name.clone())),
            "{}",
            request.name
        );
    }
    assert!(
        recorded
            .logs
            .iter()
            .any(|l| l.message.contains("organisation not found"))
    );
}

#[test]
fn a_provider_the_mock_cannot_reach_fails_the_registrations_routed_to_it() {
    let graph = plan(&example_dir());
    // A port nothing listens on any more.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let mock = mock_for(
        &graph,
        MockOptions {
            providers: vec![cpg_infra_mock_engine::ProviderRoute {
                package: "cpg".into(),
                address,
                config: prost_types::Struct::default(),
            }],
            ..MockOptions::default()
        },
    );
    let error = deploy(&graph, &mock, 8).expect_err("fails");
    let DeployError::Register { resource, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(resource.type_token.starts_with("cpg:"), "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("the cpg provider at {address}")),
        "{error}"
    );
    // What is not routed is answered by the mock as before.
    let recorded = mock.recorded();
    assert!(
        recorded
            .responses
            .iter()
            .any(|(t, _, r)| t.starts_with("gcp:") && !r.id.is_empty())
    );
    assert!(
        recorded
            .responses
            .iter()
            .all(|(t, ..)| !t.starts_with("cpg:"))
    );
    assert!(recorded.state.is_empty());
}

#[test]
fn an_engine_that_accepts_and_never_answers_is_reported_as_silent() {
    let graph = plan(&example_dir());
    let mock = mock_for(
        &graph,
        MockOptions {
            silent: true,
            ..MockOptions::default()
        },
    );
    let started = Instant::now();
    let error = Session::connect_within(mock.settings(4), Duration::from_secs(1))
        .expect_err("never answers");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(error, DeployError::EngineSilent { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("did not answer within 1 s"),
        "{error}"
    );
}

#[test]
fn a_listener_that_never_speaks_is_reported_as_silent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listens");
    let address = listener.local_addr().expect("address").to_string();
    let settings = settings_for(&address);
    let started = Instant::now();
    let error =
        Session::connect_within(settings, Duration::from_secs(1)).expect_err("never answers");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        error.to_string(),
        format!(
            "the Pulumi engine at {address} accepted the connection but did not answer within 1 s"
        )
    );
    drop(listener);
}

#[test]
fn an_empty_urn_is_an_error_naming_the_resource_and_the_run_says_what_was_not_registered() {
    let graph = plan(&example_dir());
    let group = ResourceId::new("gcp:cloudidentity/group:Group", "cardiac-gcp-full-group");
    let mock = mock_for(
        &graph,
        MockOptions {
            empty_urn: Some((group.type_token.to_string(), group.name.to_string())),
            ..MockOptions::default()
        },
    );
    let error = deploy(&graph, &mock, 8).expect_err("fails");
    assert!(
        matches!(&error, DeployError::EmptyUrn { resource } if *resource == group),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "gcp:cloudidentity/group:Group cardiac-gcp-full-group: the engine answered the registration with an empty URN"
    );
    let recorded = mock.recorded();
    // Without the root, and without the group whose answer was refused.
    let registered = recorded.registrations.len() - 2;
    let summary = recorded
        .logs
        .iter()
        .find(|l| l.message.contains("resources registered; not registered: "))
        .unwrap_or_else(|| panic!("{:?}", recorded.logs));
    assert!(
        summary.message.starts_with(&format!(
            "{registered} of {} resources registered",
            graph.len()
        )),
        "{}",
        summary.message
    );
    // The dependants of the group were never registered and are named.
    let waiting = dependants(&graph, &group);
    let first = waiting.iter().next().expect("the group has dependants");
    assert!(
        graph.len() - registered > 20 || summary.message.contains(&first.to_string()),
        "{}",
        summary.message
    );
}
