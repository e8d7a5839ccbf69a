//! `deploy diff --state`: a config against the export of a stack the mock engine
//! registered, and against the reference's recorded stack before `migrate-state`.

use std::collections::BTreeSet;
use std::path::Path;

use cpg_infra_mock_engine::Recorded;
use cpg_infra_pulumi::wire;
use serde_json::{Value as Json, json};

use super::program::reference_small;
use super::support::{TempDir, deploy, text};
use super::targets::{register, small_with_erin_moved, touched};

/// Secrets as `pulumi stack export` writes them: encrypted, or in plain text with
/// `--show-secrets`.
pub fn as_exported(json: Json, show_secrets: bool) -> Json {
    match json {
        Json::Object(mut entries) if entries.len() == 1 && entries.contains_key("$secret") => {
            let value = entries.remove("$secret").unwrap_or(Json::Null);
            let (key, text) = if show_secrets {
                ("plaintext", value.to_string())
            } else {
                ("ciphertext", "v1:not-a-real-ciphertext".to_owned())
            };
            let mut secret =
                json!({"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"});
            secret[key] = Json::String(text);
            secret
        }
        Json::Object(entries) => Json::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k, as_exported(v, show_secrets)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .map(|v| as_exported(v, show_secrets))
                .collect(),
        ),
        other => other,
    }
}

/// The export of the stack the mock recorded: the root with its outputs, then each
/// resource with its URN, id, inputs and outputs.
pub fn export_of(recorded: &Recorded, show_secrets: bool) -> Json {
    let struct_json =
        |s: Option<&_>| as_exported(s.map_or(json!({}), wire::struct_to_json), show_secrets);
    let root = recorded.root.clone().expect("a root");
    let mut resources = vec![json!({
        "urn": root, "custom": false, "type": "pulumi:pulumi:Stack",
        "outputs": struct_json(recorded.outputs[0].outputs.as_ref()),
    })];
    for request in &recorded.registrations[1..] {
        let (_, _, response) = recorded
            .responses
            .iter()
            .find(|(ty, name, _)| *ty == request.r#type && *name == request.name)
            .expect("answered");
        resources.push(json!({
            "urn": response.urn, "custom": request.custom, "id": response.id,
            "type": request.r#type, "parent": request.parent,
            "inputs": struct_json(request.object.as_ref()),
            "outputs": struct_json(response.object.as_ref()),
        }));
    }
    json!({"version": 3, "deployment": {"resources": resources}})
}

pub fn write(dir: &TempDir, name: &str, document: &Json) -> String {
    let path = dir.0.join(name);
    std::fs::write(&path, document.to_string()).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

fn json_of(output: &std::process::Output) -> Json {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)))
}

