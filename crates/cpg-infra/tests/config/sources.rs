//! Where a loaded configuration came from: the positions `load_dir` records, and
//! validating the loaded values again with the same files and lines.

use cpg_infra::config::source::KeyPath;
use cpg_infra::config::{
    Config, ConfigSources, CpgDatasetConfig, DatasetGcpConfig, SourcePosition, validate,
};
use cpg_infra::driver::{CpgInfrastructure, Origin};

use super::support::ConfigDir;

fn at(file: &str, line: u32) -> SourcePosition {
    SourcePosition {
        file: file.to_owned(),
        line,
    }
}

fn path(keys: &[&str]) -> KeyPath {
    keys.iter()
        .fold(KeyPath::root(), |path, key| path.key(*key))
}

fn sources(config: &Config) -> &ConfigSources {
    config
        .infrastructure
        .sources
        .as_deref()
        .expect("load_dir records the files")
}

#[test]
fn load_dir_records_where_each_dataset_and_the_infrastructure_table_are() {
    let dir = ConfigDir::valid();
    let config = dir.load().expect("valid");
    let sources = sources(&config);
    assert_eq!(sources.infrastructure(), at("cpg.toml", 1));
    let datasets: Vec<(&str, SourcePosition)> = sources.datasets().collect();
    assert_eq!(
        datasets,
        [
            ("common", at("production.yaml", 1)),
            ("fewgenomes", at("production.yaml", 5)),
            ("validation", at("production.yaml", 8)),
        ]
    );
    assert_eq!(
        sources.dataset("validation"),
        Some(at("production.yaml", 8))
    );
    assert_eq!(sources.dataset("fewgenomez"), None);
    assert_eq!(at("production.yaml", 8).to_string(), "production.yaml:8");
}

#[test]
fn each_part_of_the_build_is_defined_at_its_dataset_or_the_infrastructure_table() {
    let dir = ConfigDir::valid();
    let config = dir.load().expect("valid");
    let sources = sources(&config);
    assert_eq!(
        Origin::Dataset("validation".into()).position(sources),
        Some(at("production.yaml", 8))
    );
    assert_eq!(
        Origin::Organisation.position(sources),
        Some(at("cpg.toml", 1))
    );
    assert_eq!(
        Origin::AfterDatasets.position(sources),
        Some(at("cpg.toml", 1))
    );
    assert_eq!(Origin::Dataset("fewgenomez".into()).position(sources), None);
}

#[test]
fn values_are_found_in_the_file_that_gives_them() {
    let dir = ConfigDir::valid();
    let config = dir.load().expect("valid");
    let sources = sources(&config);
    // The members come from the dataset's own file.
    assert_eq!(
        sources.dataset_value("fewgenomes", &path(&["members", "analysis"]).index(0)),
        Some(at("datasets/fewgenomes/members.yaml", 4))
    );
    assert_eq!(
        sources.dataset_value("validation", &path(&["depends_on"]).index(0)),
        Some(at("production.yaml", 13))
    );
    assert_eq!(
        sources.infrastructure_value(&path(&["gcp", "region"])),
        Some(at("cpg.toml", 10))
    );
    // A default the files do not give, and a dataset they do not define.
    assert_eq!(
        sources.dataset_value("fewgenomes", &path(&["archive_age"])),
        None
    );
    assert_eq!(
        sources.dataset_value("fewgenomez", &path(&["members"])),
        None
    );
    assert_eq!(
        sources.infrastructure_value(&path(&["gcp", "budget_notification_pubsub"])),
        None
    );
}

