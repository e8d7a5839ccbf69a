//! `cpg:metamist:Project` and `cpg:metamist:ProjectMembers`.

use cpg_infra_fakes::Fault;
use serde_json::json;

use super::harness::{Harness, detailed};

const PROJECT: &str = "cpg:metamist:Project";
const MEMBERS: &str = "cpg:metamist:ProjectMembers";

#[tokio::test]
async fn project_create_adopt_read_delete() {
    let mut h = Harness::start().await;
    let existing = h.metamist.add_project("common");
    let adopted = h
        .create(PROJECT, "p1", json!({"project_name": "common"}))
        .await
        .expect("adopt");
    assert_eq!(adopted.id, format!("metamist-project::common::{existing}"));
    assert_eq!(
        adopted.outputs,
        json!({"project_id": existing, "project_name": "common"})
    );

    h.metamist
        .recorder()
        .inject("PUT", "/api/v1/project/", [Fault::Status(500)]);
    let created = h
        .create(PROJECT, "p2", json!({"project_name": "fewgenomes"}))
        .await
        .expect("create");
    let id = h.metamist.projects()["fewgenomes"];
    assert_eq!(created.id, format!("metamist-project::fewgenomes::{id}"));
    // One listing for the run, kept up to date with what it created.
    assert_eq!(h.metamist.recorder().count("GET", "/project/all"), 1);
    let (read_id, ..) = h.read(&created).await.expect("read").expect("present");
    assert_eq!(read_id, created.id);
    assert_eq!(h.metamist.recorder().count("GET", "/project/all"), 1);

    let d = h.diff(&created, json!({"project_name": "other"})).await;
    assert_eq!(d.replaces, ["project_name"]);
    h.delete(&created).await.expect("delete");
    assert!(
        h.metamist.projects().contains_key("fewgenomes"),
        "projects are never deleted"
    );
}

#[tokio::test]
async fn project_read_of_an_unknown_project_is_gone() {
    let mut h = Harness::start().await;
    h.metamist.add_project("a");
    let mut r = h
        .create(PROJECT, "p", json!({"project_name": "a"}))
        .await
        .expect("create");
    r.outputs["project_name"] = json!("b");
    r.inputs["project_name"] = json!("b");
    assert_eq!(h.next_run().await.read(&r).await.expect("read"), None);
}

#[tokio::test]
async fn members_are_set_and_updated_in_place() {
    let mut h = Harness::start().await;
    h.metamist.add_project("ds");
    let inputs = json!({
        "project_name": "ds",
        "read_members": ["a@x.org", "B@x.org"],
        "write_members": ["a@x.org"],
        "contribute_members": [],
    });
    let r = h
        .create(MEMBERS, "m", inputs.clone())
        .await
        .expect("create");
    assert_eq!(r.id, "metamist-project-members::ds");
    assert_eq!(r.outputs, inputs);
    let members = h.metamist.members("ds");
    assert_eq!(members["a@x.org"], ["reader", "writer"]);
    assert_eq!(members["B@x.org"], ["reader"]);

    // Reordering or re-casing members is no change.
    let same = json!({
        "project_name": "ds",
        "read_members": ["b@x.org", "a@x.org"],
        "write_members": ["A@x.org"],
        "contribute_members": [],
    });
    assert_eq!(h.diff(&r, same).await.changes, 1);

    let news = json!({
        "project_name": "ds",
        "read_members": ["a@x.org"],
        "write_members": ["a@x.org"],
        "contribute_members": ["c@x.org"],
    });
    let d = h.diff(&r, news.clone()).await;
    assert!(d.replaces.is_empty(), "never replaced");
    assert_eq!(
        detailed(&d),
        [
            ("contribute_members".to_string(), 4),
            ("read_members".to_string(), 4)
        ]
    );
    let outputs = h.update(&r, news.clone()).await.expect("update");
    assert_eq!(outputs, news);
    let members = h.metamist.members("ds");
    assert_eq!(members.keys().collect::<Vec<_>>(), ["a@x.org", "c@x.org"]);
    assert_eq!(members["c@x.org"], ["contributor"]);
    assert_eq!(
        h.metamist
            .recorder()
            .count("PATCH", "/api/v1/project/ds/members"),
        2
    );
}

#[tokio::test]
async fn members_read_keeps_the_state_and_delete_leaves_them() {
    let mut h = Harness::start().await;
    h.metamist.add_project("ds");
    let inputs = json!({
        "project_name": "ds",
        "read_members": ["a@x.org"],
        "write_members": [],
        "contribute_members": [],
    });
    let r = h
        .create(MEMBERS, "m", inputs.clone())
        .await
        .expect("create");
    let (id, outputs, read_inputs) = h.read(&r).await.expect("read").expect("present");
    assert_eq!(id, r.id);
    assert_eq!(outputs, inputs);
    assert_eq!(read_inputs, inputs);
    h.delete(&r).await.expect("delete");
    assert_eq!(
        h.metamist.members("ds").len(),
        1,
        "members are left in place"
    );
}

#[tokio::test]
async fn members_of_an_unknown_project_fail_with_the_service_answer() {
    let mut h = Harness::start().await;
    let inputs = json!({
        "project_name": "nope",
        "read_members": [],
        "write_members": [],
        "contribute_members": [],
    });
    let err = h.create(MEMBERS, "m", inputs).await.expect_err("404");
    assert!(err.message().contains("HTTP 404"), "{}", err.message());
}
