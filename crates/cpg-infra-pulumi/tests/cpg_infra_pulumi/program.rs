//! `CpgInfrastructure::main()` through the extension trait.

use cpg_infra::config::load_dir;
use cpg_infra::driver::{BuildError, CpgInfrastructure};
use cpg_infra_azure::AzureProvider;
use cpg_infra_gcp::GcpProvider;
use cpg_infra_mock_engine::MockOptions;
use cpg_infra_pulumi::proto::LogSeverity;
use cpg_infra_pulumi::{DeployOptions, MainError, PulumiMain};

use super::support::{example_dir, mock_for, plan};

#[test]
fn main_builds_and_deploys_the_infrastructure() {
    let graph = plan(&example_dir());
    let mock = mock_for(&graph, MockOptions::default());
    let config = load_dir(example_dir()).expect("valid");
    let deployed = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .deploy_to(mock.settings(8), &DeployOptions::default())
        .expect("deploys");
    assert_eq!(deployed.resources, graph.len());
    assert_eq!(mock.recorded().registrations.len(), graph.len() + 1);
}

#[test]
fn a_build_error_is_logged_and_nothing_is_registered() {
    let graph = plan(&example_dir());
    let mock = mock_for(&graph, MockOptions::default());
    let config = load_dir(example_dir()).expect("valid");
    // No GCP cloud: the datasets deploy to GCP.
    let error = CpgInfrastructure::from_validated(config)
        .deploy_to(mock.settings(8), &DeployOptions::default())
        .expect_err("cannot build");
    assert!(
        matches!(error, MainError::Build(BuildError::NoProvider(_))),
        "{error:?}"
    );
    let recorded = mock.recorded();
    assert!(recorded.registrations.is_empty());
    assert!(
        recorded
            .logs
            .iter()
            .any(|l| l.severity == LogSeverity::Error as i32
                && l.message.contains("no cloud provider")),
        "{:?}",
        recorded.logs
    );
}

#[test]
fn main_outside_pulumi_says_which_variable_is_missing() {
    // The test process is not started by a language host.
    if std::env::var_os("PULUMI_MONITOR").is_some() {
        return;
    }
    let config = load_dir(example_dir()).expect("valid");
    let error = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .with_cloud(AzureProvider)
        .main()
        .expect_err("no engine");
    assert_eq!(
        cpg_infra_pulumi::chain(&error),
        "not started by the Pulumi engine: PULUMI_MONITOR is not set: deploy runs as a Pulumi program, started by `pulumi preview` or `pulumi up`"
    );
}
