//! A fake Cloud Identity groups API: `v1/groups/{group}/memberships`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{Fault, Recorder, Shared, admit, error, lock, start_with};

#[derive(Debug, Default)]
struct Groups {
    token: String,
    /// group id → membership id → member email (as added).
    groups: BTreeMap<String, BTreeMap<String, String>>,
    next_id: u64,
}

impl super::Bearer for Groups {
    fn token(&self) -> &str {
        &self.token
    }
}

impl Groups {
    fn add(&mut self, group: &str, email: &str) -> String {
        self.next_id += 1;
        let id = format!("m{:06}", self.next_id);
        self.groups
            .entry(group.into())
            .or_default()
            .insert(id.clone(), email.into());
        format!("groups/{group}/memberships/{id}")
    }
}

/// The fake Cloud Identity service.
#[derive(Debug, Clone)]
pub struct FakeCloudIdentity {
    /// Its root URL, ending in `/` (the provider's `cloudIdentityEndpoint`).
    pub url: String,
    state: Shared<Groups>,
}

type St = State<Shared<Groups>>;

impl FakeCloudIdentity {
    /// Starts the fake, accepting `token` as bearer token.
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let state: Shared<Groups> = Arc::new((
            Recorder::default(),
            Mutex::new(Groups {
                token: token.into(),
                ..Groups::default()
            }),
        ));
        let router = Router::new()
            .route("/v1/groups/{group}/memberships", get(list).post(create))
            .route(
                "/v1/groups/{group}/memberships/{membership}",
                delete(remove),
            )
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

    /// Creates an empty group `groups/<id>`.
    pub fn add_group(&self, id: &str) {
        lock(&self.state.1).groups.entry(id.into()).or_default();
    }

    /// Adds a member behind the provider's back; returns the membership's name.
    pub fn add_member(&self, group_id: &str, email: &str) -> String {
        lock(&self.state.1).add(group_id, email)
    }

    /// Adds a member under a given membership name (`groups/<g>/memberships/<m>`), as
    /// an existing state records it.
    pub fn add_named_member(&self, name: &str, email: &str) -> bool {
        let parts: Vec<&str> = name.split('/').collect();
        let ["groups", group, "memberships", id] = parts.as_slice() else {
            return false;
        };
        lock(&self.state.1)
            .groups
            .entry((*group).into())
            .or_default()
            .insert((*id).into(), email.into());
        true
    }

    /// Removes a member behind the provider's back; whether it was there.
    pub fn remove_member(&self, group_id: &str, email: &str) -> bool {
        let mut s = lock(&self.state.1);
        let Some(members) = s.groups.get_mut(group_id) else {
            return false;
        };
        let before = members.len();
        members.retain(|_, e| !e.eq_ignore_ascii_case(email));
        before != members.len()
    }

    /// The group's members' emails, sorted.
    pub fn members(&self, group_id: &str) -> Vec<String> {
        let s = lock(&self.state.1);
        let mut m: Vec<String> = s
            .groups
            .get(group_id)
            .map(|g| g.values().cloned().collect())
            .unwrap_or_default();
        m.sort();
        m
    }

    /// How many times the group's memberships were listed (pages counted once per
    /// listing: only first pages are counted).
    pub fn listings(&self, group_id: &str) -> usize {
        let path = format!("/v1/groups/{group_id}/memberships?");
        self.recorder()
            .requests()
            .iter()
            .filter(|r| r.starts_with("GET ") && r.contains(&path) && !r.contains("pageToken"))
            .count()
    }
}

async fn list(
    State(state): St,
    Path(group): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (_, s) = match admit(&state, &Method::GET, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let Some(members) = s.groups.get(&group) else {
        return error(404, "group not found");
    };
    let size: usize = q
        .get("pageSize")
        .and_then(|p| p.parse().ok())
        .unwrap_or(200);
    let start: usize = q.get("pageToken").and_then(|p| p.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = members
        .iter()
        .skip(start)
        .take(size)
        .map(|(id, email)| {
            json!({
                "name": format!("groups/{group}/memberships/{id}"),
                "preferredMemberKey": {"id": email},
                "roles": [{"name": "MEMBER"}],
            })
        })
        .collect();
    let mut answer = json!({});
    if !page.is_empty() {
        answer["memberships"] = Value::Array(page);
    }
    if start + size < members.len() {
        answer["nextPageToken"] = json!((start + size).to_string());
    }
    Json(answer).into_response()
}

async fn create(
    State(state): St,
    Path(group): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Json(body): Json<Value>,
) -> Response {
    let (fault, mut s) = match admit(&state, &Method::POST, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let Some(email) = body["preferredMemberKey"]["id"].as_str().map(String::from) else {
        return error(400, "preferredMemberKey.id is required");
    };
    if !s.groups.contains_key(&group) {
        return error(404, "group not found");
    }
    if fault == Some(Fault::ConcurrentCreate) {
        s.add(&group, &email);
        return error(
            409,
            "Error(4003): Cannot create membership because it already exists.",
        );
    }
    let exists = s.groups[&group]
        .values()
        .any(|e| e.eq_ignore_ascii_case(&email));
    if exists {
        return error(
            409,
            "Error(4003): Cannot create membership because it already exists.",
        );
    }
    let name = s.add(&group, &email);
    Json(json!({
        "done": true,
        "response": {
            "@type": "type.googleapis.com/google.apps.cloudidentity.groups.v1.Membership",
            "name": name,
            "preferredMemberKey": {"id": email},
            "roles": [{"name": "MEMBER"}],
        },
    }))
    .into_response()
}

async fn remove(
    State(state): St,
    Path((group, membership)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (_, mut s) = match admit(&state, &Method::DELETE, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let removed = s.groups.get_mut(&group).and_then(|g| g.remove(&membership));
    match removed {
        Some(_) => Json(json!({"done": true, "response": {}})).into_response(),
        None => error(404, "membership not found"),
    }
}
