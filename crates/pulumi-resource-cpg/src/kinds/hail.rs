//! `cpg:hail:User`, `cpg:hail:BillingProject` and `cpg:hail:BillingProjectMembership`,
//! against Hail Batch's `api/v1alpha`. The service's URL is an input of each resource, as
//! in the reference; the token comes from the token category.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{Outcome, Services, shape, string};
use crate::Error;
use crate::auth::hail_token;
use crate::http::{Request, encode};

fn request(
    svc: &Services,
    method: Method,
    batch_uri: &str,
    path: &str,
    category: &str,
) -> Result<Request, Error> {
    let token = hail_token(&svc.env, category)?;
    let url = format!("{}/api/v1alpha/{path}", batch_uri.trim_end_matches('/'));
    let mut req = Request::new(method, url);
    for (name, value) in auth_headers(batch_uri, &token) {
        req = req.header(name, value);
    }
    Ok(req)
}

/// The bearer token, and for Hail's internal (development) deployments the second
/// header they check.
fn auth_headers(batch_uri: &str, token: &str) -> Vec<(&'static str, String)> {
    let mut headers = vec![("authorization", format!("Bearer {token}"))];
    if batch_uri.starts_with("https://internal.hail") {
        headers.push(("x-hail-internal-authorization", format!("Bearer {token}")));
    }
    headers
}

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

async fn get_user(
    svc: &Services,
    urn: &str,
    batch_uri: &str,
    username: &str,
    category: &str,
) -> Result<Option<Value>, Error> {
    let req = request(
        svc,
        Method::GET,
        batch_uri,
        &format!("users/{}", encode(username)),
        category,
    )?;
    let resp = svc.http.send(&req, urn).await?;
    if resp.status == 404 {
        return Ok(None);
    }
    let url = resp.url().to_string();
    let user = resp.json()?;
    if !user.is_object() {
        return Err(Error::Unexpected {
            url,
            what: format!(
                "reading Hail Batch user {username}: expected an object, got {}",
                shape(&user)
            ),
        });
    }
    Ok(Some(user))
}

fn user_outcome(batch_uri: &str, username: &str, category: &str, cloud_id: &Value) -> Outcome {
    Outcome {
        id: format!("{category}::{batch_uri}::{username}"),
        outputs: object(json!({
            "cloud_id": cloud_id,
            "username": username,
            "batch_uri": batch_uri,
            "token_category": category,
        })),
    }
}

pub(super) async fn create_user(
    svc: &Services,
    urn: &str,
    inputs: &Map<String, Value>,
) -> Result<Outcome, Error> {
    let username = string(inputs, "username")?;
    let batch_uri = string(inputs, "batch_uri")?;
    let category = string(inputs, "token_category")?;
    let identity = |user: &Value| user.get("hail_identity").filter(|v| v.is_string()).cloned();
    let existing = get_user(svc, urn, batch_uri, username, category).await?;
    if let Some(cloud_id) = existing.as_ref().and_then(identity) {
        return Ok(user_outcome(batch_uri, username, category, &cloud_id));
    }
    if existing.is_none() {
        let body = json!({
            "user": username,
            "login_id": null,
            "is_developer": false,
            "is_service_account": true,
        });
        let req = request(
            svc,
            Method::POST,
            batch_uri,
            &format!("users/{}/create", encode(username)),
            category,
        )?
        .json(body);
        let resp = svc.http.send(&req, urn).await?;
        // A refusal after a lost answer, or a 409 (created meanwhile by someone else):
        // the user exists, and is waited for like our own.
        if !resp.is_success()
            && get_user(svc, urn, batch_uri, username, category)
                .await?
                .is_none()
        {
            return Err(resp.into_error());
        }
    }
    let wait = svc.hail_user_wait;
    for attempt in 1..=wait.attempts {
        svc.engine()
            .info(
                urn,
                &format!(
                    "waiting for Hail Batch to give user {username} its cloud identity (hail_identity): check {attempt} of {}, {:?} apart",
                    wait.attempts, wait.interval
                ),
            )
            .await;
        let user = get_user(svc, urn, batch_uri, username, category).await?;
        if let Some(cloud_id) = user.as_ref().and_then(identity) {
            return Ok(user_outcome(batch_uri, username, category, &cloud_id));
        }
        if attempt < wait.attempts {
            svc.engine().sleep(wait.interval).await?;
        }
    }
    Err(Error::GaveUp {
        what: format!("waiting for Hail Batch user {username} to get its cloud identity"),
        attempts: wait.attempts,
    })
}

/// Where a Hail resource lives: its token category, Batch URL and name (`name_key`
/// in its state), from the recorded state or, failing that, from its id
/// `<token category>::<batch url>::<name>`.
fn address(state: &Map<String, Value>, id: &str, name_key: &str) -> Result<[String; 3], Error> {
    match (
        string(state, "token_category"),
        string(state, "batch_uri"),
        string(state, name_key),
    ) {
        (Ok(c), Ok(b), Ok(n)) => Ok([c.to_string(), b.to_string(), n.to_string()]),
        _ => split_id::<3>(id, &format!("<token category>::<batch url>::<{name_key}>")),
    }
}

