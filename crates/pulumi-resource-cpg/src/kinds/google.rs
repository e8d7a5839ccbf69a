//! `cpg:google:GroupMembership` (Cloud Identity) and `cpg:google:GroupSettings` (Groups
//! Settings API).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as SyncMutex};

use reqwest::Method;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::{Outcome, Services, shape, string};
use crate::Error;
use crate::auth::{CLOUD_IDENTITY_SCOPE, GROUPS_SETTINGS_SCOPE};
use crate::http::{Request, encode};

const PAGE_SIZE: u32 = 100;

/// A membership as Cloud Identity lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    /// `groups/<group>/memberships/<membership>`.
    name: String,
    /// The member's email, lower-cased.
    key: String,
}

type Slot = Arc<Mutex<Option<Vec<Member>>>>;

/// One listing of each group's memberships per provider run, shared by every membership
/// of the group and kept up to date with what this run creates and deletes. Calls for
/// the same group wait for the one listing; calls for different groups do not wait for
/// each other.
#[derive(Debug, Default)]
pub struct MembershipCache {
    groups: SyncMutex<BTreeMap<String, Slot>>,
}

impl MembershipCache {
    fn slot(&self, group: &str) -> Slot {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.entry(group.into()).or_default().clone()
    }

    /// The group's memberships: the run's listing, or a new one when `fresh`.
    async fn members(
        &self,
        svc: &Services,
        urn: &str,
        group: &str,
        fresh: bool,
    ) -> Result<Vec<Member>, Error> {
        let slot = self.slot(group);
        let mut listing = slot.lock().await;
        match &*listing {
            Some(members) if !fresh => Ok(members.clone()),
            _ => {
                let members = list(svc, urn, group).await?;
                *listing = Some(members.clone());
                Ok(members)
            }
        }
    }

    async fn added(&self, group: &str, member: Member) {
        if let Some(members) = self.slot(group).lock().await.as_mut()
            && !members.contains(&member)
        {
            members.push(member);
        }
    }

    async fn removed(&self, group: &str, name: &str) {
        if let Some(members) = self.slot(group).lock().await.as_mut() {
            members.retain(|m| m.name != name);
        }
    }
}

/// The most pages one listing may take (at [`PAGE_SIZE`] a page, 100,000 members): a
/// service that keeps handing out new page tokens is not followed for ever.
const PAGE_CAP: usize = 1000;

/// Lists the group's memberships, every page. An answer that is not a listing is an
/// error naming the call; only a missing `memberships` key means "none" (the API, as
/// every proto3 JSON answer, leaves out an empty list). A page token seen before, or
/// more than [`PAGE_CAP`] pages, is an error too.
async fn list(svc: &Services, urn: &str, group: &str) -> Result<Vec<Member>, Error> {
    let token = svc.google_token(CLOUD_IDENTITY_SCOPE).await?;
    let mut members = Vec::new();
    let mut page_token = String::new();
    let mut seen_tokens = std::collections::BTreeSet::new();
    let call = format!("listing the memberships of {group}");
    for _ in 0..PAGE_CAP {
        let mut url = format!(
            "{}v1/{group}/memberships?pageSize={PAGE_SIZE}",
            svc.config.cloud_identity_endpoint
        );
        if !page_token.is_empty() {
            url.push_str(&format!("&pageToken={}", encode(&page_token)));
        }
        let resp = svc
            .http
            .send(&Request::new(Method::GET, url).google(&token), urn)
            .await?;
        if resp.status == 404 {
            // The group is gone, and its memberships with it.
            return Ok(Vec::new());
        }
        let url = resp.url().to_string();
        let unexpected = |what: String| Error::Unexpected {
            url: url.clone(),
            what: format!("{call}: {what}"),
        };
        let page = resp.json()?;
        let Some(page) = page.as_object() else {
            return Err(unexpected(format!(
                "expected a listing (a JSON object), got {}",
                shape(&page)
            )));
        };
        let listed = match page.get("memberships") {
            None => &[][..],
            Some(Value::Array(listed)) => listed.as_slice(),
            Some(other) => {
                return Err(unexpected(format!(
                    "memberships: expected a list, got {}",
                    shape(other)
                )));
            }
        };
        for m in listed {
            let name = m["name"].as_str();
            let key = m["preferredMemberKey"]["id"].as_str();
            match (name, key) {
                (Some(name), Some(key)) => members.push(Member {
                    name: name.into(),
                    key: key.to_ascii_lowercase(),
                }),
                _ => {
                    return Err(unexpected(format!(
                        "a membership without name or preferredMemberKey.id: {m}"
                    )));
                }
            }
        }
        match page.get("nextPageToken") {
            None => return Ok(members),
            Some(Value::String(t)) if t.is_empty() => return Ok(members),
            Some(Value::String(t)) => {
                if !seen_tokens.insert(t.clone()) {
                    return Err(unexpected(format!(
                        "the page token {t:?} was handed out twice; the listing would never end"
                    )));
                }
                page_token = t.clone();
            }
            Some(other) => {
                return Err(unexpected(format!(
                    "nextPageToken: expected a string, got {}",
                    shape(other)
                )));
            }
        }
    }
    Err(Error::Unexpected {
        url: format!(
            "{}v1/{group}/memberships",
            svc.config.cloud_identity_endpoint
        ),
        what: format!("{call}: more than {PAGE_CAP} pages; stopped"),
    })
}

