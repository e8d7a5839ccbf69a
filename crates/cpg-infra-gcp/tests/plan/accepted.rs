//! Configs the reference builds, planned as it plans them.

use super::support::{load, plan, reference_dir};

/// The names of the plan's resources that mention the hail wheels.
fn wheel_resources(wheel_bucket_name: &str) -> Vec<String> {
    let mut config = load(&reference_dir().join("small"));
    let hail = config.infrastructure.hail.as_mut().expect("small has hail");
    hail.gcp.wheel_bucket_name = Some(wheel_bucket_name.to_owned());
    plan(config)
        .resources()
        .iter()
        .map(|resource| resource.id.name.to_string())
        .filter(|name| name.contains("hail-wheels"))
        .collect()
}

#[test]
fn empty_wheel_bucket_name_is_skipped() {
    assert_eq!(wheel_resources(""), Vec::<String>::new());
    // The same config with a name gives the group and the bucket binding.
    let named = wheel_resources("cpg-hail-wheels");
    assert!(
        named.iter().any(|n| n.ends_with("sm-hail-wheels-viewer")),
        "{named:#?}"
    );
    assert!(
        named.iter().any(|n| n.contains("sm-hail-wheels-viewers")),
        "{named:#?}"
    );
}