pub(super) async fn read_user(
    svc: &Services,
    urn: &str,
    id: &str,
    state: &Map<String, Value>,
) -> Result<Option<Outcome>, Error> {
    let [category, batch_uri, username] = address(state, id, "username")?;
    let user = get_user(svc, urn, &batch_uri, &username, &category).await?;
    Ok(user.map(|u| {
        let mut outcome = user_outcome(
            &batch_uri,
            &username,
            &category,
            u.get("hail_identity").unwrap_or(&Value::Null),
        );
        outcome.id = id.into();
        outcome
    }))
}

fn split_id<const N: usize>(id: &str, form: &str) -> Result<[String; N], Error> {
    let parts: Vec<String> = id.split("::").map(String::from).collect();
    <[String; N]>::try_from(parts).map_err(|_| Error::Input {
        property: "id".into(),
        reason: format!("{id:?} is not {form}"),
    })
}

/// A billing project as Hail reports it; `None` when unknown to Hail.
async fn get_billing_project(
    svc: &Services,
    urn: &str,
    batch_uri: &str,
    name: &str,
    category: &str,
) -> Result<Option<Value>, Error> {
    let req = request(
        svc,
        Method::GET,
        batch_uri,
        &format!("billing_projects/{}", encode(name)),
        category,
    )?;
    let resp = svc.http.send(&req, urn).await?;
    if resp.status == 404 || (resp.status == 403 && resp.text.contains("Unknown Hail Batch")) {
        return Ok(None);
    }
    let url = resp.url().to_string();
    let project = resp.json()?;
    // Whether a user is a member is read from `users`: without that list, no answer
    // about membership (or absence) can be given.
    let what = match &project {
        Value::Object(p) => match p.get("users") {
            Some(Value::Array(_)) => return Ok(Some(project)),
            Some(other) => format!("users: expected a list, got {}", shape(other)),
            None => "no users list".to_string(),
        },
        other => format!("expected an object, got {}", shape(other)),
    };
    Err(Error::Unexpected {
        url,
        what: format!("reading Hail Batch billing project {name}: {what}"),
    })
}

fn is_closed(project: &Value) -> bool {
    project["status"] == json!("closed")
}

async fn post(
    svc: &Services,
    urn: &str,
    batch_uri: &str,
    path: &str,
    category: &str,
) -> Result<crate::http::Response, Error> {
    let req = request(svc, Method::POST, batch_uri, path, category)?;
    svc.http.send(&req, urn).await
}

pub(super) async fn create_billing_project(
    svc: &Services,
    urn: &str,
    inputs: &Map<String, Value>,
) -> Result<Outcome, Error> {
    let name = string(inputs, "name")?;
    let batch_uri = string(inputs, "batch_uri")?;
    let category = string(inputs, "token_category")?;
    let path = format!("billing_projects/{}", encode(name));
    let action = match get_billing_project(svc, urn, batch_uri, name, category).await? {
        Some(p) if is_closed(&p) => Some("reopen"),
        // Open already: adopt it.
        Some(_) => None,
        None => Some("create"),
    };
    if let Some(action) = action {
        let resp = post(svc, urn, batch_uri, &format!("{path}/{action}"), category).await?;
        // A refusal after a lost answer: done if the project is open now.
        if !resp.is_success() {
            let now = get_billing_project(svc, urn, batch_uri, name, category).await?;
            if now.is_none_or(|p| is_closed(&p)) {
                return Err(resp.into_error());
            }
        }
    }
    Ok(Outcome {
        id: format!("{category}::{batch_uri}::{name}"),
        outputs: inputs.clone(),
    })
}

pub(super) async fn read_billing_project(
    svc: &Services,
    urn: &str,
    id: &str,
    state: &Map<String, Value>,
) -> Result<Option<Outcome>, Error> {
    let [category, batch_uri, name] = address(state, id, "name")?;
    let project = get_billing_project(svc, urn, &batch_uri, &name, &category).await?;
    Ok(project.filter(|p| !is_closed(p)).map(|_| Outcome {
        id: id.into(),
        outputs: object(json!({"name": name, "batch_uri": batch_uri, "token_category": category})),
    }))
}

