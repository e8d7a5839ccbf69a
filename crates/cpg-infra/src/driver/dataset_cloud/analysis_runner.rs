//! The analysis-runner component: config viewers, and Cloud Run invocation for the
//! analysis group.

use crate::cloud::Member;

use super::super::groups::GroupMember;
use super::super::organisation::config_viewer_group;
use super::{BuildError, CpgDatasetCloudInfrastructure};

impl CpgDatasetCloudInfrastructure<'_> {
    pub(super) fn setup_analysis_runner(&mut self) -> Result<(), BuildError> {
        // The config viewers are a Google group over the GCP config bucket: only the
        // dataset's GCP groups can join it.
        if !self.is_gcp() {
            return Ok(());
        }
        let viewers = config_viewer_group(self.state)?;
        let mut groups = vec!["analysis"];
        groups.extend(self.access_levels());
        for suffix in groups {
            let group = self.group(suffix)?;
            // The reference uses this key as the logical name as it is.
            let key = format!("{group}-analysis-runner-config-viewer-group");
            // The viewers group is organisation-wide, on GCP.
            self.state.groups.add_member(
                crate::config::CloudName::Gcp,
                &viewers,
                key,
                GroupMember::Group(group),
            )?;
        }
        if let Some(runner) = self.state.config.analysis_runner.clone() {
            let analysis: Member = self.group_as_member("analysis")?;
            self.declare(|cloud, graph| {
                cloud.add_cloudrun_invoker(
                    graph,
                    "analysis-runner-analysis-invoker",
                    &runner.gcp.cloud_run_instance_name,
                    &runner.gcp.project,
                    &analysis,
                )
            })?;
        }
        Ok(())
    }
}