fn membership_outcome(group: &str, member: &Member) -> Outcome {
    let outputs = json!({
        "group_key": group,
        "member_key": member.key,
        "member_name": member.name,
    });
    Outcome {
        id: member.name.clone(),
        outputs: outputs.as_object().cloned().unwrap_or_default(),
    }
}

/// `groups/<group>` of `groups/<group>/memberships/<membership>`.
fn group_of(name: &str) -> Result<String, Error> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["groups", g, "memberships", m] if !g.is_empty() && !m.is_empty() => {
            Ok(format!("groups/{g}"))
        }
        _ => Err(Error::Input {
            property: "id".into(),
            reason: format!("{name:?} is not groups/<group>/memberships/<membership>"),
        }),
    }
}

pub(super) async fn create_membership(
    svc: &Services,
    urn: &str,
    inputs: &Map<String, Value>,
) -> Result<Outcome, Error> {
    let group = string(inputs, "group_key")?;
    let key = string(inputs, "member_key")?.to_ascii_lowercase();
    let policy = svc.http.retry_policy();
    for attempt in 1..=policy.max_attempts {
        // After a conflict the run's listing is stale: list again.
        let members = svc
            .memberships
            .members(svc, urn, group, attempt > 1)
            .await?;
        if let Some(m) = members.iter().find(|m| m.key == key) {
            return Ok(membership_outcome(group, m));
        }
        let token = svc.google_token(CLOUD_IDENTITY_SCOPE).await?;
        let url = format!(
            "{}v1/{group}/memberships",
            svc.config.cloud_identity_endpoint
        );
        let body = json!({"preferredMemberKey": {"id": key}, "roles": [{"name": "MEMBER"}]});
        let resp = svc
            .http
            .send(
                &Request::new(Method::POST, url).google(&token).json(body),
                urn,
            )
            .await?;
        if resp.status == 409 {
            svc.engine()
                .warn(
                    urn,
                    &format!(
                        "Cloud Identity reported a conflict adding {key} to {group}; checking the group again (attempt {} of {})",
                        attempt + 1,
                        policy.max_attempts
                    ),
                )
                .await;
            svc.engine().sleep(policy.delay(attempt)).await?;
            continue;
        }
        let url = resp.url().to_string();
        let op = resp.json()?;
        if let Some(message) = op["error"]["message"].as_str() {
            return Err(Error::Unexpected {
                url,
                what: format!("adding {key} to {group} failed: {message}"),
            });
        }
        match op["response"]["name"].as_str() {
            Some(name) if op["done"] == json!(true) => {
                let member = Member {
                    name: name.into(),
                    key,
                };
                svc.memberships.added(group, member.clone()).await;
                return Ok(membership_outcome(group, &member));
            }
            // Not finished yet: the next attempt finds it in a fresh listing.
            _ => svc.engine().sleep(policy.delay(attempt)).await?,
        }
    }
    Err(Error::GaveUp {
        what: format!("adding {key} to {group}"),
        attempts: policy.max_attempts,
    })
}

pub(super) async fn read_membership(
    svc: &Services,
    urn: &str,
    id: &str,
    state: &Map<String, Value>,
) -> Result<Option<Outcome>, Error> {
    let group = match state.get("group_key").and_then(Value::as_str) {
        Some(g) => g.to_string(),
        None => group_of(id)?,
    };
    let members = svc.memberships.members(svc, urn, &group, false).await?;
    let found = match state.get("member_key").and_then(Value::as_str) {
        Some(key) => {
            let key = key.to_ascii_lowercase();
            members.into_iter().find(|m| m.key == key)
        }
        // Importing by id alone.
        None => members.into_iter().find(|m| m.name == id),
    };
    Ok(found.map(|m| membership_outcome(&group, &m)))
}

