//! `cpg:google:GroupMembership` and `cpg:google:GroupSettings` against the fakes.

use std::time::Duration;

use cpg_infra_fakes::Fault;
use serde_json::json;

use super::harness::{Harness, detailed};

const MEMBERSHIP: &str = "cpg:google:GroupMembership";
const SETTINGS: &str = "cpg:google:GroupSettings";

// Pulumi's PropertyDiff kinds.
const UPDATE: i32 = 4;
const UPDATE_REPLACE: i32 = 5;

pub fn member(group: &str, email: &str) -> serde_json::Value {
    json!({"group_key": format!("groups/{group}"), "member_key": email})
}

#[tokio::test]
async fn membership_create_read_diff_delete() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    let r = h
        .create(MEMBERSHIP, "m", member("g1", "Alice@Example.org"))
        .await
        .expect("create");
    assert!(r.id.starts_with("groups/g1/memberships/"), "{}", r.id);
    assert_eq!(
        r.outputs,
        json!({"group_key": "groups/g1", "member_key": "alice@example.org", "member_name": r.id})
    );
    assert_eq!(h.ci.members("g1"), ["alice@example.org"]);

    let (id, outputs, inputs) = h.read(&r).await.expect("read").expect("present");
    assert_eq!(id, r.id);
    assert_eq!(outputs, r.outputs);
    assert_eq!(inputs, member("g1", "alice@example.org"));

    // Case is no change; another member is a replacement of both keys' resource.
    let same = h.diff(&r, member("g1", "ALICE@example.org")).await;
    assert_eq!(same.changes, 1, "DIFF_NONE");
    let other = h.diff(&r, member("g1", "bob@example.org")).await;
    assert_eq!(other.changes, 2, "DIFF_SOME");
    assert_eq!(other.replaces, ["member_key"]);
    assert_eq!(
        detailed(&other),
        [("member_key".to_string(), UPDATE_REPLACE)]
    );

    h.delete(&r).await.expect("delete");
    assert!(h.ci.members("g1").is_empty());
}

#[tokio::test]
async fn membership_create_adopts_an_existing_member() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    let existing = h.ci.add_member("g1", "carol@example.org");
    let r = h
        .create(MEMBERSHIP, "m", member("g1", "Carol@example.org"))
        .await
        .expect("create");
    assert_eq!(r.id, existing);
    assert_eq!(h.ci.recorder().count("POST", "/memberships"), 0);
    assert_eq!(h.ci.members("g1"), ["carol@example.org"]);
}

#[tokio::test]
async fn membership_read_reports_out_of_band_removal_as_gone() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    let r = h
        .create(MEMBERSHIP, "m", member("g1", "dave@example.org"))
        .await
        .expect("create");
    assert!(h.ci.remove_member("g1", "dave@example.org"));
    // `pulumi refresh` is a new run, which lists the group afresh.
    let mut refresh = h.next_run().await;
    assert_eq!(refresh.read(&r).await.expect("read"), None);
}

#[tokio::test]
async fn membership_delete_of_a_removed_member_succeeds() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    let r = h
        .create(MEMBERSHIP, "m", member("g1", "erin@example.org"))
        .await
        .expect("create");
    h.ci.remove_member("g1", "erin@example.org");
    let mut later = h.next_run().await;
    later.delete(&r).await.expect("delete of a gone membership");
    assert_eq!(h.ci.recorder().count("DELETE", "/memberships/"), 0);
    // Listed as present in this run but removed meanwhile: the DELETE's 404 is
    // success too, once a fresh listing confirms the membership is gone.
    let r2 = h
        .create(MEMBERSHIP, "m2", member("g1", "frank@example.org"))
        .await
        .expect("create");
    assert!(h.ci.remove_member("g1", "frank@example.org"));
    let listings = h.ci.listings("g1");
    h.delete(&r2).await.expect("delete answered 404");
    assert_eq!(h.ci.recorder().count("DELETE", "/memberships/"), 1);
    assert_eq!(h.ci.listings("g1"), listings + 1, "the 404 is checked");
}

