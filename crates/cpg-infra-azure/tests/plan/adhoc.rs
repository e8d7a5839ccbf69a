//! The ad-hoc group rule knows every group the plans make, on both clouds.

use super::support::{load, plan, reference_dir};

#[test]
fn every_group_the_plan_makes_is_one_the_adhoc_rule_knows() {
    for dir in [
        reference_dir().join("features"),
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config"),
    ] {
        let config = load(&dir);
        let known = cpg_infra::config::infrastructure_group_names(&config.datasets);
        let adhoc: Vec<String> = config
            .infrastructure
            .adhoc_groups
            .iter()
            .flatten()
            .map(|g| g.name.clone())
            .collect();
        let prefix = config
            .infrastructure
            .group_prefix
            .clone()
            .unwrap_or_default();
        let graph = plan(config);
        let mut groups = 0;
        for group in graph
            .resources()
            .iter()
            .filter(|r| &*r.id.type_token == "gcp:cloudidentity/group:Group")
        {
            let name = group.inputs["displayName"].to_json();
            let name = name.as_str().expect("a known display name");
            let name = name.strip_prefix(prefix.as_str()).unwrap_or(name);
            if adhoc.iter().any(|a| a == name) {
                continue;
            }
            assert!(known.contains(name), "{}: group {name:?}", dir.display());
            groups += 1;
        }
        assert!(groups > 50, "{groups}");
    }
}
