//! A fake subject-token URL: what an external account's `credential_source.url` names
//! (an identity provider's token endpoint, such as a CI system's OIDC token URL).

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::{Recorder, Shared, error, lock, start};

#[derive(Debug, Default)]
struct Subject {
    token: String,
    /// A header each request must carry.
    header: Option<(String, String)>,
    /// Answer `{"<field>": token}` instead of the bare token.
    json_field: Option<String>,
}

/// The fake subject-token URL.
#[derive(Debug, Clone)]
pub struct FakeSubjectTokenUrl {
    /// The URL that answers with the token.
    pub url: String,
    state: Shared<Subject>,
}

type St = State<Shared<Subject>>;

impl FakeSubjectTokenUrl {
    /// Starts the fake, answering with `token` as text.
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let state: Shared<Subject> = Arc::new((
            Recorder::default(),
            Mutex::new(Subject {
                token: token.into(),
                ..Subject::default()
            }),
        ));
        let router = Router::new()
            .route("/token", get(answer))
            .with_state(state.clone());
        let address = start(router).await?;
        Ok(Self {
            url: format!("http://{address}/token"),
            state,
        })
    }

    /// From now on, answers only requests that carry the header `name: value`.
    pub fn require_header(&self, name: &str, value: &str) {
        lock(&self.state.1).header = Some((name.to_ascii_lowercase(), value.into()));
    }

    /// From now on, answers with a JSON object whose `field` is the token.
    pub fn answer_json(&self, field: &str) {
        lock(&self.state.1).json_field = Some(field.into());
    }

    /// The requests and the fault queue.
    pub fn recorder(&self) -> &Recorder {
        &self.state.0
    }
}

async fn answer(State(state): St, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(r) = state.0.before(&Method::GET, uri.path()).await {
        return r;
    }
    let s = lock(&state.1);
    if let Some((name, value)) = &s.header {
        let sent = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
        if sent != Some(value.as_str()) {
            return error(401, "the required header is missing");
        }
    }
    match &s.json_field {
        Some(field) => Json(json!({ field.as_str(): s.token, "expires_in": 300 })).into_response(),
        None => s.token.clone().into_response(),
    }
}
