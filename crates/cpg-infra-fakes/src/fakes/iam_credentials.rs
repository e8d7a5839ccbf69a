//! A fake IAM Credentials API: `generateAccessToken` and `generateIdToken` for service
//! accounts, paid for with a source credential's bearer token.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{Recorder, Shared, authorised, error, lock, start};

#[derive(Debug, Default)]
struct Iam {
    /// The source token it accepts.
    source_token: String,
    issued: u64,
    /// Every call: `<email>:<method>` and its JSON body.
    calls: Vec<(String, Value)>,
}

/// The fake IAM Credentials service.
#[derive(Debug, Clone)]
pub struct FakeIamCredentials {
    /// Its root URL, ending in `/`.
    pub url: String,
    state: Shared<Iam>,
}

type St = State<Shared<Iam>>;

/// When the access tokens it hands out expire: far enough ahead to be kept.
const EXPIRE_TIME: &str = "2099-01-01T00:00:00Z";

impl FakeIamCredentials {
    /// Starts the fake, accepting `source_token` as the caller's bearer token.
    pub async fn start(source_token: &str) -> std::io::Result<Self> {
        let state: Shared<Iam> = Arc::new((
            Recorder::default(),
            Mutex::new(Iam {
                source_token: source_token.into(),
                ..Iam::default()
            }),
        ));
        let router = Router::new()
            .route(
                "/v1/projects/{project}/serviceAccounts/{call}",
                post(generate),
            )
            .with_state(state.clone());
        let address = start(router).await?;
        Ok(Self {
            url: format!("http://{address}/"),
            state,
        })
    }

    /// The `generateAccessToken` URL of the service account `email` (a
    /// `service_account_impersonation_url`).
    pub fn generate_access_token_url(&self, email: &str) -> String {
        format!(
            "{}v1/projects/-/serviceAccounts/{email}:generateAccessToken",
            self.url
        )
    }

    /// The requests and the fault queue.
    pub fn recorder(&self) -> &Recorder {
        &self.state.0
    }

    /// The calls so far: `<email>:<method>` and the JSON body, in order.
    pub fn calls(&self) -> Vec<(String, Value)> {
        lock(&self.state.1).calls.clone()
    }

    /// The access token the `n`th call (1-based) hands out for `email`.
    pub fn token_for(email: &str, n: u64) -> String {
        format!("fake-impersonated-{email}-{n}")
    }

    /// The identity token the `n`th call (1-based) hands out for `email` and `audience`.
    pub fn id_token_for(email: &str, audience: &str, n: u64) -> String {
        format!("fake-identity-{email}-{audience}-{n}")
    }
}

async fn generate(
    State(state): St,
    Path((_project, call)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = state.0.before(&Method::POST, uri.path()).await {
        return r;
    }
    let mut s = lock(&state.1);
    if !authorised(&headers, &s.source_token) {
        return error(401, "the caller's token was not accepted");
    }
    let Some((email, method)) = call.split_once(':') else {
        return error(404, "no such method");
    };
    let (email, method) = (email.to_string(), method.to_string());
    s.calls.push((call.clone(), body.clone()));
    s.issued += 1;
    match method.as_str() {
        "generateAccessToken" if body["scope"].as_array().is_some_and(|s| !s.is_empty()) => {
            Json(json!({
                "accessToken": FakeIamCredentials::token_for(&email, s.issued),
                "expireTime": EXPIRE_TIME,
            }))
            .into_response()
        }
        "generateIdToken" if body["audience"].is_string() => {
            let audience = body["audience"].as_str().unwrap_or_default();
            Json(json!({
                "token": FakeIamCredentials::id_token_for(&email, audience, s.issued),
            }))
            .into_response()
        }
        "generateAccessToken" | "generateIdToken" => error(400, "scope or audience missing"),
        _ => error(404, "no such method"),
    }
}
