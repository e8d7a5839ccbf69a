//! Realistic synthetic configurations of any size, for benchmarks, load tests and
//! property tests: a common dataset and `n - 1` others with people, dependencies on a
//! few shared datasets, uploads and a mix of flags. [`Features`] switches on what
//! the default configs leave out (temporary access, ad-hoc groups, component
//! subsets, dependencies between any datasets, a group prefix, every optional
//! feature often). The same `(n, seed, features)` gives the same config.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::config::{
    AdditionalUploadBucket, AdhocGroup, AnalysisRunnerConfig, AnalysisRunnerGcpConfig,
    BillingConfig, BillingGcpConfig, Budget, CloudIdentity, CloudName, Component, Config,
    CpgDatasetConfig, CpgInfrastructureConfig, CromwellConfig, CromwellGcpConfig,
    DataDropboxConfig, DataDropboxGcpConfig, DatasetGcpConfig, DefaultUploadBucket, GcpConfig,
    GroupName, HailConfig, HailGcpConfig, MetamistConfig, MetamistGcpConfig, NotebooksConfig,
    NotebooksGcpConfig, UploadConfig, UploadDropbox, User,
};

/// A small deterministic pseudo-random sequence (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// What synthetic configs use beyond the defaults. [`Features::default()`] gives
/// the benchmarks' configs; [`Features::all()`] switches everything on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Features {
    /// People in `tmp-main-read-access`, and datasets letting notebooks ask for
    /// temporary access (with or without the notebooks component).
    pub temporary_access: bool,
    /// Organisation-wide ad-hoc groups, one named after a dataset (`{dataset}-reviewers`).
    pub adhoc_groups: bool,
    /// Datasets with a random subset of the GCP components.
    pub component_subsets: bool,
    /// Dependencies between any datasets (on earlier ones), not only on the first ten.
    pub dependencies_everywhere: bool,
    /// Uploads and dropboxes, releases, shared projects and internal datasets on many
    /// datasets, so that small configs show each.
    pub frequent: bool,
    /// A group prefix, as a second stack in the same domain has.
    pub group_prefix: bool,
}

impl Features {
    /// Every feature.
    pub fn all() -> Self {
        Features {
            temporary_access: true,
            adhoc_groups: true,
            component_subsets: true,
            dependencies_everywhere: true,
            frequent: true,
            group_prefix: true,
        }
    }
}

/// The people of a synthetic organisation: about three per dataset.
fn users(count: usize, rng: &mut Rng) -> BTreeMap<String, User> {
    let mut users = BTreeMap::new();
    for i in 0..count {
        let key = format!("person.{i:05}");
        let mut identity = CloudIdentity::builder()
            .id(format!("{key}@example.org"))
            .build();
        if rng.chance(40) {
            identity.hail_batch_username = Some(format!("p{i:05}"));
        }
        let user = User::builder()
            .id(key.as_str())
            .clouds(BTreeMap::from([(CloudName::Gcp, identity)]))
            .can_access_internal_dataset_logs(rng.chance(5))
            .build();
        users.insert(key, user);
    }
    let uploader = CloudIdentity::builder()
        .id("uploader@partner.iam.gserviceaccount.com")
        .build();
    users.insert(
        "partner-uploader".into(),
        User::builder()
            .id("partner-uploader")
            .clouds(BTreeMap::from([(CloudName::Gcp, uploader)]))
            .build(),
    );
    users
}

