//! Configs the reference builds are accepted: what it refuses only where a component
//! turns a value into a cloud name is refused only there, and what it builds with a
//! log line, or without any effect, is a warning. Each test is named after the case.

use super::support::ConfigDir;

/// Loads `dir`, which must validate, and renders its warnings.
fn warnings(dir: &ConfigDir) -> Vec<String> {
    match dir.load() {
        Ok(config) => config.warnings.iter().map(ToString::to_string).collect(),
        Err(invalid) => panic!("the config was refused: {:#?}", dir_errors(&invalid)),
    }
}

fn dir_errors(invalid: &cpg_infra::config::InvalidConfig) -> Vec<String> {
    invalid
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn empty_wheel_bucket_name_is_skipped() {
    let dir = ConfigDir::valid();
    dir.replace(
        "cpg.toml",
        "hail_auth_url = \"https://auth.example.org\"\n",
        "hail_auth_url = \"https://auth.example.org\"\nwheel_bucket_name = \"\"\n",
    );
    assert_eq!(warnings(&dir), Vec::<String>::new());
    let config = dir.load().expect("valid");
    let hail = config.infrastructure.hail.expect("hail");
    assert_eq!(hail.gcp.wheel_bucket_name.as_deref(), Some(""));
}

/// Adds a dataset `name` with `components` on gcp (and its budget).
fn add_dataset(dir: &ConfigDir, name: &str, components: &str) {
    dir.append(
        "production.yaml",
        &format!(
            "{name}:\n  gcp:\n    project: project-{}\n  components:\n    gcp: [{components}]\n",
            name.replace('_', "-").trim_matches('-')
        ),
    );
    dir.write(
        &format!("datasets/{name}/budgets.yaml"),
        super::support::BUDGETS_YAML,
    );
}

#[test]
fn dataset_name_with_underscore_or_edge_hyphen_is_a_warning_without_a_cloud_name_from_it() {
    for name in ["few_genomes", "fewgenomes2-"] {
        let dir = ConfigDir::valid();
        add_dataset(&dir, name, "storage");
        let warnings = warnings(&dir);
        assert_eq!(warnings.len(), 1, "{warnings:#?}");
        assert!(
            warnings[0].starts_with(&format!("production.yaml: {name}.dataset")),
            "{warnings:#?}"
        );
    }
}

#[test]
fn dataset_name_with_underscore_is_refused_by_the_notebooks_component() {
    let dir = ConfigDir::valid();
    add_dataset(&dir, "few_genomes", "storage, notebooks");
    let errors = dir.errors();
    assert!(
        errors.iter().any(|e| e.starts_with("production.yaml: few_genomes.dataset")
            && e.contains("the notebooks component on gcp makes the service account id \"notebook-few_genomes\"")),
        "{errors:#?}"
    );
}

#[test]
fn dataset_name_with_leading_hyphen_is_refused_by_storage_without_a_prefix() {
    let dir = ConfigDir::valid();
    dir.replace(
        "cpg.toml",
        "dataset_storage_prefix = \"cpg-\"",
        "dataset_storage_prefix = \"\"",
    );
    add_dataset(&dir, "-genomes", "storage");
    let errors = dir.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("the storage component on gcp makes the bucket \"-genomes-main\"")),
        "{errors:#?}"
    );
}

#[test]
fn dropbox_move_to_bucket_and_uploaders_are_checked_only_with_data_dropbox() {
    let dir = ConfigDir::valid();
    dir.replace(
        "datasets/fewgenomes/upload.yaml",
        "  uploaders: [uploader]\n  move_to_bucket: partner\n",
        "  uploaders: [nobody]\n  move_to_bucket: elsewhere\n",
    );
    // With [data_dropbox], both are errors.
    let errors = dir.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("unknown upload bucket \"elsewhere\"")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("unknown user \"nobody\"")),
        "{errors:#?}"
    );
    // Without it, the dropboxes reach no server, which is the one warning.
    dir.replace(
        "cpg.toml",
        "[infrastructure.data_dropbox.gcp]\nproject = \"dropbox-server\"\nserver_machine_account = \"dropbox@dropbox-server.iam.gserviceaccount.com\"\n",
        "",
    );
    let warnings = warnings(&dir);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("reach no dropbox server"),
        "{warnings:#?}"
    );
}

#[test]
fn uploaders_cloud_identities_are_required_only_with_the_storage_component() {
    let dir = ConfigDir::valid();
    dir.append(
        "cpg.toml",
        "\n[infrastructure.users.dora]\nid = \"dora\"\nclouds.dry-run = { id = \"dora\" }\n",
    );
    dir.replace(
        "datasets/fewgenomes/upload.yaml",
        "default_bucket:\n  uploaders:\n  - uploader\n",
        "default_bucket:\n  uploaders:\n  - dora\n",
    );
    let errors = dir.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("user \"dora\" has no gcp identity")),
        "{errors:#?}"
    );
    dir.replace(
        "production.yaml",
        "    project: fewgenomes\n",
        "    project: fewgenomes\n  components:\n    gcp: [hail-accounts]\n",
    );
    assert_eq!(warnings(&dir), Vec::<String>::new());
}

