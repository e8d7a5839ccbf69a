//! Source positions: each registration and read points at the config line that
//! declared the resource, as Pulumi's Python SDK points at the program line.

use std::path::Path;

use cpg_infra::config::load_dir;
use cpg_infra::driver::{CpgInfrastructure, Origin, Origins};
use cpg_infra::graph::{Graph, Resource, ResourceOptions};
use cpg_infra_mock_engine::MockOptions;
use cpg_infra_pulumi::proto::SourcePosition;
use cpg_infra_pulumi::{DeployOptions, ProgramOptions, PulumiMain, Session, SourcePositions};
use cpg_infra_test_support::copy_dir;

use super::support::{build, example_dir, mock_for};

/// The 1-based line of `file` whose text is exactly `line`.
fn line_of(file: &Path, line: &str) -> i32 {
    let text = std::fs::read_to_string(file).expect("config file");
    let index = text
        .lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{}: no line {line:?}", file.display()));
    i32::try_from(index + 1).expect("a short file")
}

/// `file://` and the absolute `path`, its spaces as `%20`; the test's paths hold
/// no other character a URI escapes.
fn uri(path: &Path) -> String {
    let text = path.to_str().expect("a UTF-8 path");
    assert!(text.starts_with('/'), "{text}");
    assert!(
        text.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-~ ".contains(c)),
        "{text}"
    );
    format!("file://{}", text.replace(' ', "%20"))
}

/// The position at line `line` of `file`.
fn at(file: &Path, line: i32) -> Option<SourcePosition> {
    Some(SourcePosition {
        uri: uri(file),
        line,
        column: 0,
    })
}

#[test]
fn every_registration_points_at_the_config_line_that_declared_it() {
    // A directory with a space in its name: the URI escapes it as Python's
    // `Path.as_uri` does.
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("cpg config");
    copy_dir(&example_dir(), &dir);
    let built = build(&dir);
    let mock = mock_for(&built.graph, MockOptions::default());
    let config = load_dir(&dir).expect("valid");
    CpgInfrastructure::from_validated(config)
        .deploy_to(mock.settings(8), &ProgramOptions::default())
        .expect("deploys");
    let recorded = mock.recorded();

    let cpg_toml = dir.join("cpg.toml");
    let production = dir.join("production.yaml");
    let infrastructure = at(&cpg_toml, line_of(&cpg_toml, "[infrastructure]"));
    assert_eq!(recorded.registrations[0].source_position, None, "the root");
    let mut seen = std::collections::HashSet::new();
    for request in &recorded.registrations[1..] {
        let id = cpg_infra::graph::ResourceId::new(request.r#type.as_str(), request.name.as_str());
        let origin = built.origins.resource(&id).expect("declared by the build");
        let expected = match origin {
            Origin::Dataset(name) => at(&production, line_of(&production, &format!("{name}:"))),
            Origin::Organisation | Origin::AfterDatasets => infrastructure.clone(),
        };
        assert_eq!(request.source_position, expected, "{id} ({origin})");
        seen.insert(std::mem::discriminant(origin));
    }
    assert_eq!(seen.len(), 3, "resources of every part of the build");

    // A dataset's group is at the dataset's key.
    let group = recorded
        .registrations
        .iter()
        .find(|r| r.name == "cardiac-gcp-full-group")
        .expect("the cardiac group");
    assert_eq!(
        group.source_position,
        at(&production, line_of(&production, "cardiac:"))
    );
    assert_eq!(
        infrastructure.expect("a position").line,
        4,
        "the example's [infrastructure] line"
    );
}

#[test]
fn a_config_built_in_code_sends_no_source_position() {
    let built = build(&example_dir());
    let mock = mock_for(&built.graph, MockOptions::default());
    let mut config = load_dir(example_dir()).expect("valid");
    // What a config built in code lacks: the files it came from.
    config.infrastructure.sources = None;
    config.infrastructure.config_dir = None;
    let deployed = CpgInfrastructure::from_validated(config)
        .deploy_to(mock.settings(8), &ProgramOptions::default())
        .expect("deploys");
    let recorded = mock.recorded();
    assert_eq!(recorded.registrations.len(), deployed.resources + 1);
    let positioned: Vec<&str> = recorded
        .registrations
        .iter()
        .filter(|r| r.source_position.is_some())
        .map(|r| r.name.as_str())
        .collect();
    assert!(positioned.is_empty(), "{positioned:?}");
}

#[test]
fn a_read_carries_its_position_and_a_resource_of_no_part_of_the_build_none() {
    let dir = example_dir();
    let config = load_dir(&dir).expect("valid");
    let sources = config.infrastructure.sources.clone().expect("from files");
    let mut graph = Graph::new();
    let read = graph
        .declare(
            Resource::new("gcp:storage/bucket:Bucket", "existing")
                .input("name", "exg-existing")
                .options(ResourceOptions {
                    id: Some("exg-existing".to_owned()),
                    ..ResourceOptions::default()
                }),
        )
        .expect("read");
    graph
        .declare(Resource::new("gcp:storage/bucket:Bucket", "by-hand").input("name", "exg-hand"))
        .expect("registered");
    let mut origins = Origins::default();
    origins.set_resource(read, Origin::Dataset("renal".into()));
    let positions =
        SourcePositions::from_config(&graph, &origins, &sources, &dir).expect("positions");
    assert_eq!(positions.len(), 1);

    let mock = mock_for(&graph, MockOptions::default());
    let session = Session::connect(mock.settings(4)).expect("connects");
    let options = DeployOptions {
        source_positions: positions,
        ..DeployOptions::default()
    };
    let deployed = session.deploy(&graph, &options).expect("deploys");
    assert_eq!((deployed.resources, deployed.reads), (1, 1));
    let recorded = mock.recorded();
    let production = dir.join("production.yaml");
    assert_eq!(
        recorded.reads[0].source_position,
        at(&production, line_of(&production, "renal:"))
    );
    assert_eq!(recorded.registrations[1].name, "by-hand");
    assert_eq!(recorded.registrations[1].source_position, None);
}
