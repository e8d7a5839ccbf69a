//! One failing config per rule, each asserting the exact diagnostic (file, key path,
//! line, message), and a catalogue snapshot of every message.

use super::support::ConfigDir;

/// Declares a test per rule, and the table the catalogue renders.
macro_rules! rules {
    ($( $(#[$meta:meta])* $name:ident: |$dir:ident| $mutate:block => $expected:expr; )*) => {
        $(
            $(#[$meta])*
            #[test]
            fn $name() {
                let $dir = ConfigDir::valid();
                $mutate
                let errors = $dir.errors();
                assert!(
                    errors.iter().any(|e| e == $expected),
                    "expected {:?} among {errors:#?}",
                    $expected
                );
            }
        )*

        const CASES: &[(&str, fn(&ConfigDir))] = &[
            $( (stringify!($name), |$dir: &ConfigDir| $mutate) ),*
        ];
    };
}

rules! {
    unknown_key_suggests_the_known_one: |dir| {
        dir.replace("cpg.toml", "budget_currency", "budget_curency");
    } => "cpg.toml: infrastructure.budget_curency (line 3): unknown key \"budget_curency\" — did you mean \"budget_currency\"?";

    unknown_top_level_table: |dir| {
        dir.append("cpg.toml", "\n[infrastucture.extra]\nx = 1\n");
    } => "cpg.toml: infrastucture (line 62): unknown key \"infrastucture\" — did you mean \"infrastructure\"?";

    wrong_type: |dir| {
        dir.replace("production.yaml", "setup_test: false", "setup_test: nope");
    } => "production.yaml: validation.setup_test (line 11): expected a boolean (true or false), found a string";

    invalid_enum_value: |dir| {
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  components:\n    gcp: [storage, storge]\n");
    } => "production.yaml: common.components.gcp[1] (line 6): invalid value \"storge\", expected one of \"storage\", \"spark\", \"cromwell\", \"notebooks\", \"hail-accounts\", \"metamist\", \"container-registry\", \"analysis-runner\" — did you mean \"storage\"?";

    invalid_group_name_in_members: |dir| {
        dir.replace("datasets/fewgenomes/members.yaml", "analysis:", "analysts:");
    } => "datasets/fewgenomes/members.yaml: analysts (line 3): invalid value \"analysts\", expected one of \"data-manager\", \"analysis\", \"metadata-access\", \"metadata-contribute\", \"metadata-write\", \"web-access\", \"release-access\", \"tmp-main-read-access\" — did you mean \"analysis\"?";

    missing_required_key: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    region: australia-southeast1\n");
    } => "production.yaml: fewgenomes.gcp (line 7): missing required key \"project\"";

    duplicate_key_in_members: |dir| {
        dir.append("datasets/fewgenomes/members.yaml", "analysis:\n- alice\n");
    } => "datasets/fewgenomes/members.yaml: analysis (line 5): duplicate key \"analysis\" (first given on line 3)";

    duplicate_dataset: |dir| {
        dir.append("production.yaml", "common:\n  gcp:\n    project: other\n");
    } => "production.yaml: common (line 14): duplicate key \"common\" (first given on line 1)";

    syntax_error: |dir| {
        dir.write("production.yaml", "common:\n  gcp: [unclosed\n");
    } => "production.yaml (line 3): syntax error: while parsing a flow sequence, expected ',' or ']'";

    missing_file: |dir| {
        dir.remove("production.yaml");
    } => &format!("production.yaml: file not found in {} (it holds dataset name → dataset options)", dir.path().display());

    two_infrastructure_files: |dir| {
        dir.write("config-infrastructure.yaml", "domain: example.org\n");
    } => "config-infrastructure.yaml: cpg.toml holds the same config; keep one of the two";

    value_given_twice: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  members:\n    analysis: [bob]\n");
    } => "production.yaml: fewgenomes.members (line 8): \"members\" is given both here and in datasets/fewgenomes/members.yaml";

    dataset_directory_without_dataset: |dir| {
        dir.write("datasets/fewgenomez/members.yaml", "analysis: [bob]\n");
    } => "datasets/fewgenomez/members.yaml: directory for dataset \"fewgenomez\", which is not in the dataset config — did you mean \"fewgenomes\"?";

    unknown_dataset_file: |dir| {
        dir.write("datasets/fewgenomes/member.yaml", "analysis: [bob]\n");
    } => "datasets/fewgenomes/member.yaml: unknown dataset file, expected one of \"members.yaml\", \"budgets.yaml\", \"upload.yaml\" — did you mean \"members.yaml\"?";

    dataset_key_differs_from_name: |dir| {
        dir.replace("production.yaml", "fewgenomes:\n", "fewgenomes:\n  dataset: fewgenome\n");
    } => "production.yaml: fewgenomes.dataset (line 6): dataset name \"fewgenome\" differs from the key \"fewgenomes\" it is listed under";

    common_dataset_must_exist: |dir| {
        dir.replace("cpg.toml", "common_dataset = \"common\"", "common_dataset = \"comon\"");
    } => "cpg.toml: infrastructure.common_dataset (line 4): unknown dataset \"comon\" — did you mean \"common\"?";

    common_dataset_must_deploy_to_gcp: |dir| {
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  deploy_locations: [dry-run]\n");
    } => "production.yaml: common.deploy_locations (line 5): the common dataset hosts the organisation-wide GCP resources, so it must deploy to gcp";

    depends_on_unknown_dataset: |dir| {
        dir.replace("production.yaml", "  - fewgenomes\n", "  - fewgenomez\n");
    } => "production.yaml: validation.depends_on[0] (line 13): unknown dataset \"fewgenomez\" — did you mean \"fewgenomes\"?";

    depends_on_readonly_unknown_dataset: |dir| {
        dir.append("production.yaml", "  depends_on_readonly: [nothing-like-it]\n");
    } => "production.yaml: validation.depends_on_readonly[0] (line 14): unknown dataset \"nothing-like-it\"";

    dependency_cycle_is_printed: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  depends_on_readonly: [validation]\n");
    } => "production.yaml: fewgenomes.depends_on_readonly[0] (line 8): dependency cycle: fewgenomes -> validation -> fewgenomes";

    unknown_member: |dir| {
        dir.replace("datasets/fewgenomes/members.yaml", "- bob", "- bobb");
    } => "datasets/fewgenomes/members.yaml: analysis[0] (line 4): unknown user \"bobb\" — did you mean \"bob\"?";

    member_without_identity_on_a_deploy_location: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  deploy_locations: [gcp, dry-run]\n");
    } => "datasets/fewgenomes/members.yaml: data-manager[0] (line 2): user \"alice\" has no dry-run identity (users.alice.clouds.dry-run), needed because dataset \"fewgenomes\" deploys to dry-run";

    unknown_uploader: |dir| {
        dir.replace("datasets/fewgenomes/upload.yaml", "  uploaders:\n  - uploader\nadditional", "  uploaders:\n  - uploder\nadditional");
    } => "datasets/fewgenomes/upload.yaml: default_bucket.uploaders[0] (line 3): unknown user \"uploder\" — did you mean \"uploader\"?";

    unknown_adhoc_group_member: |dir| {
        dir.append("cpg.toml", "\n[[infrastructure.adhoc_groups]]\nname = \"readers\"\ndescription = \"Readers\"\nmembers = [\"carol\"]\n");
    } => "cpg.toml: infrastructure.adhoc_groups[0].members[0] (line 65): unknown user \"carol\"";

    missing_budget: |dir| {
        dir.remove("datasets/validation/budgets.yaml");
    } => "production.yaml: validation.budgets.gcp (line 8): no budget for gcp, which the dataset deploys to";

    dropbox_moves_to_unknown_bucket: |dir| {
        dir.replace("datasets/fewgenomes/upload.yaml", "move_to_bucket: partner", "move_to_bucket: partners");
    } => "datasets/fewgenomes/upload.yaml: dropboxes[0].move_to_bucket (line 13): unknown upload bucket \"partners\", expected one of \"partner\", \"default\"";

    dropbox_ids_are_unique: |dir| {
        dir.append("datasets/fewgenomes/upload.yaml", "- id: partner-drop\n  name: Again\n  allowed_filetypes: [cram]\n  uploaders: [uploader]\n");
    } => "datasets/fewgenomes/upload.yaml: dropboxes[1].id (line 14): dropbox id \"partner-drop\" is already used by dropboxes[0]";

    shared_project_needs_release: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  enable_shared_project: true\n");
        dir.write("datasets/fewgenomes/budgets.yaml", "gcp:\n  monthly_budget: 500\n  shared_total_budget: 1000\n");
    } => "production.yaml: fewgenomes.enable_shared_project (line 8): enable_shared_project needs enable_release: the release bucket is what it shares";

    shared_project_needs_a_total_budget: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  enable_shared_project: true\n  enable_release: true\n");
    } => "datasets/fewgenomes/budgets.yaml: gcp.shared_total_budget (line 1): enable_shared_project needs budgets.gcp.shared_total_budget";

    component_needs_its_section: |dir| {
        dir.replace("cpg.toml", "[infrastructure.cromwell.gcp]\naccess_group_id = \"groups/03cqmetx2922fyu\"\nrunner_machine_account = \"cromwell-runner@cromwell-305305.iam.gserviceaccount.com\"\n", "");
    } => "production.yaml: common.deploy_locations (line 1): the infrastructure config has no [cromwell] section, needed by the cromwell component on gcp";

    organisation_needs_metamist: |dir| {
        dir.replace("cpg.toml", "[infrastructure.metamist.gcp]\nproject = \"sample-metadata\"\nservice_name = \"sample-metadata-api\"\nmachine_account = \"metamist@sample-metadata.iam.gserviceaccount.com\"\nlegacy_machine_account = \"sample-metadata-api@sample-metadata.iam.gserviceaccount.com\"\n", "");
    } => "cpg.toml: infrastructure (line 1): the infrastructure config has no [metamist] section, needed by the organisation-wide resources";

    dropboxes_need_the_dropbox_server: |dir| {
        dir.replace("cpg.toml", "[infrastructure.data_dropbox.gcp]\nproject = \"dropbox-server\"\nserver_machine_account = \"dropbox@dropbox-server.iam.gserviceaccount.com\"\n", "");
    } => "datasets/fewgenomes/upload.yaml: dropboxes (line 8): the infrastructure config has no [data_dropbox] section, needed by dropboxes";

    invalid_dataset_name: |dir| {
        dir.append("production.yaml", "Big_Data:\n  gcp:\n    project: big-data\n");
        dir.write("datasets/Big_Data/budgets.yaml", "gcp:\n  monthly_budget: 5\n");
    } => "production.yaml: Big_Data.dataset (line 14): invalid dataset name \"Big_Data\": use lowercase letters, digits and hyphens only";

    bucket_name_too_long: |dir| {
        let name = "a-dataset-name-that-is-much-too-long-for-buckets";
        dir.append("production.yaml", &format!("{name}:\n  gcp:\n    project: long-one\n  components:\n    gcp: [storage]\n"));
        dir.write(&format!("datasets/{name}/budgets.yaml"), "gcp:\n  monthly_budget: 5\n");
    } => "production.yaml: a-dataset-name-that-is-much-too-long-for-buckets.dataset (line 14): bucket name \"cpg-a-dataset-name-that-is-much-too-long-for-buckets-main-analysis\" is 66 characters, allowed: 3 to 63";

    notebook_account_id_too_long: |dir| {
        dir.replace("production.yaml", "validation:\n", "validation-of-everything:\n");
        dir.replace("production.yaml", "    project: cpg-validation\n", "    project: cpg-validation\n  components:\n    gcp: [notebooks]\n");
        dir.write("datasets/validation-of-everything/budgets.yaml", "gcp:\n  monthly_budget: 5\n");
        std::fs::remove_dir_all(dir.path().join("datasets/validation")).expect("remove");
    } => "production.yaml: validation-of-everything.dataset (line 8): notebook service account id \"notebook-validation-of-everything\" is 33 characters, allowed: 6 to 30";

    gcp_project_id_too_short: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: few\n");
    } => "production.yaml: fewgenomes.gcp.project (line 7): GCP project id \"few\" is 3 characters, allowed: 6 to 30";

    group_name_too_long: |dir| {
        dir.replace("cpg.toml", "plugins_enabled = []\n", "plugins_enabled = []\ngroup_prefix = \"a-very-long-group-prefix-for-a-second-stack-\"\n");
    } => "production.yaml: common.dataset (line 1): group email local part \"a-very-long-group-prefix-for-a-second-stack-common-sample-metadata-main-contribute\" is 82 characters, allowed: 1 to 64";

    azure_storage_account_name_too_long: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\nconfig_bucket_name = \"config\"\n");
        dir.append("production.yaml", "genomesinthecloudofazure:\n  gcp:\n    project: genomes-azure\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
    } => "production.yaml: genomesinthecloudofazure.dataset (line 14): Azure storage account name \"cpggenomesinthecloudofazure\" is 27 characters, allowed: 3 to 24";

    aggregator_interval_in_range: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.billing.aggregator]\ndestination_bq_table = \"t\"\nslack_channel = \"c\"\nslack_token_secret_name = \"s\"\nfunctions = [\"gcp\"]\ninterval_hours = 25\n");
    } => "cpg.toml: infrastructure.billing.aggregator.interval_hours (line 67): 25 is out of range, expected 1 to 24 hours";

    plugins_are_listed_once: |dir| {
        dir.replace("cpg.toml", "plugins_enabled = []", "plugins_enabled = [\"billing_aggregator\", \"billing_aggregator\"]");
    } => "cpg.toml: infrastructure.plugins_enabled[1] (line 6): plugin \"billing_aggregator\" is listed more than once";

    plugin_names_make_library_names: |dir| {
        dir.replace("cpg.toml", "plugins_enabled = []", "plugins_enabled = [\"../billing\"]");
    } => "cpg.toml: infrastructure.plugins_enabled[0] (line 6): \"../billing\" is not a plugin name: lowercase letters, digits and \"_\", starting with a letter (the library file is named after it)";

    dependency_must_deploy_to_the_same_clouds: |dir| {
        dir.replace("production.yaml", "  setup_test: false\n", "  setup_test: false\n  deploy_locations: [gcp, dry-run]\n");
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  deploy_locations: [gcp]\n");
    } => "production.yaml: validation.depends_on[0] (line 15): dataset \"fewgenomes\" does not deploy to dry-run, which this dataset deploys to and needs its groups on";

    common_must_deploy_where_datasets_do: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  deploy_locations: [gcp, dry-run]\n");
    } => "production.yaml: fewgenomes.deploy_locations[1] (line 8): the common dataset \"common\" does not deploy to dry-run, so this dataset's dry-run groups have nothing to join";

    notebook_temporary_access_needs_notebooks: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  allow_notebook_tmp_main_read: true\n  components:\n    gcp: [storage]\n");
    } => "production.yaml: fewgenomes.allow_notebook_tmp_main_read (line 8): allow_notebook_tmp_main_read needs the notebooks component on gcp";

    dependency_listed_twice: |dir| {
        dir.replace("production.yaml", "  - fewgenomes\n", "  - fewgenomes\n  - fewgenomes\n");
    } => "production.yaml: validation.depends_on[1] (line 14): dependency \"fewgenomes\" is listed more than once";

    member_listed_twice: |dir| {
        dir.append("datasets/fewgenomes/members.yaml", "- bob\n");
    } => "datasets/fewgenomes/members.yaml: analysis[1] (line 5): member \"bob\" is listed more than once";

    common_in_a_dependency_cycle: |dir| {
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  depends_on_readonly: [fewgenomes]\n");
    } => "production.yaml: common.depends_on_readonly[0] (line 5): dependency cycle: common -> fewgenomes -> common";

    config_destination_is_a_gcs_path: |dir| {
        dir.replace("cpg.toml", "gs://cpg-config/deploy", "s3://cpg-config");
    } => "cpg.toml: infrastructure.config_destination (line 5): \"s3://cpg-config\" is not of the form gs://<bucket>/<path>";

    adhoc_group_names_are_not_taken: |dir| {
        dir.append("cpg.toml", "\n[[infrastructure.adhoc_groups]]\nname = \"fewgenomes-analysis\"\ndescription = \"x\"\n");
    } => "cpg.toml: infrastructure.adhoc_groups[0].name (line 63): the group name \"fewgenomes-analysis\" is taken by the infrastructure's own groups";

    files_must_be_utf8: |dir| {
        dir.write_bytes("datasets/fewgenomes/members.yaml", b"analysis:\n- \xff\xfe\n");
    } => "datasets/fewgenomes/members.yaml: cannot read the file: the file is not UTF-8";
}