fn infrastructure(users: BTreeMap<String, User>) -> CpgInfrastructureConfig {
    let sa = |name: &str, project: &str| format!("{name}@{project}.iam.gserviceaccount.com");
    CpgInfrastructureConfig::builder()
        .domain("example.org")
        .budget_currency("AUD")
        .common_dataset("common")
        .config_destination("gs://exg-config/deploy")
        .users(users)
        .gcp(
            GcpConfig::builder()
                .customer_id("C0example")
                .region("australia-southeast1")
                .groups_domain("example.org")
                .budget_notification_pubsub("projects/billing/topics/budgets")
                .config_bucket_name("exg-config")
                .dataset_storage_prefix("exg-")
                .build(),
        )
        .billing(
            BillingConfig::builder()
                .gcp(
                    BillingGcpConfig::builder()
                        .project_id("billing")
                        .account_id("01A-02B-03C")
                        .build(),
                )
                .coordinator_machine_account(sa("billing-coordinator", "billing"))
                .hail_aggregator_username("billing-aggregator")
                .build(),
        )
        .hail(
            HailConfig::builder()
                .gcp(
                    HailGcpConfig::builder()
                        .hail_batch_url("https://batch.example.org")
                        .hail_auth_url("https://auth.example.org")
                        .build(),
                )
                .build(),
        )
        .analysis_runner(AnalysisRunnerConfig {
            gcp: AnalysisRunnerGcpConfig::builder()
                .project("analysis-runner")
                .cloud_run_instance_name("server")
                .server_machine_account(sa("server", "analysis-runner"))
                .logger_machine_account(sa("logger", "analysis-runner"))
                .container_registry_name("images")
                .build(),
        })
        .notebooks(NotebooksConfig {
            gcp: NotebooksGcpConfig::builder().project("notebooks").build(),
        })
        .cromwell(CromwellConfig {
            gcp: CromwellGcpConfig::builder()
                .access_group_id("groups/cromwell")
                .runner_machine_account(sa("cromwell-runner", "cromwell"))
                .build(),
        })
        .metamist(
            MetamistConfig::builder()
                .gcp(
                    MetamistGcpConfig::builder()
                        .project("metamist")
                        .service_name("metamist-api")
                        .machine_account(sa("metamist", "metamist"))
                        .legacy_machine_account(sa("metamist-api", "metamist"))
                        .build(),
                )
                .build(),
        )
        .data_dropbox(DataDropboxConfig {
            gcp: DataDropboxGcpConfig::builder()
                .project("dropbox")
                .server_machine_account(sa("dropbox", "dropbox"))
                .build(),
        })
        .build()
}

fn dataset(
    index: usize,
    datasets: usize,
    people: &[String],
    features: Features,
    rng: &mut Rng,
) -> CpgDatasetConfig {
    let name = if index == 0 {
        "common".to_owned()
    } else {
        format!("ds{index:05}")
    };
    let mut members: BTreeMap<GroupName, Vec<String>> = BTreeMap::new();
    for group in [
        GroupName::DataManager,
        GroupName::Analysis,
        GroupName::MetadataAccess,
        GroupName::WebAccess,
    ] {
        let count = match group {
            GroupName::Analysis => 1 + rng.below(4),
            _ => rng.below(2),
        };
        let mut chosen: Vec<String> = (0..count)
            .map(|_| people[rng.below(people.len())].clone())
            .collect();
        chosen.sort();
        chosen.dedup();
        if !chosen.is_empty() {
            members.insert(group, chosen);
        }
    }
    // A few shared datasets (the first ten) are what most others depend on, as
    // reference panels are.
    let mut depends_on = Vec::new();
    let mut depends_on_readonly = Vec::new();
    if index > 10 && rng.chance(30) {
        depends_on_readonly.push(format!("ds{:05}", 1 + rng.below(10.min(datasets - 1))));
    }
    if index > 10 && rng.chance(10) {
        let target = format!("ds{:05}", 1 + rng.below(10));
        if !depends_on_readonly.contains(&target) {
            depends_on.push(target);
        }
    }
    let often = |rng: &mut Rng, usual: u64| rng.chance(if features.frequent { 60 } else { usual });
    let upload_config = (index > 0 && often(rng, 20)).then(|| {
        UploadConfig::builder()
            .default_bucket(
                DefaultUploadBucket::builder()
                    .uploaders(vec!["partner-uploader".into()])
                    .build(),
            )
            .additional_buckets(vec![
                AdditionalUploadBucket::builder().name("partner").build(),
            ])
            .dropboxes(vec![
                UploadDropbox::builder()
                    .id("drop")
                    .name("Partner dropbox")
                    .allowed_filetypes(vec!["cram".into()])
                    .uploaders(vec!["partner-uploader".into()])
                    .move_to_bucket("partner")
                    .build(),
            ])
            .build()
    });
    let enable_release = index > 0 && often(rng, 10);
    let mut budget = Budget::builder()
        .monthly_budget(100 + rng.below(10_000) as i64)
        .build();
    let enable_shared_project = enable_release && rng.chance(50);
    if enable_shared_project {
        budget.shared_total_budget = Some(1_000);
    }
    let mut config = CpgDatasetConfig::builder()
        .dataset(name.as_str())
        .gcp(
            DatasetGcpConfig::builder()
                .project(format!("exg-{name}"))
                .build(),
        )
        .budgets(BTreeMap::from([(CloudName::Gcp, budget)]))
        .members(members)
        .depends_on(depends_on)
        .depends_on_readonly(depends_on_readonly)
        .setup_test(index == 0 || rng.chance(80))
        .is_internal_dataset(often(rng, 10))
        .enable_release(enable_release)
        .enable_shared_project(enable_shared_project)
        .create_container_registry(index == 0)
        .archive_age(if rng.chance(20) { 30 } else { 0 })
        .autoclass(rng.chance(80))
        .build();
    config.upload_config = upload_config;
    add_features(&mut config, index, people, features, rng);
    config
}

