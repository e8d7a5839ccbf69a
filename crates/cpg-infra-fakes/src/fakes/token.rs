//! A fake Google token service: an OAuth token endpoint that checks service-account
//! JWTs (RS256) and refresh tokens, and the metadata server's token endpoints.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{Recorder, Shared, error, lock, start};

#[derive(Debug, Default)]
struct Tokens {
    /// The service account's public key (PKCS#1 RSAPublicKey DER) and email.
    public_key: Vec<u8>,
    email: String,
    refresh_token: String,
    issued: u64,
}

/// The fake token service.
#[derive(Debug, Clone)]
pub struct FakeTokenService {
    /// Its root URL, ending in `/`: the token endpoint is `<url>token`, the metadata
    /// server's host is `<url>` without scheme.
    pub url: String,
    state: Shared<Tokens>,
}

type St = State<Shared<Tokens>>;

impl FakeTokenService {
    /// Starts the fake. It accepts JWTs from `email` signed by the key whose public half
    /// is `public_key` (PKCS#1 DER), and the refresh token `refresh_token`.
    pub async fn start(
        email: &str,
        public_key: &[u8],
        refresh_token: &str,
    ) -> std::io::Result<Self> {
        let state: Shared<Tokens> = Arc::new((
            Recorder::default(),
            Mutex::new(Tokens {
                public_key: public_key.into(),
                email: email.into(),
                refresh_token: refresh_token.into(),
                issued: 0,
            }),
        ));
        let base = "/computeMetadata/v1/instance/service-accounts/default";
        let router = Router::new()
            .route("/token", post(exchange))
            .route(&format!("{base}/token"), get(metadata_token))
            .route(&format!("{base}/identity"), get(metadata_identity))
            .with_state(state.clone());
        let address = start(router).await?;
        Ok(Self {
            url: format!("http://{address}/"),
            state,
        })
    }

    /// The requests and the fault queue.
    pub fn recorder(&self) -> &Recorder {
        &self.state.0
    }

    /// The token the service hands out for a scope (or identity audience) on issue `n`
    /// (1-based).
    pub fn token_for(kind: &str, n: u64) -> String {
        format!("fake-{kind}-{n}")
    }
}

/// The pairs of an `application/x-www-form-urlencoded` body.
pub(super) fn decode_form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (unescape(k), unescape(v)))
        .collect()
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The claims of a JWT whose RS256 signature `public_key` verifies.
fn verified_claims(jwt: &str, public_key: &[u8]) -> Result<Value, String> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (signed, signature) = jwt.rsplit_once('.').ok_or("not a JWT")?;
    let (header, claims) = signed.split_once('.').ok_or("not a JWT")?;
    let header: Value = serde_json::from_slice(&b64.decode(header).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if header["alg"] != json!("RS256") {
        return Err("alg is not RS256".into());
    }
    let signature = b64.decode(signature).map_err(|e| e.to_string())?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    )
    .verify(signed.as_bytes(), &signature)
    .map_err(|_| "bad signature".to_string())?;
    serde_json::from_slice(&b64.decode(claims).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())
}

async fn exchange(State(state): St, uri: Uri, body: String) -> Response {
    if let Err(r) = state.0.before(&Method::POST, uri.path()).await {
        return r;
    }
    let form = decode_form(&body);
    let mut s = lock(&state.1);
    let kind = match form.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let claims = match verified_claims(
                form.get("assertion").map_or("", String::as_str),
                &s.public_key,
            ) {
                Ok(c) => c,
                Err(e) => return error(400, &format!("invalid_grant: {e}")),
            };
            if claims["iss"] != json!(s.email)
                || !claims["aud"]
                    .as_str()
                    .is_some_and(|a| a.ends_with("/token"))
            {
                return error(400, "invalid_grant: wrong iss or aud");
            }
            match (claims["scope"].as_str(), claims["target_audience"].as_str()) {
                (Some(scope), None) => format!("access:{scope}"),
                (None, Some(aud)) => format!("identity:{aud}"),
                _ => return error(400, "invalid_scope"),
            }
        }
        Some("refresh_token") if form.get("refresh_token") == Some(&s.refresh_token) => {
            "access:user".to_string()
        }
        _ => return error(400, "unsupported_grant_type"),
    };
    s.issued += 1;
    let token = FakeTokenService::token_for(&kind, s.issued);
    let answer = if kind.starts_with("identity:") {
        json!({"id_token": token, "expires_in": 3600})
    } else {
        json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})
    };
    Json(answer).into_response()
}

fn from_metadata(headers: &HeaderMap) -> bool {
    headers
        .get("metadata-flavor")
        .is_some_and(|v| v.as_bytes() == b"Google")
}

async fn metadata_token(
    State(state): St,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Err(r) = state.0.before(&Method::GET, uri.path()).await {
        return r;
    }
    if !from_metadata(&headers) {
        return error(403, "missing Metadata-Flavor: Google");
    }
    let mut s = lock(&state.1);
    s.issued += 1;
    let scope = q.get("scopes").cloned().unwrap_or_default();
    let token = FakeTokenService::token_for(&format!("metadata:{scope}"), s.issued);
    Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})).into_response()
}

async fn metadata_identity(
    State(state): St,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Err(r) = state.0.before(&Method::GET, uri.path()).await {
        return r;
    }
    if !from_metadata(&headers) {
        return error(403, "missing Metadata-Flavor: Google");
    }
    let mut s = lock(&state.1);
    s.issued += 1;
    let audience = q.get("audience").cloned().unwrap_or_default();
    FakeTokenService::token_for(&format!("metadata-identity:{audience}"), s.issued).into_response()
}