#[test]
fn three_unrelated_mistakes_are_reported_in_one_run() {
    let dir = ConfigDir::valid();
    dir.replace("cpg.toml", "budget_currency", "budget_curency");
    dir.replace("datasets/fewgenomes/members.yaml", "- bob", "- bobb");
    dir.replace("production.yaml", "  - fewgenomes\n", "  - fewgenomez\n");
    let errors = dir.errors();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].starts_with("cpg.toml: infrastructure.budget_curency"));
    assert!(errors[1].starts_with("datasets/fewgenomes/members.yaml: analysis[0]"));
    assert!(errors[2].starts_with("production.yaml: validation.depends_on[0]"));
}

#[test]
fn the_baseline_is_valid() {
    let config = ConfigDir::valid().load().expect("baseline is valid");
    assert_eq!(config.datasets.len(), 3);
    let fewgenomes = &config.datasets[1];
    assert_eq!(fewgenomes.dataset, "fewgenomes");
    assert_eq!(fewgenomes.members.len(), 2);
    assert!(fewgenomes.upload_config.is_some());
}

#[test]
fn infrastructure_config_may_sit_at_the_top_level() {
    let dir = ConfigDir::valid();
    let top_level = super::support::CPG_TOML
        .replace("[infrastructure]\n", "")
        .replace("[infrastructure.", "[");
    dir.write("cpg.toml", &top_level);
    let config = dir.load().expect("top-level cpg.toml is valid");
    assert_eq!(config.infrastructure.domain, "example.org");
    assert_eq!(config.infrastructure.users.len(), 3);
}

