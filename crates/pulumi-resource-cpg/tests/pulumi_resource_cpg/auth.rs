//! Google credentials without a static token: a service-account key exchanged at a
//! token endpoint, and the metadata server.

use base64::Engine as _;
use cpg_infra_fakes::{FakeCloudIdentity, FakeMetamist, FakeTokenService};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use serde_json::json;

use super::harness::{MockEngine, env, fast_retry, provider, st, urn};

const KEY_PEM: &str = include_str!("fixtures/test-service-account-key.pem");
const CI_SCOPE: &str = "https://www.googleapis.com/auth/cloud-identity.groups";

fn public_key() -> Vec<u8> {
    let body: String = KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("pem");
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).expect("key");
    key.public().as_ref().to_vec()
}

/// Adds `email` to `groups/g` through the provider's `Create`; the membership's id.
pub(super) async fn create_member(
    client: &mut rpc::resource_provider_client::ResourceProviderClient<tonic::transport::Channel>,
    name: &str,
    email: &str,
) -> Result<String, tonic::Status> {
    client
        .create(rpc::CreateRequest {
            urn: urn("cpg:google:GroupMembership", name),
            properties: Some(st(json!({"group_key": "groups/g", "member_key": email}))),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().id)
}

/// Creates the metamist project `name` through the provider's `Create`; its id.
pub(super) async fn create_project(
    client: &mut rpc::resource_provider_client::ResourceProviderClient<tonic::transport::Channel>,
    name: &str,
) -> Result<String, tonic::Status> {
    client
        .create(rpc::CreateRequest {
            urn: urn("cpg:metamist:Project", "p"),
            properties: Some(st(json!({"project_name": name}))),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().id)
}

#[tokio::test]
async fn service_account_key_is_exchanged_once_per_scope() {
    let tokens =
        FakeTokenService::start("deployer@proj.iam.gserviceaccount.com", &public_key(), "-")
            .await
            .expect("fake");
    let access = FakeTokenService::token_for(&format!("access:{CI_SCOPE}"), 1);
    let ci = FakeCloudIdentity::start(&access).await.expect("fake");
    ci.add_group("g");
    // Removed when dropped, also when the test fails.
    let temp = tempfile::Builder::new()
        .prefix("cpg-sa-")
        .tempdir()
        .expect("temporary directory");
    let dir = temp.path();
    let key_file = dir.join("key.json");
    let key = json!({
        "type": "service_account",
        "client_email": "deployer@proj.iam.gserviceaccount.com",
        "private_key_id": "k1",
        "private_key": KEY_PEM,
        "token_uri": format!("{}token", tokens.url),
    });
    std::fs::write(&key_file, key.to_string()).expect("write");
    let options = pulumi_resource_cpg::Options {
        env: env(&[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            key_file.to_str().unwrap_or_default(),
        )]),
        retry: fast_retry(),
        ..Default::default()
    };
    let mut client = provider(options, &MockEngine::default()).await;
    client
        .configure(rpc::ConfigureRequest {
            args: Some(st(json!({"cloudIdentityEndpoint": ci.url}))),
            ..Default::default()
        })
        .await
        .expect("configure");
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("create with the exchanged token");
    create_member(&mut client, "b", "b@x.org")
        .await
        .expect("create with the kept token");
    assert_eq!(tokens.recorder().count("POST", "/token"), 1);
    assert_eq!(ci.members("g"), ["a@x.org", "b@x.org"]);
}

#[tokio::test]
async fn metadata_server_gives_access_and_identity_tokens() {
    let tokens = FakeTokenService::start("-", b"-", "-").await.expect("fake");
    let host = tokens
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let options = pulumi_resource_cpg::Options {
        env: env(&[
            ("GCE_METADATA_HOST", &host),
            ("GOOGLE_CLOUD_QUOTA_PROJECT", "org-billing"),
        ]),
        retry: fast_retry(),
        ..Default::default()
    };
    let ci = FakeCloudIdentity::start(&FakeTokenService::token_for(
        &format!("metadata:{CI_SCOPE}"),
        1,
    ))
    .await
    .expect("fake");
    ci.add_group("g");
    let metamist = FakeMetamist::start("not yet").await.expect("fake");
    // metamist checks an identity token whose audience is its own URL.
    let audience = metamist.url.trim_end_matches('/').to_string();
    metamist.accept_token(&FakeTokenService::token_for(
        &format!("metadata-identity:{audience}"),
        2,
    ));
    let mut client = provider(options, &MockEngine::default()).await;
    client
        .configure(rpc::ConfigureRequest {
            args: Some(st(
                json!({"cloudIdentityEndpoint": ci.url, "metamistEndpoint": metamist.url}),
            )),
            ..Default::default()
        })
        .await
        .expect("configure");
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("create with the metadata token");
    create_project(&mut client, "ds")
        .await
        .expect("create with the identity token");
    assert_eq!(
        tokens
            .recorder()
            .count("GET", "/service-accounts/default/token"),
        1
    );
    assert_eq!(
        tokens
            .recorder()
            .count("GET", "/service-accounts/default/identity"),
        1
    );
    assert!(metamist.projects().contains_key("ds"));
    // Google API calls name the environment's quota project; metamist is no Google API.
    let quota = ci.recorder().quota_projects();
    assert!(
        !quota.is_empty() && quota.iter().all(|q| q.as_deref() == Some("org-billing")),
        "{quota:?}"
    );
    assert_eq!(
        metamist
            .recorder()
            .quota_projects()
            .iter()
            .flatten()
            .count(),
        0
    );
}

#[tokio::test]
async fn a_wrongly_signed_key_is_refused_with_the_token_endpoint_answer() {
    // The token service knows a different public key than the one signing.
    let tokens =
        FakeTokenService::start("deployer@proj.iam.gserviceaccount.com", b"not a key", "-")
            .await
            .expect("fake");
    let ci = FakeCloudIdentity::start("whatever").await.expect("fake");
    ci.add_group("g");
    // Removed when dropped, also when the test fails.
    let temp = tempfile::Builder::new()
        .prefix("cpg-sa-bad-")
        .tempdir()
        .expect("temporary directory");
    let dir = temp.path();
    let key_file = dir.join("key.json");
    let key = json!({
        "type": "service_account",
        "client_email": "deployer@proj.iam.gserviceaccount.com",
        "private_key": KEY_PEM,
        "token_uri": format!("{}token", tokens.url),
    });
    std::fs::write(&key_file, key.to_string()).expect("write");
    let options = pulumi_resource_cpg::Options {
        env: env(&[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            key_file.to_str().unwrap_or_default(),
        )]),
        retry: fast_retry(),
        ..Default::default()
    };
    let mut client = provider(options, &MockEngine::default()).await;
    client
        .configure(rpc::ConfigureRequest {
            args: Some(st(json!({"cloudIdentityEndpoint": ci.url}))),
            ..Default::default()
        })
        .await
        .expect("configure");
    let err = create_member(&mut client, "a", "a@x.org")
        .await
        .expect_err("refused");
    assert!(
        err.message().contains("invalid_grant: bad signature"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn gcloud_user_credentials_are_refreshed_at_their_token_uri() {
    let tokens = FakeTokenService::start("-", b"-", "refresh-me")
        .await
        .expect("fake");
    let ci = FakeCloudIdentity::start(&FakeTokenService::token_for("access:user", 1))
        .await
        .expect("fake");
    ci.add_group("g");
    // gcloud's file, found through CLOUDSDK_CONFIG.
    // Removed when dropped, also when the test fails.
    let temp = tempfile::Builder::new()
        .prefix("cpg-gcloud-")
        .tempdir()
        .expect("temporary directory");
    let dir = temp.path();
    let adc = json!({
        "type": "authorized_user",
        "client_id": "id",
        "client_secret": "secret",
        "refresh_token": "refresh-me",
        "token_uri": format!("{}token", tokens.url),
    });
    std::fs::write(
        dir.join("application_default_credentials.json"),
        adc.to_string(),
    )
    .expect("write");
    let options = pulumi_resource_cpg::Options {
        env: env(&[("CLOUDSDK_CONFIG", dir.to_str().unwrap_or_default())]),
        retry: fast_retry(),
        ..Default::default()
    };
    let mut client = provider(options, &MockEngine::default()).await;
    client
        .configure(rpc::ConfigureRequest {
            args: Some(st(json!({"cloudIdentityEndpoint": ci.url}))),
            ..Default::default()
        })
        .await
        .expect("configure");
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("create with the refreshed token");
    assert_eq!(ci.members("g"), ["a@x.org"]);
}
