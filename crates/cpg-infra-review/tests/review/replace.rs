//! The replacement facts cover every resource type the plans contain, and the
//! data-bearing types name inputs their providers have.

use std::collections::BTreeSet;
use std::path::Path;

use cpg_infra_reference::{read_from, reference_dir, type_token};
use cpg_infra_review::replace::Replacements;
use cpg_infra_review::risk::DATA_BEARING;

use super::support::plan;

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The types of the example config's plan and of every shared reference recording.
fn planned_types() -> BTreeSet<String> {
    let example = cpg_infra::config::load_dir(workspace().join("examples/deploy/config"))
        .expect("the example config is valid");
    let mut types: BTreeSet<String> = plan(example)
        .expect("the example config plans")
        .resources()
        .iter()
        .map(|r| r.id.type_token.to_string())
        .collect();
    let dir = reference_dir();
    let mut recordings = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".reference.json"))
        else {
            continue;
        };
        recordings += 1;
        for resource in read_from(&dir, name)["resources"]
            .as_array()
            .expect("resources")
        {
            types.insert(type_token(resource).to_owned());
        }
    }
    assert!(recordings > 0, "no recordings in {}", dir.display());
    types
}

#[test]
fn every_type_the_plans_contain_has_replacement_facts() {
    let facts = Replacements::pinned().expect("the committed facts read");
    let types = planned_types();
    assert!(types.contains("gcp:storage/bucket:Bucket"), "{types:?}");
    assert!(types.contains("cpg:metamist:Project"), "{types:?}");
    let missing: Vec<&String> = types
        .iter()
        .filter(|t| !facts.resources.contains_key(*t))
        .collect();
    assert!(missing.is_empty(), "no replacement facts for {missing:?}");
}

#[test]
fn every_data_bearing_type_has_facts_and_its_holder_is_an_input() {
    let facts = Replacements::pinned().expect("facts");
    for bearing in DATA_BEARING {
        assert!(
            facts.resources.contains_key(bearing.token),
            "{}",
            bearing.token
        );
        let file = match bearing.token.split(':').next() {
            Some("gcp") => "pulumi-gcp.json",
            Some(prefix) => &format!("{prefix}.json"),
            None => unreachable!("a token has a package"),
        };
        let path = workspace().join("provider-schemas").join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let schema: serde_json::Value = serde_json::from_str(&text).expect("schema JSON");
        assert!(
            schema["resources"][bearing.token]
                .get(bearing.holder)
                .is_some(),
            "{} has no input {}",
            bearing.token,
            bearing.holder
        );
    }
}
