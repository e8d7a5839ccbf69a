//! The container-registry component: the images groups, the dataset's own
//! registries when it asks for them, and the analysis-runner registry for common.

use crate::cloud::{ContainerRegistryMembership, ResourceRef};
use crate::graph::Value;

use super::{BuildError, CpgDatasetCloudInfrastructure};

use ContainerRegistryMembership::{Reader, Writer};

impl CpgDatasetCloudInfrastructure<'_> {
    pub(super) fn setup_container_registry(&mut self) -> Result<(), BuildError> {
        self.setup_container_read_write_permissions()?;
        self.setup_dataset_container_registry()?;
        self.setup_analysis_runner_container_registry()
    }

    fn setup_container_read_write_permissions(&mut self) -> Result<(), BuildError> {
        self.nest(
            "images-writer",
            "standard-in-images-writer-group-member",
            "standard",
        )?;
        self.nest(
            "images-writer",
            "full-in-images-writer-group-member",
            "full",
        )?;
        // The reference's keys say "images-writer" for the dev writer group.
        self.nest(
            "images-dev-writer",
            "test-in-images-writer-group-member",
            "test",
        )?;
        self.nest(
            "images-dev-writer",
            "test-full-in-images-writer-group-member",
            "test-full",
        )?;

        let mut kinds = vec!["analysis"];
        kinds.extend(self.access_levels());
        for kind in kinds {
            self.nest(
                "images-reader",
                &format!("{kind}-in-images-reader-group-member"),
                kind,
            )?;
            // Test accounts also read development images. The reference meant this
            // but compared groups with names, so the group never got members.
            if kind == "test" {
                self.nest(
                    "images-dev-reader",
                    "test-in-images-dev-reader-group-member",
                    kind,
                )?;
            }
        }
        Ok(())
    }

    fn registry_member(
        &mut self,
        key: &str,
        registry: &ResourceRef,
        group: &str,
        membership: ContainerRegistryMembership,
        project: Option<Value>,
    ) -> Result<(), BuildError> {
        let member = self.group_as_member(group)?;
        self.declare(|cloud, graph| {
            cloud.add_member_to_container_registry(
                graph, key, registry, &member, membership, project,
            )
        })
    }

    fn setup_dataset_container_registry(&mut self) -> Result<(), BuildError> {
        if !self.dataset.create_container_registry {
            return Ok(());
        }
        let main = ResourceRef::Declared(
            self.declare(|cloud, graph| cloud.create_container_registry(graph, "images"))?,
        );
        let dev = ResourceRef::Declared(
            self.declare(|cloud, graph| cloud.create_container_registry(graph, "images-dev"))?,
        );
        let tmp = ResourceRef::Declared(
            self.declare(|cloud, graph| cloud.create_container_registry(graph, "images-tmp"))?,
        );
        for (key, registry, group, membership) in [
            (
                "images-reader-in-container-registry",
                &main,
                "images-reader",
                Reader,
            ),
            (
                "test-full-reader-in-container-registry",
                &main,
                "test-full",
                Reader,
            ),
            (
                "images-dev-reader-in-container-registry",
                &main,
                "images-dev-reader",
                Reader,
            ),
            (
                "images-writer-in-container-registry",
                &main,
                "images-writer",
                Writer,
            ),
            (
                "test-full-reader-in-dev-container-registry",
                &dev,
                "test-full",
                Reader,
            ),
            (
                "analysis-writer-in-dev-container-registry",
                &dev,
                "analysis",
                Writer,
            ),
            (
                "images-dev-reader-in-dev-container-registry",
                &dev,
                "images-dev-reader",
                Reader,
            ),
            (
                "images-dev-writer-in-dev-container-registry",
                &dev,
                "images-dev-writer",
                Writer,
            ),
            (
                "images-dev-reader-in-tmp-container-registry",
                &tmp,
                "images-dev-reader",
                Reader,
            ),
            (
                "images-dev-writer-in-tmp-container-registry",
                &tmp,
                "images-dev-writer",
                Writer,
            ),
        ] {
            self.registry_member(key, registry, group, membership, None)?;
        }
        Ok(())
    }

    fn setup_analysis_runner_container_registry(&mut self) -> Result<(), BuildError> {
        let Some(runner) = self.state.config.analysis_runner.clone() else {
            return Ok(());
        };
        if !self.is_gcp() || !self.is_common() {
            return Ok(());
        }
        let registry = ResourceRef::Named(runner.gcp.container_registry_name.clone());
        self.registry_member(
            "images-reader-in-analysis-runner",
            &registry,
            "images-reader",
            Reader,
            Some(Value::from(runner.gcp.project.as_str())),
        )
    }
}
