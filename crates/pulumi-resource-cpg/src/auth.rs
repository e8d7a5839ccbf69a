//! Credentials: Google application default credentials and Hail Batch tokens.
//!
//! Google: a static bearer token from the provider configuration; otherwise the file that
//! `GOOGLE_APPLICATION_CREDENTIALS` names, or gcloud's
//! `~/.config/gcloud/application_default_credentials.json` (a service-account key, whose
//! signed JWT is exchanged at the key's `token_uri`, or an authorized user's refresh
//! token); otherwise the metadata server (`GCE_METADATA_HOST`, default
//! `metadata.google.internal`). Tokens are kept until a minute before they expire.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::Error;
use crate::env::Env;
use crate::http::{Http, Request, encode};

/// Scope of the Cloud Identity groups API.
pub const CLOUD_IDENTITY_SCOPE: &str = "https://www.googleapis.com/auth/cloud-identity.groups";
/// Scope of the Groups Settings API.
pub const GROUPS_SETTINGS_SCOPE: &str = "https://www.googleapis.com/auth/apps.groups.settings";

const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// What a token is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Want {
    /// An OAuth access token with this scope.
    Access(&'static str),
    /// An OpenID identity token for this audience (metamist checks these).
    Identity(String),
}

/// Where Google tokens come from.
enum Source {
    Static(String),
    ServiceAccount {
        email: String,
        key_id: Option<String>,
        key: Arc<ring::signature::RsaKeyPair>,
        token_uri: String,
    },
    AuthorizedUser {
        client_id: String,
        client_secret: String,
        refresh_token: String,
        token_uri: String,
    },
    Metadata {
        root: String,
    },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Static(_) => f.write_str("Static(<redacted>)"),
            Self::ServiceAccount {
                email, token_uri, ..
            } => write!(f, "ServiceAccount({email} via {token_uri})"),
            Self::AuthorizedUser { token_uri, .. } => write!(f, "AuthorizedUser(via {token_uri})"),
            Self::Metadata { root } => write!(f, "Metadata({root})"),
        }
    }
}

/// Google credentials, with the tokens they gave kept until shortly before expiry.
pub struct GoogleAuth {
    source: Source,
    tokens: Mutex<BTreeMap<Want, (String, Instant)>>,
}

/// The source only: the tokens are secrets.
impl std::fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleAuth")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

impl GoogleAuth {
    /// Credentials from a static token, or else found as application default credentials
    /// in `env`.
    pub fn discover(static_token: Option<&str>, env: &Env) -> Result<Self, Error> {
        let source = match static_token {
            Some(t) => Source::Static(t.into()),
            None => {
                let named = env.var("GOOGLE_APPLICATION_CREDENTIALS").map(PathBuf::from);
                let gcloud = env
                    .var("CLOUDSDK_CONFIG")
                    .map(PathBuf::from)
                    .or_else(|| env.home().map(|h| h.join(".config").join("gcloud")))
                    .map(|d| d.join("application_default_credentials.json"))
                    .filter(|p| p.is_file());
                match named.or(gcloud) {
                    Some(path) => from_file(&path)?,
                    None => Source::Metadata {
                        root: format!(
                            "http://{}/computeMetadata/v1/instance/service-accounts/default/",
                            env.var("GCE_METADATA_HOST")
                                .unwrap_or_else(|| "metadata.google.internal".into())
                        ),
                    },
                }
            }
        };
        Ok(Self {
            source,
            tokens: Mutex::new(BTreeMap::new()),
        })
    }

    /// A token for `want`, fetched or refreshed when needed.
    pub async fn token(&self, http: &Http, want: &Want) -> Result<String, Error> {
        if let Source::Static(t) = &self.source {
            return Ok(t.clone());
        }
        let mut tokens = self.tokens.lock().await;
        if let Some((t, until)) = tokens.get(want)
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let (token, lifetime) = self.fetch(http, want).await?;
        let until = Instant::now() + lifetime.saturating_sub(Duration::from_secs(60));
        tokens.insert(want.clone(), (token.clone(), until));
        Ok(token)
    }

    async fn fetch(&self, http: &Http, want: &Want) -> Result<(String, Duration), Error> {
        let answer = match &self.source {
            Source::Static(t) => return Ok((t.clone(), Duration::from_secs(3600))),
            Source::ServiceAccount {
                email,
                key_id,
                key,
                token_uri,
            } => {
                let now = unix_now();
                let mut claims =
                    json!({"iss": email, "aud": token_uri, "iat": now, "exp": now + 3600});
                match want {
                    Want::Access(scope) => claims["scope"] = json!(scope),
                    Want::Identity(aud) => claims["target_audience"] = json!(aud),
                }
                let assertion = sign_jwt(key, key_id.as_deref(), &claims)?;
                let req = Request::new(reqwest::Method::POST, token_uri.clone())
                    .form(&[("grant_type", JWT_BEARER), ("assertion", &assertion)]);
                http.send(&req, "").await?.json()?
            }
            Source::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
                token_uri,
            } => {
                let req = Request::new(reqwest::Method::POST, token_uri.clone()).form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                    ("refresh_token", refresh_token),
                ]);
                http.send(&req, "").await?.json()?
            }
            Source::Metadata { root } => {
                let url = match want {
                    Want::Access(scope) => format!("{root}token?scopes={}", encode(scope)),
                    Want::Identity(aud) => {
                        format!("{root}identity?audience={}&format=full", encode(aud))
                    }
                };
                let req =
                    Request::new(reqwest::Method::GET, url).header("metadata-flavor", "Google");
                let resp = http.send(&req, "").await?.success()?;
                match want {
                    // The identity endpoint answers with the bare token.
                    Want::Identity(_) => json!({"id_token": resp.text.trim(), "expires_in": 3600}),
                    Want::Access(_) => resp.json()?,
                }
            }
        };
        let field = match want {
            Want::Access(_) => "access_token",
            Want::Identity(_) => "id_token",
        };
        let token = answer[field]
            .as_str()
            .ok_or_else(|| Error::NoCredentials(format!("the token endpoint gave no {field}")))?;
        let lifetime = answer["expires_in"].as_u64().unwrap_or(3600);
        Ok((token.into(), Duration::from_secs(lifetime)))
    }
}