#[tokio::test]
async fn membership_create_recovers_from_a_409_race() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    // Another writer adds the member between our listing and our create.
    h.ci.recorder().inject(
        "POST",
        "/v1/groups/g1/memberships",
        [Fault::ConcurrentCreate],
    );
    let r = h
        .create(MEMBERSHIP, "m", member("g1", "gail@example.org"))
        .await
        .expect("create");
    assert_eq!(h.ci.members("g1"), ["gail@example.org"]);
    assert!(r.id.starts_with("groups/g1/memberships/"));
    assert!(
        h.engine
            .messages()
            .iter()
            .any(|m| m.contains("conflict") && m.contains("gail@example.org")),
        "{:?}",
        h.engine.messages()
    );
}

#[tokio::test]
async fn membership_409_without_the_member_is_retried_then_given_up() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    // Two conflicts that leave nothing behind, then success.
    h.ci.recorder().inject(
        "POST",
        "/v1/groups/g1/memberships",
        [Fault::Status(409), Fault::Status(409)],
    );
    h.create(MEMBERSHIP, "m", member("g1", "hal@example.org"))
        .await
        .expect("create after retries");
    assert_eq!(h.ci.members("g1"), ["hal@example.org"]);
    // Conflicts on every attempt: a bounded number of tries, then a clear error.
    h.ci.recorder().inject(
        "POST",
        "/v1/groups/g1/memberships",
        vec![Fault::Status(409); 10],
    );
    let err = h
        .create(MEMBERSHIP, "m2", member("g1", "ivy@example.org"))
        .await
        .expect_err("gives up");
    assert!(
        err.message().contains("gave up after 4 attempts"),
        "{}",
        err.message()
    );
    assert_eq!(
        h.ci.recorder().count("POST", "/v1/groups/g1/memberships"),
        3 + 4
    );
}

#[tokio::test]
async fn membership_5xx_burst_and_429_are_retried_with_backoff() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    h.ci.recorder().inject(
        "GET",
        "/v1/groups/g1/memberships",
        [Fault::Status(503), Fault::Status(429)],
    );
    h.ci.recorder()
        .inject("POST", "/v1/groups/g1/memberships", [Fault::Status(500)]);
    h.create(MEMBERSHIP, "m", member("g1", "jo@example.org"))
        .await
        .expect("create");
    assert_eq!(h.ci.members("g1"), ["jo@example.org"]);
    assert_eq!(h.ci.recorder().count("GET", "/v1/groups/g1/memberships"), 3);
    assert_eq!(
        h.ci.recorder().count("POST", "/v1/groups/g1/memberships"),
        2
    );
    let retries = h
        .engine
        .messages()
        .iter()
        .filter(|m| m.contains("retrying"))
        .count();
    assert_eq!(retries, 3);
    // A burst longer than the policy fails with the last status.
    h.ci.recorder().inject(
        "POST",
        "/v1/groups/g1/memberships",
        vec![Fault::Status(502); 4],
    );
    let err = h
        .create(MEMBERSHIP, "m2", member("g1", "kim@example.org"))
        .await
        .expect_err("burst");
    assert!(err.message().contains("HTTP 502"), "{}", err.message());
}

#[tokio::test]
async fn membership_slow_answers_time_out_and_are_retried() {
    let mut options = pulumi_resource_cpg::Options {
        env: super::harness::env(&[]),
        retry: super::harness::fast_retry(),
        ..Default::default()
    };
    options.retry.request_timeout = Duration::from_millis(300);
    let mut h = Harness::start_with(options).await;
    h.ci.add_group("g1");
    h.ci.recorder().inject(
        "GET",
        "/v1/groups/g1/memberships",
        [Fault::Delay(Duration::from_secs(2))],
    );
    h.create(MEMBERSHIP, "m", member("g1", "lee@example.org"))
        .await
        .expect("create");
    assert_eq!(h.ci.recorder().count("GET", "/v1/groups/g1/memberships"), 2);
}

