//! A fake Groups Settings API: `groups/v1/groups/{email}`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{Recorder, Shared, admit, error, lock, start_with};

#[derive(Debug, Default)]
struct Settings {
    token: String,
    groups: BTreeMap<String, Map<String, Value>>,
}

impl super::Bearer for Settings {
    fn token(&self) -> &str {
        &self.token
    }
}

/// The fake Groups Settings service.
#[derive(Debug, Clone)]
pub struct FakeGroupsSettings {
    /// Its root URL, ending in `/` (the provider's `groupsSettingsEndpoint`).
    pub url: String,
    state: Shared<Settings>,
}

type St = State<Shared<Settings>>;

impl FakeGroupsSettings {
    /// Starts the fake, accepting `token` as bearer token.
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let state: Shared<Settings> = Arc::new((
            Recorder::default(),
            Mutex::new(Settings {
                token: token.into(),
                ..Settings::default()
            }),
        ));
        let router = Router::new()
            .route("/groups/v1/groups/{email}", get(read).put(update))
            .with_state(state.clone());
        let address = start_with(router, &state).await?;
        Ok(Self {
            url: format!("http://{address}/"),
            state,
        })
    }

    /// The requests and the fault queue.
    pub fn recorder(&self) -> &Recorder {
        &self.state.0
    }

    /// Creates a group with Google's defaults for the settings the tests use.
    pub fn add_group(&self, email: &str) {
        let defaults = json!({
            "email": email,
            "kind": "groupsSettings#groups",
            "allowExternalMembers": "false",
            "whoCanJoin": "CAN_REQUEST_TO_JOIN",
            "whoCanViewMembership": "ALL_MEMBERS_CAN_VIEW",
        });
        lock(&self.state.1).groups.insert(
            email.into(),
            defaults.as_object().cloned().unwrap_or_default(),
        );
    }

    /// Changes a setting behind the provider's back.
    pub fn set(&self, email: &str, key: &str, value: &str) {
        if let Some(g) = lock(&self.state.1).groups.get_mut(email) {
            g.insert(key.into(), json!(value));
        }
    }

    /// A group's settings.
    pub fn settings(&self, email: &str) -> Option<Map<String, Value>> {
        lock(&self.state.1).groups.get(email).cloned()
    }
}

async fn read(
    State(state): St,
    Path(email): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (_, s) = match admit(&state, &Method::GET, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    match s.groups.get(&email) {
        Some(g) => Json(Value::Object(g.clone())).into_response(),
        None => error(404, "group not found"),
    }
}

async fn update(
    State(state): St,
    Path(email): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Json(body): Json<Value>,
) -> Response {
    let (_, mut s) = match admit(&state, &Method::PUT, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let Some(group) = s.groups.get_mut(&email) else {
        return error(404, "group not found");
    };
    let Some(changes) = body.as_object() else {
        return error(400, "expected a JSON object");
    };
    for (k, v) in changes {
        if !v.is_string() {
            return error(400, &format!("{k}: expected a string"));
        }
        group.insert(k.clone(), v.clone());
    }
    Json(Value::Object(group.clone())).into_response()
}
