//! One config per rule, each asserting the exact diagnostic (severity, file, key
//! path, line, message), and a catalogue snapshot of every message. A config whose
//! only problems are warnings still loads.

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
                let found = $dir.diagnostics();
                let expected: &str = $expected;
                assert!(
                    found.iter().any(|e| e == expected),
                    "expected {expected:?} among {found:#?}",
                );
                if expected.starts_with("warning: ") {
                    let loaded = $dir.load();
                    assert!(loaded.is_ok(), "a warning stopped validation: {found:#?}");
                }
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
    } => "error: cpg.toml: infrastructure.budget_curency (line 3): unknown key \"budget_curency\" — did you mean \"budget_currency\"?";

    unknown_top_level_table: |dir| {
        dir.append("cpg.toml", "\n[infrastucture.extra]\nx = 1\n");
    } => "error: cpg.toml: infrastucture (line 62): unknown key \"infrastucture\" — did you mean \"infrastructure\"?";

    wrong_type: |dir| {
        dir.replace("production.yaml", "setup_test: false", "setup_test: nope");
    } => "error: production.yaml: validation.setup_test (line 11): expected a boolean (true or false), found a string";

    invalid_enum_value: |dir| {
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  components:\n    gcp: [storage, storge]\n");
    } => "error: production.yaml: common.components.gcp[1] (line 6): invalid value \"storge\", expected one of \"storage\", \"spark\", \"cromwell\", \"notebooks\", \"hail-accounts\", \"metamist\", \"container-registry\", \"analysis-runner\" — did you mean \"storage\"?";

    invalid_group_name_in_members: |dir| {
        dir.replace("datasets/fewgenomes/members.yaml", "analysis:", "analysts:");
    } => "error: datasets/fewgenomes/members.yaml: analysts (line 3): invalid value \"analysts\", expected one of \"data-manager\", \"analysis\", \"metadata-access\", \"metadata-contribute\", \"metadata-write\", \"web-access\", \"release-access\", \"tmp-main-read-access\" — did you mean \"analysis\"?";

    missing_required_key: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    region: australia-southeast1\n");
    } => "error: production.yaml: fewgenomes.gcp (line 7): missing required key \"project\"";

    duplicate_key_in_members: |dir| {
        dir.append("datasets/fewgenomes/members.yaml", "analysis:\n- alice\n");
    } => "error: datasets/fewgenomes/members.yaml: analysis (line 5): duplicate key \"analysis\" (first given on line 3)";

    duplicate_dataset: |dir| {
        dir.append("production.yaml", "common:\n  gcp:\n    project: other\n");
    } => "error: production.yaml: common (line 14): duplicate key \"common\" (first given on line 1)";

    syntax_error: |dir| {
        dir.write("production.yaml", "common:\n  gcp: [unclosed\n");
    } => "error: production.yaml (line 3): syntax error: while parsing a flow sequence, expected ',' or ']'";

    missing_file: |dir| {
        dir.remove("production.yaml");
    } => &format!("error: production.yaml: file not found in {} (it holds dataset name → dataset options)", dir.path().display());

    two_infrastructure_files: |dir| {
        dir.write("config-infrastructure.yaml", "domain: example.org\n");
    } => "error: config-infrastructure.yaml: cpg.toml holds the same config; keep one of the two";

    value_given_twice: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  members:\n    analysis: [bob]\n");
    } => "error: production.yaml: fewgenomes.members (line 8): \"members\" is given both here and in datasets/fewgenomes/members.yaml";

    dataset_directory_without_dataset: |dir| {
        dir.write("datasets/fewgenomez/members.yaml", "analysis: [bob]\n");
    } => "error: datasets/fewgenomez/members.yaml: directory for dataset \"fewgenomez\", which is not in the dataset config — did you mean \"fewgenomes\"?";

    unknown_dataset_file: |dir| {
        dir.write("datasets/fewgenomes/member.yaml", "analysis: [bob]\n");
    } => "error: datasets/fewgenomes/member.yaml: unknown dataset file, expected one of \"members.yaml\", \"budgets.yaml\", \"upload.yaml\" — did you mean \"members.yaml\"?";

    dataset_key_differs_from_name: |dir| {
        dir.replace("production.yaml", "fewgenomes:\n", "fewgenomes:\n  dataset: fewgenome\n");
    } => "error: production.yaml: fewgenomes.dataset (line 6): dataset name \"fewgenome\" differs from the key \"fewgenomes\" it is listed under";

    common_dataset_must_exist: |dir| {
        dir.replace("cpg.toml", "common_dataset = \"common\"", "common_dataset = \"comon\"");
    } => "error: cpg.toml: infrastructure.common_dataset (line 4): unknown dataset \"comon\" — did you mean \"common\"?";

    common_dataset_must_deploy_to_gcp: |dir| {
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  deploy_locations: [dry-run]\n");
    } => "error: production.yaml: common.deploy_locations (line 5): the common dataset hosts the organisation-wide GCP resources, so it must deploy to gcp";

    depends_on_unknown_dataset: |dir| {
        dir.replace("production.yaml", "  - fewgenomes\n", "  - fewgenomez\n");
    } => "error: production.yaml: validation.depends_on[0] (line 13): unknown dataset \"fewgenomez\" — did you mean \"fewgenomes\"?";

    depends_on_readonly_unknown_dataset: |dir| {
        dir.append("production.yaml", "  depends_on_readonly: [nothing-like-it]\n");
    } => "error: production.yaml: validation.depends_on_readonly[0] (line 14): unknown dataset \"nothing-like-it\"";

    dependency_cycle_is_printed: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  depends_on_readonly: [validation]\n");
    } => "error: production.yaml: fewgenomes.depends_on_readonly[0] (line 8): dependency cycle: fewgenomes -> validation -> fewgenomes";

    unknown_member: |dir| {
        dir.replace("datasets/fewgenomes/members.yaml", "- bob", "- bobb");
    } => "error: datasets/fewgenomes/members.yaml: analysis[0] (line 4): unknown user \"bobb\" — did you mean \"bob\"?";

    member_without_identity_on_a_deploy_location: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  deploy_locations: [gcp, dry-run]\n");
    } => "error: datasets/fewgenomes/members.yaml: data-manager[0] (line 2): user \"alice\" has no dry-run identity (users.alice.clouds.dry-run), needed because dataset \"fewgenomes\" deploys to dry-run";

    unknown_uploader: |dir| {
        dir.replace("datasets/fewgenomes/upload.yaml", "  uploaders:\n  - uploader\nadditional", "  uploaders:\n  - uploder\nadditional");
    } => "error: datasets/fewgenomes/upload.yaml: default_bucket.uploaders[0] (line 3): unknown user \"uploder\" — did you mean \"uploader\"?";

    unknown_adhoc_group_member: |dir| {
        dir.append("cpg.toml", "\n[[infrastructure.adhoc_groups]]\nname = \"readers\"\ndescription = \"Readers\"\nmembers = [\"carol\"]\n");
    } => "error: cpg.toml: infrastructure.adhoc_groups[0].members[0] (line 65): unknown user \"carol\"";

    missing_budget: |dir| {
        dir.remove("datasets/validation/budgets.yaml");
    } => "error: production.yaml: validation.budgets.gcp (line 8): no budget for gcp, which the dataset deploys to";

    dropbox_moves_to_unknown_bucket: |dir| {
        dir.replace("datasets/fewgenomes/upload.yaml", "move_to_bucket: partner", "move_to_bucket: partners");
    } => "error: datasets/fewgenomes/upload.yaml: dropboxes[0].move_to_bucket (line 13): unknown upload bucket \"partners\", expected one of \"partner\", \"default\"";

    dropbox_ids_are_unique: |dir| {
        dir.append("datasets/fewgenomes/upload.yaml", "- id: partner-drop\n  name: Again\n  allowed_filetypes: [cram]\n  uploaders: [uploader]\n");
    } => "error: datasets/fewgenomes/upload.yaml: dropboxes[1].id (line 14): dropbox id \"partner-drop\" is already used by dropboxes[0]";

    shared_project_needs_release: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  enable_shared_project: true\n");
        dir.write("datasets/fewgenomes/budgets.yaml", "gcp:\n  monthly_budget: 500\n  shared_total_budget: 1000\n");
    } => "error: production.yaml: fewgenomes.enable_shared_project (line 8): enable_shared_project needs enable_release: the release bucket is what it shares";

    shared_project_needs_a_total_budget: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  enable_shared_project: true\n  enable_release: true\n");
    } => "error: datasets/fewgenomes/budgets.yaml: gcp.shared_total_budget (line 1): enable_shared_project needs budgets.gcp.shared_total_budget";

    component_needs_its_section: |dir| {
        dir.replace("cpg.toml", "[infrastructure.cromwell.gcp]\naccess_group_id = \"groups/03cqmetx2922fyu\"\nrunner_machine_account = \"cromwell-runner@cromwell-305305.iam.gserviceaccount.com\"\n", "");
    } => "error: production.yaml: common.deploy_locations (line 1): the infrastructure config has no [cromwell] section, needed by the cromwell component on gcp";

    organisation_needs_metamist: |dir| {
        dir.replace("cpg.toml", "[infrastructure.metamist.gcp]\nproject = \"sample-metadata\"\nservice_name = \"sample-metadata-api\"\nmachine_account = \"metamist@sample-metadata.iam.gserviceaccount.com\"\nlegacy_machine_account = \"sample-metadata-api@sample-metadata.iam.gserviceaccount.com\"\n", "");
    } => "error: cpg.toml: infrastructure (line 1): the infrastructure config has no [metamist] section, needed by the organisation-wide resources";

    dropboxes_without_the_dropbox_server: |dir| {
        dir.replace("cpg.toml", "[infrastructure.data_dropbox.gcp]\nproject = \"dropbox-server\"\nserver_machine_account = \"dropbox@dropbox-server.iam.gserviceaccount.com\"\n", "");
    } => "warning: datasets/fewgenomes/upload.yaml: dropboxes (line 8): dropboxes reach no dropbox server: the infrastructure config has no [data_dropbox] section, so their buckets are made and the server config is not";

    invalid_dataset_name: |dir| {
        dir.append("production.yaml", "Big_Data:\n  gcp:\n    project: big-data\n");
        dir.write("datasets/Big_Data/budgets.yaml", "gcp:\n  monthly_budget: 5\n");
    } => "error: production.yaml: Big_Data.dataset (line 14): invalid dataset name \"Big_Data\": use lowercase letters, digits and hyphens only";

    bucket_name_too_long: |dir| {
        let name = "a-dataset-name-that-is-much-too-long-for-buckets";
        dir.append("production.yaml", &format!("{name}:\n  gcp:\n    project: long-one\n  components:\n    gcp: [storage]\n"));
        dir.write(&format!("datasets/{name}/budgets.yaml"), "gcp:\n  monthly_budget: 5\n");
    } => "error: production.yaml: a-dataset-name-that-is-much-too-long-for-buckets.dataset (line 14): bucket name \"cpg-a-dataset-name-that-is-much-too-long-for-buckets-main-analysis\" is 66 characters, allowed: 3 to 63";

    notebook_account_id_too_long: |dir| {
        dir.replace("production.yaml", "validation:\n", "validation-of-everything:\n");
        dir.replace("production.yaml", "    project: cpg-validation\n", "    project: cpg-validation\n  components:\n    gcp: [notebooks]\n");
        dir.write("datasets/validation-of-everything/budgets.yaml", "gcp:\n  monthly_budget: 5\n");
        std::fs::remove_dir_all(dir.path().join("datasets/validation")).expect("remove");
    } => "error: production.yaml: validation-of-everything.dataset (line 8): notebook service account id \"notebook-validation-of-everything\" is 33 characters, allowed: 6 to 30";

    gcp_project_id_too_short: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: few\n");
    } => "error: production.yaml: fewgenomes.gcp.project (line 7): GCP project id \"few\" is 3 characters, allowed: 6 to 30";

    group_name_too_long: |dir| {
        dir.replace("cpg.toml", "plugins_enabled = []\n", "plugins_enabled = []\ngroup_prefix = \"a-very-long-group-prefix-for-a-second-stack-\"\n");
    } => "error: production.yaml: common.dataset (line 1): group email local part \"a-very-long-group-prefix-for-a-second-stack-common-sample-metadata-main-contribute\" is 82 characters, allowed: 1 to 64";

    azure_storage_account_name_too_long: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.append("production.yaml", "genomesinthecloudofazure:\n  gcp:\n    project: genomes-azure\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
    } => "error: production.yaml: genomesinthecloudofazure.dataset (line 14): Azure storage account name \"cpggenomesinthecloudofazure\" is 27 characters, allowed: 3 to 24";

    /// The reference dropped digits and hyphens, so `ds1` and `ds2` shared an
    /// account; digits are kept now, and what still collides is rejected.
    azure_names_that_collide_are_rejected: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.append("production.yaml", "ds1:\n  gcp:\n    project: dataset-one\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\nds-1:\n  gcp:\n    project: dataset-one-b\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
    } => "error: production.yaml: ds-1.dataset (line 20): Azure storage account, Key Vault and registry names \"cpgds1\" are also derived from dataset \"ds1\"; rename one of the two";

    azure_name_must_start_with_a_letter: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"\"\n");
        dir.append("production.yaml", "1kg:\n  gcp:\n    project: thousand-genomes\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
    } => "error: production.yaml: 1kg.dataset (line 14): Azure storage account and Key Vault name \"1kg\" must start with a letter";

    azure_component_without_an_equivalent: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  components:\n    azure: [storage, cromwell]\n");
    } => "error: production.yaml: azds.components.azure (line 19): the cromwell component has no Azure equivalent (it needs machine-account roles and credentials)";

    azure_shared_project_has_no_equivalent: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  enable_release: true\n  enable_shared_project: true\n  components:\n    azure: [storage]\n");
    } => "error: production.yaml: azds.enable_shared_project (line 19): a shared project has no Azure equivalent (it needs a budget and machine-account roles); deploy this dataset to gcp only";

    azure_only_temporary_access_has_no_equivalent: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  allow_notebook_tmp_main_read: true\n  components:\n    azure: [storage]\n");
    } => "error: production.yaml: azds.allow_notebook_tmp_main_read (line 18): temporary main-bucket access has no Azure equivalent and this dataset does not deploy to gcp";

    /// The reference looked every member up with `clouds["azure"]` and stopped
    /// with a `KeyError`.
    member_without_an_azure_identity_is_reported: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n  members:\n    analysis: [bob]\n");
    } => "error: production.yaml: azds.members.analysis[0] (line 21): user \"bob\" has no azure identity (users.bob.clouds.azure), needed because dataset \"azds\" deploys to azure";

    /// The reference's Azure blob containers take their names from the config;
    /// Azure refuses `_` where GCS accepts it.
    azure_container_name_characters: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  deploy_locations: [gcp, azure]\n  components:\n    azure: [storage]\n");
        dir.write("datasets/common/members.yaml", "# nobody on azure yet\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
        dir.write("datasets/azds/upload.yaml", "additional_buckets:\n- name: partner_data\n  uploaders: []\n");
    } => "error: datasets/azds/upload.yaml: additional_buckets[0].name (line 2): Azure blob container name \"main-upload-partner_data\" may hold only lowercase letters, digits and single hyphens, and must start and end with a letter or digit";

    /// An Azure-only dataset has no GCS bucket whose length check would catch this.
    azure_container_name_too_long: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  deploy_locations: [gcp, azure]\n  components:\n    azure: [storage]\n");
        dir.write("datasets/common/members.yaml", "# nobody on azure yet\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
        dir.write("datasets/azds/upload.yaml", "dropboxes:\n- id: a-partner-with-a-very-long-name-for-its-dropbox-here\n  name: Partner\n  allowed_filetypes: [cram]\n  uploaders: []\n");
    } => "error: datasets/azds/upload.yaml: dropboxes[0].id (line 2): Azure blob container name \"main-upload-db-a-partner-with-a-very-long-name-for-its-dropbox-here\" is 67 characters, allowed: 3 to 63";

    /// The reference accepts an Azure budget and builds none.
    azure_budget_is_not_built: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  deploy_locations: [gcp, azure]\n  components:\n    azure: [storage]\n");
        dir.write("datasets/common/members.yaml", "# nobody on azure yet\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
        dir.write("datasets/azds/budgets.yaml", "azure:\n  monthly_budget: 100\n");
    } => "warning: datasets/azds/budgets.yaml: azure (line 1): the azure budget has no effect: budgets are not built on azure, so nothing watches this dataset's Azure spending";

    azure_budget_on_a_dataset_not_on_azure: |dir| {
        dir.append("datasets/fewgenomes/budgets.yaml", "azure:\n  monthly_budget: 100\n");
    } => "warning: datasets/fewgenomes/budgets.yaml: azure (line 3): the azure budget has no effect: the dataset does not deploy to azure";

    azure_section_on_a_dataset_not_on_azure: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  azure:\n    region: australiaeast\n");
    } => "warning: production.yaml: fewgenomes.azure (line 8): the azure section has no effect: the dataset does not deploy to azure";

    /// The reference logs "Ignoring `requester_pays` on Azure" while deploying.
    azure_release_container_is_not_requester_pays: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  deploy_locations: [gcp, azure]\n  components:\n    azure: [storage]\n");
        dir.write("datasets/common/members.yaml", "# nobody on azure yet\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
        dir.append("production.yaml", "  enable_release: true\n");
    } => "warning: production.yaml: azds.enable_release (line 23): enable_release makes a release container on azure that is not requester-pays: Azure has no requester pays, so the dataset's subscription pays for what readers download";

    /// The reference logs "Ignoring `autoclass` on Azure" while deploying.
    autoclass_on_an_azure_only_dataset: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n");
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  deploy_locations: [gcp, azure]\n  components:\n    azure: [storage]\n");
        dir.write("datasets/common/members.yaml", "# nobody on azure yet\n");
        dir.append("production.yaml", "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n");
        dir.append("production.yaml", "  autoclass: true\n");
    } => "warning: production.yaml: azds.autoclass (line 23): autoclass has no effect: Azure has no Autoclass and this dataset does not deploy to gcp";

    /// The account is `metamist-etl-{accessor}`: an email makes an id GCP refuses.
    etl_accessor_given_as_an_email: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.metamist.etl]\naccessors = [\"etl@sample-metadata.iam.gserviceaccount.com\", \"bbv\"]\n\n[infrastructure.metamist.etl.by_type.\"bbv/v1\"]\nparser_name = \"bbv_v1\"\naccessors = [\"bbv\"]\n");
    } => "warning: cpg.toml: infrastructure.metamist.etl.accessors[0] (line 63): ETL accessor \"etl@sample-metadata.iam.gserviceaccount.com\" gives the service account id \"metamist-etl-etl@sample-metadata.iam.gserviceaccount.com\" (56 characters), which GCP refuses (6 to 30 lowercase letters, digits and hyphens, starting with a letter); an accessor is a name, not an email: its account is metamist-etl-<name>@<metamist project>.iam.gserviceaccount.com";

    etl_accessor_name_too_long: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.metamist.etl]\naccessors = [\"a-partner-with-a-long-name\"]\nby_type = {}\n");
    } => "warning: cpg.toml: infrastructure.metamist.etl.accessors[0] (line 63): ETL accessor \"a-partner-with-a-long-name\" gives the service account id \"metamist-etl-a-partner-with-a-long-name\" (39 characters), which GCP refuses (6 to 30 lowercase letters, digits and hyphens, starting with a letter)";

    aggregator_interval_in_range: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.billing.aggregator]\ndestination_bq_table = \"t\"\nslack_channel = \"c\"\nslack_token_secret_name = \"s\"\nfunctions = [\"gcp\"]\ninterval_hours = 25\n");
    } => "error: cpg.toml: infrastructure.billing.aggregator.interval_hours (line 67): 25 is out of range, expected 1 to 24 hours";

    test_deployment_account_without_test_namespace: |dir| {
        dir.replace("production.yaml", "  setup_test: false\n", "  setup_test: false\n  deployment_service_account_test: deploy-test@cpg-validation.iam.gserviceaccount.com\n");
    } => "warning: production.yaml: validation.deployment_service_account_test (line 12): deployment_service_account_test has no effect: setup_test is false, so there is no test access level to join";

    aggregator_interval_divides_a_day: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.billing.aggregator]\ndestination_bq_table = \"t\"\nslack_channel = \"c\"\nslack_token_secret_name = \"s\"\nfunctions = [\"gcp\"]\ninterval_hours = 5\n");
    } => "warning: cpg.toml: infrastructure.billing.aggregator.interval_hours (line 67): 5 hours do not divide a day, so two runs may fall within one interval";

    plugins_are_listed_once: |dir| {
        dir.replace("cpg.toml", "plugins_enabled = []", "plugins_enabled = [\"billing_aggregator\", \"billing_aggregator\"]");
    } => "error: cpg.toml: infrastructure.plugins_enabled[1] (line 6): plugin \"billing_aggregator\" is listed more than once";

    plugin_names_make_library_names: |dir| {
        dir.replace("cpg.toml", "plugins_enabled = []", "plugins_enabled = [\"../billing\"]");
    } => "error: cpg.toml: infrastructure.plugins_enabled[0] (line 6): \"../billing\" is not a plugin name: lowercase letters, digits and \"_\", starting with a letter (the library file is named after it)";

    dependency_must_deploy_to_the_same_clouds: |dir| {
        dir.replace("production.yaml", "  setup_test: false\n", "  setup_test: false\n  deploy_locations: [gcp, dry-run]\n");
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  deploy_locations: [gcp]\n");
    } => "error: production.yaml: validation.depends_on[0] (line 15): dataset \"fewgenomes\" does not deploy to dry-run, which this dataset deploys to and needs its groups on";

    common_must_deploy_where_datasets_do: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  deploy_locations: [gcp, dry-run]\n");
    } => "error: production.yaml: fewgenomes.deploy_locations[1] (line 8): the common dataset \"common\" does not deploy to dry-run, so this dataset's dry-run groups have nothing to join";

    notebook_temporary_access_without_notebooks_is_a_warning: |dir| {
        dir.replace("production.yaml", "    project: fewgenomes\n", "    project: fewgenomes\n  allow_notebook_tmp_main_read: true\n  components:\n    gcp: [storage]\n");
    } => "warning: production.yaml: fewgenomes.allow_notebook_tmp_main_read (line 8): allow_notebook_tmp_main_read gives notebooks no access: the dataset has no notebooks component on gcp";

    dependency_listed_twice: |dir| {
        dir.replace("production.yaml", "  - fewgenomes\n", "  - fewgenomes\n  - fewgenomes\n");
    } => "warning: production.yaml: validation.depends_on[1] (line 14): dependency \"fewgenomes\" is listed more than once; it counts once";

    dependency_in_both_lists: |dir| {
        dir.append("production.yaml", "  depends_on_readonly: [fewgenomes]\n");
    } => "warning: production.yaml: validation.depends_on_readonly[0] (line 14): \"fewgenomes\" is also in depends_on, which already gives every access depends_on_readonly gives";

    member_listed_twice: |dir| {
        dir.append("datasets/fewgenomes/members.yaml", "- bob\n");
    } => "warning: datasets/fewgenomes/members.yaml: analysis[1] (line 5): member \"bob\" is listed more than once; it counts once";

    unknown_temporary_access_member: |dir| {
        dir.append("datasets/fewgenomes/members.yaml", "tmp-main-read-access:\n- bobb\n");
    } => "warning: datasets/fewgenomes/members.yaml: tmp-main-read-access[0] (line 6): \"bobb\" is left out of the group: unknown user — did you mean \"bob\"?";

    common_in_a_dependency_cycle: |dir| {
        dir.replace("production.yaml", "  create_container_registry: true\n", "  create_container_registry: true\n  depends_on_readonly: [fewgenomes]\n");
    } => "error: production.yaml: common.depends_on_readonly[0] (line 5): dependency cycle: common -> fewgenomes -> common";

    config_destination_is_a_gcs_path: |dir| {
        dir.replace("cpg.toml", "gs://cpg-config/deploy", "s3://cpg-config");
    } => "error: cpg.toml: infrastructure.config_destination (line 5): \"s3://cpg-config\" is not of the form gs://<bucket>/<path>";

    adhoc_group_names_are_not_taken: |dir| {
        dir.append("cpg.toml", "\n[[infrastructure.adhoc_groups]]\nname = \"fewgenomes-analysis\"\ndescription = \"x\"\n");
    } => "error: cpg.toml: infrastructure.adhoc_groups[0].name (line 63): the group name \"fewgenomes-analysis\" is taken by dataset \"fewgenomes\"'s analysis group";

    adhoc_group_names_are_not_organisation_groups: |dir| {
        dir.append("cpg.toml", "\n[[infrastructure.adhoc_groups]]\nname = \"internal-logs-access\"\ndescription = \"x\"\nmembers = [\"bob\"]\n");
    } => "error: cpg.toml: infrastructure.adhoc_groups[0].name (line 63): the group name \"internal-logs-access\" is taken by the organisation-wide group \"internal-logs-access\"";

    empty_adhoc_group: |dir| {
        dir.append("cpg.toml", "\n[[infrastructure.adhoc_groups]]\nname = \"readers\"\ndescription = \"Readers\"\nmembers = []\n");
    } => "warning: cpg.toml: infrastructure.adhoc_groups[0].members (line 65): ad-hoc group \"readers\" has no members";

    adhoc_group_member_without_gcp_identity: |dir| {
        dir.append("cpg.toml", "\n[infrastructure.users.dora]\nid = \"dora\"\nclouds.dry-run = { id = \"dora\" }\n\n[[infrastructure.adhoc_groups]]\nname = \"readers\"\ndescription = \"Readers\"\nmembers = [\"dora\"]\n");
    } => "warning: cpg.toml: infrastructure.adhoc_groups[0].members[0] (line 69): \"dora\" is left out of the group: user has no gcp identity (users.dora.clouds.gcp), needed because ad-hoc groups are created on gcp";

    files_must_be_utf8: |dir| {
        dir.write_bytes("datasets/fewgenomes/members.yaml", b"analysis:\n- \xff\xfe\n");
    } => "error: datasets/fewgenomes/members.yaml: cannot read the file: the file is not UTF-8";
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
fn diagnostic_catalogue() {
    let mut catalogue = String::new();
    for (name, mutate) in CASES {
        let dir = ConfigDir::valid();
        mutate(&dir);
        catalogue.push_str(&format!("## {name}\n"));
        let shown = dir.path().display().to_string();
        for error in dir.diagnostics() {
            catalogue.push_str(&error.replace(&shown, "<dir>"));
            catalogue.push('\n');
        }
        catalogue.push('\n');
    }
    insta::assert_snapshot!(catalogue);
}

