//! `cpg:hail:User`, `cpg:hail:BillingProject`, `cpg:hail:BillingProjectMembership`.

use cpg_infra_fakes::Fault;
use serde_json::json;

use super::harness::{Harness, detailed};

const USER: &str = "cpg:hail:User";
const PROJECT: &str = "cpg:hail:BillingProject";
const MEMBER: &str = "cpg:hail:BillingProjectMembership";

#[tokio::test]
async fn user_create_waits_for_its_identity_and_says_so() {
    let mut h = Harness::start().await;
    h.hail.identity_after_reads(2);
    let inputs = json!({"username": "ds-full", "batch_uri": h.hail.url, "token_category": "gcp"});
    let r = h.create(USER, "u", inputs).await.expect("create");
    assert_eq!(r.id, format!("gcp::{}::ds-full", h.hail.url));
    let identity = h.hail.identity("ds-full").expect("identity");
    assert_eq!(
        r.outputs,
        json!({"cloud_id": identity, "username": "ds-full", "batch_uri": h.hail.url, "token_category": "gcp"})
    );
    let waits: Vec<String> = h
        .engine
        .messages()
        .into_iter()
        .filter(|m| m.contains("waiting for Hail Batch to give user ds-full its cloud identity"))
        .collect();
    // Two reads without identity after the create, the third with it.
    assert_eq!(waits.len(), 3, "{waits:?}");
    assert!(waits[2].contains("check 3 of 5, 5ms apart"));

    let (_, outputs, _) = h.read(&r).await.expect("read").expect("present");
    assert_eq!(outputs, r.outputs);
    // Deleting leaves the user in place, as in the reference.
    h.delete(&r).await.expect("delete");
    assert_eq!(h.hail.users(), ["ds-full"]);
}

