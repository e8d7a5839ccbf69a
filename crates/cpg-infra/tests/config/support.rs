//! A config directory on disk for tests, starting from a small valid baseline.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use cpg_infra::config::{Config, Diagnostic, InvalidConfig, load_dir};

/// A valid infrastructure config: every section the default components need.
pub const CPG_TOML: &str = r#"[infrastructure]
domain = "example.org"
budget_currency = "AUD"
common_dataset = "common"
config_destination = "gs://cpg-config/deploy"
plugins_enabled = []

[infrastructure.gcp]
customer_id = "C0abc"
region = "australia-southeast1"
groups_domain = "example.org"
config_bucket_name = "cpg-config"
dataset_storage_prefix = "cpg-"

[infrastructure.billing]
hail_aggregator_username = "billing-aggregator"

[infrastructure.billing.gcp]
project_id = "billing-admin"
account_id = "01D012-20A6A2-CBD343"

[infrastructure.hail.gcp]
hail_batch_url = "https://batch.example.org"
hail_auth_url = "https://auth.example.org"

[infrastructure.analysis_runner.gcp]
project = "analysis-runner"
cloud_run_instance_name = "server"
server_machine_account = "server@analysis-runner.iam.gserviceaccount.com"
logger_machine_account = "logger@analysis-runner.iam.gserviceaccount.com"
container_registry_name = "images"

[infrastructure.notebooks.gcp]
project = "notebooks-314505"

[infrastructure.cromwell.gcp]
access_group_id = "groups/03cqmetx2922fyu"
runner_machine_account = "cromwell-runner@cromwell-305305.iam.gserviceaccount.com"

[infrastructure.metamist.gcp]
project = "sample-metadata"
service_name = "sample-metadata-api"
machine_account = "metamist@sample-metadata.iam.gserviceaccount.com"
legacy_machine_account = "sample-metadata-api@sample-metadata.iam.gserviceaccount.com"

[infrastructure.data_dropbox.gcp]
project = "dropbox-server"
server_machine_account = "dropbox@dropbox-server.iam.gserviceaccount.com"

[infrastructure.users.alice]
id = "alice"
clouds.gcp = { id = "alice@example.org", hail_batch_username = "alice" }

[infrastructure.users.bob]
id = "bob"
clouds.gcp = { id = "bob@example.org" }

[infrastructure.users.uploader]
id = "uploader"
clouds.gcp = { id = "uploader@partner.iam.gserviceaccount.com" }
"#;

/// Three datasets: common, and two that depend on it and on each other.
pub const PRODUCTION_YAML: &str = "\
common:
  gcp:
    project: cpg-common
  create_container_registry: true
fewgenomes:
  gcp:
    project: fewgenomes
validation:
  gcp:
    project: cpg-validation
  setup_test: false
  depends_on:
  - fewgenomes
";

/// Every dataset's budget.
pub const BUDGETS_YAML: &str = "gcp:\n  monthly_budget: 500\n";

/// Members of one dataset.
pub const MEMBERS_YAML: &str = "data-manager:\n- alice\nanalysis:\n- bob\n";

/// Uploads of one dataset.
pub const UPLOAD_YAML: &str = "\
default_bucket:
  uploaders:
  - uploader
additional_buckets:
- name: partner
  uploaders:
  - uploader
dropboxes:
- id: partner-drop
  name: Partner dropbox
  allowed_filetypes: [cram, vcf]
  uploaders: [uploader]
  move_to_bucket: partner
";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A config directory under the system's temporary directory, removed on drop.
pub struct ConfigDir {
    path: PathBuf,
}

impl ConfigDir {
    /// An empty directory.
    pub fn empty() -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("cpg-infra-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create test directory");
        ConfigDir { path }
    }

    /// The valid baseline.
    pub fn valid() -> Self {
        let dir = Self::empty();
        dir.write("cpg.toml", CPG_TOML);
        dir.write("production.yaml", PRODUCTION_YAML);
        for dataset in ["common", "fewgenomes", "validation"] {
            dir.write(&format!("datasets/{dataset}/budgets.yaml"), BUDGETS_YAML);
        }
        dir.write("datasets/fewgenomes/members.yaml", MEMBERS_YAML);
        dir.write("datasets/fewgenomes/upload.yaml", UPLOAD_YAML);
        dir
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to `relative`, creating directories.
    pub fn write(&self, relative: &str, contents: &str) {
        let path = self.path.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create directories");
        }
        fs::write(path, contents).expect("write test file");
    }

    /// Writes raw bytes to `relative`.
    pub fn write_bytes(&self, relative: &str, contents: &[u8]) {
        let path = self.path.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create directories");
        }
        fs::write(path, contents).expect("write test file");
    }

    /// Replaces the one occurrence of `from` in `relative` with `to`.
    pub fn replace(&self, relative: &str, from: &str, to: &str) {
        let path = self.path.join(relative);
        let text = fs::read_to_string(&path).expect("read test file");
        assert_eq!(
            text.matches(from).count(),
            1,
            "{from:?} must occur once in {relative}"
        );
        fs::write(path, text.replacen(from, to, 1)).expect("write test file");
    }

    /// Appends `text` to `relative`.
    pub fn append(&self, relative: &str, text: &str) {
        let path = self.path.join(relative);
        let mut contents = fs::read_to_string(&path).unwrap_or_default();
        contents.push_str(text);
        fs::write(path, contents).expect("write test file");
    }

    /// Removes `relative`.
    pub fn remove(&self, relative: &str) {
        fs::remove_file(self.path.join(relative)).expect("remove test file");
    }

    /// Loads and validates the directory.
    pub fn load(&self) -> Result<Config, InvalidConfig> {
        load_dir(&self.path)
    }

    /// Loads the directory and renders every diagnostic, errors and warnings alike,
    /// each after its severity (`error: …`, `warning: …`).
    pub fn diagnostics(&self) -> Vec<String> {
        let diagnostics = match self.load() {
            Ok(config) => config.warnings,
            Err(invalid) => invalid.diagnostics,
        };
        diagnostics
            .iter()
            .map(|d| format!("{}: {d}", d.severity()))
            .collect()
    }

    /// Loads the directory, which must be invalid, and renders its diagnostics.
    pub fn errors(&self) -> Vec<String> {
        match self.load() {
            Ok(_) => panic!("the config in {} was accepted", self.path.display()),
            Err(invalid) => invalid
                .diagnostics
                .iter()
                .map(Diagnostic::to_string)
                .collect(),
        }
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