#[test]
fn reference_configs_validate_with_the_expected_warnings() {
    let root = cpg_infra_testdata::reference_dir();
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display())) {
        let path = entry.expect("directory entry").path();
        if !path.is_dir() {
            continue;
        }
        let render = |diagnostics: &[cpg_infra::config::Diagnostic]| {
            diagnostics
                .iter()
                .map(|d| format!("{}: {d}", d.severity()))
                .collect::<Vec<String>>()
        };
        let outcome = cpg_infra::config::load_dir(&path)
            .map(|config| {
                // Validating the loaded config again, as `CpgInfrastructure::new`
                // does, finds the same warnings at the same lines.
                let again = cpg_infra::config::validate(&config.infrastructure, &config.datasets);
                assert_eq!(again.as_ref(), Ok(&config.warnings), "{}", path.display());
                render(&config.warnings)
            })
            .map_err(|invalid| render(&invalid.diagnostics));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // The reference builds every sample. What it accepts without effect, or that
        // looks like a mistake, is a warning here: azure-common asks for an Azure
        // budget, which no cloud builds.
        let expected: &[&str] = match name {
            // Its Azure section gives the config container the reference requires
            // and reads from nowhere.
            "azure-common" => &[
                "warning: cpg.toml: infrastructure.azure.config_bucket_name (line 26): config_bucket_name has no effect: the analysis-runner config viewers are given gcp.config_bucket_name, where the organisation-wide resources are",
                "warning: datasets/common/budgets.yaml: azure (line 3): the azure budget has no effect: budgets are not built on azure, so nothing watches this dataset's Azure spending",
            ],
            // Its ETL accessor is an email, so the account id derived from it is one
            // GCP refuses; the reference planned it under Pulumi's mocks only.
            // Its aggregator gives two fields that nothing reads, and its cost
            // controls the topic the reference requires and reads from nowhere.
            "small-plugins" => &[
                "warning: cpg.toml: infrastructure.billing.aggregator.billing_sheet_id (line 33): billing_sheet_id has no effect: no resource or function configuration reads it",
                "warning: cpg.toml: infrastructure.billing.aggregator.monthly_summary_table (line 34): monthly_summary_table has no effect: no resource or function configuration reads it",
                "warning: cpg.toml: infrastructure.billing.gcp_cost_controls.pubsub_topic (line 42): pubsub_topic has no effect: the cost control is triggered by gcp.budget_notification_pubsub, the topic budgets notify",
                "warning: cpg.toml: infrastructure.metamist.etl.accessors[0] (line 70): ETL accessor \"sample-metadata-etl@sample-metadata.iam.gserviceaccount.com\" gives the service account id \"metamist-etl-sample-metadata-etl@sample-metadata.iam.gserviceaccount.com\" (72 characters), which GCP refuses (6 to 30 lowercase letters, digits and hyphens, starting with a letter); an accessor is a name, not an email: its account is metamist-etl-<name>@<metamist project>.iam.gserviceaccount.com",
            ],
            // The reference warns, as here, that the metamist members of a dataset
            // without the metamist component reach no metamist project.
            "storage-only" => &[
                "warning: datasets/fewgenomes/members.yaml: metadata-access (line 6): the metadata-access members reach no metamist project: enable_metamist_project is on but the dataset has no metamist component on gcp, so its metamist groups are not made and metamist is sent no members",
                "warning: datasets/validation/members.yaml: metadata-contribute (line 3): the metadata-contribute members reach no metamist project: enable_metamist_project is on but the dataset has no metamist component on gcp, so its metamist groups are not made and metamist is sent no members",
            ],
            _ => &[],
        };
        match outcome {
            Ok(warnings) => assert_eq!(warnings, expected, "{}", path.display()),
            Err(shown) => panic!("{} is invalid: {shown:#?}", path.display()),
        }
        checked += 1;
    }
    assert!(
        checked >= 5,
        "expected every sample config (storage-only, small, features, small-plugins, azure-common) in {}",
        root.display()
    );
}

