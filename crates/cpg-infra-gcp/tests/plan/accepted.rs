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

#[test]
fn sm_sas_deriving_the_same_name_keep_the_last_with_a_warning() {
    let mut config = load(&reference_dir().join("small"));
    let dataset = config
        .datasets
        .iter_mut()
        .find(|d| d.dataset == "fewgenomes")
        .expect("fewgenomes");
    dataset.sm_read_only_sas = vec!["a.b@example.org".into()];
    dataset.sm_read_write_sas = vec!["a-b@example.org".into()];
    let plan = plan(config).to_plan_json();
    let members: Vec<(String, String)> = plan["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| {
            let name = r["name"].as_str()?;
            name.contains("-a-b-group-membership").then(|| {
                (
                    name.to_owned(),
                    r["inputs"]["member_key"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
        })
        .collect();
    // Both keys (main-read, main-write) hold the later, read-write account.
    assert_eq!(members.len(), 2, "{members:#?}");
    assert!(
        members.iter().all(|(_, m)| m == "a-b@example.org"),
        "{members:#?}"
    );
}
