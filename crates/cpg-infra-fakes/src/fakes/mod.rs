//! Fake Cloud Identity, Groups Settings, Hail Batch, metamist and Google token services
//! (OAuth and metadata, Security Token Service, IAM Credentials, a subject-token URL),
//! each a small HTTP server on 127.0.0.1 holding its state in memory, with fault
//! injection: error statuses for the next matching requests (409 races, 5xx bursts, 429),
//! slow answers, and changes made behind the provider's back. Every request is recorded
//! so tests can count them.

mod cloud_identity;
mod groups_settings;
mod hail;
mod iam_credentials;
mod metamist;
mod sts;
mod subject_token;
mod token;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

pub use cloud_identity::FakeCloudIdentity;
pub use groups_settings::FakeGroupsSettings;
pub use hail::FakeHail;
pub use iam_credentials::FakeIamCredentials;
pub use metamist::FakeMetamist;
pub use sts::FakeSts;
pub use subject_token::FakeSubjectTokenUrl;
pub use token::FakeTokenService;

/// One fake of each service, and the provider configuration and options that point a
/// provider at them: what a test of the whole deployment path needs.
#[derive(Debug, Clone)]
pub struct Fakes {
    /// Cloud Identity.
    pub cloud_identity: FakeCloudIdentity,
    /// Groups Settings.
    pub groups_settings: FakeGroupsSettings,
    /// Hail Batch (its URL is what the plan's `batch_uri` inputs must name).
    pub hail: FakeHail,
    /// metamist.
    pub metamist: FakeMetamist,
    google_token: String,
    hail_token: String,
}

impl Fakes {
    /// Starts the four fakes; Google APIs and metamist accept `google_token`, Hail
    /// accepts `hail_token` (for every token category).
    pub async fn start(google_token: &str, hail_token: &str) -> std::io::Result<Self> {
        Ok(Self {
            cloud_identity: FakeCloudIdentity::start(google_token).await?,
            groups_settings: FakeGroupsSettings::start(google_token).await?,
            hail: FakeHail::start(hail_token).await?,
            metamist: FakeMetamist::start(google_token).await?,
            google_token: google_token.into(),
            hail_token: hail_token.into(),
        })
    }

    /// The provider configuration (`Configure`'s `args`, or `cpg:` stack config) that
    /// points at the fakes.
    pub fn provider_config(&self) -> serde_json::Value {
        serde_json::json!({
            "cloudIdentityEndpoint": self.cloud_identity.url,
            "groupsSettingsEndpoint": self.groups_settings.url,
            "metamistEndpoint": self.metamist.url,
            "accessToken": self.google_token,
        })
    }

    /// Provider options whose environment holds the Hail token for `categories`.
    pub fn options(&self, categories: &[&str]) -> pulumi_resource_cpg::Options {
        let vars = categories
            .iter()
            .map(|c| {
                (
                    format!("HAIL_TOKEN_{}", c.to_uppercase()),
                    self.hail_token.clone(),
                )
            })
            .collect();
        pulumi_resource_cpg::Options {
            env: pulumi_resource_cpg::Env::fixed(vars),
            ..pulumi_resource_cpg::Options::default()
        }
    }
}

/// A fault for the next request that matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a short JSON error, without doing anything.
    Status(u16),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Cloud Identity only: another writer adds the membership just before this create,
    /// which then answers 409.
    ConcurrentCreate,
    /// Answer with this status and this body (sent as JSON, whatever it holds), without
    /// doing anything: a malformed or surprising answer.
    Answer(u16, String),
}

#[derive(Debug)]
struct Rule {
    method: Method,
    path_contains: String,
    faults: VecDeque<Fault>,
}

/// What a fake was asked, and the faults it still has to inject.
#[derive(Debug, Default)]
pub struct Recorder {
    requests: Mutex<Vec<String>>,
    quota_projects: Mutex<Vec<Option<String>>>,
    rules: Mutex<Vec<Rule>>,
    lost: Mutex<Vec<Rule>>,
}

impl Recorder {
    /// Queues `faults` for the next requests with `method` whose path contains
    /// `path_contains`, one fault per request, in order.
    pub fn inject(
        &self,
        method: &str,
        path_contains: &str,
        faults: impl IntoIterator<Item = Fault>,
    ) {
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        lock(&self.rules).push(Rule {
            method,
            path_contains: path_contains.into(),
            faults: faults.into_iter().collect(),
        });
    }

    /// The next requests with `method` whose path contains `path_contains` are carried
    /// out, but their answers are lost: the client gets these statuses instead (a
    /// gateway error after the work was done).
    pub fn lose_answers(
        &self,
        method: &str,
        path_contains: &str,
        statuses: impl IntoIterator<Item = u16>,
    ) {
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        lock(&self.lost).push(Rule {
            method,
            path_contains: path_contains.into(),
            faults: statuses.into_iter().map(Fault::Status).collect(),
        });
    }

