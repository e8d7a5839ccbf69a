//! `deploy schema`: what it prints, and the copies the repository keeps.

use std::path::Path;

use super::support::{deploy, text};

const FILES: [&str; 5] = [
    "cpg.toml",
    "production.yaml",
    "members.yaml",
    "budgets.yaml",
    "upload.yaml",
];

#[test]
fn each_file_schema_is_draft_2020_12_and_matches_the_kept_copy() {
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    for file in FILES {
        let output = deploy(&["schema", "--file", file]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["title"], file);
        let copy = kept.join(format!("{file}.schema.json"));
        let copy =
            std::fs::read_to_string(&copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
        assert_eq!(
            text(&output.stdout),
            copy,
            "schemas/{file}.schema.json is stale: deploy schema --file {file} > schemas/{file}.schema.json"
        );
    }
}

#[test]
fn without_a_file_every_schema_by_name() {
    let output = deploy(&["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let all: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut names: Vec<&str> = all
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    let mut expected = FILES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
}

#[test]
fn an_unknown_file_is_a_usage_error() {
    let output = deploy(&["schema", "--file", "cpg.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("possible values"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn the_alternative_file_names_print_the_same_schema() {
    for (alias, file) in [
        ("config-infrastructure.yaml", "cpg.toml"),
        ("config-datasets.yaml", "production.yaml"),
    ] {
        let by_alias = deploy(&["schema", "--file", alias]);
        assert_eq!(
            by_alias.status.code(),
            Some(0),
            "{}",
            text(&by_alias.stderr)
        );
        assert_eq!(by_alias.stdout, deploy(&["schema", "--file", file]).stdout);
    }
}
