//! What each resource kind does against its service.

mod google;
mod hail;
mod metamist;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::Error;
use crate::auth::{GoogleAuth, GoogleToken};
use crate::config::ProviderConfig;
use crate::engine::Engine;
use crate::env::Env;
use crate::http::{Http, RetryPolicy};
use cpg_infra_kinds::schema::Kind;

pub use google::MembershipCache;
pub use metamist::ProjectCache;

/// How long the provider waits for Hail Batch to give a new user its cloud identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HailUserWait {
    /// How many times Hail is asked.
    pub attempts: u32,
    /// The wait between two questions.
    pub interval: Duration,
}

impl Default for HailUserWait {
    /// The reference's: seven times, five seconds apart.
    fn default() -> Self {
        Self {
            attempts: 7,
            interval: Duration::from_secs(5),
        }
    }
}

/// A resource as the provider reports it: its id and outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The resource id.
    pub id: String,
    /// Its output properties.
    pub outputs: Map<String, Value>,
}

/// Everything the kinds need for one provider run: the configuration, credentials, the
/// HTTP client, and what is remembered between calls (one listing per Google group, one
/// list of metamist projects).
#[derive(Debug)]
pub struct Services {
    pub(crate) http: Http,
    pub(crate) config: ProviderConfig,
    pub(crate) google: GoogleAuth,
    pub(crate) env: Env,
    pub(crate) memberships: MembershipCache,
    pub(crate) projects: ProjectCache,
    pub(crate) hail_user_wait: HailUserWait,
}

impl Services {
    /// Services for `config`.
    pub fn new(
        config: ProviderConfig,
        env: Env,
        retry: RetryPolicy,
        hail_user_wait: HailUserWait,
        engine: Arc<Engine>,
    ) -> Result<Self, Error> {
        let google = GoogleAuth::discover(config.access_token.as_deref(), &env)?;
        Ok(Self {
            http: Http::new(retry, engine)?,
            config,
            google,
            env,
            memberships: MembershipCache::default(),
            projects: ProjectCache::default(),
            hail_user_wait,
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        self.http.engine()
    }

    /// An access token for a Google API call, with the quota project.
    pub(crate) async fn google_token(&self, scope: &'static str) -> Result<GoogleToken, Error> {
        self.google.access(&self.http, scope).await
    }

    /// Creates the resource (adopting what already exists).
    pub async fn create(
        &self,
        kind: Kind,
        urn: &str,
        inputs: &Map<String, Value>,
    ) -> Result<Outcome, Error> {
        match kind {
            Kind::GroupMembership => google::create_membership(self, urn, inputs).await,
            Kind::GroupSettings => google::apply_settings(self, urn, inputs).await,
            Kind::HailUser => hail::create_user(self, urn, inputs).await,
            Kind::HailBillingProject => hail::create_billing_project(self, urn, inputs).await,
            Kind::HailBillingProjectMembership => {
                hail::create_billing_membership(self, urn, inputs).await
            }
            Kind::MetamistProject => metamist::create_project(self, urn, inputs).await,
            Kind::MetamistProjectMembers => metamist::set_members(self, urn, inputs).await,
        }
    }

    /// Reads the resource as it is now; `None` when it is gone.
    pub async fn read(
        &self,
        kind: Kind,
        urn: &str,
        id: &str,
        state: &Map<String, Value>,
    ) -> Result<Option<Outcome>, Error> {
        match kind {
            Kind::GroupMembership => google::read_membership(self, urn, id, state).await,
            Kind::GroupSettings => google::read_settings(self, urn, id, state).await,
            Kind::HailUser => hail::read_user(self, urn, id, state).await,
            Kind::HailBillingProject => hail::read_billing_project(self, urn, id, state).await,
            Kind::HailBillingProjectMembership => {
                hail::read_billing_membership(self, urn, id, state).await
            }
            Kind::MetamistProject => metamist::read_project(self, urn, id, state).await,
            // metamist has no call that lists a project's members: the state stands.
            Kind::MetamistProjectMembers => Ok(Some(Outcome {
                id: id.into(),
                outputs: state.clone(),
            })),
        }
    }

    /// Applies changed inputs in place (only properties whose change is an update).
    pub async fn update(
        &self,
        kind: Kind,
        urn: &str,
        id: &str,
        olds: &Map<String, Value>,
        news: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Error> {
        let outcome = match kind {
            Kind::GroupSettings => google::apply_settings(self, urn, news).await?,
            Kind::MetamistProjectMembers => metamist::set_members(self, urn, news).await?,
            Kind::HailUser => hail::create_user(self, urn, news).await?,
            // Only the token category can change in place: the outputs follow the inputs.
            Kind::HailBillingProject | Kind::HailBillingProjectMembership => Outcome {
                id: id.into(),
                outputs: news.clone(),
            },
            // Every input of these kinds is replaced on change.
            Kind::GroupMembership | Kind::MetamistProject => Outcome {
                id: id.into(),
                outputs: olds.clone(),
            },
        };
        Ok(outcome.outputs)
    }

    /// Deletes the resource; something already gone is not an error.
    pub async fn delete(
        &self,
        kind: Kind,
        urn: &str,
        id: &str,
        state: &Map<String, Value>,
    ) -> Result<(), Error> {
        match kind {
            Kind::GroupMembership => google::delete_membership(self, urn, id).await,
            Kind::HailBillingProject => hail::close_billing_project(self, urn, state).await,
            Kind::HailBillingProjectMembership => {
                hail::delete_billing_membership(self, urn, state).await
            }
            // As in the reference: settings are not undone, Hail users and metamist
            // projects and members are never removed (bringing them back is painful).
            Kind::GroupSettings
            | Kind::HailUser
            | Kind::MetamistProject
            | Kind::MetamistProjectMembers => Ok(()),
        }
    }
}

/// A required string input.
pub(crate) fn string<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a str, Error> {
    m.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Input {
            property: key.into(),
            reason: "a non-empty string is required".into(),
        })
}

/// What kind of JSON value `v` is, for messages about unexpected answers (the value
/// itself is not quoted: it may be long, or carry what should not be shown).
pub(crate) fn shape(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
