//! Answers the provider must not take on faith: malformed listings, endless pagination,
//! writes the service did not carry out, and cancellation while a request is under way.

use std::time::{Duration, Instant};

use cpg_infra_fakes::Fault;
use serde_json::json;

use super::google::member;
use super::harness::Harness;

const MEMBERSHIP: &str = "cpg:google:GroupMembership";
const SETTINGS: &str = "cpg:google:GroupSettings";
const PROJECT: &str = "cpg:metamist:Project";
const HAIL_MEMBER: &str = "cpg:hail:BillingProjectMembership";

/// Malformed membership listings: Read and Delete fail, naming the call; nothing is
/// reported gone and no DELETE is sent.
#[tokio::test]
async fn a_malformed_membership_listing_is_an_error_not_absence() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    let r = h
        .create(MEMBERSHIP, "m", member("g1", "ann@example.org"))
        .await
        .expect("create");
    for body in [
        r#"{"memberships": {}}"#,
        r#"{"memberships": null}"#,
        r#"{"memberships": "x"}"#,
        "null",
        "[]",
        r#"{"nextPageToken": 7}"#,
    ] {
        let mut later = h.next_run().await;
        later.ci.recorder().inject(
            "GET",
            "/v1/groups/g1/memberships",
            [Fault::Answer(200, body.into())],
        );
        let e = later.read(&r).await.expect_err(body);
        assert!(
            e.message().contains("listing the memberships of groups/g1"),
            "{body}: {}",
            e.message()
        );
        let mut later = h.next_run().await;
        later.ci.recorder().inject(
            "GET",
            "/v1/groups/g1/memberships",
            [Fault::Answer(200, body.into())],
        );
        let e = later.delete(&r).await.expect_err(body);
        assert!(
            e.message().contains("listing the memberships of groups/g1"),
            "{body}: {}",
            e.message()
        );
    }
    assert_eq!(h.ci.recorder().count("DELETE", "/memberships/"), 0);
    assert_eq!(h.ci.members("g1"), ["ann@example.org"]);
    // An empty listing leaves `memberships` out: that, and only that, is "none".
    h.ci.remove_member("g1", "ann@example.org");
    let mut later = h.next_run().await;
    assert_eq!(later.read(&r).await.expect("read"), None);
}

/// Creates a membership of `groups/g1` while its listing answers `pages`: the
/// create's error message, once checked to name the listing, and how many pages
/// were asked for; nothing was added.
async fn endless_listing(pages: impl IntoIterator<Item = Fault>) -> (String, usize) {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    h.ci.recorder()
        .inject("GET", "/v1/groups/g1/memberships", pages);
    let e = h
        .create(MEMBERSHIP, "m", member("g1", "bo@example.org"))
        .await
        .expect_err("a listing that never ends");
    assert!(
        e.message().contains("listing the memberships of groups/g1"),
        "{}",
        e.message()
    );
    assert_eq!(h.ci.recorder().count("POST", "/memberships"), 0);
    let asked = h.ci.recorder().count("GET", "/v1/groups/g1/memberships");
    (e.message().to_string(), asked)
}

#[tokio::test]
async fn a_repeated_page_token_stops_the_listing() {
    let page = r#"{"memberships": [], "nextPageToken": "again"}"#;
    let (message, asked) =
        endless_listing(std::iter::repeat_n(Fault::Answer(200, page.into()), 50)).await;
    assert!(message.contains("\"again\""), "{message}");
    assert_eq!(asked, 2);
}

/// A service that hands out a new page token on every page is followed up to the
/// cap, then the listing stops with an error; nothing is written.
#[tokio::test]
async fn an_endless_listing_stops_at_the_page_cap() {
    const CAP: usize = 1000;
    let pages = (1..=CAP + 5).map(|i| {
        let page = json!({
            "memberships": [{"name": format!("groups/g1/memberships/x{i}"),
                             "preferredMemberKey": {"id": format!("user{i}@example.org")}}],
            "nextPageToken": format!("token-{i}"),
        });
        Fault::Answer(200, page.to_string())
    });
    let (message, asked) = endless_listing(pages).await;
    assert!(message.contains("more than 1000 pages"), "{message}");
    assert_eq!(asked, CAP);
}

