//! `deploy diff --targets`: the URNs printed are the ones the engine gives the
//! resources, read from the mock engine that registered both configs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cpg_infra_mock_engine::{MockEngine, MockOptions, Recorded, answering_for};
use serde_json::Value as Json;

use super::program::{plan, reference_small, run_program};
use super::support::{TempDir, copy_dir, deploy, text};

/// A copy of the reference's small config where erin.taylor leaves fewgenomes'
/// analysis group for its metadata-access group: memberships added and removed,
/// member lists changed.
pub fn small_with_erin_moved() -> TempDir {
    let dir = TempDir::new("targets");
    copy_dir(&reference_small(), &dir.0);
    let members = dir.0.join("datasets/fewgenomes/members.yaml");
    let before = std::fs::read_to_string(&members).expect("read");
    let after = before.replacen("- erin.taylor\n", "", 1).replacen(
        "metadata-access:\n",
        "metadata-access:\n- erin.taylor\n",
        1,
    );
    assert_ne!(before, after);
    std::fs::write(&members, after).expect("write");
    dir
}

/// What the mock engine recorded when `deploy`, run as the Pulumi program,
/// registered `dir` in an update.
pub fn register(dir: &Path) -> Recorded {
    let graph = plan(dir);
    let mock =
        MockEngine::start(answering_for(&graph, "123", MockOptions::default())).expect("mock");
    let output = run_program(&mock, &["--config-dir", dir.to_str().expect("utf-8")], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    mock.recorded()
}

/// (added, changed with action, removed), by `type::name`, of a diff's JSON.
pub fn touched(
    document: &Json,
) -> (
    BTreeSet<String>,
    BTreeSet<(String, String)>,
    BTreeSet<String>,
) {
    let named = |key: &str| -> BTreeSet<String> {
        document[key]
            .as_array()
            .expect("list")
            .iter()
            .map(|r| {
                format!(
                    "{}::{}",
                    r["type"].as_str().expect("type"),
                    r["name"].as_str().expect("name")
                )
            })
            .collect()
    };
    let changed = document["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().expect("resource").to_owned(),
                c["action"].as_str().expect("action").to_owned(),
            )
        })
        .collect();
    (named("added"), changed, named("removed"))
}

/// The URN the mock gave each registered resource, by `type::name`.
fn urns(recorded: &Recorded) -> BTreeMap<String, String> {
    recorded
        .responses
        .iter()
        .map(|(ty, name, response)| (format!("{ty}::{name}"), response.urn.clone()))
        .collect()
}

#[test]
fn targets_are_the_urns_the_engine_gives_what_the_change_touches() {
    let old = reference_small();
    let old = old.to_str().expect("utf-8");
    let new = small_with_erin_moved();
    let (before, after) = (urns(&register(Path::new(old))), urns(&register(&new)));
    let options = MockOptions::default();
    let stack = format!("acme/{}/{}", options.project, options.stack);

    let output = deploy(&["diff", old, new.path(), "--targets", "--stack", &stack]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    let lines: Vec<&str> = printed.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(lines, sorted, "sorted, each once");

    // The resources `diff --json` reports, by `type::name`, through the mock's URNs.
    let json = deploy(&["diff", old, new.path(), "--json"]);
    let document: Json = serde_json::from_slice(&json.stdout).expect("json");
    let (added, changed, removed) = touched(&document);
    let changed: Vec<String> = changed.into_iter().map(|(id, _)| id).collect();
    assert!(
        !added.is_empty() && !removed.is_empty() && !changed.is_empty(),
        "{document:#}"
    );
    let mut expected = BTreeSet::new();
    for id in added.iter().chain(&changed) {
        expected.insert(
            after
                .get(id)
                .unwrap_or_else(|| panic!("{id} registered"))
                .clone(),
        );
    }
    for id in &removed {
        expected.insert(
            before
                .get(id)
                .unwrap_or_else(|| panic!("{id} registered"))
                .clone(),
        );
    }
    let printed: BTreeSet<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    assert_eq!(printed, expected);

    // Nothing changes: nothing is printed.
    let same = deploy(&["diff", old, old, "--targets", "--stack", "cpg/test"]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert_eq!(text(&same.stdout), "");
}

#[test]
fn targets_need_a_stack_that_names_the_project() {
    let old = reference_small();
    let old = old.to_str().expect("utf-8");
    let missing = deploy(&["diff", old, old, "--targets"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("--stack"),
        "{}",
        text(&missing.stderr)
    );
    let bare = deploy(&["diff", old, old, "--targets", "--stack", "production"]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(
        text(&bare.stderr).contains(
            "\"production\": name the stack as <org>/<project>/<stack> or <project>/<stack>"
        ),
        "{}",
        text(&bare.stderr)
    );
    let json = deploy(&["diff", old, old, "--targets", "--stack", "p/s", "--json"]);
    assert_eq!(json.status.code(), Some(2));
}
