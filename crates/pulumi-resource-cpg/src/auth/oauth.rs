//! Tokens from Google's OAuth endpoints: a service-account key's signed JWT, an
//! authorized user's refresh token, and the metadata server.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::Want;
use super::error::{At, CredentialStep as Step, Failure};
use crate::http::{Http, Request, encode};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A service-account key: a JWT signed with it is exchanged at `token_uri`.
pub(crate) struct ServiceAccount {
    pub(crate) email: String,
    pub(crate) key_id: Option<String>,
    pub(crate) key: Arc<ring::signature::RsaKeyPair>,
    pub(crate) token_uri: String,
}

/// An authorized user (gcloud's `application-default login`): a refresh token.
pub(crate) struct AuthorizedUser {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) refresh_token: String,
    pub(crate) token_uri: String,
}

/// The metadata server's default service account, under `root`
/// (`http://<host>/computeMetadata/v1/instance/service-accounts/default/`).
pub(crate) struct Metadata {
    pub(crate) root: String,
}

impl ServiceAccount {
    /// A token for `want`: a signed JWT exchanged at the token endpoint.
    pub(crate) async fn fetch(
        &self,
        http: &Http,
        want: &Want,
    ) -> Result<(String, Duration), Failure> {
        let now = unix_now();
        let mut claims =
            json!({"iss": self.email, "aud": self.token_uri, "iat": now, "exp": now + 3600});
        match want {
            Want::Access(scope) => claims["scope"] = json!(scope),
            Want::Identity(aud) => claims["target_audience"] = json!(aud),
        }
        let assertion = sign_jwt(&self.key, self.key_id.as_deref(), &claims)?;
        let form = [
            ("grant_type", JWT_BEARER),
            ("assertion", assertion.as_str()),
        ];
        token_endpoint(http, &self.token_uri, &form, want).await
    }
}

impl AuthorizedUser {
    /// A token for `want`, from the refresh token.
    pub(crate) async fn fetch(
        &self,
        http: &Http,
        want: &Want,
    ) -> Result<(String, Duration), Failure> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("refresh_token", self.refresh_token.as_str()),
        ];
        token_endpoint(http, &self.token_uri, &form, want).await
    }
}

/// The token for `want` that the OAuth endpoint `token_uri` gives for `form`.
async fn token_endpoint(
    http: &Http,
    token_uri: &str,
    form: &[(&str, &str)],
    want: &Want,
) -> Result<(String, Duration), Failure> {
    let step = Step::TokenEndpoint(token_uri.into());
    let req = Request::new(Method::POST, token_uri).form(form);
    let answer = http.send(&req, "").await.and_then(|r| r.json()).at(&step)?;
    token_answer(&answer, want, &step)
}

impl Metadata {
    /// A token for `want` from the metadata server.
    pub(crate) async fn fetch(
        &self,
        http: &Http,
        want: &Want,
    ) -> Result<(String, Duration), Failure> {
        let root = &self.root;
        let url = match want {
            Want::Access(scope) => format!("{root}token?scopes={}", encode(scope)),
            Want::Identity(aud) => format!("{root}identity?audience={}&format=full", encode(aud)),
        };
        let step = Step::Metadata(url.clone());
        let req = Request::new(Method::GET, url).header("metadata-flavor", "Google");
        let resp = http
            .send(&req, "")
            .await
            .and_then(|r| r.success())
            .at(&step)?;
        let answer = match want {
            // The identity endpoint answers with the bare token.
            Want::Identity(_) => json!({"id_token": resp.text.trim(), "expires_in": 3600}),
            Want::Access(_) => resp.json().at(&step)?,
        };
        token_answer(&answer, want, &step)
    }
}

/// The token an OAuth endpoint's answer holds for `want`, and its lifetime
/// (`expires_in`, a number or a numeric string; an hour when absent).
pub(crate) fn token_answer(
    answer: &Value,
    want: &Want,
    step: &Step,
) -> Result<(String, Duration), Failure> {
    let field = match want {
        Want::Access(_) => "access_token",
        Want::Identity(_) => "id_token",
    };
    let token = token_field(answer, field, step)?;
    Ok((token.into(), lifetime(&answer["expires_in"])))
}

/// The non-empty string `field` of a token answer.
pub(crate) fn token_field<'a>(
    answer: &'a Value,
    field: &str,
    step: &Step,
) -> Result<&'a str, Failure> {
    answer[field]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Failure::invalid(step.clone(), format!("the answer has no {field}")))
}

/// A lifetime in seconds, given as a number or a numeric string; an hour otherwise.
pub(crate) fn lifetime(seconds: &Value) -> Duration {
    let secs = seconds
        .as_u64()
        .or_else(|| seconds.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(3600);
    Duration::from_secs(secs)
}

/// An RSA key from a PKCS#8 PEM block.
pub(crate) fn rsa_key(pem: &str) -> Result<ring::signature::RsaKeyPair, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("private_key is not PEM: {e}"))?;
    ring::signature::RsaKeyPair::from_pkcs8(&der)
        .map_err(|e| format!("private_key is not a PKCS#8 RSA key: {e}"))
}

fn sign_jwt(
    key: &ring::signature::RsaKeyPair,
    key_id: Option<&str>,
    claims: &Value,
) -> Result<String, Failure> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = json!(kid);
    }
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| Failure::invalid(Step::SignJwt, "the key could not sign"))?;
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
