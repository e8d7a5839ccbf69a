//! Application default credentials beyond keys and the metadata server: external
//! accounts (subject tokens from a file, a URL or an executable, the STS exchange,
//! service-account impersonation), impersonated service accounts, the quota project,
//! refreshing, and what a failure says.

use std::path::Path;
use std::time::Duration;

use cpg_infra_fakes::{
    FakeCloudIdentity, FakeIamCredentials, FakeMetamist, FakeSts, FakeSubjectTokenUrl,
    FakeTokenService, Fault,
};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_client::ResourceProviderClient;
use serde_json::{Value, json};
use tonic::transport::Channel;

use super::auth::{create_member, create_project};
use super::harness::{MockEngine, env, fast_retry, provider, st};

const CI_SCOPE: &str = "https://www.googleapis.com/auth/cloud-identity.groups";
const IAM_SCOPE: &str = "https://www.googleapis.com/auth/iam";
const AUDIENCE: &str =
    "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/github";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
const SUBJECT_TOKEN: &str = "subject-token-from-the-ci";
const DEPLOYER: &str = "deployer@org-infra.iam.gserviceaccount.com";

type Client = ResourceProviderClient<Channel>;

/// A provider whose environment is `vars`, configured to reach `ci` (and `metamist`).
async fn configured(
    vars: &[(&str, &str)],
    ci: &FakeCloudIdentity,
    metamist: Option<&str>,
) -> Client {
    let options = pulumi_resource_cpg::Options {
        env: env(vars),
        retry: fast_retry(),
        ..Default::default()
    };
    let mut client = provider(options, &MockEngine::default()).await;
    let mut args = json!({"cloudIdentityEndpoint": ci.url});
    if let Some(url) = metamist {
        args["metamistEndpoint"] = json!(url);
    }
    client
        .configure(rpc::ConfigureRequest {
            args: Some(st(args)),
            ..Default::default()
        })
        .await
        .expect("configure");
    client
}

/// Writes `value` as JSON to `dir/name`; the path.
fn write_json(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write");
    path.to_str().unwrap_or_default().to_string()
}

fn temp(prefix: &str) -> tempfile::TempDir {
    // Removed when dropped, also when the test fails.
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temporary directory")
}

/// Every request `ci` received named `project` as its quota project.
fn assert_quota_project(ci: &FakeCloudIdentity, project: &str) {
    let quota = ci.recorder().quota_projects();
    assert!(!quota.is_empty());
    assert!(
        quota.iter().all(|q| q.as_deref() == Some(project)),
        "{quota:?}"
    );
}

/// An external account whose subject token comes from `credential_source`.
fn external_account(sts: &FakeSts, credential_source: Value) -> Value {
    json!({
        "type": "external_account",
        "audience": AUDIENCE,
        "subject_token_type": JWT_TYPE,
        "token_url": sts.token_url(),
        "credential_source": credential_source,
    })
}

#[tokio::test]
async fn a_ci_file_token_is_exchanged_and_writes_with_the_quota_project() {
    let sts = FakeSts::start(AUDIENCE, SUBJECT_TOKEN).await.expect("fake");
    let ci = FakeCloudIdentity::start(&FakeSts::token_for(1))
        .await
        .expect("fake");
    ci.add_group("g");
    let dir = temp("cpg-wif-file-");
    // What a CI's auth step leaves behind: the OIDC token in a file, and the
    // configuration that points at it.
    let token_file = dir.path().join("oidc-token");
    std::fs::write(&token_file, format!("{SUBJECT_TOKEN}\n")).expect("write");
    let mut config = external_account(&sts, json!({"file": token_file}));
    config["quota_project_id"] = json!("org-billing");
    let adc = write_json(dir.path(), "adc.json", &config);
    let mut client = configured(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci, None).await;
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("create with the federated token");
    create_member(&mut client, "b", "b@x.org")
        .await
        .expect("create with the kept token");
    assert_eq!(ci.members("g"), ["a@x.org", "b@x.org"]);
    // One exchange for both creates, asking for the API's scope.
    let exchanges = sts.exchanges();
    assert_eq!(exchanges.len(), 1, "{exchanges:?}");
    assert_eq!(
        exchanges[0].get("scope").map(String::as_str),
        Some(CI_SCOPE)
    );
    assert_eq!(
        exchanges[0].get("subject_token_type").map(String::as_str),
        Some(JWT_TYPE)
    );
    assert_eq!(exchanges[0].get("options"), None);
    assert_quota_project(&ci, "org-billing");
}