#[test]
fn alternative_file_names_are_accepted() {
    let dir = ConfigDir::valid();
    let production = std::fs::read_to_string(dir.path().join("production.yaml")).expect("read");
    dir.remove("production.yaml");
    dir.write("config-datasets.yaml", &production);
    let config = dir.load().expect("config-datasets.yaml is read");
    assert_eq!(config.datasets.len(), 3);

    dir.remove("cpg.toml");
    dir.write(
        "config-infrastructure.yaml",
        "infrastructure:\n  domain: example.org\n  budget_currency: AUD\n  common_dataset: common\n  config_destination: gs://x\n  plugins_enabled: []\n  users: {}\n",
    );
    let errors = dir.errors();
    // The YAML infrastructure config is read: what it lacks is reported against it.
    assert!(
        errors.contains(&"config-infrastructure.yaml: infrastructure (line 1): the infrastructure config has no [gcp] section, needed by the organisation-wide resources".to_owned()),
        "{errors:#?}"
    );
}

#[test]
fn empty_dataset_files_list_nothing() {
    let dir = ConfigDir::valid();
    dir.write("datasets/common/members.yaml", "# nobody yet\n");
    let config = dir.load().expect("empty members.yaml is valid");
    assert!(config.datasets[0].members.is_empty());
}

