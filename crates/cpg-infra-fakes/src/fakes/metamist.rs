//! A fake metamist: `api/v1/project/all`, `PUT api/v1/project/`,
//! `PATCH api/v1/project/{project}/members`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{Recorder, Shared, admit, error, lock, start_with};

#[derive(Debug, Default)]
struct Projects {
    token: String,
    projects: BTreeMap<String, i64>,
    /// project → member → roles.
    members: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    next_id: i64,
}

impl super::Bearer for Projects {
    fn token(&self) -> &str {
        &self.token
    }
}

/// The fake metamist.
#[derive(Debug, Clone)]
pub struct FakeMetamist {
    /// Its root URL, ending in `/` (the provider's `metamistEndpoint`).
    pub url: String,
    state: Shared<Projects>,
}

type St = State<Shared<Projects>>;

impl FakeMetamist {
    /// Starts the fake, accepting `token` as bearer token.
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let state: Shared<Projects> = Arc::new((
            Recorder::default(),
            Mutex::new(Projects {
                token: token.into(),
                next_id: 100,
                ..Projects::default()
            }),
        ));
        let router = Router::new()
            .route("/api/v1/project/all", get(all))
            .route("/api/v1/project/", put(create))
            .route("/api/v1/project/{project}/members", patch(set_members))
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

    /// Accepts `token` as bearer token from now on.
    pub fn accept_token(&self, token: &str) {
        lock(&self.state.1).token = token.into();
    }

    /// Creates a project behind the provider's back; returns its id.
    pub fn add_project(&self, name: &str) -> i64 {
        let mut s = lock(&self.state.1);
        s.next_id += 1;
        let id = s.next_id;
        s.projects.insert(name.into(), id);
        id
    }

    /// Creates a project with a given id, as an existing state records it.
    pub fn add_project_with_id(&self, name: &str, id: i64) {
        lock(&self.state.1).projects.insert(name.into(), id);
    }

    /// The projects and their ids.
    pub fn projects(&self) -> BTreeMap<String, i64> {
        lock(&self.state.1).projects.clone()
    }

    /// A project's members and their roles.
    pub fn members(&self, project: &str) -> BTreeMap<String, Vec<String>> {
        lock(&self.state.1)
            .members
            .get(project)
            .cloned()
            .unwrap_or_default()
    }
}

async fn all(State(state): St, headers: HeaderMap, uri: Uri) -> Response {
    let (_, s) = match admit(&state, &Method::GET, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let list: Vec<Value> = s
        .projects
        .iter()
        .map(|(name, id)| json!({"id": id, "name": name, "dataset": name, "meta": {}, "roles": []}))
        .collect();
    Json(Value::Array(list)).into_response()
}

async fn create(
    State(state): St,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (_, mut s) = match admit(&state, &Method::PUT, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let (Some(name), Some(dataset)) = (q.get("name"), q.get("dataset")) else {
        return error(422, "name and dataset are required");
    };
    if name != dataset || s.projects.contains_key(name) {
        return error(400, "project exists or dataset differs");
    }
    s.next_id += 1;
    let id = s.next_id;
    s.projects.insert(name.clone(), id);
    Json(json!(id)).into_response()
}

async fn set_members(
    State(state): St,
    Path(project): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Json(body): Json<Value>,
) -> Response {
    let (_, mut s) = match admit(&state, &Method::PATCH, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    if !s.projects.contains_key(&project) {
        return error(404, "project not found");
    }
    let mut members = BTreeMap::new();
    for m in body.as_array().into_iter().flatten() {
        let member = m["member"].as_str();
        let roles: Option<Vec<String>> = m["roles"].as_array().map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        });
        match (member, roles) {
            (Some(member), Some(roles))
                if roles
                    .iter()
                    .all(|r| ["reader", "writer", "contributor"].contains(&r.as_str())) =>
            {
                members.insert(member.to_string(), roles);
            }
            _ => return error(400, &format!("bad member update {m}")),
        }
    }
    s.members.insert(project, members);
    Json(json!({"success": true})).into_response()
}
