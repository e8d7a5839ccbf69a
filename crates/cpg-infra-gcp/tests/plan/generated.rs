//! Generated configs with every feature in play: validation accepts them, the plan
//! builds, every token and input passes the provider schema check, and no logical
//! name is declared twice.

use std::collections::BTreeSet;

use cpg_infra::config::validate;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::synthetic::{Features, synthetic_config_with};
use cpg_infra_gcp::GcpProvider;
use cpg_infra_provider_schemas::Schemas;
use proptest::prelude::*;

use super::support::features;

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn generated_configs_plan_and_hold_against_the_provider_schemas(
        datasets in 1usize..14,
        seed in any::<u64>(),
        features in features(),
    ) {
        let config = synthetic_config_with(datasets, seed, features);
        // Accepted: warnings (notebook temporary access without notebooks) are fine.
        let warnings = validate(&config.infrastructure, &config.datasets);
        prop_assert!(warnings.is_ok(), "{:#?}", warnings.err().map(|e| e.diagnostics));
        let graph = CpgInfrastructure::new(config.infrastructure, config.datasets)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?
            .with_cloud(GcpProvider)
            .build()
            .map_err(|e| TestCaseError::fail(format!("build: {e:?}")))?;
        let report = Schemas::pinned().map_err(|e| TestCaseError::fail(e.to_string()))?.check(&graph);
        prop_assert!(report.is_clean(), "{}", report);
        // Each (type, name) once: the graph refuses a second declaration, and holds
        // as many distinct ids as resources.
        let ids: BTreeSet<String> = graph.resources().iter().map(|r| r.id.to_string()).collect();
        prop_assert_eq!(ids.len(), graph.len());
    }
}

#[test]
fn every_feature_plans_together() {
    let config = synthetic_config_with(14, 11, Features::all());
    let warnings = validate(&config.infrastructure, &config.datasets).expect("valid");
    let graph = CpgInfrastructure::new(config.infrastructure, config.datasets)
        .expect("valid")
        .with_cloud(GcpProvider)
        .build()
        .expect("plan");
    let report = Schemas::pinned().expect("schemas").check(&graph);
    assert!(report.is_clean(), "{report}");
    let has = |token: &str| graph.resources().iter().any(|r| &*r.id.type_token == token);
    assert!(has("gcp:privilegedaccessmanager/entitlement:entitlement"));
    assert!(
        graph
            .resources()
            .iter()
            .any(|r| r.id.name.ends_with("-reviewers-group"))
    );
    eprintln!("{} resources, {} warnings", graph.len(), warnings.len());
}