#[tokio::test]
async fn a_workforce_pool_sends_its_user_project_or_its_client() {
    const WORKFORCE: &str =
        "//iam.googleapis.com/locations/global/workforcePools/staff/providers/sso";
    let sts = FakeSts::start(WORKFORCE, SUBJECT_TOKEN)
        .await
        .expect("fake");
    sts.hand_out("workforce-token");
    let ci = FakeCloudIdentity::start("workforce-token")
        .await
        .expect("fake");
    ci.add_group("g");
    let dir = temp("cpg-workforce-");
    let adc = file_sourced(&sts, dir.path());
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&adc).expect("read")).expect("JSON");
    config["audience"] = json!(WORKFORCE);
    config["workforce_pool_user_project"] = json!("org-users");
    write_json(dir.path(), "adc.json", &config);
    let mut client = configured(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci, None).await;
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("user project");
    // With an OAuth client, the exchange authenticates as the client instead.
    sts.require_client("client-id", "client-secret");
    config["client_id"] = json!("client-id");
    config["client_secret"] = json!("client-secret");
    write_json(dir.path(), "adc.json", &config);
    let mut client = configured(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci, None).await;
    create_member(&mut client, "b", "b@x.org")
        .await
        .expect("client");
    let options: Vec<Option<String>> = sts
        .exchanges()
        .iter()
        .map(|e| e.get("options").cloned())
        .collect();
    assert_eq!(
        options,
        [Some(r#"{"userProject":"org-users"}"#.to_string()), None]
    );
    // A user project outside a workforce pool is a mistake in the file.
    config["audience"] = json!(AUDIENCE);
    write_json(dir.path(), "adc.json", &config);
    let options = pulumi_resource_cpg::Options {
        env: env(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)]),
        retry: fast_retry(),
        ..Default::default()
    };
    let mut client = provider(options, &MockEngine::default()).await;
    let err = client
        .configure(rpc::ConfigureRequest {
            args: Some(st(json!({"cloudIdentityEndpoint": ci.url}))),
            ..Default::default()
        })
        .await
        .expect_err("a workload pool with a user project");
    assert!(
        err.message()
            .contains("workforce_pool_user_project is only for workforce pools"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn a_url_token_with_headers_buys_an_impersonated_token() {
    let url = FakeSubjectTokenUrl::start(SUBJECT_TOKEN)
        .await
        .expect("fake");
    url.require_header("x-request-token", "ci-request-secret");
    url.answer_json("value");
    let sts = FakeSts::start(AUDIENCE, SUBJECT_TOKEN).await.expect("fake");
    let iam = FakeIamCredentials::start(&FakeSts::token_for(1))
        .await
        .expect("fake");
    let ci = FakeCloudIdentity::start(&FakeIamCredentials::token_for(DEPLOYER, 1))
        .await
        .expect("fake");
    ci.add_group("g");
    let dir = temp("cpg-wif-url-");
    let mut config = external_account(
        &sts,
        json!({
            "url": url.url,
            "headers": {"X-Request-Token": "ci-request-secret"},
            "format": {"type": "json", "subject_token_field_name": "value"},
        }),
    );
    config["service_account_impersonation_url"] = json!(iam.generate_access_token_url(DEPLOYER));
    config["service_account_impersonation"] = json!({"token_lifetime_seconds": 1800});
    config["quota_project_id"] = json!("from-the-file");
    let adc = write_json(dir.path(), "adc.json", &config);
    let mut client = configured(
        &[
            ("GOOGLE_APPLICATION_CREDENTIALS", &adc),
            ("GOOGLE_CLOUD_QUOTA_PROJECT", "from-the-environment"),
        ],
        &ci,
        None,
    )
    .await;
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("create with the impersonated token");
    assert_eq!(ci.members("g"), ["a@x.org"]);
    assert_eq!(url.recorder().count("GET", "/token"), 1);
    // The federated token is only good for impersonating.
    let exchanges = sts.exchanges();
    assert_eq!(exchanges.len(), 1);
    assert_eq!(
        exchanges[0].get("scope").map(String::as_str),
        Some(IAM_SCOPE)
    );
    let calls = iam.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, format!("{DEPLOYER}:generateAccessToken"));
    assert_eq!(
        calls[0].1,
        json!({"delegates": [], "scope": [CI_SCOPE], "lifetime": "1800s"})
    );
    // The environment's quota project wins over the file's.
    assert_quota_project(&ci, "from-the-environment");
}

/// An external account whose subject token is in the file `dir/oidc-token`, which holds
/// the token the fake STS accepts; the account's configuration file.
fn file_sourced(sts: &FakeSts, dir: &Path) -> String {
    let token_file = dir.join("oidc-token");
    std::fs::write(&token_file, SUBJECT_TOKEN).expect("write");
    write_json(
        dir,
        "adc.json",
        &external_account(sts, json!({"file": token_file})),
    )
}

/// A script that counts its runs in `dir/runs`, records the audience it was given, and
/// prints (and keeps in its output file) a response with `subject_token`.
fn token_script(dir: &Path, subject_token: &str) -> String {
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;
    let response = json!({
        "version": 1,
        "success": true,
        "token_type": JWT_TYPE,
        "id_token": subject_token,
        "expiration_time": expires,
    });
    let dir = dir.display();
    let script = format!(
        "printf x >> '{dir}/runs'\n\
         printf '%s' \"$GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE\" > '{dir}/audience'\n\
         response='{response}'\n\
         printf '%s' \"$response\" > \"$GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE\"\n\
         printf '%s' \"$response\"\n"
    );
    let path = format!("{dir}/get-token.sh");
    std::fs::write(&path, script).expect("write");
    path
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs")).map_or(0, |r| r.len())
}

#[tokio::test]
async fn an_executable_runs_only_when_allowed_and_its_output_file_is_reused() {
    let sts = FakeSts::start(AUDIENCE, SUBJECT_TOKEN).await.expect("fake");
    let ci = FakeCloudIdentity::start(&FakeSts::token_for(1))
        .await
        .expect("fake");
    ci.add_group("g");
    let dir = temp("cpg-wif-exe-");
    let script = token_script(dir.path(), SUBJECT_TOKEN);
    let output_file = dir.path().join("kept.json");
    let config = external_account(
        &sts,
        json!({"executable": {
            // Run through the shell: no executable bit, no PATH needed.
            "command": format!("/bin/sh {script}"),
            "timeout_millis": 10000,
            "output_file": output_file,
        }}),
    );
    let adc = write_json(dir.path(), "adc.json", &config);

    let mut refused = configured(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci, None).await;
    let err = create_member(&mut refused, "a", "a@x.org")
        .await
        .expect_err("executables are not allowed by default");
    let message = err.message();
    assert!(
        message.contains(&adc)
            && message.contains("getting the subject token from the executable /bin/sh")
            && message.contains("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1"),
        "{message}"
    );
    assert_eq!(runs(dir.path()), 0);

    let allowed = [
        ("GOOGLE_APPLICATION_CREDENTIALS", adc.as_str()),
        ("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1"),
    ];
    let mut client = configured(&allowed, &ci, None).await;
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("create with the executable's token");
    assert_eq!(runs(dir.path()), 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("audience"))
            .ok()
            .as_deref(),
        Some(AUDIENCE)
    );
    // Another provider run needs its own exchange; the executable's answer, kept in its
    // output file, is still fresh, so the command does not run again.
    let fresh = FakeSts::token_for(2);
    let ci2 = FakeCloudIdentity::start(&fresh).await.expect("fake");
    ci2.add_group("g");
    let mut client2 = configured(&allowed, &ci2, None).await;
    create_member(&mut client2, "b", "b@x.org")
        .await
        .expect("create with a token from the kept answer");
    assert_eq!(runs(dir.path()), 1);
    assert_eq!(sts.exchanges().len(), 2);
    assert_eq!(ci2.members("g"), ["b@x.org"]);
}

