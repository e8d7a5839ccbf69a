//! Work done by a service whose answer was lost (a gateway error after the fact): the
//! repeated request is refused, and the provider checks and finds the work done.

use serde_json::json;

use super::harness::Harness;

#[tokio::test]
async fn membership_created_but_answer_lost() {
    let mut h = Harness::start().await;
    h.ci.add_group("g1");
    h.ci.recorder()
        .lose_answers("POST", "/v1/groups/g1/memberships", [502]);
    let r = h
        .create(
            "cpg:google:GroupMembership",
            "m",
            json!({"group_key": "groups/g1", "member_key": "a@x.org"}),
        )
        .await
        .expect("create");
    assert_eq!(h.ci.members("g1"), ["a@x.org"]);
    assert!(r.id.starts_with("groups/g1/memberships/"));
    // The retry met 409, and a fresh listing found the member.
    assert_eq!(h.ci.listings("g1"), 2);
}

#[tokio::test]
async fn hail_user_created_but_answer_lost() {
    let mut h = Harness::start().await;
    h.hail
        .recorder()
        .lose_answers("POST", "/users/u/create", [504]);
    let inputs = json!({"username": "u", "batch_uri": h.hail.url, "token_category": "gcp"});
    let r = h
        .create("cpg:hail:User", "u", inputs)
        .await
        .expect("create");
    assert_eq!(h.hail.users(), ["u"]);
    assert_eq!(r.outputs["cloud_id"], json!(h.hail.identity("u")));
    assert_eq!(h.hail.recorder().count("POST", "/users/u/create"), 2);
}

#[tokio::test]
async fn billing_project_created_and_closed_but_answers_lost() {
    let mut h = Harness::start().await;
    h.hail
        .recorder()
        .lose_answers("POST", "/billing_projects/ds/create", [502]);
    let inputs = json!({"name": "ds", "batch_uri": h.hail.url, "token_category": "gcp"});
    let r = h
        .create("cpg:hail:BillingProject", "bp", inputs)
        .await
        .expect("create");
    assert_eq!(h.hail.project("ds"), Some((true, vec![])));
    h.hail
        .recorder()
        .lose_answers("POST", "/billing_projects/ds/close", [502]);
    h.delete(&r).await.expect("close");
    assert_eq!(h.hail.project("ds"), Some((false, vec![])));
}

#[tokio::test]
async fn billing_membership_removed_but_answer_lost() {
    let mut h = Harness::start().await;
    h.hail.add_project("ds", false);
    let inputs = json!({"billing_project": format!("gcp::{}::ds", h.hail.url), "user": "a"});
    let r = h
        .create("cpg:hail:BillingProjectMembership", "m", inputs)
        .await
        .expect("create");
    h.hail
        .recorder()
        .lose_answers("POST", "/users/a/remove", [503]);
    h.delete(&r).await.expect("remove");
    assert_eq!(h.hail.project("ds"), Some((true, vec![])));
}

#[tokio::test]
async fn metamist_project_created_but_answer_lost() {
    let mut h = Harness::start().await;
    h.metamist
        .recorder()
        .lose_answers("PUT", "/api/v1/project/", [502]);
    let r = h
        .create("cpg:metamist:Project", "p", json!({"project_name": "ds"}))
        .await
        .expect("create");
    let id = h.metamist.projects()["ds"];
    assert_eq!(r.id, format!("metamist-project::ds::{id}"));
    assert_eq!(h.metamist.projects().len(), 1);
    assert_eq!(h.metamist.recorder().count("GET", "/project/all"), 2);
}
