//! One dataset across its clouds: the reference's `CPGDatasetInfrastructure`.

use std::sync::Arc;

use crate::config::CpgDatasetConfig;
use crate::graph::Resource;

use super::{BuildError, CpgDatasetCloudInfrastructure, State};

/// Builds one dataset: its metamist projects, then each deploy location.
pub struct CpgDatasetInfrastructure<'s> {
    state: &'s mut State,
    dataset: Arc<CpgDatasetConfig>,
}

impl<'s> CpgDatasetInfrastructure<'s> {
    pub(crate) fn new(state: &'s mut State, dataset: Arc<CpgDatasetConfig>) -> Self {
        CpgDatasetInfrastructure { state, dataset }
    }

    /// Declares the dataset's resources on every cloud it deploys to.
    pub fn main(&mut self) -> Result<(), BuildError> {
        self.setup_metamist()?;
        for cloud in self.dataset.deploy_locations.clone() {
            CpgDatasetCloudInfrastructure::new(self.state, Arc::clone(&self.dataset), cloud)
                .main()?;
        }
        Ok(())
    }

    fn setup_metamist(&mut self) -> Result<(), BuildError> {
        if !self.dataset.enable_metamist_project {
            return Ok(());
        }
        let name = &self.dataset.dataset;
        let main = self.state.graph.declare(
            Resource::new(
                cpg_infra_kinds::METAMIST_PROJECT,
                format!("metamist-project-{name}"),
            )
            .input("project_name", name.as_str()),
        )?;
        let test = if self.dataset.setup_test {
            Some(
                self.state.graph.declare(
                    Resource::new(
                        cpg_infra_kinds::METAMIST_PROJECT,
                        format!("metamist-project-{name}-test"),
                    )
                    .input("project_name", format!("{name}-test")),
                )?,
            )
        } else {
            None
        };
        self.state
            .metamist_projects
            .insert(name.clone(), (main, test));
        Ok(())
    }
}
