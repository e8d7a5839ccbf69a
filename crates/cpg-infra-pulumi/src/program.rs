//! `CpgInfrastructure::main()`: build the graph, then deploy it through the engine
//! that started the process.

use cpg_infra::driver::{BuildError, CpgInfrastructure};

use crate::error::{DeployError, chain};
use crate::session::{DeployOptions, Deployed, Session, Severity};
use crate::settings::{EngineSettings, SettingsError};

/// Why `main()` did not deploy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MainError {
    /// The process was not started the way a language host starts a program.
    #[error("not started by the Pulumi engine")]
    Settings(#[from] SettingsError),
    /// The infrastructure could not be built (nothing was registered).
    #[error("cannot build the infrastructure")]
    Build(#[from] BuildError),
    /// The deployment failed.
    #[error("cannot deploy")]
    Deploy(#[from] DeployError),
}

/// Deploying a [`CpgInfrastructure`] through the Pulumi engine: brings
/// `infra.main()` into scope.
///
/// ```no_run
/// use cpg_infra::driver::CpgInfrastructure;
/// use cpg_infra_pulumi::PulumiMain;
///
/// # fn run(config: cpg_infra::config::Config) -> Result<(), Box<dyn std::error::Error>> {
/// let infra = CpgInfrastructure::new(config.infrastructure, config.datasets)?
///     .with_cloud(cpg_infra_gcp::GcpProvider);
/// infra.main()?;
/// # Ok(()) }
/// ```
pub trait PulumiMain {
    /// Builds every resource, then registers them with the engine whose address
    /// the environment gives (`pulumi preview` / `pulumi up`), with the default
    /// provider versions. A build error is sent to the engine's log before it is
    /// returned; nothing is registered then.
    fn main(&self) -> Result<Deployed, MainError> {
        self.main_with(&DeployOptions::default())
    }

    /// [`PulumiMain::main`] with explicit options (e.g. other provider versions).
    fn main_with(&self, options: &DeployOptions) -> Result<Deployed, MainError> {
        self.deploy_to(EngineSettings::from_env()?, options)
    }

    /// [`PulumiMain::main_with`] for the engine `settings` name, rather than the
    /// one the environment names.
    fn deploy_to(
        &self,
        settings: EngineSettings,
        options: &DeployOptions,
    ) -> Result<Deployed, MainError>;
}

impl PulumiMain for CpgInfrastructure {
    fn deploy_to(
        &self,
        settings: EngineSettings,
        options: &DeployOptions,
    ) -> Result<Deployed, MainError> {
        let session = Session::connect(settings)?;
        let graph = match self.build() {
            Ok(graph) => graph,
            Err(error) => {
                // Best effort: the build error is returned either way.
                let _ = session.log(Severity::Error, &chain(&error));
                return Err(error.into());
            }
        };
        Ok(session.deploy(&graph, options)?)
    }
}