#[test]
fn adhoc_group_starting_with_a_dataset_name_is_accepted() {
    // `fewgenomes-reviewers` starts with a dataset's name and a hyphen, and is no
    // group the infrastructure makes.
    let dir = ConfigDir::valid();
    dir.append(
        "cpg.toml",
        "\n[[infrastructure.adhoc_groups]]\nname = \"fewgenomes-reviewers\"\ndescription = \"Reviewers\"\nmembers = [\"bob\"]\n",
    );
    let config = dir.load().expect("fewgenomes-reviewers is a free name");
    assert_eq!(config.warnings, []);
}

#[test]
fn notebook_tmp_main_read_without_notebooks_validates_with_a_warning() {
    let dir = ConfigDir::valid();
    dir.replace(
        "production.yaml",
        "    project: fewgenomes\n",
        "    project: fewgenomes\n  allow_notebook_tmp_main_read: true\n  components:\n    gcp: [storage]\n",
    );
    let config = dir.load().expect("a warning does not stop validation");
    let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "production.yaml: fewgenomes.allow_notebook_tmp_main_read (line 8): allow_notebook_tmp_main_read gives notebooks no access: the dataset has no notebooks component on gcp"
        ]
    );
    assert!(
        config
            .warnings
            .iter()
            .all(|w| w.severity() == cpg_infra::config::Severity::Warning)
    );
}