pub(super) async fn delete_membership(svc: &Services, urn: &str, id: &str) -> Result<(), Error> {
    let group = group_of(id)?;
    let members = svc.memberships.members(svc, urn, &group, false).await?;
    if !members.iter().any(|m| m.name == id) {
        return Ok(());
    }
    let token = svc.google_token(CLOUD_IDENTITY_SCOPE).await?;
    let url = format!("{}v1/{id}", svc.config.cloud_identity_endpoint);
    // Cloud Identity answers 409 when the operation was aborted: try again.
    let req = Request::new(Method::DELETE, url)
        .google(&token)
        .retry_on(&[409]);
    let resp = svc.http.send(&req, urn).await?;
    if resp.status == 404 {
        // A 404 may mean the membership left meanwhile, or that the call went wrong
        // (another route, a group the caller cannot see): gone only if a fresh
        // listing no longer shows it.
        let now = svc.memberships.members(svc, urn, &group, true).await?;
        if now.iter().any(|m| m.name == id) {
            return Err(Error::Unexpected {
                url: resp.url().to_string(),
                what: format!(
                    "removing {id}: answered 404 (not found), yet {group} still lists the membership"
                ),
            });
        }
    } else {
        let url = resp.url().to_string();
        let op = resp.json()?;
        if let Some(message) = op["error"]["message"].as_str() {
            return Err(Error::Unexpected {
                url,
                what: format!("removing {id} failed: {message}"),
            });
        }
    }
    svc.memberships.removed(&group, id).await;
    Ok(())
}

fn settings_url(svc: &Services, email: &str) -> String {
    format!(
        "{}groups/v1/groups/{}?alt=json",
        svc.config.groups_settings_endpoint,
        encode(email)
    )
}

/// The settings the resource manages, as the service reports them.
fn settings_outcome(email: &str, wanted: &Map<String, Value>, current: &Value) -> Outcome {
    let settings: Map<String, Value> = wanted
        .keys()
        .map(|k| (k.clone(), current.get(k).cloned().unwrap_or(Value::Null)))
        .collect();
    let outputs = json!({"group_email": email, "settings": settings});
    Outcome {
        id: format!("google_group_settings::{email}"),
        outputs: outputs.as_object().cloned().unwrap_or_default(),
    }
}

pub(super) async fn apply_settings(
    svc: &Services,
    urn: &str,
    inputs: &Map<String, Value>,
) -> Result<Outcome, Error> {
    let email = string(inputs, "group_email")?;
    let settings = inputs
        .get("settings")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::Input {
            property: "settings".into(),
            reason: "a map of settings is required".into(),
        })?;
    let token = svc.google_token(GROUPS_SETTINGS_SCOPE).await?;
    let req = Request::new(Method::PUT, settings_url(svc, email))
        .google(&token)
        .json(Value::Object(settings.clone()));
    let resp = svc.http.send(&req, urn).await?;
    let url = resp.url().to_string();
    let current = resp.json()?;
    // The answer is the group's settings after the change: a value other than the one
    // sent means the change did not take.
    let Some(answer) = current.as_object() else {
        return Err(Error::Unexpected {
            url,
            what: format!(
                "setting the settings of {email}: expected the group's settings, got {}",
                shape(&current)
            ),
        });
    };
    let differing: Vec<String> = settings
        .iter()
        .filter_map(|(key, wanted)| match answer.get(key) {
            Some(shown) if shown != wanted => Some(format!("{key} is {shown}, not {wanted}")),
            _ => None,
        })
        .collect();
    if !differing.is_empty() {
        return Err(Error::Unexpected {
            url,
            what: format!(
                "setting the settings of {email}: the answer shows {}",
                differing.join(", ")
            ),
        });
    }
    Ok(settings_outcome(email, settings, &current))
}

pub(super) async fn read_settings(
    svc: &Services,
    urn: &str,
    id: &str,
    state: &Map<String, Value>,
) -> Result<Option<Outcome>, Error> {
    let email = match state.get("group_email").and_then(Value::as_str) {
        Some(e) => e.to_string(),
        None => id
            .strip_prefix("google_group_settings::")
            .ok_or_else(|| Error::Input {
                property: "id".into(),
                reason: format!("{id:?} is not google_group_settings::<group email>"),
            })?
            .to_string(),
    };
    let wanted = state
        .get("settings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let token = svc.google_token(GROUPS_SETTINGS_SCOPE).await?;
    let resp = svc
        .http
        .send(
            &Request::new(Method::GET, settings_url(svc, &email)).google(&token),
            urn,
        )
        .await?;
    if resp.status == 404 {
        return Ok(None);
    }
    let current = resp.json()?;
    Ok(Some(settings_outcome(&email, &wanted, &current)))
}
