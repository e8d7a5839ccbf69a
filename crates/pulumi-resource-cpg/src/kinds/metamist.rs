//! `cpg:metamist:Project` and `cpg:metamist:ProjectMembers`, against metamist's
//! `api/v1/project` routes.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::{Outcome, Services, shape, string};
use crate::Error;
use crate::auth::Want;
use crate::http::{Request, encode};

/// metamist's projects by name, listed once per provider run and kept up to date with
/// the projects this run creates.
#[derive(Debug, Default)]
pub struct ProjectCache {
    projects: Mutex<Option<BTreeMap<String, i64>>>,
}

async fn token(svc: &Services) -> Result<String, Error> {
    let audience = svc
        .config
        .metamist_endpoint
        .trim_end_matches('/')
        .to_string();
    svc.google.token(&svc.http, &Want::Identity(audience)).await
}

async fn project_id(
    svc: &Services,
    urn: &str,
    name: &str,
    fresh: bool,
) -> Result<Option<i64>, Error> {
    let mut cache = svc.projects.projects.lock().await;
    if cache.is_none() || fresh {
        let url = format!("{}api/v1/project/all", svc.config.metamist_endpoint);
        let req = Request::new(Method::GET, url.clone()).bearer(&token(svc).await?);
        let all = svc.http.send(&req, urn).await?.json()?;
        // Only a list is an answer; anything else (null, an object) is not "no projects".
        let Some(all) = all.as_array() else {
            return Err(Error::Unexpected {
                url,
                what: format!(
                    "listing metamist's projects: expected a list, got {}",
                    shape(&all)
                ),
            });
        };
        let mut projects = BTreeMap::new();
        for p in all {
            match (p["name"].as_str(), p["id"].as_i64()) {
                (Some(n), Some(id)) => {
                    projects.insert(n.to_string(), id);
                }
                _ => {
                    return Err(Error::Unexpected {
                        url,
                        what: format!("a project without name or id: {p}"),
                    });
                }
            }
        }
        *cache = Some(projects);
    }
    Ok(cache.as_ref().and_then(|p| p.get(name).copied()))
}

fn project_outcome(name: &str, id: i64) -> Outcome {
    Outcome {
        id: format!("metamist-project::{name}::{id}"),
        outputs: json!({"project_id": id, "project_name": name})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    }
}

pub(super) async fn create_project(
    svc: &Services,
    urn: &str,
    inputs: &Map<String, Value>,
) -> Result<Outcome, Error> {
    let name = string(inputs, "project_name")?;
    if let Some(id) = project_id(svc, urn, name, false).await? {
        return Ok(project_outcome(name, id));
    }
    let url = format!(
        "{}api/v1/project/?name={n}&dataset={n}&create_test_project=false",
        svc.config.metamist_endpoint,
        n = encode(name)
    );
    let req = Request::new(Method::PUT, url).bearer(&token(svc).await?);
    let resp = svc.http.send(&req, urn).await?;
    if !resp.is_success() {
        // A refusal after a lost answer: adopt the project if it exists now.
        return match project_id(svc, urn, name, true).await? {
            Some(id) => Ok(project_outcome(name, id)),
            None => Err(resp.into_error()),
        };
    }
    let url = resp.url().to_string();
    let answer = resp.json()?;
    let id = answer.as_i64().ok_or_else(|| Error::Unexpected {
        url,
        what: format!("expected the new project's id, got {answer}"),
    })?;
    if let Some(p) = svc.projects.projects.lock().await.as_mut() {
        p.insert(name.into(), id);
    }
    Ok(project_outcome(name, id))
}

pub(super) async fn read_project(
    svc: &Services,
    urn: &str,
    id: &str,
    state: &Map<String, Value>,
) -> Result<Option<Outcome>, Error> {
    let name = match string(state, "project_name") {
        Ok(n) => n.to_string(),
        Err(_) => id
            .strip_prefix("metamist-project::")
            .and_then(|rest| rest.rsplit_once("::"))
            .map(|(n, _)| n.to_string())
            .ok_or_else(|| Error::Input {
                property: "id".into(),
                reason: format!("{id:?} is not metamist-project::<name>::<id>"),
            })?,
    };
    Ok(project_id(svc, urn, &name, false)
        .await?
        .map(|pid| project_outcome(&name, pid)))
}

/// The role lists as metamist's member update: one entry per member (compared without
/// regard to case), its roles in the order reader, writer, contributor; sorted by member.
pub(crate) fn member_update(inputs: &Map<String, Value>) -> Value {
    let mut members: BTreeMap<String, (String, BTreeSet<usize>)> = BTreeMap::new();
    let roles = ["reader", "writer", "contributor"];
    for (i, key) in ["read_members", "write_members", "contribute_members"]
        .iter()
        .enumerate()
    {
        for m in inputs
            .get(*key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            members
                .entry(m.to_ascii_lowercase())
                .or_insert_with(|| (m.to_string(), BTreeSet::new()))
                .1
                .insert(i);
        }
    }
    Value::Array(
        members
            .into_values()
            .map(|(member, r)| json!({"member": member, "roles": r.iter().map(|i| roles[*i]).collect::<Vec<_>>()}))
            .collect(),
    )
}

pub(super) async fn set_members(
    svc: &Services,
    urn: &str,
    inputs: &Map<String, Value>,
) -> Result<Outcome, Error> {
    let name = string(inputs, "project_name")?;
    let url = format!(
        "{}api/v1/project/{}/members",
        svc.config.metamist_endpoint,
        encode(name)
    );
    let req = Request::new(Method::PATCH, url)
        .bearer(&token(svc).await?)
        .json(member_update(inputs));
    svc.http.send(&req, urn).await?.success()?;
    Ok(Outcome {
        id: format!("metamist-project-members::{name}"),
        outputs: inputs.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_update_merges_roles_case_insensitively() {
        let inputs = json!({
            "project_name": "p",
            "read_members": ["B@x.org", "a@x.org"],
            "write_members": ["a@x.org"],
            "contribute_members": ["b@x.org"],
        });
        let update = member_update(inputs.as_object().unwrap_or(&Map::new()));
        assert_eq!(
            update,
            json!([
                {"member": "a@x.org", "roles": ["reader", "writer"]},
                {"member": "B@x.org", "roles": ["reader", "contributor"]},
            ])
        );
    }
}