pub(super) async fn close_billing_project(
    svc: &Services,
    urn: &str,
    state: &Map<String, Value>,
) -> Result<(), Error> {
    let name = string(state, "name")?;
    let batch_uri = string(state, "batch_uri")?;
    let category = string(state, "token_category")?;
    match get_billing_project(svc, urn, batch_uri, name, category).await? {
        None => Ok(()),
        Some(p) if is_closed(&p) => Ok(()),
        Some(_) => {
            let path = format!("billing_projects/{}/close", encode(name));
            let resp = post(svc, urn, batch_uri, &path, category).await?;
            if resp.is_success() {
                return Ok(());
            }
            // A refusal after a lost answer: done if the project is closed now.
            match get_billing_project(svc, urn, batch_uri, name, category).await? {
                Some(p) if !is_closed(&p) => Err(resp.into_error()),
                _ => Ok(()),
            }
        }
    }
}

struct Membership {
    category: String,
    batch_uri: String,
    project: String,
    user: String,
}

fn membership(props: &Map<String, Value>) -> Result<Membership, Error> {
    let billing_project = string(props, "billing_project")?;
    let [category, batch_uri, project] = split_id::<3>(
        billing_project,
        "<token category>::<batch url>::<billing project>",
    )
    .map_err(|_| Error::Input {
        property: "billing_project".into(),
        reason: format!(
            "{billing_project:?} is not <token category>::<batch url>::<billing project>"
        ),
    })?;
    Ok(Membership {
        category,
        batch_uri,
        project,
        user: string(props, "user")?.into(),
    })
}

fn has_user(project: &Value, user: &str) -> bool {
    project["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|u| u.eq_ignore_ascii_case(user))
}

pub(super) async fn create_billing_membership(
    svc: &Services,
    urn: &str,
    inputs: &Map<String, Value>,
) -> Result<Outcome, Error> {
    let m = membership(inputs)?;
    let project = get_billing_project(svc, urn, &m.batch_uri, &m.project, &m.category)
        .await?
        .ok_or_else(|| Error::Input {
            property: "billing_project".into(),
            reason: format!("Hail Batch has no billing project {:?}", m.project),
        })?;
    if !has_user(&project, &m.user) {
        let path = format!(
            "billing_projects/{}/users/{}/add",
            encode(&m.project),
            encode(&m.user)
        );
        let resp = post(svc, urn, &m.batch_uri, &path, &m.category).await?;
        if !resp.is_success() {
            // A refusal after a lost answer: done if the user is there now.
            let now = get_billing_project(svc, urn, &m.batch_uri, &m.project, &m.category).await?;
            if !now.is_some_and(|p| has_user(&p, &m.user)) {
                return Err(resp.into_error());
            }
        }
    }
    Ok(Outcome {
        id: format!("{}::{}::{}::{}", m.category, m.batch_uri, m.project, m.user),
        outputs: inputs.clone(),
    })
}

pub(super) async fn read_billing_membership(
    svc: &Services,
    urn: &str,
    id: &str,
    state: &Map<String, Value>,
) -> Result<Option<Outcome>, Error> {
    let m = match membership(state) {
        Ok(m) => m,
        Err(_) => {
            let [category, batch_uri, project, user] = split_id::<4>(
                id,
                "<token category>::<batch url>::<billing project>::<user>",
            )?;
            Membership {
                category,
                batch_uri,
                project,
                user,
            }
        }
    };
    let project = get_billing_project(svc, urn, &m.batch_uri, &m.project, &m.category).await?;
    let present = project.is_some_and(|p| !is_closed(&p) && has_user(&p, &m.user));
    Ok(present.then(|| Outcome {
        id: id.into(),
        outputs: object(json!({
            "billing_project": format!("{}::{}::{}", m.category, m.batch_uri, m.project),
            "user": m.user,
        })),
    }))
}

pub(super) async fn delete_billing_membership(
    svc: &Services,
    urn: &str,
    state: &Map<String, Value>,
) -> Result<(), Error> {
    let m = membership(state)?;
    let project = get_billing_project(svc, urn, &m.batch_uri, &m.project, &m.category).await?;
    if !project.is_some_and(|p| !is_closed(&p) && has_user(&p, &m.user)) {
        return Ok(());
    }
    let path = format!(
        "billing_projects/{}/users/{}/remove",
        encode(&m.project),
        encode(&m.user)
    );
    let resp = post(svc, urn, &m.batch_uri, &path, &m.category).await?;
    if resp.is_success() {
        return Ok(());
    }
    // A refusal (a 404 included: the user may have left meanwhile) or a lost answer:
    // done only if the user is no longer listed now.
    let now = get_billing_project(svc, urn, &m.batch_uri, &m.project, &m.category).await?;
    if now.is_some_and(|p| !is_closed(&p) && has_user(&p, &m.user)) {
        return Err(resp.into_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_deployments_get_the_second_header() {
        let internal = auth_headers(
            "https://internal.hail.populationgenomics.org.au/x/batch",
            "t",
        );
        assert_eq!(
            internal,
            [
                ("authorization", "Bearer t".to_string()),
                ("x-hail-internal-authorization", "Bearer t".to_string()),
            ]
        );
        assert_eq!(
            auth_headers("https://batch.hail.populationgenomics.org.au", "t").len(),
            1
        );
    }
}
