//! What a plugin adds to a plan reaches the engine in Pulumi's forms: function
//! sources as archives (paths taken from the config directory), and whole
//! resources exported as resource references. (One plugin per test binary: every
//! plugin library exports the same entry symbol.)

use std::collections::BTreeSet;
use std::path::Path;

use billing_aggregator::BillingAggregator;
use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra::plugin::{Mode, PluginContext};
use cpg_infra_azure::AzureProvider;
use cpg_infra_gcp::GcpProvider;
use cpg_infra_mock_engine::MockOptions;
use cpg_infra_pulumi::wire;
use prost_types::Value as Wire;
use prost_types::value::Kind;

use super::support::{deploy_with, mock_for, reference_dir};

/// `small-plugins` planned with the billing aggregator in-process, as the loader
/// would run it.
pub fn plan_with_aggregator(dir: &Path) -> Graph {
    let mut config = load_dir(dir).unwrap_or_else(|invalid| panic!("{}: {invalid}", dir.display()));
    config.infrastructure.plugins_enabled = vec!["billing_aggregator".to_owned()];
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .with_plugin(Box::new(BillingAggregator::default()))
        .with_plugin_context(PluginContext {
            config_dir: Some(dir.to_owned()),
            mode: Mode::Plan,
        })
        .build()
        .unwrap_or_else(|error| panic!("build failed: {error:?}"))
}

fn field<'w>(value: &'w Wire, name: &str) -> Option<&'w Wire> {
    match &value.kind {
        Some(Kind::StructValue(s)) => s.fields.get(name),
        _ => None,
    }
}

fn text(value: Option<&Wire>) -> Option<&str> {
    match value.and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) => Some(s),
        _ => None,
    }
}

#[test]
fn plugin_resources_reach_the_engine_with_archives_and_resource_references() {
    let dir = reference_dir().join("small-plugins");
    let graph = plan_with_aggregator(&dir);
    for dry_run in [false, true] {
        let mock = mock_for(
            &graph,
            MockOptions {
                dry_run,
                ..MockOptions::default()
            },
        );
        let deployed = deploy_with(&graph, &mock, 8, Some(&dir)).expect("deploys");
        assert_eq!(deployed.resources, graph.len());
        let recorded = mock.recorded();
        let names: BTreeSet<(String, String)> = recorded.registrations[1..]
            .iter()
            .map(|r| (r.r#type.clone(), r.name.clone()))
            .collect();
        assert_eq!(names.len(), graph.len(), "each resource once");

        // Each function's source goes out as an archive whose directory is under
        // the config directory (the sources are payload: absent here).
        let sources: Vec<_> = recorded.registrations[1..]
            .iter()
            .filter(|r| r.r#type == "gcp:storage/bucketObject:BucketObject")
            .filter_map(|r| r.object.as_ref()?.fields.get("source"))
            .collect();
        assert_eq!(sources.len(), 3, "the aggregator's three function sources");
        for source in sources {
            assert_eq!(text(field(source, wire::SIG_KEY)), Some(wire::ARCHIVE_SIG));
            let path = text(field(source, "path")).expect("a directory archive");
            assert!(Path::new(path).starts_with(&dir), "{path}");
        }

        // Exports of whole resources are references to them.
        let exports = recorded.outputs.last().expect("exports");
        let exported = exports.outputs.as_ref().expect("outputs");
        let function = &exported.fields["gcp_cost_reporting_cloud_function"];
        assert_eq!(
            text(field(function, wire::SIG_KEY)),
            Some(wire::RESOURCE_SIG)
        );
        let urn = text(field(function, "urn")).expect("urn");
        assert!(
            urn.ends_with(
                "::gcp:cloudfunctionsv2/function:Function::gcp-cost-reporting-cloud-function"
            ),
            "{urn}"
        );
        assert_eq!(
            wire::contains_unknown(field(function, "id").expect("id")),
            dry_run
        );
    }
}