/// What [`Features`] adds to a dataset; draws nothing when no feature is on, so the
/// default configs stay as they were.
fn add_features(
    config: &mut CpgDatasetConfig,
    index: usize,
    people: &[String],
    features: Features,
    rng: &mut Rng,
) {
    if features.temporary_access {
        if rng.chance(30) {
            let person = people[rng.below(people.len())].clone();
            config
                .members
                .insert(GroupName::TmpMainReadAccess, vec![person]);
        }
        config.allow_notebook_tmp_main_read = rng.chance(25);
    }
    if features.dependencies_everywhere && index >= 2 {
        for list in [0, 1] {
            if rng.chance(35) {
                let target = format!("ds{:05}", 1 + rng.below(index - 1));
                let taken = config.depends_on.contains(&target)
                    || config.depends_on_readonly.contains(&target);
                if !taken {
                    let list = if list == 0 {
                        &mut config.depends_on
                    } else {
                        &mut config.depends_on_readonly
                    };
                    list.push(target);
                }
            }
        }
    }
    if features.component_subsets && index > 0 && rng.chance(50) {
        let components: Vec<Component> = Component::ALL
            .iter()
            .copied()
            .filter(|_| rng.chance(60))
            .collect();
        config.components.insert(CloudName::Gcp, components);
    }
}

/// The most datasets a synthetic configuration holds: the common dataset and
/// `ds00001` to `ds99999`, whose names keep five digits so that they sort in order.
pub const MAX_DATASETS: usize = 100_000;

/// Why a synthetic configuration of some size is not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CountError {
    /// No datasets: a configuration has at least the common dataset.
    #[error("0 datasets: a config has at least one, the common dataset")]
    Zero,
    /// More datasets than the names hold.
    #[error(
        "{asked} datasets: a synthetic config holds at most {MAX_DATASETS} (common and ds00001 to ds99999)"
    )]
    TooMany {
        /// The number asked for.
        asked: usize,
    },
}

/// Checks that a synthetic configuration of `datasets` datasets can be made, before
/// anything is allocated for it.
pub fn check_dataset_count(datasets: usize) -> Result<(), CountError> {
    match datasets {
        0 => Err(CountError::Zero),
        n if n > MAX_DATASETS => Err(CountError::TooMany { asked: n }),
        _ => Ok(()),
    }
}

