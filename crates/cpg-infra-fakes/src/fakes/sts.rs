//! A fake Security Token Service: the OAuth 2.0 token exchange (RFC 8693) that turns an
//! external account's subject token into a federated access token.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::json;

use super::token::decode_form;
use super::{Recorder, Shared, error, lock, start};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

#[derive(Debug, Default)]
struct Sts {
    audience: String,
    subject_token: String,
    /// The OAuth client the exchange must authenticate as (HTTP basic), if any.
    client: Option<(String, String)>,
    expires_in: u64,
    /// The token every exchange hands out, instead of numbered ones.
    fixed_token: Option<String>,
    issued: u64,
    /// Every exchange's form, the subject token left out.
    exchanges: Vec<BTreeMap<String, String>>,
}

/// The fake STS.
#[derive(Debug, Clone)]
pub struct FakeSts {
    /// Its root URL, ending in `/`; the token endpoint is [`FakeSts::token_url`].
    pub url: String,
    state: Shared<Sts>,
}

type St = State<Shared<Sts>>;

impl FakeSts {
    /// Starts the fake: it exchanges `subject_token` for an access token when the
    /// exchange names `audience`; its tokens live an hour.
    pub async fn start(audience: &str, subject_token: &str) -> std::io::Result<Self> {
        let state: Shared<Sts> = Arc::new((
            Recorder::default(),
            Mutex::new(Sts {
                audience: audience.into(),
                subject_token: subject_token.into(),
                expires_in: 3600,
                ..Sts::default()
            }),
        ));
        let router = Router::new()
            .route("/v1/token", post(exchange))
            .with_state(state.clone());
        let address = start(router).await?;
        Ok(Self {
            url: format!("http://{address}/"),
            state,
        })
    }

    /// The token endpoint (an external account's `token_url`).
    pub fn token_url(&self) -> String {
        format!("{}v1/token", self.url)
    }

    /// The requests and the fault queue.
    pub fn recorder(&self) -> &Recorder {
        &self.state.0
    }

    /// From now on, exchanges must authenticate as this OAuth client (HTTP basic).
    pub fn require_client(&self, id: &str, secret: &str) {
        lock(&self.state.1).client = Some((id.into(), secret.into()));
    }

    /// From now on, the tokens handed out live this many seconds.
    pub fn set_expires_in(&self, seconds: u64) {
        lock(&self.state.1).expires_in = seconds;
    }

    /// From now on, every exchange hands out `token` (instead of numbered tokens).
    pub fn hand_out(&self, token: &str) {
        lock(&self.state.1).fixed_token = Some(token.into());
    }

    /// The forms of the exchanges so far (without the subject token), in order.
    pub fn exchanges(&self) -> Vec<BTreeMap<String, String>> {
        lock(&self.state.1).exchanges.clone()
    }

    /// The access token the `n`th exchange (1-based) hands out.
    pub fn token_for(n: u64) -> String {
        format!("fake-federated-{n}")
    }
}

fn basic(id: &str, secret: &str) -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    format!("Basic {pair}")
}

async fn exchange(State(state): St, headers: HeaderMap, uri: Uri, body: String) -> Response {
    if let Err(r) = state.0.before(&Method::POST, uri.path()).await {
        return r;
    }
    let mut form = decode_form(&body);
    let mut s = lock(&state.1);
    if let Some((id, secret)) = &s.client {
        let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
        if sent != Some(basic(id, secret).as_str()) {
            return error(401, "invalid_client");
        }
    }
    let subject_token = form.remove("subject_token");
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("grant_type") != Some(TOKEN_EXCHANGE)
        || field("requested_token_type") != Some(ACCESS_TOKEN_TYPE)
        || field("subject_token_type").is_none()
    {
        return error(400, "invalid_request");
    }
    if field("audience") != Some(s.audience.as_str()) {
        return error(400, "invalid_target: unknown audience");
    }
    // A real STS does not echo the token it refuses; neither does this one.
    if subject_token.as_deref() != Some(s.subject_token.as_str()) {
        return error(400, "invalid_grant: the subject token was not accepted");
    }
    s.exchanges.push(form);
    s.issued += 1;
    let token = s
        .fixed_token
        .clone()
        .unwrap_or_else(|| FakeSts::token_for(s.issued));
    Json(json!({
        "access_token": token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": s.expires_in,
    }))
    .into_response()
}