    fn lost_answer(&self, method: &Method, path_and_query: &str) -> Option<u16> {
        lock(&self.lost)
            .iter_mut()
            .filter(|r| r.method == method && path_and_query.contains(&r.path_contains))
            .find_map(|r| r.faults.pop_front())
            .and_then(|f| match f {
                Fault::Status(s) => Some(s),
                _ => None,
            })
    }

    /// Every request so far, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.requests).clone()
    }

    /// The `x-goog-user-project` header of every request so far, in order (`None` where
    /// a request had none).
    pub fn quota_projects(&self) -> Vec<Option<String>> {
        lock(&self.quota_projects).clone()
    }

    /// How many requests so far had `method` and a path (with query) containing `part`.
    pub fn count(&self, method: &str, part: &str) -> usize {
        let prefix = format!("{method} ");
        lock(&self.requests)
            .iter()
            .filter(|r| r.starts_with(&prefix) && r.contains(part))
            .count()
    }

    /// Records the request and takes its fault, if any.
    fn arrive(&self, method: &Method, path_and_query: &str) -> Option<Fault> {
        lock(&self.requests).push(format!("{method} {path_and_query}"));
        let mut rules = lock(&self.rules);
        rules
            .iter_mut()
            .filter(|r| r.method == method && path_and_query.contains(&r.path_contains))
            .find_map(|r| r.faults.pop_front())
    }

    /// Records the request and applies its fault: `Some(answer)` when the fault answers
    /// instead of the service; `ConcurrentCreate` is handed back to the caller.
    async fn before(
        &self,
        method: &Method,
        path_and_query: &str,
    ) -> Result<Option<Fault>, Response> {
        match self.arrive(method, path_and_query) {
            None => Ok(None),
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                Ok(None)
            }
            Some(Fault::Status(s)) => Err(error(s, "injected fault")),
            Some(Fault::Answer(s, body)) => {
                let code = StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Err((
                    code,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response())
            }
            Some(f @ Fault::ConcurrentCreate) => Ok(Some(f)),
        }
    }
}

/// A service's state that accepts one bearer token.
trait Bearer {
    /// The token requests must carry.
    fn token(&self) -> &str;

    /// Notes what the service counts about a request, before its token is checked.
    fn arrived(&mut self, _headers: &HeaderMap) {}
}

/// A request's path and query, as faults match them.
fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Lets a request in: records it and applies its fault (a fault that answers is the
/// `Err`), then locks the state, notes the request and checks its bearer token (401
/// otherwise). `Ok` holds the fault handed back (`ConcurrentCreate`) and the state.
async fn admit<'a, T: Bearer>(
    state: &'a Shared<T>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Option<Fault>, std::sync::MutexGuard<'a, T>), Response> {
    let fault = state.0.before(method, &path_and_query(uri)).await?;
    let mut s = lock(&state.1);
    s.arrived(headers);
    if !authorised(headers, s.token()) {
        return Err(error(401, "bad token"));
    }
    Ok((fault, s))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A JSON error answer in Google's shape.
fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        axum::Json(serde_json::json!({"error": {"code": status, "message": message}})),
    )
        .into_response()
}

/// Whether the request carries `Authorization: Bearer <token>`.
fn authorised(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {token}"))
}

/// Middleware that records the request's quota project and replaces the answer of a
/// request whose answer is to be lost.
async fn lose_answer<S: Send + 'static>(
    axum::extract::State(state): axum::extract::State<Shared<S>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let pq = request
        .uri()
        .path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default();
    let lost = state.0.lost_answer(&method, &pq);
    let quota_project = request
        .headers()
        .get("x-goog-user-project")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    lock(&state.0.quota_projects).push(quota_project);
    let answer = next.run(request).await;
    match lost {
        Some(status) => error(status, "injected fault: the answer was lost"),
        None => answer,
    }
}

/// Serves `router` on 127.0.0.1 (answers of `state`'s requests can be lost); the server
/// stops when the test's runtime does.
async fn start_with<S: Send + 'static>(
    router: axum::Router,
    state: &Shared<S>,
) -> std::io::Result<SocketAddr> {
    let router = router.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        lose_answer::<S>,
    ));
    start(router).await
}

/// Serves `router` on 127.0.0.1; the server stops when the test's runtime does.
async fn start(router: axum::Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    // Small answers go out at once (no Nagle delay against delayed ACKs).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(address)
}

/// A shared, recorded fake's state.
type Shared<S> = Arc<(Recorder, Mutex<S>)>;
