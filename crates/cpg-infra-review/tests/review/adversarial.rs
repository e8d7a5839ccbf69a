//! Hostile values in plans: a review shows them escaped in every format, so a value
//! cannot add a line, colour or clear a reviewer's terminal, or break a pull-request
//! comment.

use cpg_infra::graph::{Graph, Resource, Value};
use cpg_infra_review::access::AccessGraph;
use cpg_infra_review::diff::PlanDiff;

/// A member id with a line break and a terminal escape, a bucket input with NUL.
const MEMBER: &str = "user:mallory@evil.example\n+ user:ceo@example.org\u{1b}[2J";

fn hostile_plans() -> (Graph, Graph) {
    let old = Graph::new();
    let mut new = Graph::new();
    new.declare(
        Resource::new("gcp:storage/bucket:Bucket", "evil\nbucket\u{1b}[31m")
            .input("name", "cpg-x\u{0}y")
            .input("labels", Value::strings(["a\u{202e}b"])),
    )
    .expect("bucket");
    new.declare(
        Resource::new(
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "cpg-x-reader",
        )
        .input("bucket", "cpg-x")
        .input("role", "roles/storage.objectViewer\n| injected | row |")
        .input("member", MEMBER),
    )
    .expect("member");
    (old, new)
}

/// No raw control character but the line breaks the format itself writes.
fn assert_no_raw_controls(format: &str, text: &str) {
    for line in text.lines() {
        assert!(
            !line
                .chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{format}: raw control character in {line:?}"
        );
    }
    assert!(
        !text.contains("\n+ user:ceo@example.org"),
        "{format}: {text}"
    );
}

#[test]
fn diff_text_escapes_control_characters_in_values_and_names() {
    let (old, new) = hostile_plans();
    let diff = PlanDiff::between(&old, &new);
    let text = diff.to_text(false);
    assert_no_raw_controls("text", &text);
    assert!(text.contains("evil\\nbucket\\u{1b}[31m"), "{text}");
    assert!(text.contains("cpg-x\\0y"), "{text}");
    assert!(
        text.contains("mallory@evil.example\\n+ user:ceo@example.org\\u{1b}[2J"),
        "{text}"
    );
    // Colour stays possible, and only where the review puts it.
    let coloured = diff.to_text(true);
    assert_eq!(
        coloured.matches('\u{1b}').count(),
        2 * coloured.lines().filter(|l| l.starts_with('\u{1b}')).count(),
        "{coloured}"
    );
}

#[test]
fn diff_markdown_escapes_control_characters_and_keeps_the_table() {
    let (old, new) = hostile_plans();
    let markdown = PlanDiff::between(&old, &new).to_markdown();
    assert_no_raw_controls("markdown", &markdown);
    assert!(
        !markdown.lines().any(|l| l.starts_with("| injected")),
        "{markdown}"
    );
}

#[test]
fn diff_json_keeps_values_exact_and_escaped_by_json() {
    let (old, new) = hostile_plans();
    let json = serde_json::to_string(&PlanDiff::between(&old, &new).to_json()).expect("json");
    assert!(!json.chars().any(|c| c.is_control()), "{json}");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("parse");
    assert!(parsed.to_string().contains("mallory@evil.example\\n"));
}

#[test]
fn access_labels_keep_the_raw_id_for_the_formats_to_escape() {
    let (_, new) = hostile_plans();
    let access = AccessGraph::from_graph(&new);
    let labels: Vec<String> = access
        .principals()
        .iter()
        .map(|p| access.label(p))
        .collect();
    assert!(
        labels.iter().any(|l| l.contains('\n')),
        "the plan holds the raw id, and each format escapes it: {labels:?}"
    );
}
