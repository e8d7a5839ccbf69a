//! The billing aggregator, run in-process by the driver, plans `small-plugins` as the
//! reference did (see `cpg_infra_test_support::plugin_parity` for what is compared).

use billing_aggregator::BillingAggregator;
use cpg_infra::graph::Value as GraphValue;
use cpg_infra::plugin::LogLevel;
use cpg_infra_test_support::plugin_parity::{REFERENCE_PLUGIN_RESOURCES, compare};

/// The billing aggregator's resources; metamist declares the rest of the reference's.
const RESOURCES: usize = 25;

#[test]
fn the_billing_aggregator_matches_the_reference() {
    let compared = compare(Box::new(BillingAggregator::default()));
    assert_eq!(
        compared.added.len(),
        RESOURCES,
        "the billing aggregator's {RESOURCES} resources (of the reference plugins' {REFERENCE_PLUGIN_RESOURCES})"
    );

    // The exports of whole resources name the reference's resources.
    for name in [
        "gcp_cost_control_cloud_function",
        "gcp_cost_reporting_cloud_function",
        "gcp_cost_reporting_cloud_scheduler_job",
    ] {
        let urn = compared.recorded["exports"][name]["urn"]
            .as_str()
            .expect("urn");
        let mine = compared
            .graph
            .exports()
            .get(name)
            .unwrap_or_else(|| panic!("export {name}"));
        let GraphValue::Output(output) = mine else {
            panic!("{name}: {mine:?}")
        };
        assert_eq!(output.property, "", "{name} exports the whole resource");
        assert!(
            urn.ends_with(&format!("::{}", output.resource)),
            "{name}: {urn} vs {}",
            output.resource
        );
    }

    if !compared.with_payload {
        // Without the payload: three archives by path, the aggregate table's schema
        // absent, and a warning that says so.
        let unchecked = &compared.unchecked;
        assert_eq!(unchecked.archives_by_path.len(), 3, "{unchecked:#?}");
        assert_eq!(
            unchecked.absent_inputs,
            ["gcp:bigquery/table:Table::billing-aggregate-table: input schema"]
        );
        let log = &compared.log;
        assert!(
            log.iter()
                .any(|(level, message)| *level == LogLevel::Warning
                    && message.starts_with("function sources not found: ")),
            "{log:#?}"
        );
    }
}