#[test]
fn the_infrastructure_table_is_found_below_comments_and_at_the_top_level() {
    let dir = ConfigDir::valid();
    let cpg_toml = std::fs::read_to_string(dir.path().join("cpg.toml")).expect("read");
    dir.write("cpg.toml", &format!("# The organisation.\n\n{cpg_toml}"));
    let config = dir.load().expect("valid");
    assert_eq!(sources(&config).infrastructure(), at("cpg.toml", 3));

    // Settings at the top level: the file itself.
    let top_level = cpg_toml
        .replace("[infrastructure]\n", "")
        .replace("[infrastructure.", "[");
    dir.write("cpg.toml", &top_level);
    let config = dir.load().expect("valid");
    assert_eq!(sources(&config).infrastructure(), at("cpg.toml", 1));
}

#[test]
fn a_config_built_in_code_has_no_sources() {
    let config = cpg_infra::synthetic::synthetic_config(3, 1);
    assert!(config.infrastructure.sources.is_none());
    assert!(
        CpgInfrastructure::new(config.infrastructure, config.datasets)
            .expect("valid")
            .config()
            .sources
            .is_none()
    );
}

/// A config with a warning from each place: a value in `production.yaml`, one in a
/// dataset's own file, one in `cpg.toml`, and one about the directory itself.
fn with_warnings() -> ConfigDir {
    let dir = ConfigDir::valid();
    dir.append("production.yaml", "  depends_on_readonly: [fewgenomes]\n");
    dir.write(
        "datasets/common/budgets.yaml",
        "gcp:\n  monthly_budget: 500\n  currency: USD\n",
    );
    dir.replace(
        "cpg.toml",
        "plugins_enabled = []",
        "plugins_enabled = [\"metamist\"]",
    );
    dir.write("datasets/README.md", "# One directory per dataset\n");
    dir
}

#[test]
fn validating_a_loaded_config_again_gives_the_same_warnings_with_their_lines() {
    let dir = with_warnings();
    let config = dir.load().expect("warnings only");
    assert!(config.warnings.len() >= 4, "{:#?}", config.warnings);
    // Every warning but the directory's names its line.
    let (directory, values): (Vec<_>, Vec<_>) = config
        .warnings
        .iter()
        .partition(|w| w.file == "datasets/README.md");
    assert_eq!(directory.len(), 1, "{:#?}", config.warnings);
    assert!(values.iter().all(|w| w.line.is_some()), "{values:#?}");
    assert_eq!(
        validate(&config.infrastructure, &config.datasets).expect("warnings only"),
        config.warnings
    );
    let infra = CpgInfrastructure::new(config.infrastructure.clone(), config.datasets.clone())
        .expect("warnings only");
    assert_eq!(infra.warnings(), config.warnings);
    assert_eq!(
        CpgInfrastructure::from_validated(config.clone()).warnings(),
        config.warnings
    );
}

#[test]
fn errors_made_in_code_after_loading_are_located() {
    let dir = ConfigDir::valid();
    let mut config = dir.load().expect("valid");
    // An unknown dependency on a dataset of the files, and a dataset added in code.
    let fewgenomes = config
        .datasets
        .iter_mut()
        .find(|d| d.dataset == "fewgenomes")
        .expect("fewgenomes");
    fewgenomes.depends_on.push("fewgenomez".into());
    config.datasets.push(
        CpgDatasetConfig::builder()
            .dataset("added")
            .gcp(DatasetGcpConfig::builder().project("added-project").build())
            .depends_on(vec!["nowhere".into()])
            .build(),
    );
    let invalid = validate(&config.infrastructure, &config.datasets).expect_err("unknown datasets");
    let located: Vec<(String, String, Option<u32>)> = invalid
        .errors()
        .filter(|d| d.path.to_string().starts_with("depends_on") || d.file == "production.yaml")
        .map(|d| (d.file.clone(), d.path.to_string(), d.line))
        .collect();
    assert!(
        located.contains(&(
            "production.yaml".into(),
            "fewgenomes.depends_on[0]".into(),
            Some(5)
        )),
        "{located:#?}"
    );
    assert!(
        located.contains(&(
            "dataset config \"added\"".into(),
            "depends_on[0]".into(),
            None
        )),
        "{located:#?}"
    );
}