#[tokio::test]
async fn a_malformed_project_list_is_an_error_not_absence() {
    for body in ["null", "{}", r#"{"projects": []}"#] {
        let mut h = Harness::start().await;
        h.metamist.add_project("common");
        h.metamist
            .recorder()
            .inject("GET", "/project/all", [Fault::Answer(200, body.into())]);
        let e = h
            .create(PROJECT, "p", json!({"project_name": "fresh"}))
            .await
            .expect_err(body);
        assert!(
            e.message().contains("listing metamist's projects"),
            "{body}: {}",
            e.message()
        );
        assert_eq!(h.metamist.recorder().count("PUT", "/api/v1/project/"), 0);
    }
}

#[tokio::test]
async fn settings_the_answer_does_not_show_are_an_error() {
    let mut h = Harness::start().await;
    h.gs.add_group("g@example.org");
    let answer = json!({"email": "g@example.org", "whoCanJoin": "ANYONE_CAN_JOIN"});
    h.gs.recorder().inject(
        "PUT",
        "/groups/v1/groups/",
        [Fault::Answer(200, answer.to_string())],
    );
    let e = h
        .create(
            SETTINGS,
            "s",
            json!({"group_email": "g@example.org", "settings": {"whoCanJoin": "INVITED_CAN_JOIN"}}),
        )
        .await
        .expect_err("the answer shows another value");
    assert!(
        e.message().contains("whoCanJoin")
            && e.message().contains("INVITED_CAN_JOIN")
            && e.message().contains("ANYONE_CAN_JOIN"),
        "{}",
        e.message()
    );
}

/// A DELETE answered 404 while the group still lists the membership (a wrong route,
/// a group the caller cannot see): an error, and the state keeps the member.
#[tokio::test]
async fn a_google_removal_answered_404_while_listed_is_an_error() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    let r = h
        .create(MEMBERSHIP, "m", member("g1", "gus@example.org"))
        .await
        .expect("create");
    h.ci.recorder()
        .inject("DELETE", "/memberships/", [Fault::Status(404)]);
    let e = h.delete(&r).await.expect_err("gus is still listed");
    assert!(
        e.message().contains("404") && e.message().contains("still lists"),
        "{}",
        e.message()
    );
    assert_eq!(h.ci.members("g1"), ["gus@example.org"]);
    // The run's listing still holds the member: a later delete tries again.
    h.delete(&r).await.expect("delete");
    assert!(h.ci.members("g1").is_empty());
    assert_eq!(h.ci.recorder().count("DELETE", "/memberships/"), 2);
}

#[tokio::test]
async fn a_hail_removal_answered_404_while_listed_is_an_error() {
    let mut h = Harness::start().await;
    h.hail.add_project("ds", false);
    let bp = format!("gcp::{}::ds", h.hail.url);
    let r = h
        .create(
            HAIL_MEMBER,
            "m",
            json!({"billing_project": bp, "user": "alice"}),
        )
        .await
        .expect("create");
    h.hail
        .recorder()
        .inject("POST", "/users/alice/remove", [Fault::Status(404)]);
    let e = h.delete(&r).await.expect_err("alice is still listed");
    assert!(e.message().contains("404"), "{}", e.message());
    assert_eq!(
        h.hail.project("ds"),
        Some((true, vec!["alice".to_string()]))
    );
    // A billing project answer without its users is no answer about membership.
    h.hail.recorder().inject(
        "GET",
        "/billing_projects/ds",
        [Fault::Answer(
            200,
            json!({"billing_project": "ds", "status": "open"}).to_string(),
        )],
    );
    let e = h.delete(&r).await.expect_err("no users list");
    assert!(
        e.message().contains("billing project ds"),
        "{}",
        e.message()
    );
    assert_eq!(h.hail.recorder().count("POST", "/remove"), 1);
}