#[test]
fn errors_and_warnings_are_reported_together() {
    let dir = ConfigDir::valid();
    dir.replace("datasets/fewgenomes/members.yaml", "- bob", "- bobb");
    dir.append("production.yaml", "  depends_on_readonly: [fewgenomes]\n");
    let invalid = dir.load().expect_err("an unknown user is an error");
    assert_eq!(invalid.errors().count(), 1);
    assert_eq!(invalid.warnings().count(), 1);
    assert_eq!(
        invalid.to_string(),
        "the configuration has 1 error and 1 warning"
    );
}

/// Autoclass is on by default; a default the files do not give is no mistake of
/// theirs, so an Azure-only dataset is not warned about it.
#[test]
fn default_autoclass_on_an_azure_only_dataset_is_not_reported() {
    let dir = ConfigDir::valid();
    dir.append(
        "cpg.toml",
        "\n[infrastructure.azure]\nregion = \"australiaeast\"\nsubscription = \"sub\"\ntenant = \"tenant\"\ndataset_storage_prefix = \"cpg\"\n",
    );
    dir.replace(
        "production.yaml",
        "  create_container_registry: true\n",
        "  create_container_registry: true\n  deploy_locations: [gcp, azure]\n  components:\n    azure: [storage]\n",
    );
    dir.write("datasets/common/members.yaml", "# nobody on azure yet\n");
    dir.append(
        "production.yaml",
        "azds:\n  gcp:\n    project: azure-dataset\n  deploy_locations: [azure]\n  components:\n    azure: [storage]\n",
    );
    let config = dir.load().expect("valid");
    assert_eq!(config.warnings, []);
    dir.append("production.yaml", "  autoclass: true\n");
    let config = dir.load().expect("a warning does not stop validation");
    let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "production.yaml: azds.autoclass (line 23): autoclass has no effect: Azure has no Autoclass and this dataset does not deploy to gcp"
        ]
    );
}

/// The directory a config was loaded from travels with it, so that relative paths
/// (function sources, `$asset`/`$archive` paths) resolve against it; no config file
/// can set it.
#[test]
fn load_dir_records_the_config_dir_and_no_file_sets_it() {
    let dir = ConfigDir::valid();
    let config = dir.load().expect("valid");
    assert_eq!(
        config.infrastructure.config_dir.as_deref(),
        Some(dir.path())
    );
    dir.replace(
        "cpg.toml",
        "plugins_enabled = []\n",
        "plugins_enabled = []\nconfig_dir = \"/elsewhere\"\n",
    );
    let found = dir.diagnostics();
    assert!(
        found.iter().any(|d| d.starts_with(
            "error: cpg.toml: infrastructure.config_dir (line 7): unknown key \"config_dir\""
        )),
        "{found:#?}"
    );
}