#[test]
fn error_catalogue() {
    let mut catalogue = String::new();
    for (name, mutate) in CASES {
        let dir = ConfigDir::valid();
        mutate(&dir);
        catalogue.push_str(&format!("## {name}\n"));
        let shown = dir.path().display().to_string();
        for error in dir.errors() {
            catalogue.push_str(&error.replace(&shown, "<dir>"));
            catalogue.push('\n');
        }
        catalogue.push('\n');
    }
    insta::assert_snapshot!(catalogue);
}

/// The recorded reference configs (`../shared/reference` beside the workspace, or
/// `CPG_INFRA_REFERENCE`).
fn reference_dir() -> std::path::PathBuf {
    std::env::var_os("CPG_INFRA_REFERENCE").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"),
        std::path::PathBuf::from,
    )
}

#[test]
fn reference_configs_validate_clean() {
    let root = reference_dir();
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display())) {
        let path = entry.expect("directory entry").path();
        if !path.is_dir() {
            continue;
        }
        let outcome = cpg_infra::config::load_dir(&path).map_err(|invalid| {
            invalid
                .diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<String>>()
        });
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // What this release does not build yet is the only problem reported for them.
        let not_yet: &[&str] = match name {
            "azure-common" => &[
                "production.yaml: common.deploy_locations[1] (line 8): azure is not supported by this release",
            ],
            _ => &[],
        };
        match outcome {
            Ok(_) => assert!(not_yet.is_empty(), "{} validated", path.display()),
            Err(shown) => assert_eq!(shown, not_yet, "{} is invalid", path.display()),
        }
        checked += 1;
    }
    assert!(
        checked >= 2,
        "expected the storage-only and small configs in {}",
        root.display()
    );
}
