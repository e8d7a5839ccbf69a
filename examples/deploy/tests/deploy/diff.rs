//! `deploy diff` between the example config and changed copies of it.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::support::{TempDir, copy_dir, deploy, example_config, text};

/// A copy of the example config with `person` added to seqqc's analysis group.
fn with_analysis_member(person: &str) -> TempDir {
    let dir = TempDir::new("diff");
    copy_dir(&example_config(), &dir.0);
    let members = dir.0.join("datasets/seqqc/members.yaml");
    let text = std::fs::read_to_string(&members).expect("read");
    assert!(text.contains("\nanalysis:\n"), "{text}");
    let changed = text.replacen("\nanalysis:\n", &format!("\nanalysis:\n- {person}\n"), 1);
    std::fs::write(&members, changed).expect("write");
    dir
}

fn config() -> String {
    example_config().to_str().expect("utf-8 path").to_owned()
}

fn json(output: &std::process::Output) -> Json {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)))
}

/// (role, resource) of everything `person` reaches in `dir`, read with `deploy access`.
fn reach(dir: &str, person: &str) -> BTreeSet<(String, String, String)> {
    let output = deploy(&["access", dir, "--person", person, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    json(&output)["access"]
        .as_array()
        .expect("access")
        .iter()
        .map(|a| {
            (
                a["principal"].as_str().expect("principal").to_owned(),
                a["role"].as_str().expect("role").to_owned(),
                a["resource"].as_str().expect("resource").to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_config_against_itself_reports_nothing_and_exits_0() {
    let output = deploy(&["diff", &config(), &config(), "--exit-code"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "resources: 0 to add, 0 to change, 0 to replace, 0 to destroy\n\naccess: 0 gained, 0 lost\n"
    );
    let document = json(&deploy(&[
        "diff",
        &config(),
        &config(),
        "--json",
        "--exit-code",
    ]));
    assert_eq!(document["summary"]["add"], 0);
    assert_eq!(document["access_gained"], serde_json::json!([]));
}

#[test]
fn one_person_added_to_one_group_reports_exactly_their_memberships_and_access() {
    let pr = with_analysis_member("sam.ito");
    let output = deploy(&["diff", &config(), pr.path(), "--json", "--exit-code"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    let document = json(&output);
    assert_eq!(document["removed"], serde_json::json!([]));
    assert_eq!(document["access_lost"], serde_json::json!([]));
    // Added: her membership of the group, and the Hail billing-project membership
    // analysis members get; nothing else.
    let added: Vec<(String, Json)> = document["added"]
        .as_array()
        .expect("added")
        .iter()
        .map(|r| {
            (
                r["type"].as_str().expect("type").to_owned(),
                r["inputs"].clone(),
            )
        })
        .collect();
    assert_eq!(added.len(), 2, "{added:?}");
    assert_eq!(added[0].0, "cpg:google:GroupMembership");
    assert_eq!(added[0].1["member_key"], "sam.ito@example.org");
    assert_eq!(
        added[0].1["group_key"]["$output"]["resource"],
        "gcp:cloudidentity/group:Group::seqqc-gcp-analysis-group"
    );
    assert_eq!(added[1].0, "cpg:hail:BillingProjectMembership");
    assert_eq!(added[1].1["user"], "sito");
    // Changed: only seqqc's member lists (metamist, group member caches).
    for change in document["changed"].as_array().expect("changed") {
        let resource = change["resource"].as_str().expect("resource");
        assert!(
            resource.starts_with("cpg:metamist:ProjectMembers::seqqc-")
                || (resource.starts_with("gcp:storage/bucketObject:BucketObject::seqqc-")
                    && resource.ends_with("-cache-members")),
            "{resource}"
        );
    }
    // Gained: exactly what `deploy access` says she reaches now and did not before.
    let gained: BTreeSet<(String, String, String)> = document["access_gained"]
        .as_array()
        .expect("gained")
        .iter()
        .map(|a| {
            (
                a["principal"].as_str().expect("principal").to_owned(),
                a["role"].as_str().expect("role").to_owned(),
                a["resource"].as_str().expect("resource").to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<_> = reach(pr.path(), "sam.ito")
        .difference(&reach(&config(), "sam.ito"))
        .cloned()
        .collect();
    assert_eq!(gained, expected);
    assert!(gained.contains(&(
        "sam.ito@example.org".into(),
        "member".into(),
        "gcp:cloudidentity/group:Group::seqqc-gcp-analysis-group".into()
    )));
    for entry in document["access_gained"].as_array().expect("gained") {
        let via = entry["via"].as_array().expect("via");
        assert!(
            ["sam.ito (sam.ito@example.org)", "sam.ito (sito)"]
                .contains(&via[0].as_str().expect("label")),
            "{entry}"
        );
        assert_eq!(entry["user"], "sam.ito", "{entry}");
        if entry["role"] != "member" {
            assert!(via.len() > 1, "every grant comes through a group: {entry}");
        }
    }
    // Her Hail billing membership comes through the group she joined.
    let hail = document["access_gained"]
        .as_array()
        .expect("gained")
        .iter()
        .find(|a| a["role"] == "hail-billing-project-member")
        .expect("a Hail gain");
    assert_eq!(
        hail["via"],
        serde_json::json!([
            "sam.ito (sito)",
            "sam.ito (sam.ito@example.org)",
            "seqqc-analysis@example.org"
        ])
    );
}

#[test]
fn markdown_of_one_added_member_is_stable() {
    let pr = with_analysis_member("sam.ito");
    let output = deploy(&["diff", &config(), pr.path(), "--markdown"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    insta::assert_snapshot!("diff-one-member-markdown", text(&output.stdout));
}

#[test]
fn removing_a_member_loses_access_with_the_old_chain() {
    // Adding and then comparing the other way round: the access is lost.
    let pr = with_analysis_member("sam.ito");
    let output = deploy(&["diff", pr.path(), &config()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(
        out.starts_with("resources: 0 to add, 8 to change, 0 to replace, 2 to destroy\n"),
        "{out}"
    );
    assert!(out.contains("access: 0 gained, 25 lost\n"), "{out}");
    assert!(
        out.contains("- sam.ito (sam.ito@example.org): roles/compute.viewer on gcp:organizations/project:Project::seqqc-gcp-project\n    via sam.ito (sam.ito@example.org) → seqqc-analysis@example.org\n"),
        "{out}"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let pr = with_analysis_member("sam.ito");
    let plain = text(&deploy(&["diff", &config(), pr.path()]).stdout);
    assert!(!plain.contains('\u{1b}'));
    let coloured = text(&deploy(&["--color", "always", "diff", &config(), pr.path()]).stdout);
    assert!(
        coloured.contains("\u{1b}[32m+ cpg:google:GroupMembership::seqqc-gcp-analysis-member-")
    );
}

#[test]
fn an_invalid_config_exits_1_even_with_exit_code() {
    let output = deploy(&[
        "diff",
        &config(),
        "/nonexistent/cpg-infra-config",
        "--exit-code",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let both = deploy(&["diff", &config(), &config(), "--json", "--markdown"]);
    assert_eq!(both.status.code(), Some(2));
}

/// A copy of the example config edited by `edit` (given the copy's directory).
fn edited(edit: impl FnOnce(&std::path::Path)) -> TempDir {
    let dir = TempDir::new("diff");
    copy_dir(&example_config(), &dir.0);
    edit(&dir.0);
    dir
}

/// Replaces `from` (which must be there) with `to` in the file `name` of `dir`.
fn replace_in(dir: &std::path::Path, name: &str, from: &str, to: &str) {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains(from),
        "{}: {from:?} not in {text}",
        path.display()
    );
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

/// The example config with GCP's region moved.
fn with_gcp_region_moved() -> TempDir {
    edited(|dir| {
        replace_in(
            dir,
            "cpg.toml",
            "region = \"australia-southeast1\"",
            "region = \"us-central1\"",
        );
    })
}

/// The example config without the intake dataset.
fn without_intake() -> TempDir {
    edited(|dir| {
        std::fs::remove_dir_all(dir.join("datasets/intake")).expect("remove intake");
        let production = dir.join("production.yaml");
        let text = std::fs::read_to_string(&production).expect("read");
        let start = text.find("\n# Sample intake").expect("intake's block");
        let end = text.find("\n# The neuro cohort").expect("the next block");
        let kept = format!("{}{}", &text[..start], &text[end..]);
        std::fs::write(&production, kept).expect("write");
    })
}

/// The example config with one more dataset, `oncology`, like cardiac.
fn with_a_new_dataset() -> TempDir {
    edited(|dir| {
        copy_dir(
            &dir.join("datasets/cardiac"),
            &dir.join("datasets/oncology"),
        );
        let production = dir.join("production.yaml");
        let mut text = std::fs::read_to_string(&production).expect("read");
        text.push_str("\noncology:\n  gcp:\n    project: exg-oncology\n  depends_on_readonly:\n  - refpanel\n");
        std::fs::write(&production, text).expect("write");
    })
}

fn data_at_risk(document: &Json) -> Vec<(String, String, String)> {
    document["data_at_risk"]
        .as_array()
        .expect("data_at_risk")
        .iter()
        .map(|r| {
            (
                r["loss"].as_str().expect("loss").to_owned(),
                r["resource"].as_str().expect("resource").to_owned(),
                r["holds"].as_str().expect("holds").to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_region_change_replaces_the_buckets_and_puts_them_at_risk() {
    let pr = with_gcp_region_moved();
    let document = json(&deploy(&["diff", &config(), pr.path(), "--json"]));
    let at_risk = data_at_risk(&document);
    let buckets: Vec<&(String, String, String)> = at_risk
        .iter()
        .filter(|(_, resource, _)| resource.starts_with("gcp:storage/bucket:Bucket::"))
        .collect();
    assert!(buckets.len() > 10, "{at_risk:#?}");
    for (loss, resource, holds) in &buckets {
        assert_eq!(loss, "replace", "{resource}");
        assert!(!holds.is_empty(), "{resource}");
    }
    assert!(
        at_risk.iter().any(
            |(_, r, h)| r == "gcp:storage/bucket:Bucket::cardiac-gcp-main-bucket"
                && h == "exg-cardiac-main"
        ),
        "{at_risk:#?}"
    );
    assert!(document["summary"]["replace"].as_u64().expect("replace") >= buckets.len() as u64);
    let changed = document["changed"].as_array().expect("changed");
    let bucket = changed
        .iter()
        .find(|c| c["resource"] == "gcp:storage/bucket:Bucket::cardiac-gcp-main-bucket")
        .expect("the main bucket changes");
    assert_eq!(bucket["action"], "replace");
    assert_eq!(bucket["because"], serde_json::json!(["location"]));
    // Text and Markdown open with the data at risk.
    let text = text(&deploy(&["diff", &config(), pr.path()]).stdout);
    assert!(text.starts_with("data at risk: "), "{text}");
    assert!(
        text.contains("! replace gcp:storage/bucket:Bucket::cardiac-gcp-main-bucket: bucket exg-cardiac-main (changes location)\n"),
        "{text}"
    );
    let markdown =
        super::support::text(&deploy(&["diff", &config(), pr.path(), "--markdown"]).stdout);
    let after_head = markdown.split_once("\n\n").expect("a headline").1;
    assert!(after_head.starts_with("#### Data at risk: "), "{markdown}");
}

#[test]
fn deny_destroy_exits_3_when_data_is_at_risk_and_0_otherwise() {
    let pr = with_gcp_region_moved();
    let output = deploy(&[
        "diff",
        &config(),
        pr.path(),
        "--deny-destroy",
        "--exit-code",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains("would be destroyed or replaced (--deny-destroy)"),
        "{stderr}"
    );
    // The difference is still written.
    assert!(text(&output.stdout).starts_with("data at risk: "));
    let member = with_analysis_member("sam.ito");
    let output = deploy(&["diff", &config(), member.path(), "--deny-destroy"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let output = deploy(&[
        "diff",
        &config(),
        member.path(),
        "--deny-destroy",
        "--exit-code",
    ]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
}

#[test]
fn removing_a_dataset_lists_its_data_bearing_resources_first() {
    let pr = without_intake();
    let output = deploy(&["diff", &config(), pr.path(), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let document = json(&output);
    let at_risk = data_at_risk(&document);
    assert!(
        at_risk.contains(&(
            "destroy".into(),
            "gcp:organizations/project:Project::intake-gcp-project".into(),
            "exg-intake".into()
        )),
        "{at_risk:#?}"
    );
    let buckets = at_risk
        .iter()
        .filter(|(loss, r, _)| {
            loss == "destroy" && r.starts_with("gcp:storage/bucket:Bucket::intake-")
        })
        .count();
    assert!(buckets >= 4, "{at_risk:#?}");
    // Every destroyed data-bearing resource is listed, and only those.
    let removed = document["removed"].as_array().expect("removed");
    assert!(removed.len() > at_risk.len(), "{}", removed.len());
    let text = text(&deploy(&["diff", &config(), pr.path()]).stdout);
    let (risk, rest) = text
        .split_once("\n\nresources: ")
        .expect("data at risk, then resources");
    assert_eq!(risk.lines().count(), at_risk.len() + 1, "{risk}");
    assert!(
        risk.contains(
            "! destroy gcp:organizations/project:Project::intake-gcp-project: project exg-intake"
        ),
        "{risk}"
    );
    assert!(
        rest.contains("- gcp:organizations/project:Project::intake-gcp-project\n"),
        "{rest}"
    );
}

#[test]
fn the_markdown_for_a_new_dataset_fits_a_pull_request_comment() {
    let pr = with_a_new_dataset();
    let output = deploy(&["diff", &config(), pr.path(), "--markdown"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let markdown = text(&output.stdout);
    let length = markdown.chars().count();
    assert!(length <= 60_000, "{length} characters");
    assert!(
        markdown.starts_with("### Infrastructure: "),
        "{}",
        &markdown[..200]
    );
    assert!(markdown.contains("#### Access: "), "summary of access");
    assert!(
        markdown.contains("<details><summary>Added ("),
        "added, collapsed"
    );
    assert!(
        !markdown.contains("#### Data at risk"),
        "nothing is at risk"
    );
    // The JSON has everything the Markdown may leave out.
    let document = json(&deploy(&["diff", &config(), pr.path(), "--json"]));
    assert!(document["summary"]["add"].as_u64().expect("add") > 50);
}

#[test]
fn under_exit_code_changes_share_no_code_with_any_failure() {
    let pr = with_analysis_member("sam.ito");
    let changes = deploy(&["diff", &config(), pr.path(), "--exit-code"]);
    let same = deploy(&["diff", &config(), &config(), "--exit-code"]);
    let invalid = deploy(&[
        "diff",
        &config(),
        "/nonexistent/cpg-infra-config",
        "--exit-code",
    ]);
    let usage = deploy(&["diff", &config(), "--exit-code"]);
    let codes = [&changes, &same, &invalid, &usage].map(|o| o.status.code());
    assert_eq!(
        codes,
        [Some(4), Some(0), Some(1), Some(2)],
        "{}",
        text(&changes.stderr)
    );
}