#[tokio::test]
async fn a_token_near_its_expiry_is_exchanged_again() {
    let sts = FakeSts::start(AUDIENCE, SUBJECT_TOKEN).await.expect("fake");
    let dir = temp("cpg-wif-refresh-");
    let adc = file_sourced(&sts, dir.path());
    // First a token that lives an hour: kept for the second call.
    let ci = FakeCloudIdentity::start(&FakeSts::token_for(1))
        .await
        .expect("fake");
    ci.add_group("g");
    let mut client = configured(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci, None).await;
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("first");
    create_member(&mut client, "b", "b@x.org")
        .await
        .expect("kept");
    assert_eq!(sts.exchanges().len(), 1);
    // Then tokens that live two minutes, inside the refresh margin: never reused, every
    // API call exchanges again.
    sts.set_expires_in(120);
    sts.hand_out("short-lived");
    let ci = FakeCloudIdentity::start("short-lived").await.expect("fake");
    ci.add_group("g");
    let mut client = configured(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci, None).await;
    create_member(&mut client, "c", "c@x.org")
        .await
        .expect("third");
    create_member(&mut client, "d", "d@x.org")
        .await
        .expect("fourth");
    let calls = ci.recorder().requests().len();
    assert!(calls >= 2, "{calls}");
    assert_eq!(sts.exchanges().len(), 1 + calls);
}