#[tokio::test]
async fn one_listing_per_group_per_run_with_concurrent_creates() {
    let h = Harness::start().await;
    h.ci.add_group("g1");
    h.ci.add_group("g2");
    // Listings are slow, so concurrent calls would list twice if they did not wait.
    h.ci.recorder().inject(
        "GET",
        "/memberships",
        vec![Fault::Delay(Duration::from_millis(100)); 4],
    );
    let mut tasks = Vec::new();
    for i in 0..20 {
        let mut client = h.client.clone();
        let group = if i % 2 == 0 { "g1" } else { "g2" };
        tasks.push(tokio::spawn(async move {
            client
                .create(pulumi_gestalt_proto::pulumi::pulumirpc::CreateRequest {
                    urn: super::harness::urn(MEMBERSHIP, &format!("m{i}")),
                    properties: Some(super::harness::st(member(
                        group,
                        &format!("u{i}@example.org"),
                    ))),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().id)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("join").expect("create"));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    assert_eq!(h.ci.members("g1").len(), 10);
    assert_eq!(h.ci.members("g2").len(), 10);
    assert_eq!(h.ci.listings("g1"), 1);
    assert_eq!(h.ci.listings("g2"), 1);
}

#[tokio::test]
async fn listing_follows_pages() {
    let mut h = Harness::start().await;
    h.ci.add_group("big");
    for i in 0..250 {
        h.ci.add_member("big", &format!("p{i:03}@example.org"));
    }
    let r = h
        .create(MEMBERSHIP, "m", member("big", "p249@example.org"))
        .await
        .expect("create");
    assert_eq!(
        h.ci.recorder().count("POST", "/memberships"),
        0,
        "adopted from page 3"
    );
    assert_eq!(h.ci.recorder().count("GET", "pageToken="), 2);
    assert_eq!(
        h.read(&r).await.expect("read").map(|(id, ..)| id),
        Some(r.id.clone())
    );
}

#[tokio::test]
async fn settings_create_read_diff_update_delete() {
    let mut h = Harness::start().await;
    h.gs.add_group("team@example.org");
    let inputs =
        json!({"group_email": "team@example.org", "settings": {"allowExternalMembers": "true"}});
    let r = h
        .create(SETTINGS, "s", inputs.clone())
        .await
        .expect("create");
    assert_eq!(r.id, "google_group_settings::team@example.org");
    assert_eq!(r.outputs, inputs);
    let stored = h.gs.settings("team@example.org").unwrap_or_default();
    assert_eq!(stored["allowExternalMembers"], json!("true"));
    assert!(
        h.gs.recorder()
            .requests()
            .iter()
            .all(|r| r.contains("alt=json"))
    );

    // Changed behind our back: a refresh reads the real value.
    h.gs.set("team@example.org", "allowExternalMembers", "false");
    let (_, outputs, read_inputs) = h.read(&r).await.expect("read").expect("present");
    assert_eq!(
        outputs["settings"],
        json!({"allowExternalMembers": "false"})
    );
    assert_eq!(
        read_inputs["settings"],
        json!({"allowExternalMembers": "false"})
    );

    // A settings change is an update in place; a group change a replacement.
    let news = json!({"group_email": "team@example.org", "settings": {"allowExternalMembers": "true", "whoCanJoin": "INVITED_CAN_JOIN"}});
    let d = h.diff(&r, news.clone()).await;
    assert_eq!(d.changes, 2);
    assert!(d.replaces.is_empty());
    assert_eq!(detailed(&d), [("settings".to_string(), UPDATE)]);
    let d = h.diff(&r, json!({"group_email": "other@example.org", "settings": {"allowExternalMembers": "true"}})).await;
    assert_eq!(d.replaces, ["group_email"]);

    let outputs = h.update(&r, news.clone()).await.expect("update");
    assert_eq!(outputs, news);
    assert_eq!(
        h.gs.settings("team@example.org").unwrap_or_default()["whoCanJoin"],
        json!("INVITED_CAN_JOIN")
    );

    h.delete(&r).await.expect("delete");
    assert_eq!(
        h.gs.recorder().count("DELETE", ""),
        0,
        "settings are never deleted"
    );
}

#[tokio::test]
async fn settings_of_a_deleted_group_read_as_gone() {
    let mut h = Harness::start().await;
    h.gs.add_group("team@example.org");
    let mut r = h
        .create(SETTINGS, "s", json!({"group_email": "team@example.org", "settings": {"whoCanJoin": "INVITED_CAN_JOIN"}}))
        .await
        .expect("create");
    r.outputs["group_email"] = json!("gone@example.org");
    assert_eq!(h.read(&r).await.expect("read"), None);
}
