//! The provider protocol itself: plugin info, schema, configuration, checks, previews,
//! cancellation.

use std::time::Duration;

use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use serde_json::{Value, json};

use super::harness::{Harness, MockEngine, env, fast_retry, from_struct, provider, st, urn};

const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

#[tokio::test]
async fn plugin_info_is_the_crate_version() {
    let mut h = Harness::start().await;
    let info = h
        .client
        .get_plugin_info(())
        .await
        .expect("info")
        .into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn served_schema_is_the_committed_schema_json() {
    let mut h = Harness::start().await;
    let served = h
        .client
        .get_schema(rpc::GetSchemaRequest::default())
        .await
        .expect("schema")
        .into_inner()
        .schema;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.json");
    if std::env::var_os("CPG_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &served).expect("write schema.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        served == committed,
        "schema.json is not what GetSchema serves: run the tests with CPG_UPDATE_SCHEMA=1"
    );
    let schema: Value = serde_json::from_str(&served).expect("json");
    let mut tokens: Vec<&str> = schema["resources"]
        .as_object()
        .map(|r| r.keys().map(String::as_str).collect())
        .unwrap_or_default();
    tokens.sort_unstable();
    assert_eq!(
        tokens,
        [
            "cpg:google:GroupMembership",
            "cpg:google:GroupSettings",
            "cpg:hail:BillingProject",
            "cpg:hail:BillingProjectMembership",
            "cpg:hail:User",
            "cpg:metamist:Project",
            "cpg:metamist:ProjectMembers",
        ]
    );
    let membership = &schema["resources"]["cpg:google:GroupMembership"];
    assert_eq!(
        membership["requiredInputs"],
        json!(["group_key", "member_key"])
    );
    assert_eq!(
        membership["properties"]["member_name"]["type"],
        json!("string")
    );
    assert_eq!(
        schema["config"]["variables"]["accessToken"]["secret"],
        json!(true)
    );
}

#[tokio::test]
async fn the_reference_inputs_of_every_kind_pass_check() {
    // One recorded input set per kind, as the reference's small config declares them.
    let reference = super::harness::reference_dynamic_resources();
    let mut h = Harness::start().await;
    let mut kinds = std::collections::BTreeSet::new();
    for (token, inputs) in reference {
        let failures = h.check(&token, inputs.clone()).await;
        assert!(failures.is_empty(), "{token} {inputs}: {failures:?}");
        kinds.insert(token);
    }
    assert_eq!(kinds.len(), 7);
}

#[tokio::test]
async fn check_config_reports_every_bad_key() {
    let mut h = Harness::start().await;
    let resp = h
        .client
        .check_config(rpc::CheckRequest {
            urn: urn("pulumi:providers:cpg", "default"),
            news: Some(st(json!({
                "cloudIdentityEndpoint": "cloudidentity.googleapis.com",
                "metamistEndpoint": "https://metamist.example.org",
                "acessToken": "x",
                "version": "0.1.0",
            }))),
            ..Default::default()
        })
        .await
        .expect("check config")
        .into_inner();
    let props: Vec<&str> = resp.failures.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(props, ["acessToken", "cloudIdentityEndpoint"]);
}

#[tokio::test]
async fn configure_refuses_a_bad_endpoint() {
    let mut client = provider(Default::default(), &MockEngine::default()).await;
    let err = client
        .configure(rpc::ConfigureRequest {
            args: Some(st(json!({"groupsSettingsEndpoint": "ftp://x"}))),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("cpg:groupsSettingsEndpoint"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn configure_reads_the_engine_variables_form() {
    let mut client = provider(Default::default(), &MockEngine::default()).await;
    let resp = client
        .configure(rpc::ConfigureRequest {
            variables: [
                ("cpg:config:accessToken".to_string(), "t".to_string()),
                (
                    "cpg:config:cloudIdentityEndpoint".to_string(),
                    "http://127.0.0.1:1".to_string(),
                ),
            ]
            .into(),
            ..Default::default()
        })
        .await
        .expect("configure")
        .into_inner();
    assert!(resp.supports_preview);
}

#[tokio::test]
async fn an_unknown_type_is_an_invalid_argument() {
    let mut h = Harness::start().await;
    let err = h
        .create("cpg:google:Group", "x", json!({}))
        .await
        .expect_err("unknown type");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn preview_create_reports_computed_outputs_as_unknown_and_calls_nothing() {
    let mut h = Harness::start().await;
    let resp = h
        .client
        .create(rpc::CreateRequest {
            urn: urn("cpg:google:GroupMembership", "m"),
            properties: Some(st(json!({"group_key": "groups/g", "member_key": UNKNOWN}))),
            preview: true,
            ..Default::default()
        })
        .await
        .expect("preview")
        .into_inner();
    assert_eq!(resp.id, "");
    let outputs = from_struct(resp.properties.as_ref());
    assert_eq!(outputs["member_name"], json!(UNKNOWN));
    assert!(h.ci.recorder().requests().is_empty());
    // An unknown member is a replacement in the diff, as in the reference.
    let r = super::harness::Created {
        urn: urn("cpg:google:GroupMembership", "m"),
        id: "groups/g/memberships/1".into(),
        outputs: json!({"group_key": "groups/g", "member_key": "a@x.org", "member_name": "groups/g/memberships/1"}),
        inputs: json!({"group_key": "groups/g", "member_key": "a@x.org"}),
    };
    let d = h
        .diff(&r, json!({"group_key": "groups/g", "member_key": UNKNOWN}))
        .await;
    assert_eq!(d.replaces, ["member_key"]);
}

#[tokio::test]
async fn cancel_stops_a_waiting_operation() {
    let mut options = pulumi_resource_cpg::Options {
        env: env(&[("HAIL_TOKEN_GCP", super::harness::HAIL_TOKEN)]),
        retry: fast_retry(),
        ..Default::default()
    };
    options.hail_user_wait.interval = Duration::from_secs(30);
    let h = Harness::start_with(options).await;
    h.hail.identity_after_reads(100);
    let mut client = h.client.clone();
    let batch_uri = h.hail.url.clone();
    let create = tokio::spawn(async move {
        client
            .create(rpc::CreateRequest {
                urn: urn("cpg:hail:User", "u"),
                properties: Some(st(
                    json!({"username": "u", "batch_uri": batch_uri, "token_category": "gcp"}),
                )),
                ..Default::default()
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut client = h.client.clone();
    client.cancel(()).await.expect("cancel");
    let outcome = tokio::time::timeout(Duration::from_secs(5), create)
        .await
        .expect("stopped well before the 30 s wait")
        .expect("join");
    assert_eq!(
        outcome.expect_err("cancelled").code(),
        tonic::Code::Cancelled
    );
}

#[tokio::test]
async fn a_configuration_change_never_replaces() {
    let mut h = Harness::start().await;
    let diff = |olds: Value, news: Value| rpc::DiffRequest {
        urn: urn("pulumi:providers:cpg", "default_0_1_0"),
        olds: Some(st(olds)),
        news: Some(st(news)),
        ..Default::default()
    };
    let same = h
        .client
        .diff_config(diff(
            json!({"version": "0.1.0", "accessToken": "t"}),
            json!({"accessToken": "t"}),
        ))
        .await
        .expect("diff config")
        .into_inner();
    assert_eq!(same.changes, 1, "a version alone is no change");
    let changed = h
        .client
        .diff_config(diff(
            json!({"accessToken": "t"}),
            json!({"accessToken": "u", "metamistEndpoint": "https://m.example.org/"}),
        ))
        .await
        .expect("diff config")
        .into_inner();
    assert_eq!(changed.changes, 2);
    assert!(changed.replaces.is_empty());
    assert_eq!(changed.diffs, ["accessToken", "metamistEndpoint"]);
}

#[tokio::test]
async fn the_fakes_bundle_configures_a_provider() {
    use cpg_infra_fakes::Fakes;
    let fakes = Fakes::start("g", "h").await.expect("fakes");
    let mut client = provider(fakes.options(&["gcp"]), &MockEngine::default()).await;
    client
        .configure(rpc::ConfigureRequest {
            args: Some(st(fakes.provider_config())),
            ..Default::default()
        })
        .await
        .expect("configure");
    fakes.cloud_identity.add_group("g1");
    let inputs = json!({"group_key": "groups/g1", "member_key": "a@x.org"});
    client
        .create(rpc::CreateRequest {
            urn: urn("cpg:google:GroupMembership", "m"),
            properties: Some(st(inputs)),
            ..Default::default()
        })
        .await
        .expect("create");
    let user = json!({"username": "u", "batch_uri": fakes.hail.url, "token_category": "gcp"});
    client
        .create(rpc::CreateRequest {
            urn: urn("cpg:hail:User", "u"),
            properties: Some(st(user)),
            ..Default::default()
        })
        .await
        .expect("create user");
    assert_eq!(fakes.cloud_identity.members("g1"), ["a@x.org"]);
    assert_eq!(fakes.hail.users(), ["u"]);
}

#[tokio::test]
async fn import_reads_a_resource_by_its_id_alone() {
    use super::harness::Created;
    let mut h = Harness::start().await;
    let name = h.ci.add_member("g1", "a@x.org");
    h.hail.add_project("ds", false);
    h.metamist.add_project_with_id("proj", 7);
    let hail = h.hail.url.clone();
    let cases = [
        (
            "cpg:google:GroupMembership",
            name.clone(),
            json!({"group_key": "groups/g1", "member_key": "a@x.org", "member_name": name}),
        ),
        (
            "cpg:hail:BillingProject",
            format!("gcp::{hail}::ds"),
            json!({"name": "ds", "batch_uri": hail, "token_category": "gcp"}),
        ),
        (
            "cpg:metamist:Project",
            "metamist-project::proj::7".to_string(),
            json!({"project_id": 7, "project_name": "proj"}),
        ),
    ];
    for (token, id, expected) in cases {
        let r = Created {
            urn: urn(token, "imported"),
            id: id.clone(),
            outputs: json!({}),
            inputs: json!({}),
        };
        let (read_id, outputs, _) = h.read(&r).await.expect("read").expect("found");
        assert_eq!((read_id, outputs), (id, expected), "{token}");
    }
}

#[tokio::test]
async fn the_handshake_says_where_the_engine_is() {
    use std::sync::Arc;
    let fakes = cpg_infra_fakes::Fakes::start("g", "h")
        .await
        .expect("fakes");
    let engine = MockEngine::default();
    let engine_address = engine.start().await;
    // A provider started without the engine's address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let mut options = fakes.options(&["gcp"]);
    options.retry = fast_retry();
    tokio::spawn(pulumi_resource_cpg::serve(
        listener,
        Arc::new(pulumi_resource_cpg::Engine::new(None).expect("engine")),
        options,
        std::future::pending(),
    ));
    let mut client = rpc::resource_provider_client::ResourceProviderClient::connect(format!(
        "http://127.0.0.1:{port}"
    ))
    .await
    .expect("connect");
    client
        .handshake(rpc::ProviderHandshakeRequest {
            engine_address,
            ..Default::default()
        })
        .await
        .expect("handshake");
    client
        .configure(rpc::ConfigureRequest {
            args: Some(st(fakes.provider_config())),
            ..Default::default()
        })
        .await
        .expect("configure");
    fakes.cloud_identity.add_group("g1");
    fakes.cloud_identity.recorder().inject(
        "GET",
        "/memberships",
        [cpg_infra_fakes::Fault::Status(503)],
    );
    client
        .create(rpc::CreateRequest {
            urn: urn("cpg:google:GroupMembership", "m"),
            properties: Some(st(
                json!({"group_key": "groups/g1", "member_key": "a@x.org"}),
            )),
            ..Default::default()
        })
        .await
        .expect("create");
    let messages = engine.messages();
    assert!(
        messages.iter().any(|m| m.contains("HTTP 503; retrying")),
        "{messages:?}"
    );
}