#[tokio::test]
async fn concurrent_calls_wait_for_one_exchange() {
    let sts = FakeSts::start(AUDIENCE, SUBJECT_TOKEN).await.expect("fake");
    sts.recorder().inject(
        "POST",
        "/v1/token",
        [Fault::Delay(Duration::from_millis(300))],
    );
    let ci = FakeCloudIdentity::start(&FakeSts::token_for(1))
        .await
        .expect("fake");
    ci.add_group("g");
    let dir = temp("cpg-wif-race-");
    let adc = file_sourced(&sts, dir.path());
    let client = configured(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci, None).await;
    let creates: Vec<_> = (0..6)
        .map(|i| {
            let mut client = client.clone();
            tokio::spawn(async move {
                create_member(&mut client, &format!("m{i}"), &format!("m{i}@x.org")).await
            })
        })
        .collect();
    for create in creates {
        let created = create.await.expect("task");
        assert!(created.is_ok(), "{created:?}");
    }
    assert_eq!(sts.exchanges().len(), 1);
    assert_eq!(ci.members("g").len(), 6);
}

#[tokio::test]
async fn an_impersonated_service_account_from_gcloud_gives_access_and_identity_tokens() {
    let tokens = FakeTokenService::start("-", b"-", "refresh-me")
        .await
        .expect("fake");
    let user_token = FakeTokenService::token_for("access:user", 1);
    let iam = FakeIamCredentials::start(&user_token).await.expect("fake");
    let ci = FakeCloudIdentity::start(&FakeIamCredentials::token_for(DEPLOYER, 1))
        .await
        .expect("fake");
    ci.add_group("g");
    let metamist = FakeMetamist::start("not yet").await.expect("fake");
    let audience = metamist.url.trim_end_matches('/').to_string();
    metamist.accept_token(&FakeIamCredentials::id_token_for(DEPLOYER, &audience, 2));
    // What `gcloud auth application-default login --impersonate-service-account` writes.
    let dir = temp("cpg-gcloud-impersonate-");
    write_json(
        dir.path(),
        "application_default_credentials.json",
        &json!({
            "type": "impersonated_service_account",
            "service_account_impersonation_url": iam.generate_access_token_url(DEPLOYER),
            "delegates": ["middle@org-infra.iam.gserviceaccount.com"],
            "quota_project_id": "org-billing",
            "source_credentials": {
                "type": "authorized_user",
                "client_id": "id",
                "client_secret": "secret",
                "refresh_token": "refresh-me",
                "token_uri": format!("{}token", tokens.url),
            },
        }),
    );
    let config_dir = dir.path().to_str().unwrap_or_default();
    let mut client = configured(&[("CLOUDSDK_CONFIG", config_dir)], &ci, Some(&metamist.url)).await;
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect("create with the impersonated token");
    create_project(&mut client, "ds")
        .await
        .expect("create with the impersonated identity token");
    assert!(metamist.projects().contains_key("ds"));
    // One user token paid for both.
    assert_eq!(tokens.recorder().count("POST", "/token"), 1);
    let calls = iam.calls();
    let delegate = "projects/-/serviceAccounts/middle@org-infra.iam.gserviceaccount.com";
    assert_eq!(
        calls,
        [
            (
                format!("{DEPLOYER}:generateAccessToken"),
                json!({"delegates": [delegate], "scope": [CI_SCOPE], "lifetime": "3600s"}),
            ),
            (
                format!("{DEPLOYER}:generateIdToken"),
                json!({"delegates": [delegate], "audience": audience, "includeEmail": true}),
            ),
        ]
    );
    assert_quota_project(&ci, "org-billing");
}

