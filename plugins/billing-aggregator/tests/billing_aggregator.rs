//! The billing aggregator in-process against a mock host, and run by the driver
//! against the reference (`parity`).

#[path = "billing_aggregator/parity.rs"]
mod parity;

use billing_aggregator::BillingAggregator;
use cpg_infra::config::{Config, load_dir};
use cpg_infra::graph::{Archive, ResourceId, Value};
use cpg_infra_plugin_api::sdk::{LogLevel, Mode, Plugin, PluginContext, PluginError};
use cpg_infra_plugin_api::testing::MockHost;

use cpg_infra_reference::reference_dir;

fn config() -> Config {
    let dir = reference_dir().join("small-plugins");
    load_dir(&dir).unwrap_or_else(|e| panic!("{}: {:?}", dir.display(), e.diagnostics))
}

/// A config directory holding function sources with the given files.
/// Removed when dropped, also when the test fails.
fn sources(label: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let temp = tempfile::Builder::new()
        .prefix(&format!("billing-aggregator-{label}-"))
        .tempdir()
        .expect("temporary directory");
    let root = temp.path();
    for group in ["aggregate", "gcp_cost_control", "gcp_cost_report_slack_bot"] {
        std::fs::create_dir_all(root.join("functions/billing_aggregator").join(group))
            .expect("mkdir");
    }
    for (path, text) in files {
        std::fs::write(root.join("functions/billing_aggregator").join(path), text).expect("write");
    }
    temp
}

fn run(host: &mut MockHost) -> Result<(), PluginError> {
    let mut plugin = BillingAggregator::default();
    plugin.main(host)?;
    host.finalise_groups();
    plugin.on_group_finalisation(host)
}

#[test]
fn without_an_aggregator_nothing_is_declared() {
    let mut config = config();
    if let Some(billing) = config.infrastructure.billing.as_mut() {
        billing.aggregator = None;
    }
    let mut host = MockHost::new(config);
    run(&mut host).expect("runs");
    assert!(host.graph().is_empty());
    assert_eq!(
        host.log_lines(),
        [(
            LogLevel::Info,
            "billing.aggregator is not configured: the billing aggregator declares nothing"
                .to_owned()
        )]
    );
}

#[test]
fn missing_sources_warn_when_planning_and_fail_when_deploying() {
    let root = std::env::temp_dir().join("billing-aggregator-nowhere");
    let mut planning = MockHost::new(config()).with_context(PluginContext {
        config_dir: Some(root.clone()),
        mode: Mode::Plan,
    });
    run(&mut planning).expect("planning goes on");
    assert_eq!(planning.graph().len(), 25);
    let warning = &planning.log_lines()[0];
    assert_eq!(warning.0, LogLevel::Warning);
    assert!(
        warning.1.starts_with("function sources not found: "),
        "{warning:?}"
    );
    let object = planning
        .graph()
        .get(&ResourceId::new(
            "gcp:storage/bucketObject:BucketObject",
            "billing-gcp-cost-control-source-code",
        ))
        .expect("archive object");
    assert_eq!(
        object.inputs["source"],
        Value::Archive(Archive::Directory {
            path: "functions/billing_aggregator/gcp_cost_control".into()
        })
    );

    let mut deploying = MockHost::new(config()).with_context(PluginContext {
        config_dir: Some(root),
        mode: Mode::Deploy,
    });
    let error = run(&mut deploying).expect_err("deploying needs the sources");
    assert!(
        error
            .to_string()
            .starts_with("function sources not found: "),
        "{error}"
    );
    assert!(
        deploying.graph().is_empty(),
        "nothing is declared before the check"
    );
}

#[test]
fn sources_are_archived_with_their_hashes_and_the_schema_is_read() {
    let root = sources(
        "present",
        &[
            ("aggregate/gcp.py", "print('gcp')\n"),
            ("aggregate/aggregate_schema.json", "[]\n"),
            ("aggregate/README.md", "not archived"),
            ("gcp_cost_control/main.py", ""),
        ],
    );
    let mut host = MockHost::new(config()).with_context(PluginContext {
        config_dir: Some(root.path().to_path_buf()),
        mode: Mode::Deploy,
    });
    run(&mut host).expect("runs");
    let archive = host
        .graph()
        .get(&ResourceId::new(
            "gcp:storage/bucketObject:BucketObject",
            "billing-aggregator-functions-source-code",
        ))
        .expect("archive")
        .to_json();
    let assets = &archive["inputs"]["source"]["$archive"]["assets"];
    assert_eq!(
        assets
            .as_object()
            .map(|a| a.keys().cloned().collect::<Vec<_>>()),
        Some(vec![
            "aggregate_schema.json".to_owned(),
            "gcp.py".to_owned()
        ])
    );
    assert_eq!(
        assets["gcp.py"]["$asset"]["path"],
        "functions/billing_aggregator/aggregate/gcp.py"
    );
    assert_eq!(assets["gcp.py"]["$asset"]["size"], 13);
    let table = host
        .graph()
        .get(&ResourceId::new(
            "gcp:bigquery/table:Table",
            "billing-aggregate-table",
        ))
        .expect("table");
    assert_eq!(table.inputs["schema"], Value::from("[]\n"));
    root.close().expect("clean up");
}

#[test]
fn a_table_outside_the_billing_project_is_an_error() {
    let mut config = config();
    if let Some(aggregator) = config
        .infrastructure
        .billing
        .as_mut()
        .and_then(|b| b.aggregator.as_mut())
    {
        aggregator.destination_bq_table = "elsewhere.billing_aggregate.aggregate".into();
    }
    let error = run(&mut MockHost::new(config)).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "billing.aggregator.destination_bq_table \"elsewhere.billing_aggregate.aggregate\" is not in the billing project \"billing-admin-290403\""
    );
}

#[test]
fn an_interval_that_does_not_divide_a_day_is_a_warning() {
    let mut config = config();
    if let Some(aggregator) = config
        .infrastructure
        .billing
        .as_mut()
        .and_then(|b| b.aggregator.as_mut())
    {
        aggregator.interval_hours = 5;
    }
    let mut host = MockHost::new(config);
    run(&mut host).expect("runs");
    assert!(
        host.log_lines()
            .iter()
            .any(|(level, message)| *level == LogLevel::Warning
                && message.starts_with("the aggregation interval (5 hours) does not divide a day"))
    );
    let job = host
        .graph()
        .get(&ResourceId::new(
            "gcp:cloudscheduler/job:Job",
            "billing-aggregator-scheduler-job-hail",
        ))
        .expect("job");
    assert_eq!(job.inputs["schedule"], Value::from("2 */5 * * *"));
}

#[test]
fn a_second_build_with_the_same_instance_declares_everything_again() {
    let mut plugin = BillingAggregator::default();
    for _ in 0..2 {
        let mut host = MockHost::new(config());
        plugin.main(&mut host).expect("runs");
        assert_eq!(host.graph().len(), 25);
    }
}
