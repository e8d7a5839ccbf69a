//! The metamist plugin, run in-process by the driver, plans `small-plugins` as the
//! reference did (see `cpg_infra_test_support::plugin_parity` for what is compared).

use cpg_infra::plugin::LogLevel;
use cpg_infra_test_support::plugin_parity::{REFERENCE_PLUGIN_RESOURCES, compare};
use metamist::Metamist;

/// metamist's resources; the billing aggregator declares the rest of the reference's.
const RESOURCES: usize = 47;

/// The ETL accessor configuration, a secret: a new version is written whenever its
/// bytes change, so they must equal the reference's.
const ACCESSOR_CONFIGURATION: &str =
    "gcp:secretmanager/secretVersion:SecretVersion::metamist-etl-accessor-configuration";

#[test]
fn metamist_matches_the_reference() {
    let compared = compare(Box::new(Metamist));
    assert_eq!(
        compared.added.len(),
        RESOURCES,
        "metamist's {RESOURCES} resources (of the reference plugins' {REFERENCE_PLUGIN_RESOURCES})"
    );

    // Compared with the rest; here explicitly, byte for byte, so that a switch-over
    // writes no new secret version.
    let accessor_configuration = compared
        .added
        .iter()
        .find(|r| r.id.to_string() == ACCESSOR_CONFIGURATION)
        .expect("the accessor configuration");
    let mine = accessor_configuration.inputs["secretData"]
        .evaluate(&compared.reference)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_json();
    let theirs = &compared.reference.resources()[ACCESSOR_CONFIGURATION]["inputs"]["secretData"];
    assert_eq!(mine["$secret"].as_str(), theirs["$secret"].as_str());
    assert!(theirs["$secret"].as_str().is_some_and(|text| {
        text.contains(r#""users": ["alice.smith@populationgenomics.org.au", "alice.smith@"#)
    }));

    if !compared.with_payload {
        // Without the payload: three archives by path, two tables' schemas absent,
        // and a warning that says so.
        let unchecked = &compared.unchecked;
        assert_eq!(unchecked.archives_by_path.len(), 3, "{unchecked:#?}");
        assert_eq!(
            unchecked.absent_inputs,
            [
                "gcp:bigquery/table:Table::metamist-etl-bigquery-table-logs: input schema",
                "gcp:bigquery/table:Table::metamist-etl-bigquery-table: input schema",
            ]
        );
        let log = &compared.log;
        assert!(
            log.iter()
                .any(|(level, message)| *level == LogLevel::Warning
                    && message.starts_with("ETL sources not found: ")),
            "{log:#?}"
        );
    }
}