/// The message of the first create's failure with the environment `vars`.
async fn failure(vars: &[(&str, &str)], ci: &FakeCloudIdentity) -> String {
    let mut client = configured(vars, ci, None).await;
    create_member(&mut client, "a", "a@x.org")
        .await
        .expect_err("the credentials fail")
        .message()
        .to_string()
}

#[tokio::test]
async fn a_failure_names_the_credentials_and_the_step() {
    let sts = FakeSts::start(AUDIENCE, SUBJECT_TOKEN).await.expect("fake");
    let ci = FakeCloudIdentity::start("unused").await.expect("fake");
    ci.add_group("g");
    let dir = temp("cpg-wif-fail-");
    let token_file = dir.path().join("oidc-token");

    // The subject token file is missing.
    let adc = write_json(
        dir.path(),
        "file.json",
        &external_account(&sts, json!({"file": token_file})),
    );
    let m = failure(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci).await;
    let expected = format!(
        "Google credentials from {adc} (named by GOOGLE_APPLICATION_CREDENTIALS): \
         reading the subject token from {} failed",
        token_file.display()
    );
    assert!(m.starts_with(&expected), "{m}");

    // STS refuses the token.
    std::fs::write(&token_file, "another-token").expect("write");
    let m = failure(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci).await;
    let step = format!(
        "exchanging the subject token at the STS endpoint {}",
        sts.token_url()
    );
    assert!(
        m.contains(&adc) && m.contains(&step) && m.contains("HTTP 400"),
        "{m}"
    );

    // The subject-token URL refuses a request without its header.
    let url = FakeSubjectTokenUrl::start(SUBJECT_TOKEN)
        .await
        .expect("fake");
    url.require_header("x-request-token", "ci-request-secret");
    let adc = write_json(
        dir.path(),
        "url.json",
        &external_account(&sts, json!({"url": url.url})),
    );
    let m = failure(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci).await;
    let step = format!("fetching the subject token from {}", url.url);
    assert!(
        m.contains(&adc) && m.contains(&step) && m.contains("HTTP 401"),
        "{m}"
    );

    // IAM Credentials refuses the federated token.
    std::fs::write(&token_file, SUBJECT_TOKEN).expect("write");
    let iam = FakeIamCredentials::start("another-source")
        .await
        .expect("fake");
    let mut config = external_account(&sts, json!({"file": token_file}));
    config["service_account_impersonation_url"] = json!(iam.generate_access_token_url(DEPLOYER));
    let adc = write_json(dir.path(), "impersonate.json", &config);
    let m = failure(&[("GOOGLE_APPLICATION_CREDENTIALS", &adc)], &ci).await;
    let step = format!(
        "impersonating the service account at {}",
        iam.generate_access_token_url(DEPLOYER)
    );
    assert!(
        m.contains(&adc) && m.contains(&step) && m.contains("HTTP 401"),
        "{m}"
    );

    // A file the provider cannot use is refused when the provider is configured.
    let gcloud = temp("cpg-gcloud-bad-");
    let path = write_json(
        gcloud.path(),
        "application_default_credentials.json",
        &json!({"type": "authorized_user", "client_id": "id", "refresh_token": 5}),
    );
    let options = pulumi_resource_cpg::Options {
        env: env(&[(
            "CLOUDSDK_CONFIG",
            gcloud.path().to_str().unwrap_or_default(),
        )]),
        retry: fast_retry(),
        ..Default::default()
    };
    let mut client = provider(options, &MockEngine::default()).await;
    let err = client
        .configure(rpc::ConfigureRequest {
            args: Some(st(json!({"cloudIdentityEndpoint": ci.url}))),
            ..Default::default()
        })
        .await
        .expect_err("unusable credentials file");
    let expected = format!(
        "Google credentials from {path} (gcloud's application default credentials): \
         reading the credentials file failed: authorized_user credentials need the key client_secret"
    );
    assert!(err.message().contains(&expected), "{}", err.message());
}
