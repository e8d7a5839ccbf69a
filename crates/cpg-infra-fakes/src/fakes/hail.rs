//! A fake Hail Batch (auth and batch services in one): `api/v1alpha/users/…` and
//! `api/v1alpha/billing_projects/…`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{Recorder, Shared, admit, error, lock, start_with};

#[derive(Debug)]
struct User {
    /// Reads of the user still to answer before it has its cloud identity.
    pending_reads: u32,
    identity: String,
}

#[derive(Debug, Default)]
struct Project {
    closed: bool,
    users: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct Batch {
    token: String,
    users: BTreeMap<String, User>,
    projects: BTreeMap<String, Project>,
    identity_after_reads: u32,
    internal_headers: usize,
}

impl super::Bearer for Batch {
    fn token(&self) -> &str {
        &self.token
    }

    fn arrived(&mut self, headers: &HeaderMap) {
        if headers.contains_key("x-hail-internal-authorization") {
            self.internal_headers += 1;
        }
    }
}

/// The fake Hail Batch service.
#[derive(Debug, Clone)]
pub struct FakeHail {
    /// Its URL, without trailing `/` (the resources' `batch_uri`).
    pub url: String,
    state: Shared<Batch>,
}

type St = State<Shared<Batch>>;

impl FakeHail {
    /// Starts the fake, accepting `token` as bearer token.
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let state: Shared<Batch> = Arc::new((
            Recorder::default(),
            Mutex::new(Batch {
                token: token.into(),
                ..Batch::default()
            }),
        ));
        let router = Router::new()
            .route("/api/v1alpha/users/{user}", get(read_user))
            .route("/api/v1alpha/users/{user}/create", post(create_user))
            .route("/api/v1alpha/billing_projects/{project}", get(read_project))
            .route(
                "/api/v1alpha/billing_projects/{project}/{action}",
                post(project_action),
            )
            .route(
                "/api/v1alpha/billing_projects/{project}/users/{user}/{action}",
                post(user_action),
            )
            .with_state(state.clone());
        let address = start_with(router, &state).await?;
        Ok(Self {
            url: format!("http://{address}"),
            state,
        })
    }

    /// The requests and the fault queue.
    pub fn recorder(&self) -> &Recorder {
        &self.state.0
    }

    /// New users get their cloud identity only after this many reads of them.
    pub fn identity_after_reads(&self, reads: u32) {
        lock(&self.state.1).identity_after_reads = reads;
    }

    /// A user's cloud identity, once it has one.
    pub fn identity(&self, user: &str) -> Option<String> {
        lock(&self.state.1)
            .users
            .get(user)
            .filter(|u| u.pending_reads == 0)
            .map(|u| u.identity.clone())
    }

    /// The users, sorted.
    pub fn users(&self) -> Vec<String> {
        lock(&self.state.1).users.keys().cloned().collect()
    }

    /// Creates a billing project behind the provider's back, open or closed.
    pub fn add_project(&self, name: &str, closed: bool) {
        lock(&self.state.1).projects.insert(
            name.into(),
            Project {
                closed,
                users: BTreeSet::new(),
            },
        );
    }

    /// How many requests carried `X-Hail-Internal-Authorization`.
    pub fn internal_headers(&self) -> usize {
        lock(&self.state.1).internal_headers
    }

    /// Whether the project exists and is open, and its users.
    pub fn project(&self, name: &str) -> Option<(bool, Vec<String>)> {
        lock(&self.state.1)
            .projects
            .get(name)
            .map(|p| (!p.closed, p.users.iter().cloned().collect()))
    }
}

async fn read_user(
    State(state): St,
    Path(user): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (_, mut s) = match admit(&state, &Method::GET, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    match s.users.get_mut(&user) {
        None => error(404, "user not found"),
        Some(u) => {
            let identity = if u.pending_reads == 0 {
                json!(u.identity)
            } else {
                u.pending_reads -= 1;
                Value::Null
            };
            let answer = json!({"username": user, "hail_identity": identity, "state": "active"});
            Json(answer).into_response()
        }
    }
}

async fn create_user(
    State(state): St,
    Path(user): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Json(body): Json<Value>,
) -> Response {
    let (_, mut s) = match admit(&state, &Method::POST, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    if body["user"] != json!(user) || body["is_service_account"] != json!(true) {
        return error(400, "unexpected body");
    }
    if s.users.contains_key(&user) {
        return error(400, "user already exists");
    }
    let pending_reads = s.identity_after_reads;
    s.users.insert(
        user.clone(),
        User {
            pending_reads,
            identity: format!("{user}-sa@hail-fake.iam.gserviceaccount.com"),
        },
    );
    Json(json!({"id": s.users.len()})).into_response()
}

async fn read_project(
    State(state): St,
    Path(project): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (_, s) = match admit(&state, &Method::GET, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    match s.projects.get(&project) {
        // What Hail answers for a billing project it does not know.
        None => error(
            403,
            &format!("Unknown Hail Batch billing project {project}."),
        ),
        Some(p) => Json(json!({
            "billing_project": project,
            "users": p.users,
            "status": if p.closed { "closed" } else { "open" },
            "limit": null,
        }))
        .into_response(),
    }
}

async fn project_action(
    State(state): St,
    Path((project, action)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (_, mut s) = match admit(&state, &Method::POST, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let existing = s.projects.get_mut(&project);
    match (action.as_str(), existing) {
        ("create", None) => {
            s.projects.insert(project, Project::default());
        }
        ("create", Some(_)) => return error(403, "billing project already exists"),
        ("close", Some(p)) if !p.closed => p.closed = true,
        ("reopen", Some(p)) if p.closed => p.closed = false,
        ("close" | "reopen", Some(_)) => return error(403, "billing project is already so"),
        ("close" | "reopen", None) => {
            return error(
                403,
                &format!("Unknown Hail Batch billing project {project}."),
            );
        }
        _ => return error(404, "no such action"),
    }
    Json(json!({})).into_response()
}

async fn user_action(
    State(state): St,
    Path((project, user, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (_, mut s) = match admit(&state, &Method::POST, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let Some(p) = s.projects.get_mut(&project).filter(|p| !p.closed) else {
        return error(
            403,
            &format!("Unknown Hail Batch billing project {project}."),
        );
    };
    match action.as_str() {
        "add" => {
            p.users.insert(user);
        }
        "remove" if p.users.remove(&user) => {}
        "remove" => return error(404, "user is not a member"),
        _ => return error(404, "no such action"),
    }
    Json(json!({})).into_response()
}