#[tokio::test]
async fn user_creation_gives_up_after_the_bound() {
    let mut h = Harness::start().await;
    h.hail.identity_after_reads(100);
    let inputs = json!({"username": "slow", "batch_uri": h.hail.url, "token_category": "gcp"});
    let err = h.create(USER, "u", inputs).await.expect_err("times out");
    assert!(
        err.message().contains(
            "waiting for Hail Batch user slow to get its cloud identity: gave up after 5 attempts"
        ),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn user_create_adopts_an_existing_user() {
    let mut h = Harness::start().await;
    let inputs = json!({"username": "x", "batch_uri": h.hail.url, "token_category": "gcp"});
    let first = h.create(USER, "u", inputs.clone()).await.expect("create");
    let again = h
        .next_run()
        .await
        .create(USER, "u", inputs)
        .await
        .expect("adopt");
    assert_eq!(first.outputs, again.outputs);
    assert_eq!(h.hail.recorder().count("POST", "/create"), 1);
}

#[tokio::test]
async fn user_diff_replaces_on_name_or_url_and_updates_token_category() {
    let mut h = Harness::start().await;
    let inputs = json!({"username": "x", "batch_uri": h.hail.url, "token_category": "gcp"});
    let r = h.create(USER, "u", inputs).await.expect("create");
    let d = h
        .diff(
            &r,
            json!({"username": "y", "batch_uri": h.hail.url, "token_category": "gcp"}),
        )
        .await;
    assert_eq!(d.replaces, ["username"]);
    let news = json!({"username": "x", "batch_uri": h.hail.url, "token_category": "azure"});
    let d = h.diff(&r, news.clone()).await;
    assert!(d.replaces.is_empty());
    assert_eq!(detailed(&d), [("token_category".to_string(), 4)]);
}

#[tokio::test]
async fn a_missing_hail_token_is_explained() {
    let mut h = Harness::start().await;
    let inputs = json!({"username": "x", "batch_uri": h.hail.url, "token_category": "azure"});
    let err = h.create(USER, "u", inputs).await.expect_err("no token");
    assert!(
        err.message().contains("HAIL_TOKEN_AZURE"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn billing_project_create_read_delete_and_reopen() {
    let mut h = Harness::start().await;
    let inputs = json!({"name": "ds", "batch_uri": h.hail.url, "token_category": "gcp"});
    let r = h
        .create(PROJECT, "bp", inputs.clone())
        .await
        .expect("create");
    assert_eq!(r.id, format!("gcp::{}::ds", h.hail.url));
    assert_eq!(r.outputs, inputs);
    assert_eq!(h.hail.project("ds"), Some((true, vec![])));
    assert!(h.read(&r).await.expect("read").is_some());

    h.delete(&r).await.expect("close");
    assert_eq!(h.hail.project("ds"), Some((false, vec![])));
    assert_eq!(
        h.read(&r).await.expect("read"),
        None,
        "closed reads as gone"
    );
    h.delete(&r)
        .await
        .expect("closing a closed project succeeds");

    h.create(PROJECT, "bp", inputs.clone())
        .await
        .expect("reopen");
    assert_eq!(h.hail.project("ds"), Some((true, vec![])));
    assert_eq!(h.hail.recorder().count("POST", "/reopen"), 1);
    // Open already: adopted.
    h.create(PROJECT, "bp", inputs).await.expect("adopt");
    assert_eq!(
        h.hail
            .recorder()
            .count("POST", "/billing_projects/ds/create"),
        1
    );
}

#[tokio::test]
async fn billing_membership_lifecycle() {
    let mut h = Harness::start().await;
    h.hail.add_project("ds", false);
    let bp = format!("gcp::{}::ds", h.hail.url);
    let inputs = json!({"billing_project": bp, "user": "alice"});
    h.hail
        .recorder()
        .inject("POST", "/users/alice/add", [Fault::Status(503)]);
    let r = h.create(MEMBER, "m", inputs.clone()).await.expect("create");
    assert_eq!(r.id, format!("{bp}::alice"));
    assert_eq!(
        h.hail.project("ds"),
        Some((true, vec!["alice".to_string()]))
    );
    assert!(h.read(&r).await.expect("read").is_some());

    let d = h
        .diff(&r, json!({"billing_project": bp, "user": "bob"}))
        .await;
    assert_eq!(d.replaces, ["user"]);
    assert!(d.delete_before_replace);

    h.delete(&r).await.expect("remove");
    assert_eq!(h.hail.project("ds"), Some((true, vec![])));
    assert_eq!(h.read(&r).await.expect("read"), None);
    h.delete(&r)
        .await
        .expect("removing a removed user succeeds");
    assert_eq!(h.hail.recorder().count("POST", "/remove"), 1);
}

#[tokio::test]
async fn billing_membership_checks_its_project_id() {
    let mut h = Harness::start().await;
    let failures = h
        .check(MEMBER, json!({"billing_project": "ds", "user": "a"}))
        .await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "billing_project");
    assert!(
        failures[0]
            .1
            .contains("<token category>::<batch url>::<name>")
    );
}

#[tokio::test]
async fn user_update_of_the_token_category_keeps_the_user() {
    let mut h = Harness::start().await;
    let inputs = json!({"username": "x", "batch_uri": h.hail.url, "token_category": "gcp"});
    let r = h.create(USER, "u", inputs).await.expect("create");
    let news = json!({"username": "x", "batch_uri": h.hail.url, "token_category": "gcp2"});
    // The new category's token is what the update uses.
    let mut next = Harness::start_with(pulumi_resource_cpg::Options {
        env: super::harness::env(&[("HAIL_TOKEN_GCP2", super::harness::HAIL_TOKEN)]),
        ..h.options.clone()
    })
    .await;
    next.hail = h.hail.clone();
    let outputs = next.update(&r, news.clone()).await.expect("update");
    assert_eq!(outputs["token_category"], json!("gcp2"));
    assert_eq!(outputs["cloud_id"], r.outputs["cloud_id"]);
    assert_eq!(h.hail.recorder().count("POST", "/create"), 1);
}

#[tokio::test]
async fn billing_project_diff_and_update() {
    let mut h = Harness::start().await;
    let inputs = json!({"name": "ds", "batch_uri": h.hail.url, "token_category": "gcp"});
    let r = h.create(PROJECT, "bp", inputs).await.expect("create");
    let d = h
        .diff(
            &r,
            json!({"name": "ds2", "batch_uri": h.hail.url, "token_category": "gcp"}),
        )
        .await;
    assert_eq!(d.replaces, ["name"]);
    assert!(!d.delete_before_replace);
    let news = json!({"name": "ds", "batch_uri": h.hail.url, "token_category": "other"});
    let d = h.diff(&r, news.clone()).await;
    assert_eq!(detailed(&d), [("token_category".to_string(), 4)]);
    assert_eq!(h.update(&r, news.clone()).await.expect("update"), news);
    assert_eq!(h.hail.project("ds"), Some((true, vec![])));
}

#[tokio::test]
async fn other_hail_deployments_get_no_second_header() {
    let mut h = Harness::start().await;
    h.hail.add_project("ds", false);
    let bp = format!("gcp::{}::ds", h.hail.url);
    h.create(MEMBER, "m", json!({"billing_project": bp, "user": "a"}))
        .await
        .expect("create");
    assert_eq!(h.hail.internal_headers(), 0);
}