#[test]
fn the_export_of_a_registered_config_against_it_changes_nothing() {
    let small = reference_small();
    let small = small.to_str().expect("utf-8");
    let dir = TempDir::new("state");
    let export = write(
        &dir,
        "export.json",
        &export_of(&register(Path::new(small)), false),
    );
    let output = deploy(&["diff", "--state", &export, small, "--exit-code"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let shown = text(&output.stdout);
    assert!(
        shown.contains("resources: 0 to add, 0 to change, 0 to replace, 0 to destroy\n"),
        "{shown}"
    );
    assert!(!shown.contains("v1:not-a-real-ciphertext"), "{shown}");
    let document = json_of(&deploy(&["diff", "--state", &export, small, "--json"]));
    assert_eq!(document["state"]["project"], "cpg");
    assert_eq!(document["state"]["stack"], "test");
    let targets = deploy(&["diff", "--state", &export, small, "--targets"]);
    assert_eq!(targets.status.code(), Some(0), "{}", text(&targets.stderr));
    assert_eq!(text(&targets.stdout), "");
}

#[test]
fn the_export_against_a_changed_config_reports_exactly_the_change() {
    let small = reference_small();
    let small = small.to_str().expect("utf-8");
    let moved = small_with_erin_moved();
    let dir = TempDir::new("state");
    let recorded = register(Path::new(small));
    let between_configs = json_of(&deploy(&["diff", small, moved.path(), "--json"]));

    let against = |export: &str| {
        deploy(&[
            "diff",
            "--state",
            export,
            moved.path(),
            "--json",
            "--exit-code",
        ])
    };

    // With the secrets in plain text, every change is seen.
    let output = against(&write(&dir, "shown.json", &export_of(&recorded, true)));
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    let against_state = touched(&json_of(&output));
    assert!(!against_state.0.is_empty() && !against_state.2.is_empty());
    assert_eq!(against_state, touched(&between_configs));

    // Encrypted, the resources whose only change is a secret are not compared.
    let export = write(&dir, "export.json", &export_of(&recorded, false));
    let output = against(&export);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    let document = json_of(&output);
    let encrypted: BTreeSet<String> = document["not_compared"]
        .as_array()
        .expect("not compared")
        .iter()
        .filter(|n| n["because"] == "encrypted")
        .map(|n| n["resource"].as_str().expect("resource").to_owned())
        .collect();
    let only_secrets: BTreeSet<String> = between_configs["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .filter(|c| {
            c["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .all(|f| f["after"].get("$secret").is_some())
        })
        .map(|c| c["resource"].as_str().expect("resource").to_owned())
        .collect();
    assert!(!only_secrets.is_empty());
    assert!(
        only_secrets.is_subset(&encrypted),
        "{only_secrets:?} {encrypted:?}"
    );
    let (added, changed, removed) = touched(&between_configs);
    let changed = changed
        .into_iter()
        .filter(|(id, _)| !only_secrets.contains(id))
        .collect();
    assert_eq!(touched(&document), (added, changed, removed));

    // The targets are the URNs the export holds for what goes, and the engine's
    // for what comes.
    let targets = text(&deploy(&["diff", "--state", &export, moved.path(), "--targets"]).stdout);
    let from_configs = text(
        &deploy(&[
            "diff",
            small,
            moved.path(),
            "--targets",
            "--stack",
            "cpg/test",
        ])
        .stdout,
    );
    let from_configs: String = from_configs
        .lines()
        .filter(|urn| {
            !only_secrets
                .iter()
                .any(|id| *urn == format!("urn:pulumi:test::cpg::{id}"))
        })
        .map(|urn| format!("{urn}\n"))
        .collect();
    assert_eq!(targets, from_configs);
}

#[test]
fn the_references_export_before_migrate_state_shows_only_the_documented_differences() {
    let small = reference_small();
    let small = small.to_str().expect("utf-8");
    let dir = TempDir::new("state");
    // The recording keeps secrets as `{"$secret": …}`; an export, in plain text
    // with `--show-secrets`.
    let recorded = as_exported(cpg_infra_reference::stack_export("small"), true);
    let export = write(&dir, "export.json", &recorded);
    let output = deploy(&["diff", "--state", &export, small]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(
        shown.contains("its 448 Python dynamic resources read as their cpg: types"),
        "{shown}"
    );
    // What docs/differences.md lists for this config: the memberships added on
    // purpose, and the web buckets' viewer role (a role change replaces the grant).
    let (added, changed, removed) = touched(&json_of(&deploy(&[
        "diff", "--state", &export, small, "--json",
    ])));
    assert!(removed.is_empty(), "{removed:?}");
    assert_eq!(added.len(), 5, "{added:?}");
    assert!(
        added
            .iter()
            .all(|a| a.starts_with("cpg:google:GroupMembership::")
                && (a.ends_with("-test-in-images-dev-reader-group-member")
                    || a.ends_with("-metamist-machine-account-in-main-list"))),
        "{added:?}"
    );
    let expected: BTreeSet<(String, String)> = ["common", "fewgenomes", "validation"]
        .iter()
        .map(|ds| {
            (
                format!("gcp:storage/bucketIAMMember:BucketIAMMember::{ds}-gcp-main-read-main-web-bucket-viewer"),
                "replace".to_owned(),
            )
        })
        .collect();
    assert_eq!(changed, expected);
}

#[test]
fn an_export_that_cannot_be_read_is_named_and_exits_1() {
    let small = reference_small();
    let small = small.to_str().expect("utf-8");
    let dir = TempDir::new("state");
    let bad = write(&dir, "bad.json", &json!({"version": 2}));
    let output = deploy(&["diff", "--state", &bad, small]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("bad.json: /version: version 2 is not supported (3 is)"),
        "{}",
        text(&output.stderr)
    );
    let missing = deploy(&["diff", "--state", "/nonexistent/export.json", small]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("/nonexistent/export.json: cannot read"));
    let two = deploy(&["diff", "--state", &bad, small, small]);
    assert_eq!(two.status.code(), Some(2));
    assert!(text(&two.stderr).contains("with --state, give one config directory"));
    let one = deploy(&["diff", small]);
    assert_eq!(one.status.code(), Some(2));
    assert!(text(&one.stderr).contains("give the old and the new config directory"));
}