/// A synthetic configuration of `datasets` datasets (at least one: common).
pub fn synthetic_config(datasets: usize, seed: u64) -> Config {
    synthetic_config_with(datasets, seed, Features::default())
}

/// A synthetic configuration of `datasets` datasets (at least one: common) that
/// uses `features`.
pub fn synthetic_config_with(datasets: usize, seed: u64, features: Features) -> Config {
    let datasets = datasets.max(1);
    let mut rng = Rng(seed.max(1));
    let users = users(datasets * 3, &mut rng);
    let people: Vec<String> = users
        .keys()
        .filter(|k| k.starts_with("person."))
        .cloned()
        .collect();
    let configs: Vec<CpgDatasetConfig> = (0..datasets)
        .map(|i| dataset(i, datasets, &people, features, &mut rng))
        .collect();
    let mut infrastructure = infrastructure(users);
    if features.group_prefix {
        infrastructure.group_prefix = Some("stack2-".into());
    }
    if features.adhoc_groups {
        let mut pick = |count: usize| -> Vec<String> {
            let mut chosen: Vec<String> = (0..count)
                .map(|_| people[rng.below(people.len())].clone())
                .collect();
            chosen.sort();
            chosen.dedup();
            chosen
        };
        let team = pick(3);
        let mut groups = vec![AdhocGroup {
            name: "platform-team".into(),
            description: "Platform engineers".into(),
            members: team,
        }];
        // A name that starts with a dataset's name, and is none of its groups.
        if let Some(last) = configs.last().filter(|_| configs.len() > 1) {
            groups.push(AdhocGroup {
                name: format!("{}-reviewers", last.dataset),
                description: "Reviewers".into(),
                members: pick(2),
            });
        }
        infrastructure.adhoc_groups = Some(groups);
    }
    Config {
        infrastructure,
        datasets: configs,
        warnings: Vec::new(),
    }
}

/// Writes `config` as a config directory: `cpg.toml`, `production.yaml`, and each
/// dataset's members in `datasets/<name>/members.yaml`.
pub fn write_config_dir(config: &Config, dir: &Path) -> io::Result<()> {
    let to_io = |e: serde_json::Error| io::Error::new(io::ErrorKind::InvalidData, e);
    std::fs::create_dir_all(dir)?;
    let infrastructure = serde_json::to_value(&config.infrastructure).map_err(to_io)?;
    let mut toml = String::new();
    write_toml_table(&mut toml, "infrastructure", &infrastructure);
    std::fs::write(dir.join("cpg.toml"), toml)?;

    let mut production = String::new();
    for dataset in &config.datasets {
        let mut value = serde_json::to_value(dataset).map_err(to_io)?;
        let members = value.as_object_mut().and_then(|o| {
            o.remove("dataset");
            o.remove("members")
        });
        production.push_str(&yaml_key(&dataset.dataset));
        production.push_str(":\n");
        write_yaml(&mut production, &value, 1);
        if let Some(members) = members.filter(|m| m.as_object().is_some_and(|m| !m.is_empty())) {
            let path = dir.join("datasets").join(&dataset.dataset);
            std::fs::create_dir_all(&path)?;
            let mut text = String::new();
            write_yaml(&mut text, &members, 0);
            std::fs::write(path.join("members.yaml"), text)?;
        }
    }
    std::fs::write(dir.join("production.yaml"), production)
}

fn yaml_key(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_default()
}

