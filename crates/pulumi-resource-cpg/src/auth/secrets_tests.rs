//! No failure of any credential path shows a token, a key or a secret, in its message
//! (with its causes) or its `Debug`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{GoogleAuth, Want};
use crate::Error;
use crate::engine::Engine;
use crate::env::Env;
use crate::http::{Http, RetryPolicy};
use cpg_infra_fakes::{FakeIamCredentials, FakeSts, FakeSubjectTokenUrl, FakeTokenService};

const AUDIENCE: &str =
    "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q";
const SUBJECT_TOKEN: &str = "SECRET-subject-token";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-identity.groups";

/// Every string that must never be shown.
const SECRETS: [&str; 9] = [
    SUBJECT_TOKEN,
    "SECRET-client-secret",
    "SECRET-header-value",
    "SECRET-refresh-token",
    "SECRET-executable-token",
    "SECRET-file-token",
    "987654321",
    "fake-federated-1",
    "fake-access:user-1",
];

fn http() -> Http {
    let retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        request_timeout: Duration::from_secs(5),
    };
    let engine = Arc::new(Engine::new(None).expect("engine"));
    Http::new(retry, engine).expect("HTTP client")
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write");
    path.display().to_string()
}

/// The failure of asking the credentials file `config` for `want`.
async fn failure(dir: &Path, config: &Value, want: &Want, extra: &[(&str, &str)]) -> Error {
    let path = write(dir, "adc.json", config);
    let mut vars = vec![
        ("HOME", "/nonexistent"),
        ("GOOGLE_APPLICATION_CREDENTIALS", path.as_str()),
    ];
    vars.extend_from_slice(extra);
    let auth = GoogleAuth::discover(None, &Env::of(&vars));
    let outcome = match auth {
        Ok(auth) => auth.token(&http(), want).await.map(|_| ()),
        Err(e) => Err(e),
    };
    outcome.expect_err("no token")
}

fn external(sts: &FakeSts, source: Value) -> Value {
    json!({
        "type": "external_account",
        "audience": AUDIENCE,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": sts.token_url(),
        "client_id": "client",
        "client_secret": "SECRET-client-secret",
        "credential_source": source,
    })
}

#[tokio::test]
async fn no_failure_shows_a_secret() {
    // Removed when dropped, also when the test fails.
    let temp = tempfile::Builder::new()
        .prefix("cpg-secrets-")
        .tempdir()
        .expect("temporary directory");
    let dir = temp.path();
    let token_file = dir.join("token");
    std::fs::write(&token_file, SUBJECT_TOKEN).expect("write");
    let access = Want::Access(SCOPE);
    let mut failures = Vec::new();

    // STS refuses: the audience it knows is another.
    let sts = FakeSts::start("another audience", SUBJECT_TOKEN)
        .await
        .expect("fake");
    let config = external(&sts, json!({"file": token_file}));
    failures.push(failure(dir, &config, &access, &[]).await);

    // The subject-token URL refuses the header it was sent.
    let url = FakeSubjectTokenUrl::start(SUBJECT_TOKEN)
        .await
        .expect("fake");
    url.require_header("x-request-token", "another value");
    let config = external(
        &sts,
        json!({"url": url.url, "headers": {"x-request-token": "SECRET-header-value"}}),
    );
    failures.push(failure(dir, &config, &access, &[]).await);

    // IAM Credentials refuses the federated token.
    let sts = FakeSts::start(AUDIENCE, SUBJECT_TOKEN).await.expect("fake");
    let iam = FakeIamCredentials::start("another source token")
        .await
        .expect("fake");
    let mut config = external(&sts, json!({"file": token_file}));
    config["service_account_impersonation_url"] =
        json!(iam.generate_access_token_url("sa@p.iam.gserviceaccount.com"));
    failures.push(failure(dir, &config, &access, &[]).await);

    // A federated token cannot give an identity token.
    let config = external(&sts, json!({"file": token_file}));
    failures.push(failure(dir, &config, &Want::Identity("https://m".into()), &[]).await);

    // A JSON subject-token file without the named field.
    let json_file = write(dir, "token.json", &json!({"other": "SECRET-file-token"}));
    let config = external(
        &sts,
        json!({"file": json_file, "format": {"type": "json", "subject_token_field_name": "token"}}),
    );
    failures.push(failure(dir, &config, &access, &[]).await);

    // An executable that prints a token, then fails; one whose token type is unknown.
    let allow = [("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1")];
    let response = json!({"version": 1, "success": true, "id_token": "SECRET-executable-token",
        "token_type": "urn:ietf:params:oauth:token-type:jwt"});
    for (name, exit, token_type) in [("fails", 3, "jwt"), ("odd", 0, "odd")] {
        let mut response = response.clone();
        if token_type == "odd" {
            response["token_type"] = json!("urn:example:odd");
        }
        let script = dir.join(format!("{name}.sh"));
        std::fs::write(
            &script,
            format!("printf '%s' '{response}'\nprintf 'no luck\\n' >&2\nexit {exit}\n"),
        )
        .expect("write");
        let command = format!("/bin/sh {}", script.display());
        let config = external(&sts, json!({"executable": {"command": command}}));
        failures.push(failure(dir, &config, &access, &allow).await);
    }

    // An authorized user whose refresh token is refused.
    let tokens = FakeTokenService::start("-", b"-", "another refresh token")
        .await
        .expect("fake");
    let user = json!({
        "type": "authorized_user",
        "client_id": "id",
        "client_secret": "SECRET-client-secret",
        "refresh_token": "SECRET-refresh-token",
        "token_uri": format!("{}token", tokens.url),
    });
    failures.push(failure(dir, &user, &access, &[]).await);

    // An impersonated account whose source token is refused by IAM Credentials.
    let tokens = FakeTokenService::start("-", b"-", "SECRET-refresh-token")
        .await
        .expect("fake");
    let mut source = user.clone();
    source["token_uri"] = json!(format!("{}token", tokens.url));
    let impersonated = json!({
        "type": "impersonated_service_account",
        "service_account_impersonation_url": iam.generate_access_token_url("sa@p.iam.gserviceaccount.com"),
        "source_credentials": source,
    });
    failures.push(failure(dir, &impersonated, &access, &[]).await);

    // Fields of the wrong type.
    let wrong = json!({
        "type": "authorized_user",
        "client_id": "id",
        "client_secret": 987_654_321,
        "refresh_token": ["SECRET-refresh-token"],
    });
    failures.push(failure(dir, &wrong, &access, &[]).await);
    let not_json = "{\"type\": \"authorized_user\", \"refresh_token\": \"SECRET-refresh-token\"";
    let path = dir.join("broken.json");
    std::fs::write(&path, not_json).expect("write");
    let broken = GoogleAuth::discover(
        None,
        &Env::of(&[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            &path.display().to_string(),
        )]),
    );
    failures.extend(broken.err());

    assert_eq!(failures.len(), 11);
    for failure in failures {
        let debug = format!("{failure:?}");
        let message = tonic::Status::from(failure).message().to_string();
        assert!(message.starts_with("Google credentials from "), "{message}");
        for secret in SECRETS {
            assert!(
                !message.contains(secret) && !debug.contains(secret),
                "{secret} shown in:\n{message}\n{debug}"
            );
        }
    }
}