#[test]
fn metamist_members_without_the_metamist_component_are_a_warning() {
    let dir = ConfigDir::valid();
    dir.replace(
        "production.yaml",
        "    project: fewgenomes\n",
        "    project: fewgenomes\n  components:\n    gcp: [storage]\n",
    );
    dir.append(
        "datasets/fewgenomes/members.yaml",
        "metadata-access:\n- bob\n",
    );
    assert_eq!(
        warnings(&dir),
        [
            "datasets/fewgenomes/members.yaml: metadata-access (line 5): the metadata-access members reach no metamist project: enable_metamist_project is on but the dataset has no metamist component on gcp, so its metamist groups are not made and metamist is sent no members"
        ]
    );
}

#[test]
fn fields_with_no_effect_are_warnings() {
    let dir = ConfigDir::valid();
    dir.write(
        "datasets/common/budgets.yaml",
        "gcp:\n  monthly_budget: 500\n  currency: USD\n",
    );
    dir.append(
        "cpg.toml",
        "\n[infrastructure.billing.aggregator]\nslack_token_secret_name = \"token\"\ndestination_bq_table = \"a.b.d\"\nslack_channel = \"billing\"\nfunctions = []\nbilling_sheet_id = \"sheet\"\nmonthly_summary_table = \"a.b.e\"\n",
    );
    dir.append(
        "cpg.toml",
        "\n[infrastructure.billing.gcp_cost_controls]\nmachine_account = \"cost@billing-admin.iam.gserviceaccount.com\"\nslack_channel = \"billing\"\npubsub_topic = \"budgets\"\ntimezone = \"Australia/Sydney\"\n",
    );
    dir.append(
        "cpg.toml",
        "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\nconfig_bucket_name = \"config\"\n",
    );
    let found = dir.diagnostics();
    for expected in [
        "warning: datasets/common/budgets.yaml: gcp.currency (line 3): currency has no effect: budgets are written in the organisation's budget_currency",
        "warning: cpg.toml: infrastructure.billing.aggregator.billing_sheet_id",
        "warning: cpg.toml: infrastructure.billing.aggregator.monthly_summary_table",
        "warning: cpg.toml: infrastructure.billing.gcp_cost_controls.pubsub_topic (line 73): pubsub_topic has no effect: the cost control is triggered by gcp.budget_notification_pubsub, the topic budgets notify",
        "warning: cpg.toml: infrastructure.azure.config_bucket_name (line 81): config_bucket_name has no effect: the analysis-runner config viewers are given gcp.config_bucket_name, where the organisation-wide resources are",
    ] {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{expected:?} among {found:#?}"
        );
    }
}

/// Nothing reads `gcp_cost_controls.pubsub_topic` or `azure.config_bucket_name`: a
/// config may leave them out.
#[test]
fn cost_controls_and_azure_without_the_unread_fields_are_accepted() {
    let dir = ConfigDir::valid();
    dir.append(
        "cpg.toml",
        "\n[infrastructure.billing.gcp_cost_controls]\nmachine_account = \"cost@billing-admin.iam.gserviceaccount.com\"\nslack_channel = \"billing\"\ntimezone = \"Australia/Sydney\"\n\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n",
    );
    let config = dir.load().unwrap_or_else(|invalid| panic!("{invalid:#?}"));
    assert_eq!(config.warnings, []);
    let controls = config
        .infrastructure
        .billing
        .and_then(|billing| billing.gcp_cost_controls)
        .expect("the cost controls");
    assert_eq!(controls.pubsub_topic, None);
    let azure = config.infrastructure.azure.expect("the azure section");
    assert_eq!(azure.config_bucket_name, None);
}

#[test]
fn metamist_plugin_without_etl_is_a_warning() {
    let dir = ConfigDir::valid();
    dir.replace(
        "cpg.toml",
        "plugins_enabled = []",
        "plugins_enabled = [\"metamist\"]",
    );
    let found = dir.diagnostics();
    assert!(
        found.iter().any(|d| d == "warning: cpg.toml: infrastructure.plugins_enabled[0] (line 6): the metamist plugin declares nothing: the infrastructure config has no [metamist.etl] section"),
        "{found:#?}"
    );
}

#[test]
fn sm_sas_deriving_the_same_name_keep_the_last_with_a_warning() {
    let dir = ConfigDir::valid();
    dir.replace(
        "production.yaml",
        "    project: fewgenomes\n",
        "    project: fewgenomes\n  sm_read_only_sas: [\"a.b@example.org\"]\n  sm_read_write_sas: [\"a-b@example.org\"]\n",
    );
    let found = warnings(&dir);
    assert!(
        found.iter().any(|w| w.starts_with("production.yaml: fewgenomes.sm_read_write_sas[0] (line 9): \"a-b@example.org\" and \"a.b@example.org\" (sm_read_only_sas[0]) both derive the metamist membership name \"a-b\"")),
        "{found:#?}"
    );
}