fn from_file(path: &Path) -> Result<Source, Error> {
    let bad = |what: String| Error::CredentialsFile {
        path: path.into(),
        what,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let file: CredentialsFile =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a credentials file: {e}")))?;
    let need = |v: Option<String>, key: &str| v.ok_or_else(|| bad(format!("no {key:?}")));
    match file.kind.as_str() {
        "service_account" => {
            let pem = need(file.private_key, "private_key")?;
            let key = rsa_key(&pem).map_err(bad)?;
            Ok(Source::ServiceAccount {
                email: need(file.client_email, "client_email")?,
                key_id: file.private_key_id,
                key: Arc::new(key),
                token_uri: file.token_uri.unwrap_or_else(|| DEFAULT_TOKEN_URI.into()),
            })
        }
        "authorized_user" => Ok(Source::AuthorizedUser {
            client_id: need(file.client_id, "client_id")?,
            client_secret: need(file.client_secret, "client_secret")?,
            refresh_token: need(file.refresh_token, "refresh_token")?,
            token_uri: file.token_uri.unwrap_or_else(|| DEFAULT_TOKEN_URI.into()),
        }),
        other => Err(bad(format!(
            "credentials of type {other:?} are not supported (service_account, authorized_user)"
        ))),
    }
}

/// An RSA key from a PKCS#8 PEM block.
fn rsa_key(pem: &str) -> Result<ring::signature::RsaKeyPair, String> {
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
) -> Result<String, Error> {
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
    .map_err(|_| Error::NoCredentials("signing the token request failed".into()))?;
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The Hail Batch token of a token category: `HAIL_TOKEN_<CATEGORY>` or the category's key
/// in `~/.hail/tokens.json`, as in the reference.
pub fn hail_token(env: &Env, category: &str) -> Result<String, Error> {
    let env_var = format!("HAIL_TOKEN_{}", category.to_uppercase());
    if let Some(t) = env.var(&env_var) {
        return Ok(t);
    }
    let tokens_file = env
        .home()
        .unwrap_or_default()
        .join(".hail")
        .join("tokens.json");
    if let Ok(text) = std::fs::read_to_string(&tokens_file) {
        let tokens: Value = serde_json::from_str(&text).map_err(|e| Error::CredentialsFile {
            path: tokens_file.clone(),
            what: format!("not JSON: {e}"),
        })?;
        if let Some(t) = tokens[category].as_str().filter(|t| !t.is_empty()) {
            return Ok(t.into());
        }
    }
    Err(Error::NoHailToken {
        category: category.into(),
        env_var,
        tokens_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::fixed(
            vars.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        )
    }

    #[test]
    fn hail_token_prefers_the_environment() {
        let e = env(&[("HAIL_TOKEN_GCP", "from-env"), ("HOME", "/nonexistent")]);
        assert_eq!(hail_token(&e, "gcp").ok().as_deref(), Some("from-env"));
    }

    #[test]
    fn hail_token_reads_the_tokens_file() {
        let home = std::env::temp_dir().join(format!("cpg-hail-home-{}", std::process::id()));
        let _ = std::fs::create_dir_all(home.join(".hail"));
        let _ = std::fs::write(home.join(".hail/tokens.json"), r#"{"azure": "from-file"}"#);
        let e = env(&[("HOME", home.to_str().unwrap_or_default())]);
        assert_eq!(hail_token(&e, "azure").ok().as_deref(), Some("from-file"));
        let missing = hail_token(&e, "gcp").err().map(|e| e.to_string());
        assert!(
            missing
                .as_deref()
                .is_some_and(|m| m.contains("HAIL_TOKEN_GCP") && m.contains(".hail/tokens.json")),
            "{missing:?}"
        );
        let _ = std::fs::remove_dir_all(home);
    }

    #[test]
    fn without_a_file_the_metadata_server_is_used() {
        let e = env(&[
            ("HOME", "/nonexistent"),
            ("GCE_METADATA_HOST", "127.0.0.1:1"),
        ]);
        let auth = GoogleAuth::discover(None, &e).map(|a| format!("{:?}", a.source));
        assert_eq!(
            auth.ok().as_deref(),
            Some(
                "Metadata(http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/)"
            )
        );
    }

    #[test]
    fn a_bad_credentials_file_is_named() {
        let path = std::env::temp_dir().join(format!("cpg-bad-adc-{}.json", std::process::id()));
        let _ = std::fs::write(&path, r#"{"type": "external_account"}"#);
        let e = env(&[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            path.to_str().unwrap_or_default(),
        )]);
        let err = GoogleAuth::discover(None, &e).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|m| m.contains("external_account") && m.contains("cpg-bad-adc")),
            "{err:?}"
        );
        let _ = std::fs::remove_file(path);
    }
}
