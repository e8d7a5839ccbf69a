//! The example config's plan: deterministic, and reviewed as a snapshot with one
//! resource per line.

use std::path::Path;

use super::support::{load, plan};

fn example_plan() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config");
    let plan = plan(load(&dir)).to_plan_json();
    serde_json::to_string_pretty(&plan).expect("plan renders")
}

#[test]
fn example_plan_is_deterministic() {
    assert_eq!(example_plan(), example_plan());
}

#[test]
fn example_plan_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config");
    let plan = plan(load(&dir)).to_plan_json();
    let mut lines = Vec::new();
    for resource in plan["resources"].as_array().expect("resources") {
        lines.push(format!(
            "{}::{} {} {}",
            resource["type"].as_str().unwrap_or_default(),
            resource["name"].as_str().unwrap_or_default(),
            resource["inputs"],
            resource["options"]
        ));
    }
    for (name, value) in plan["exports"].as_object().expect("exports") {
        lines.push(format!("export {name} {value}"));
    }
    insta::assert_snapshot!(lines.join("\n"));
}