/// Block YAML; scalars as JSON scalars (valid YAML).
fn write_yaml(out: &mut String, value: &serde_json::Value, depth: usize) {
    let indent = "  ".repeat(depth);
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                match item {
                    serde_json::Value::Object(inner) if !inner.is_empty() => {
                        let _ = writeln!(out, "{indent}{}:", yaml_key(key));
                        write_yaml(out, item, depth + 1);
                    }
                    serde_json::Value::Array(items) if !items.is_empty() => {
                        let _ = writeln!(out, "{indent}{}:", yaml_key(key));
                        for element in items {
                            match element {
                                serde_json::Value::Object(_) => {
                                    let _ = writeln!(out, "{indent}-");
                                    write_yaml(out, element, depth + 1);
                                }
                                scalar => {
                                    let _ = writeln!(out, "{indent}- {scalar}");
                                }
                            }
                        }
                    }
                    other => {
                        let _ = writeln!(out, "{indent}{}: {other}", yaml_key(key));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{indent}{other}");
        }
    }
}

/// TOML with a table per nested object; scalars and arrays inline.
fn write_toml_table(out: &mut String, path: &str, value: &serde_json::Value) {
    let Some(map) = value.as_object() else {
        return;
    };
    let _ = writeln!(out, "[{path}]");
    let mut tables = Vec::new();
    for (key, item) in map {
        match item {
            serde_json::Value::Object(_) => tables.push((key, item)),
            serde_json::Value::Null => {}
            other => {
                let _ = writeln!(out, "{} = {}", yaml_key(key), toml_inline(other));
            }
        }
    }
    out.push('\n');
    for (key, item) in tables {
        write_toml_table(out, &format!("{path}.{}", yaml_key(key)), item);
    }
}

fn toml_inline(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_inline).collect();
            format!("[{}]", items.join(", "))
        }
        serde_json::Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{} = {}", yaml_key(k), toml_inline(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_configs_are_valid_and_deterministic() {
        for n in [1, 2, 15, 60] {
            let config = synthetic_config(n, 7);
            assert_eq!(config.datasets.len(), n);
            crate::config::validate(&config.infrastructure, &config.datasets)
                .unwrap_or_else(|e| panic!("{n} datasets: {:#?}", e.diagnostics));
            assert_eq!(config, synthetic_config(n, 7));
        }
    }

    #[test]
    fn every_feature_shows_in_a_small_config() {
        let config = synthetic_config_with(12, 5, Features::all());
        let infra = &config.infrastructure;
        assert_eq!(infra.group_prefix.as_deref(), Some("stack2-"));
        assert!(infra.adhoc_groups.as_ref().is_some_and(|g| g.len() == 2));
        let any = |f: &dyn Fn(&CpgDatasetConfig) -> bool| config.datasets.iter().any(f);
        assert!(any(&|d| d
            .members
            .contains_key(&GroupName::TmpMainReadAccess)));
        assert!(any(&|d| d.allow_notebook_tmp_main_read));
        assert!(any(&|d| d.components.contains_key(&CloudName::Gcp)));
        assert!(any(&|d| !d.depends_on.is_empty()));
        assert!(any(&|d| !d.depends_on_readonly.is_empty()));
        assert!(any(&|d| d.upload_config.is_some()));
        assert!(any(&|d| d.enable_shared_project));
        assert!(any(&|d| d.is_internal_dataset));
        // The default configs are the benchmarks': no feature draws change them.
        assert_eq!(
            synthetic_config(40, 9),
            synthetic_config_with(40, 9, Features::default())
        );
    }

    #[test]
    fn written_configs_load_back_unchanged() {
        let config = synthetic_config(25, 3);
        let dir = std::env::temp_dir().join(format!("cpg-infra-synthetic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_config_dir(&config, &dir).expect("write");
        let loaded = crate::config::load_dir(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let loaded = loaded.unwrap_or_else(|e| panic!("{:#?}", e.diagnostics));
        // The loaded config records the directory it came from, and its files.
        let mut expected = config;
        expected.infrastructure.config_dir = Some(dir);
        expected
            .infrastructure
            .sources
            .clone_from(&loaded.infrastructure.sources);
        assert_eq!(loaded, expected);
    }
}