/// Cancel stops a request that hangs, well before the request timeout.
#[tokio::test]
async fn cancel_aborts_a_hung_request() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    h.ci.recorder().inject(
        "GET",
        "/v1/groups/g1/memberships",
        [Fault::Delay(Duration::from_secs(60))],
    );
    let mut client = h.client.clone();
    let started = Instant::now();
    let create = tokio::spawn(async move {
        h.create(MEMBERSHIP, "m", member("g1", "cy@example.org"))
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.cancel(()).await.expect("cancel");
    let outcome = tokio::time::timeout(Duration::from_secs(3), create)
        .await
        .expect("the create ends within seconds of Cancel")
        .expect("join");
    let e = outcome.expect_err("cancelled");
    assert_eq!(e.code(), tonic::Code::Cancelled, "{}", e.message());
    assert!(started.elapsed() < Duration::from_secs(4));
}

/// No message of the provider — errors, check failures, engine log lines — quotes a
/// token, a password in a URL or a secret configuration value.
#[tokio::test]
async fn no_secret_appears_in_any_message() {
    use super::harness::{GOOGLE_TOKEN, HAIL_TOKEN, MockEngine, provider, st};
    use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;

    let mut messages = Vec::new();
    // A 401 (and a 503 before it, retried) whose body echoes the Authorization header.
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    let echo = json!({"error": {"message": format!("bad Authorization: Bearer {GOOGLE_TOKEN}")}})
        .to_string();
    h.ci.recorder().inject(
        "GET",
        "/v1/groups/g1/memberships",
        [Fault::Answer(503, echo.clone()), Fault::Answer(401, echo)],
    );
    let e = h
        .create(MEMBERSHIP, "m", member("g1", "di@example.org"))
        .await
        .expect_err("401");
    assert!(e.message().contains("HTTP 401"), "{}", e.message());
    messages.push(e.message().to_string());
    // A Hail URL with credentials in it, answering 401 with the token echoed.
    let creds_url = h.hail.url.replacen("http://", "http://user:pa55word@", 1);
    let echo = format!("token {HAIL_TOKEN} refused");
    h.hail
        .recorder()
        .inject("GET", "/billing_projects/ds", [Fault::Answer(401, echo)]);
    let e = h
        .create(
            HAIL_MEMBER,
            "hm",
            json!({"billing_project": format!("gcp::{creds_url}::ds"), "user": "alice"}),
        )
        .await
        .expect_err("401");
    messages.push(e.message().to_string());
    messages.extend(h.engine.messages());

    // Secrets in the provider configuration, in the wrong shape or inside a URL.
    let engine = MockEngine::default();
    let mut client = provider(Default::default(), &engine).await;
    for args in [
        json!({"accessToken": ["s3cr3t-token"]}),
        json!({"accessToken": {"token": "s3cr3t-token"}}),
        json!({"metamistEndpoint": "https://user:s3cr3t-token@metamist.example.org"}),
    ] {
        let e = client
            .configure(rpc::ConfigureRequest {
                args: Some(st(args.clone())),
                ..Default::default()
            })
            .await
            .expect_err("refused");
        messages.push(e.message().to_string());
        let check = client
            .check_config(rpc::CheckRequest {
                news: Some(st(args)),
                ..Default::default()
            })
            .await
            .expect("check")
            .into_inner();
        assert_eq!(check.failures.len(), 1);
        messages.extend(check.failures.into_iter().map(|f| f.reason));
    }
    messages.extend(engine.messages());

    for secret in [GOOGLE_TOKEN, HAIL_TOKEN, "pa55word", "s3cr3t-token"] {
        for m in &messages {
            assert!(!m.contains(secret), "{secret} in {m}");
        }
    }
    assert!(
        messages.iter().any(|m| m.contains("<redacted>")),
        "{messages:?}"
    );
}
