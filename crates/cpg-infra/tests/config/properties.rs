//! Property tests: generated valid configurations validate and load back unchanged
//! from any split across files, targeted mutations of them yield their rule's
//! diagnostic at the right place, and the loaders never panic on any input.

use std::collections::BTreeMap;

use cpg_infra::config::source::{KeyPath, Node, NodeValue, parse_toml, parse_yaml};
use cpg_infra::config::{
    AdditionalUploadBucket, AdhocGroup, AnalysisRunnerConfig, AnalysisRunnerGcpConfig, AzureConfig,
    BillingAggregatorConfig, BillingConfig, BillingGcpConfig, Budget, CloudIdentity, CloudName,
    Component, Config, CpgDatasetConfig, CpgInfrastructureConfig, CromwellConfig,
    CromwellGcpConfig, DataDropboxConfig, DataDropboxGcpConfig, DatasetAzureConfig,
    DatasetGcpConfig, DefaultUploadBucket, Diagnostic, EtlConfig, EtlParserConfig, GcpConfig,
    GcpCostControlsConfig, GroupName, HailAzureConfig, HailConfig, HailGcpConfig, InvalidConfig,
    MetamistConfig, MetamistGcpConfig, NotebooksConfig, NotebooksGcpConfig, Problem, UploadConfig,
    UploadDropbox, User, WebServiceConfig, WebServiceGcpConfig, load_dir, validate,
};
use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use proptest::test_runner::TestCaseError;
use serde::Serialize;
use serde_json::Value;

use super::support::ConfigDir;

// ---------------------------------------------------------------------------------
// Test configuration
// ---------------------------------------------------------------------------------

/// For tests that write a config directory per case.
fn file_config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// For tests that stay in memory.
fn memory_config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------
// Strategies for valid configurations
// ---------------------------------------------------------------------------------

/// Free text, including strings that YAML or TOML would read as something else when
/// written bare, and line breaks and tabs (which only free text such as a
/// description may hold).
fn free_text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-z][a-z0-9-]{0,12}",
        2 => "[ -~]{0,16}",
        1 => "\\PC{0,8}",
        1 => "[a-z :#\n\t'\"-]{0,16}",
        1 => select(vec![
            "", " ", "true", "false", "null", "Null", "~", "yes", "no", "on", "off", "y", "n",
            "123", "-1", "0x1F", "0o17", "1e3", "1.5", ".inf", "-.inf", ".nan", "- x",
            "a: b", "# c", "'", "\"", "*a", "&a", "!!str", "@x", "`x", "2024-01-01",
            "1979-05-27T07:32:00Z", "07:32:00", "{}", "[]", "| x", "> x", "%x", "---", "...",
            " leading", "trailing ", "two\nlines", "tab\there", "back\\slash", "\u{e9}\u{1F600}",
        ])
        .prop_map(String::from),
    ]
    .boxed()
}

/// A name or other one-line value: free text without control characters, which
/// names and identities may not hold.
fn text() -> BoxedStrategy<String> {
    free_text()
        .prop_map(|text| text.chars().filter(|c| !c.is_control()).collect())
        .boxed()
}

/// A GCP person or account: an email.
fn email() -> BoxedStrategy<String> {
    "[a-z][a-z0-9._-]{0,8}@[a-z]([a-z0-9-]{0,6}[a-z0-9])?\\.[a-z]{2,4}".boxed()
}

/// A name GCP accepts for a bucket.
fn bucket_name() -> BoxedStrategy<String> {
    "[a-z][a-z0-9-]{1,12}[a-z0-9]".boxed()
}

/// A valid dataset name, short enough for every derived name.
fn dataset_name() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,9}[a-z0-9])?"
}

/// A GCP project id of 6 to 20 characters.
fn project_id() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{4,18}[a-z0-9]"
}

/// A budget amount: any integer, with the small ones more likely.
fn amount() -> BoxedStrategy<i64> {
    prop_oneof![3 => 0..100_000i64, 1 => any::<i64>()].boxed()
}

/// A positive, finite budget notification threshold.
fn threshold() -> BoxedStrategy<f64> {
    prop_oneof![
        3 => (1..=200u32).prop_map(|n| f64::from(n) / 100.0),
        1 => prop::num::f64::POSITIVE | prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL,
    ]
    .boxed()
}

/// A unique, shuffled list.
fn unique(
    element: impl Strategy<Value = String> + 'static,
    size: std::ops::Range<usize>,
) -> BoxedStrategy<Vec<String>> {
    btree_set(element, size)
        .prop_map(|set| set.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
        .boxed()
}

/// Some of `values`, in any order.
fn some_of(values: &[String]) -> BoxedStrategy<Vec<String>> {
    subsequence(values.to_vec(), 0..=values.len())
        .prop_shuffle()
        .boxed()
}

/// Users keyed by member key (mostly plain, sometimes any text), each with a GCP identity and, when `dry_run`, a dry-run
/// identity too.
fn users(dry_run: bool) -> BoxedStrategy<BTreeMap<String, User>> {
    let gcp_identity = (email(), option::of(text()));
    let identity = (text(), option::of(text()));
    let key = prop_oneof![3 => "[a-z][a-z0-9._-]{0,8}".boxed(), 1 => text()];
    btree_map(key, (gcp_identity, identity, any::<bool>()), 1..8)
        .prop_map(move |raw| {
            raw.into_iter()
                .map(
                    |(key, ((gcp_id, gcp_hail), (dry_id, dry_hail), internal_logs))| {
                        let mut clouds = BTreeMap::new();
                        let mut gcp = CloudIdentity::builder().id(gcp_id).build();
                        gcp.hail_batch_username = gcp_hail;
                        clouds.insert(CloudName::Gcp, gcp);
                        if dry_run {
                            let mut dry = CloudIdentity::builder().id(dry_id).build();
                            dry.hail_batch_username = dry_hail;
                            clouds.insert(CloudName::DryRun, dry);
                        }
                        let user = User::builder()
                            .id(key.clone())
                            .clouds(clouds)
                            .can_access_internal_dataset_logs(internal_logs)
                            .build();
                        (key, user)
                    },
                )
                .collect()
        })
        .boxed()
}

fn gcp_config() -> BoxedStrategy<GcpConfig> {
    (
        text(),
        text(),
        text(),
        option::of(text()),
        bucket_name(),
        "[a-z]{1,10}-",
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(customer_id, region, groups_domain, pubsub, bucket, prefix, external, empty)| {
                let mut gcp = GcpConfig::builder()
                    .customer_id(customer_id)
                    .region(region)
                    .groups_domain(groups_domain)
                    .config_bucket_name(bucket)
                    .dataset_storage_prefix(prefix)
                    .allow_external_group_members(external)
                    .create_empty_groups(empty)
                    .build();
                gcp.budget_notification_pubsub = pubsub;
                gcp
            },
        )
        .boxed()
}

fn azure_config() -> BoxedStrategy<AzureConfig> {
    (text(), text(), text(), "[a-z]{1,6}", option::of(text()))
        .prop_map(|(region, subscription, tenant, prefix, bucket)| {
            let mut azure = AzureConfig::builder()
                .region(region)
                .subscription(subscription)
                .tenant(tenant)
                .dataset_storage_prefix(prefix)
                .build();
            azure.config_bucket_name = bucket;
            azure
        })
        .boxed()
}

fn hail_config() -> BoxedStrategy<HailConfig> {
    (
        (
            text(),
            text(),
            option::of(text()),
            option::of(text()),
            option::of(bucket_name()),
        ),
        option::of((text(), text())),
        option::of(text()),
    )
        .prop_map(
            |((batch, auth, secret, secret_project, wheels), azure, username_prefix)| {
                let mut gcp = HailGcpConfig::builder()
                    .hail_batch_url(batch)
                    .hail_auth_url(auth)
                    .build();
                gcp.git_credentials_secret_name = secret;
                gcp.git_credentials_secret_project = secret_project;
                gcp.wheel_bucket_name = wheels;
                let mut hail = HailConfig::builder().gcp(gcp).build();
                hail.azure = azure.map(|(batch, auth)| {
                    HailAzureConfig::builder()
                        .hail_batch_url(batch)
                        .hail_auth_url(auth)
                        .build()
                });
                hail.username_prefix = username_prefix;
                hail
            },
        )
        .boxed()
}

fn analysis_runner_config() -> BoxedStrategy<AnalysisRunnerConfig> {
    (text(), text(), email(), email(), text())
        .prop_map(|(project, instance, server, logger, registry)| {
            AnalysisRunnerConfig::builder()
                .gcp(
                    AnalysisRunnerGcpConfig::builder()
                        .project(project)
                        .cloud_run_instance_name(instance)
                        .server_machine_account(server)
                        .logger_machine_account(logger)
                        .container_registry_name(registry)
                        .build(),
                )
                .build()
        })
        .boxed()
}

fn json_scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        free_text().prop_map(Value::from),
    ]
    .boxed()
}

fn etl_config() -> BoxedStrategy<EtlConfig> {
    let parser = (
        text(),
        vec(text(), 0..3),
        option::of(text()),
        option::of(btree_map(text(), json_scalar(), 0..3)),
    )
        .prop_map(|(name, accessors, group_dataset, parameters)| {
            let mut parser = EtlParserConfig::builder()
                .parser_name(name)
                .accessors(accessors)
                .build();
            parser.analysis_group_dataset = group_dataset;
            parser.default_parameters = parameters.map(|parameters| {
                cpg_infra::config::JsonObject::new(
                    parameters
                        .into_iter()
                        .map(|(k, v)| (k, cpg_infra::config::OrderedJson::from(v))),
                )
                .expect("a map's keys are unique")
            });
            parser
        });
    (
        vec(text(), 0..3),
        btree_map(text(), parser, 0..3),
        text(),
        option::of(vec(text(), 0..3)),
        option::of(btree_map(text(), vec(text(), 0..3), 0..3)),
    )
        .prop_map(|(accessors, by_type, environment, packages, audiences)| {
            let mut etl = EtlConfig::builder()
                .accessors(accessors)
                .by_type(by_type.into())
                .build();
            // `None` is not written and reads back as the default: always give one.
            etl.environment = Some(environment);
            etl.private_repo_packages = packages;
            etl.custom_audience_list = audiences;
            etl
        })
        .boxed()
}

fn metamist_config() -> BoxedStrategy<MetamistConfig> {
    (
        (text(), text(), email(), email()),
        option::of(etl_config()),
        option::of(text()),
    )
        .prop_map(|((project, service, account, legacy), etl, slack)| {
            let mut metamist = MetamistConfig::builder()
                .gcp(
                    MetamistGcpConfig::builder()
                        .project(project)
                        .service_name(service)
                        .machine_account(account)
                        .legacy_machine_account(legacy)
                        .build(),
                )
                .build();
            metamist.etl = etl;
            metamist.slack_channel = slack;
            metamist
        })
        .boxed()
}

fn billing_config() -> BoxedStrategy<BillingConfig> {
    let aggregator = (
        (text(), text(), text(), vec(text(), 0..3)),
        (option::of(text()), option::of(text()), 1..=24i64),
        (option::of(text()), option::of(text())),
    )
        .prop_map(
            |(
                (table, slack, token, functions),
                (sheet, summary, hours),
                (ica_table, ica_secret),
            )| {
                let mut aggregator = BillingAggregatorConfig::builder()
                    .destination_bq_table(table)
                    .slack_channel(slack)
                    .slack_token_secret_name(token)
                    .functions(functions)
                    .interval_hours(hours)
                    .build();
                aggregator.billing_sheet_id = sheet;
                aggregator.monthly_summary_table = summary;
                aggregator.ica_raw_table = ica_table;
                aggregator.ica_api_secret_name = ica_secret;
                aggregator
            },
        );
    let cost_controls = (email(), text(), option::of(text()), text()).prop_map(
        |(account, slack, topic, timezone)| {
            let mut controls = GcpCostControlsConfig::builder()
                .machine_account(account)
                .slack_channel(slack)
                .timezone(timezone)
                .build();
            controls.pubsub_topic = topic;
            controls
        },
    );
    (
        (text(), text(), option::of(text())),
        option::of(email()),
        option::of(aggregator),
        option::of(cost_controls),
        option::of(text()),
    )
        .prop_map(
            |((project, account, table), coordinator, aggregator, cost_controls, hail)| {
                let mut gcp = BillingGcpConfig::builder()
                    .project_id(project)
                    .account_id(account)
                    .build();
                gcp.source_bq_table = table;
                let mut billing = BillingConfig::builder().gcp(gcp).build();
                billing.coordinator_machine_account = coordinator;
                billing.aggregator = aggregator;
                billing.gcp_cost_controls = cost_controls;
                billing.hail_aggregator_username = hail;
                billing
            },
        )
        .boxed()
}

/// The smaller sections: data dropbox, web service, notebooks, cromwell.
type SmallSections = (
    DataDropboxConfig,
    Option<WebServiceConfig>,
    NotebooksConfig,
    CromwellConfig,
);

fn small_sections() -> BoxedStrategy<SmallSections> {
    (
        (text(), email()),
        option::of((email(), option::of(text()))),
        text(),
        (text(), email()),
    )
        .prop_map(
            |((dropbox_project, dropbox_account), web, notebooks, (group, runner))| {
                let dropbox = DataDropboxConfig::builder()
                    .gcp(
                        DataDropboxGcpConfig::builder()
                            .project(dropbox_project)
                            .server_machine_account(dropbox_account)
                            .build(),
                    )
                    .build();
                let web = web.map(|(account, template)| {
                    let mut web = WebServiceConfig::builder()
                        .gcp(
                            WebServiceGcpConfig::builder()
                                .server_machine_account(account)
                                .build(),
                        )
                        .build();
                    web.web_url_template = template;
                    web
                });
                let notebooks = NotebooksConfig::builder()
                    .gcp(NotebooksGcpConfig::builder().project(notebooks).build())
                    .build();
                let cromwell = CromwellConfig::builder()
                    .gcp(
                        CromwellGcpConfig::builder()
                            .access_group_id(group)
                            .runner_machine_account(runner)
                            .build(),
                    )
                    .build();
                (dropbox, web, notebooks, cromwell)
            },
        )
        .boxed()
}

fn adhoc_groups(members: Vec<String>) -> BoxedStrategy<Vec<AdhocGroup>> {
    // Ad-hoc group names are cloud group names; "adhoc-" keeps them apart from the
    // datasets' own groups.
    btree_map(
        "adhoc-[a-z0-9]{1,8}",
        (free_text(), some_of(&members)),
        0..3,
    )
    .prop_map(|groups| {
        groups
            .into_iter()
            .map(|(name, (description, members))| {
                AdhocGroup::builder()
                    .name(name)
                    .description(description)
                    .members(members)
                    .build()
            })
            .collect::<Vec<_>>()
    })
    .prop_shuffle()
    .boxed()
}

/// The organisation-wide config, with every section the default GCP components need.
fn infrastructure(
    users: BTreeMap<String, User>,
    datasets: Vec<String>,
) -> BoxedStrategy<CpgInfrastructureConfig> {
    let keys: Vec<String> = users.keys().cloned().collect();
    (
        // The common dataset is the first: every other dataset depends on it, and
        // dependencies only point to earlier datasets, so there is no cycle.
        (
            text(),
            text(),
            Just(datasets[0].clone()),
            "gs://[a-z][a-z0-9-]{1,9}[a-z0-9]/[a-z/]{0,10}",
        ),
        (
            // This release runs no plugins: none may be enabled.
            Just(Vec::<String>::new()),
            gcp_config(),
            option::of(azure_config()),
            hail_config(),
        ),
        (
            analysis_runner_config(),
            small_sections(),
            metamist_config(),
            billing_config(),
        ),
        (
            option::of(adhoc_groups(keys)),
            any::<bool>(),
            option::of("[a-z]{1,8}-"),
            vec(threshold(), 0..4),
        ),
    )
        .prop_map(
            move |(
                (domain, currency, common, destination),
                (plugins, gcp, azure, hail),
                (analysis_runner, (dropbox, web, notebooks, cromwell), metamist, billing),
                (adhoc, disable_memberships, group_prefix, thresholds),
            )| {
                let mut infra = CpgInfrastructureConfig::builder()
                    .domain(domain)
                    .budget_currency(currency)
                    .common_dataset(common)
                    .config_destination(destination)
                    .users(users.clone())
                    .plugins_enabled(plugins)
                    .gcp(gcp)
                    .hail(hail)
                    .analysis_runner(analysis_runner)
                    .data_dropbox(dropbox)
                    .notebooks(notebooks)
                    .cromwell(cromwell)
                    .metamist(metamist)
                    .billing(billing)
                    .disable_group_memberships(disable_memberships)
                    .budget_notification_thresholds(thresholds)
                    .build();
                infra.azure = azure;
                infra.web_service = web;
                infra.adhoc_groups = adhoc;
                infra.group_prefix = group_prefix;
                infra
            },
        )
        .boxed()
}

fn upload_dropbox(
    id: String,
    users: &[String],
    targets: Vec<String>,
) -> BoxedStrategy<UploadDropbox> {
    (
        (text(), vec(text(), 0..3), some_of(users)),
        (
            option::of(amount()),
            option::of(free_text()),
            option::of(text()),
        ),
        (option::of(select(targets)), option::of(text())),
    )
        .prop_map(
            move |(
                (name, filetypes, uploaders),
                (concurrent, description, size),
                (target, slack),
            )| {
                let mut dropbox = UploadDropbox::builder()
                    .id(id.clone())
                    .name(name)
                    .allowed_filetypes(filetypes)
                    .uploaders(uploaders)
                    .build();
                dropbox.max_concurrent_files = concurrent;
                dropbox.description = description;
                dropbox.max_file_size = size;
                dropbox.move_to_bucket = target;
                dropbox.slack_notification_channel_id = slack;
                dropbox
            },
        )
        .boxed()
}

/// Upload buckets with unique names, and dropboxes with unique ids that move files
/// to `default` or one of the buckets.
fn upload_config(users: Vec<String>) -> BoxedStrategy<UploadConfig> {
    let uploaders = option::of(some_of(&users));
    (
        option::of(uploaders.clone()),
        option::of(unique("[a-z]([a-z0-9-]{0,7}[a-z0-9])?", 0..3)),
        vec(uploaders, 3),
        option::of(unique("[a-z]([a-z0-9-]{0,8}[a-z0-9])?", 0..3)),
    )
        .prop_flat_map(move |(default, buckets, bucket_uploaders, ids)| {
            let mut targets = vec!["default".to_owned()];
            targets.extend(buckets.iter().flatten().cloned());
            let additional = buckets.map(|names| {
                names
                    .into_iter()
                    .zip(bucket_uploaders)
                    .map(|(name, uploaders)| {
                        let mut bucket = AdditionalUploadBucket::builder().name(name).build();
                        bucket.uploaders = uploaders;
                        bucket
                    })
                    .collect::<Vec<_>>()
            });
            let dropboxes = match ids {
                None => Just(None).boxed(),
                Some(ids) => ids
                    .into_iter()
                    .map(|id| upload_dropbox(id, &users, targets.clone()))
                    .collect::<Vec<_>>()
                    .prop_map(Some)
                    .boxed(),
            };
            let default = default.map(|uploaders| DefaultUploadBucket { uploaders });
            (Just(default), Just(additional), dropboxes)
        })
        .prop_map(
            |(default_bucket, additional_buckets, dropboxes)| UploadConfig {
                default_bucket,
                additional_buckets,
                dropboxes,
            },
        )
        .boxed()
}

/// A dataset config that deploys to GCP with a GCP budget, depends only on `earlier`
/// datasets and lists only `users`.
fn dataset(
    name: String,
    earlier: Vec<String>,
    users: Vec<String>,
    dry_run: bool,
) -> BoxedStrategy<CpgDatasetConfig> {
    // A dataset's dependencies (and common) must deploy wherever it does, so in a
    // dry-run organisation every dataset deploys to both clouds.
    let locations = if dry_run {
        select(vec![
            vec![CloudName::Gcp, CloudName::DryRun],
            vec![CloudName::DryRun, CloudName::Gcp],
        ])
        .boxed()
    } else {
        Just(vec![CloudName::Gcp]).boxed()
    };
    let components = subsequence(Component::ALL.to_vec(), 0..=Component::ALL.len()).prop_shuffle();
    let gcp = (project_id(), option::of(text()), option::of(dataset_name())).prop_map(
        |(project, region, hail_name)| {
            let mut gcp = DatasetGcpConfig::builder().project(project).build();
            gcp.region = region;
            gcp.hail_service_account_dataset_name_override = hail_name;
            gcp
        },
    );
    let budget = (amount(), option::of(amount()), option::of("[A-Z]{3}")).prop_map(
        |(monthly, total, currency)| {
            let mut budget = Budget::builder().monthly_budget(monthly).build();
            budget.shared_total_budget = total;
            budget.currency = currency;
            budget
        },
    );
    (
        (
            gcp,
            option::of(option::of(text())),
            (
                option::of(email()),
                option::of(email()),
                option::of(email()),
            ),
            locations,
        ),
        (
            any::<[bool; 8]>(),
            (0..3u8, amount()),
            (some_of(&earlier), some_of(&earlier)),
            (vec(email(), 0..3), vec(email(), 0..3)),
        ),
        (
            amount(),
            (option::of(components.clone()), option::of(components)),
            btree_map(select(GroupName::ALL.to_vec()), some_of(&users), 0..4),
            option::of(upload_config(users)),
        ),
        (
            budget,
            option::of(
                amount().prop_map(|monthly| Budget::builder().monthly_budget(monthly).build()),
            ),
        ),
    )
        .prop_map(
            move |(
                (gcp, azure, (sa_test, sa_standard, sa_full), deploy_locations),
                (
                    flags,
                    (release_mode, shared_total),
                    (depends_on, depends_on_readonly),
                    (sm_ro, sm_rw),
                ),
                (archive_age, (gcp_components, dry_components), members, upload),
                (mut gcp_budget, dry_budget),
            )| {
                let [
                    setup_test,
                    registry,
                    internal,
                    metamist,
                    notebook_tmp,
                    autoclass,
                    _,
                    _,
                ] = flags;
                // 0: no release; 1: release only; 2: release and a shared project.
                let enable_release = release_mode >= 1;
                let enable_shared_project = release_mode == 2;
                if enable_shared_project {
                    // A shared project needs a positive total budget.
                    gcp_budget.shared_total_budget = Some(shared_total.max(1));
                }
                let mut budgets = BTreeMap::from([(CloudName::Gcp, gcp_budget)]);
                if let Some(dry_budget) = dry_budget {
                    budgets.insert(CloudName::DryRun, dry_budget);
                }
                let mut components = BTreeMap::new();
                // Notebook temporary access needs the notebooks component on GCP.
                let notebooks_on_gcp = gcp_components
                    .as_ref()
                    .is_none_or(|list| list.contains(&Component::Notebooks));
                let notebook_tmp = notebook_tmp && notebooks_on_gcp;
                if let Some(list) = gcp_components {
                    components.insert(CloudName::Gcp, list);
                }
                if let Some(list) = dry_components {
                    components.insert(CloudName::DryRun, list);
                }
                let mut dataset = CpgDatasetConfig::builder()
                    .dataset(name.clone())
                    .gcp(gcp)
                    .budgets(budgets)
                    .setup_test(setup_test)
                    .create_container_registry(registry)
                    .deploy_locations(deploy_locations)
                    .is_internal_dataset(internal)
                    .enable_release(enable_release)
                    .enable_shared_project(enable_shared_project)
                    .enable_metamist_project(metamist)
                    .allow_notebook_tmp_main_read(notebook_tmp)
                    .depends_on(depends_on)
                    .depends_on_readonly(depends_on_readonly)
                    .sm_read_only_sas(sm_ro)
                    .sm_read_write_sas(sm_rw)
                    .archive_age(archive_age)
                    .autoclass(autoclass)
                    .components(components)
                    .members(members)
                    .build();
                dataset.azure = azure.map(|region| DatasetAzureConfig { region });
                dataset.deployment_service_account_test = sa_test;
                dataset.deployment_service_account_standard = sa_standard;
                dataset.deployment_service_account_full = sa_full;
                dataset.upload_config = upload;
                dataset
            },
        )
        .boxed()
}

/// A valid configuration: 1 to 7 users and 1 to 7 datasets, one of them the common
/// dataset, in generation order.
fn valid_config() -> BoxedStrategy<Config> {
    (unique(dataset_name(), 1..8), any::<bool>())
        .prop_flat_map(|(names, dry_run)| (Just(names), Just(dry_run), users(dry_run)))
        .prop_flat_map(|(names, dry_run, users)| {
            let keys: Vec<String> = users.keys().cloned().collect();
            let datasets: Vec<BoxedStrategy<CpgDatasetConfig>> = names
                .iter()
                .enumerate()
                .map(|(i, name)| dataset(name.clone(), names[..i].to_vec(), keys.clone(), dry_run))
                .collect();
            (infrastructure(users, names.clone()), datasets)
        })
        .prop_map(|(infrastructure, datasets)| Config {
            warnings: Vec::new(),
            infrastructure,
            datasets,
        })
        .boxed()
}

// ---------------------------------------------------------------------------------
// Writing a configuration to a directory
// ---------------------------------------------------------------------------------

/// Which of a dataset's values are written to their own file under
/// `datasets/<name>/` instead of its `production.yaml` entry.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    members: bool,
    budgets: bool,
    upload: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    any::<(bool, bool, bool)>().prop_map(|(members, budgets, upload)| Layout {
        members,
        budgets,
        upload,
    })
}

/// A valid configuration and a layout per dataset.
fn config_and_layouts() -> BoxedStrategy<(Config, Vec<Layout>)> {
    valid_config()
        .prop_flat_map(|config| {
            let n = config.datasets.len();
            (Just(config), vec(layout(), n))
        })
        .boxed()
}

/// The `cpg.toml` document.
#[derive(Serialize)]
struct CpgToml<'a> {
    infrastructure: &'a CpgInfrastructureConfig,
}

/// A mapping that keeps its entries' order.
struct Ordered<'a>(&'a [(String, Value)]);

impl Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn to_yaml(value: &impl Serialize) -> String {
    serde_saphyr::to_string(value).expect("serialise YAML")
}

/// The files of a config directory, before they are written.
struct Files {
    cpg_toml: String,
    /// `production.yaml`: dataset name → options, in order.
    production: Vec<(String, Value)>,
    /// `datasets/<name>/<file>` → contents.
    dataset_files: Vec<(String, String)>,
}

impl Files {
    fn render(config: &Config, layouts: &[Layout]) -> Files {
        let cpg_toml = toml::to_string(&CpgToml {
            infrastructure: &config.infrastructure,
        })
        .expect("serialise TOML");
        let mut production = Vec::new();
        let mut dataset_files = Vec::new();
        for (dataset, layout) in config.datasets.iter().zip(layouts) {
            let name = &dataset.dataset;
            let mut value = serde_json::to_value(dataset).expect("dataset as JSON");
            let entry = value.as_object_mut().expect("dataset is a mapping");
            if layout.members {
                entry.remove("members");
                dataset_files.push((
                    format!("datasets/{name}/members.yaml"),
                    to_yaml(&dataset.members),
                ));
            }
            if layout.budgets {
                entry.remove("budgets");
                dataset_files.push((
                    format!("datasets/{name}/budgets.yaml"),
                    to_yaml(&dataset.budgets),
                ));
            }
            if let (true, Some(upload)) = (layout.upload, &dataset.upload_config) {
                entry.remove("upload_config");
                dataset_files.push((format!("datasets/{name}/upload.yaml"), to_yaml(upload)));
            }
            production.push((name.clone(), value));
        }
        Files {
            cpg_toml,
            production,
            dataset_files,
        }
    }

    fn production_yaml(&self) -> String {
        to_yaml(&Ordered(&self.production))
    }

    fn write(&self, dir: &ConfigDir) {
        dir.write("cpg.toml", &self.cpg_toml);
        dir.write("production.yaml", &self.production_yaml());
        for (path, contents) in &self.dataset_files {
            dir.write(path, contents);
        }
    }

    /// Every file, for failure messages.
    fn describe(&self) -> String {
        let mut text = format!(
            "--- cpg.toml\n{}\n--- production.yaml\n{}\n",
            self.cpg_toml,
            self.production_yaml()
        );
        for (path, contents) in &self.dataset_files {
            text.push_str(&format!("--- {path}\n{contents}\n"));
        }
        text
    }

    /// The entry of `dataset` in `production.yaml`.
    fn entry(&mut self, dataset: &str) -> &mut serde_json::Map<String, Value> {
        self.production
            .iter_mut()
            .find(|(name, _)| name == dataset)
            .and_then(|(_, value)| value.as_object_mut())
            .expect("dataset entry")
    }
}

/// Where a dataset's `field` (with `rest` below it) is reported: its own file when
/// the layout moved it there, else its `production.yaml` entry.
fn location(dataset: &str, layout: Layout, field: &str, rest: &KeyPath) -> (String, KeyPath) {
    let (moved, file) = match field {
        "members" => (layout.members, "members.yaml"),
        "budgets" => (layout.budgets, "budgets.yaml"),
        "upload_config" => (layout.upload, "upload.yaml"),
        _ => (false, ""),
    };
    if moved {
        (format!("datasets/{dataset}/{file}"), rest.clone())
    } else {
        (
            "production.yaml".to_owned(),
            KeyPath::root().key(dataset).key(field).join(rest),
        )
    }
}

fn render_diagnostics(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("  {d}\n    [{:?}]\n", d.path))
        .collect()
}

/// The first difference between two configs, for failure messages.
fn first_difference(expected: &Config, loaded: &Config) -> String {
    if expected.infrastructure != loaded.infrastructure {
        return format!(
            "infrastructure differs:\nexpected {:#?}\nloaded {:#?}",
            expected.infrastructure, loaded.infrastructure
        );
    }
    if expected.datasets.len() != loaded.datasets.len() {
        return format!(
            "{} datasets expected, {} loaded",
            expected.datasets.len(),
            loaded.datasets.len()
        );
    }
    for (e, l) in expected.datasets.iter().zip(&loaded.datasets) {
        if e != l {
            return format!("dataset differs:\nexpected {e:#?}\nloaded {l:#?}");
        }
    }
    "no difference".into()
}

/// Writes `files`, loads them, and returns the diagnostics, failing when the
/// directory is accepted.
fn load_invalid(files: &Files, what: &str) -> Result<InvalidConfig, TestCaseError> {
    let dir = ConfigDir::empty();
    files.write(&dir);
    match dir.load() {
        Ok(_) => Err(TestCaseError::fail(format!(
            "{what}: the config was accepted\n{}",
            files.describe()
        ))),
        Err(invalid) => Ok(invalid),
    }
}

/// Checks that `invalid` has a diagnostic at `file` / `path` whose problem `matches`,
/// with a line (every problem found in a file has one).
fn expect_at(
    invalid: &InvalidConfig,
    files: &Files,
    what: &str,
    (file, path): (&str, &KeyPath),
    matches: impl Fn(&Problem) -> bool,
) -> Result<(), TestCaseError> {
    let found = invalid
        .diagnostics
        .iter()
        .find(|d| d.file == file && &d.path == path && matches(&d.problem));
    prop_assert!(
        found.is_some(),
        "{what}: expected a diagnostic at {file}: {path}, got:\n{}\n{}",
        render_diagnostics(&invalid.diagnostics),
        files.describe()
    );
    prop_assert!(
        found.is_some_and(|d| d.line.is_some_and(|line| line >= 1)),
        "{what}: the diagnostic has no line: {found:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------
// Valid configurations
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(memory_config())]

    /// Every generated configuration passes validation as built in code.
    #[test]
    fn generated_configs_validate(config in valid_config()) {
        let result = validate(&config.infrastructure, &config.datasets);
        prop_assert!(
            result.is_ok(),
            "{}",
            render_diagnostics(&result.err().map(|e| e.diagnostics).unwrap_or_default())
        );
    }

    /// Two datasets of one name are reported once, at the second one.
    #[test]
    fn validate_reports_duplicate_datasets(config in valid_config(), pick in any::<Index>()) {
        let mut datasets = config.datasets.clone();
        let twin = datasets[pick.index(datasets.len())].clone();
        let name = twin.dataset.clone();
        datasets.push(twin);
        let invalid = validate(&config.infrastructure, &datasets)
            .expect_err("two datasets of one name are invalid");
        let duplicates: Vec<&Diagnostic> = invalid
            .diagnostics
            .iter()
            .filter(|d| matches!(&d.problem, Problem::DuplicateDataset { .. }))
            .collect();
        prop_assert_eq!(duplicates.len(), 1, "{}", render_diagnostics(&invalid.diagnostics));
        prop_assert_eq!(&duplicates[0].problem, &Problem::DuplicateDataset { name: name.clone() });
        prop_assert_eq!(&duplicates[0].file, &format!("dataset config {name:?}"));
        prop_assert!(duplicates[0].path.is_root());
        prop_assert_eq!(duplicates[0].line, None);
    }
}

proptest! {
    #![proptest_config(file_config())]

    /// A generated configuration, written as `cpg.toml`, `production.yaml` and some
    /// per-dataset files, loads back equal to itself.
    #[test]
    fn generated_configs_load_back_unchanged((config, layouts) in config_and_layouts()) {
        let files = Files::render(&config, &layouts);
        let dir = ConfigDir::empty();
        files.write(&dir);
        // The loaded config records the directory it came from, and its files.
        let mut expected = config.clone();
        expected.infrastructure.config_dir = Some(dir.path().to_path_buf());
        match load_dir(dir.path()) {
            // Warnings (e.g. a dependency in both lists) are reported, not part of
            // the config.
            Ok(loaded) => {
                // The files it records define every dataset, in order.
                let sources = loaded.infrastructure.sources.clone();
                let defined: Vec<&str> = sources
                    .iter()
                    .flat_map(|sources| sources.datasets().map(|(name, _)| name))
                    .collect();
                let names: Vec<&str> = config.datasets.iter().map(|d| d.dataset.as_str()).collect();
                prop_assert_eq!(defined, names, "{}", files.describe());
                expected.infrastructure.sources = sources;
                prop_assert!(
                    Config { warnings: Vec::new(), ..loaded.clone() } == expected,
                    "{}\n{}",
                    first_difference(&expected, &loaded),
                    files.describe()
                );
            }
            Err(invalid) => prop_assert!(
                false,
                "a valid config was rejected:\n{}\n{}",
                render_diagnostics(&invalid.diagnostics),
                files.describe()
            ),
        }
    }
}

// ---------------------------------------------------------------------------------
// Targeted mutations
// ---------------------------------------------------------------------------------

/// A member key no generated user has (plain keys are at most 9 characters; the
/// tests assume away free-text keys that happen to equal it).
const NOBODY: &str = "unknown-person-x";
/// A dataset name no generated dataset has (generated names are at most 11).
const NO_DATASET: &str = "missing-dataset-x";

/// The first `depends_on` / `depends_on_readonly` entry of `from` naming `to`.
fn dependency_entry(from: &CpgDatasetConfig, to: &str) -> Option<(&'static str, usize)> {
    let full = from.depends_on.iter().position(|t| t == to);
    let readonly = from.depends_on_readonly.iter().position(|t| t == to);
    full.map(|i| ("depends_on", i))
        .or_else(|| readonly.map(|i| ("depends_on_readonly", i)))
}

proptest! {
    #![proptest_config(file_config())]

    /// A member who is not a user: `UnknownUser` at the member, in whichever file
    /// holds the dataset's members. (An unknown temporary-access member is a warning:
    /// the reference leaves it out of the group.)
    #[test]
    fn unknown_member_is_reported(
        (mut config, layouts) in config_and_layouts(),
        pick in any::<Index>(),
        group in select(
            GroupName::ALL
                .iter()
                .copied()
                .filter(|g| *g != GroupName::TmpMainReadAccess)
                .collect::<Vec<_>>(),
        ),
    ) {
        prop_assume!(!config.infrastructure.users.contains_key(NOBODY));
        let k = pick.index(config.datasets.len());
        let list = config.datasets[k].members.entry(group).or_default();
        list.push(NOBODY.to_owned());
        let index = list.len() - 1;
        let name = config.datasets[k].dataset.clone();
        let files = Files::render(&config, &layouts);
        let invalid = load_invalid(&files, "unknown member")?;
        let (file, path) = location(
            &name,
            layouts[k],
            "members",
            &KeyPath::root().key(group.as_str()).index(index),
        );
        expect_at(&invalid, &files, "unknown member", (&file, &path), |p| {
            matches!(p, Problem::UnknownUser { user, .. } if user == NOBODY)
        })?;
    }

    /// A dependency on a dataset that does not exist: `UnknownDataset` at the entry.
    #[test]
    fn dangling_dependency_is_reported(
        (mut config, layouts) in config_and_layouts(),
        pick in any::<Index>(),
        readonly in any::<bool>(),
    ) {
        let k = pick.index(config.datasets.len());
        let dataset = &mut config.datasets[k];
        let (key, list) = if readonly {
            ("depends_on_readonly", &mut dataset.depends_on_readonly)
        } else {
            ("depends_on", &mut dataset.depends_on)
        };
        list.push(NO_DATASET.to_owned());
        let path = KeyPath::root().key(dataset.dataset.clone()).key(key).index(list.len() - 1);
        let files = Files::render(&config, &layouts);
        let invalid = load_invalid(&files, "dangling dependency")?;
        expect_at(&invalid, &files, "dangling dependency", ("production.yaml", &path), |p| {
            matches!(p, Problem::UnknownDataset { name, .. } if name == NO_DATASET)
        })?;
    }

    /// Two datasets that depend on each other (or one on itself): every reported
    /// cycle is a real cycle through both, reported at its first edge.
    #[test]
    fn dependency_cycle_is_reported(
        (mut config, layouts) in config_and_layouts(),
        a in any::<Index>(),
        b in any::<Index>(),
    ) {
        let n = config.datasets.len();
        let (i, j) = (a.index(n), b.index(n));
        let (i, j) = (i.min(j), i.max(j));
        let (name_i, name_j) = (config.datasets[i].dataset.clone(), config.datasets[j].dataset.clone());
        // The generated graph only points backwards: the new edges close a cycle.
        config.datasets[i].depends_on.push(name_j.clone());
        if i != j {
            config.datasets[j].depends_on_readonly.push(name_i.clone());
        }
        let files = Files::render(&config, &layouts);
        let invalid = load_invalid(&files, "dependency cycle")?;
        let cycles: Vec<(&Diagnostic, &Vec<String>)> = invalid
            .diagnostics
            .iter()
            .filter_map(|d| match &d.problem {
                Problem::DependencyCycle { cycle } => Some((d, cycle)),
                _ => None,
            })
            .collect();
        prop_assert!(!cycles.is_empty(), "no cycle reported:\n{}", render_diagnostics(&invalid.diagnostics));
        let by_name: BTreeMap<&str, &CpgDatasetConfig> =
            config.datasets.iter().map(|d| (d.dataset.as_str(), d)).collect();
        for (diagnostic, cycle) in cycles {
            prop_assert!(cycle.len() >= 2, "{cycle:?}");
            prop_assert_eq!(cycle.first(), cycle.last());
            prop_assert!(cycle.contains(&name_i) && cycle.contains(&name_j), "{cycle:?}");
            let common = &config.infrastructure.common_dataset;
            for pair in cycle.windows(2) {
                // Every dataset but common also depends on common.
                let implicit = pair[1] == *common && pair[0] != *common;
                prop_assert!(
                    implicit || dependency_entry(by_name[pair[0].as_str()], &pair[1]).is_some(),
                    "{} does not depend on {} in {cycle:?}",
                    pair[0],
                    pair[1]
                );
            }
            let (key, index) = dependency_entry(by_name[cycle[0].as_str()], &cycle[1])
                .expect("checked above");
            let path = KeyPath::root().key(cycle[0].clone()).key(key).index(index);
            prop_assert_eq!(&diagnostic.file, "production.yaml");
            prop_assert_eq!(&diagnostic.path, &path);
        }
    }

    /// A dataset without a GCP budget: `MissingBudget` at `budgets.gcp`.
    #[test]
    fn missing_budget_is_reported((mut config, layouts) in config_and_layouts(), pick in any::<Index>()) {
        let k = pick.index(config.datasets.len());
        config.datasets[k].budgets.remove(&CloudName::Gcp);
        let name = config.datasets[k].dataset.clone();
        let files = Files::render(&config, &layouts);
        let invalid = load_invalid(&files, "missing budget")?;
        let (file, path) = location(&name, layouts[k], "budgets", &KeyPath::root().key("gcp"));
        expect_at(&invalid, &files, "missing budget", (&file, &path), |p| {
            *p == Problem::MissingBudget { cloud: CloudName::Gcp }
        })?;
    }

    /// A dataset listed twice in `production.yaml`: `DuplicateKey` at the second
    /// listing, naming the line of the first.
    #[test]
    fn duplicate_dataset_key_is_reported((config, layouts) in config_and_layouts(), pick in any::<Index>()) {
        let k = pick.index(config.datasets.len());
        let files = Files::render(&config, &layouts);
        let original = files.production_yaml();
        let first_line = parse_yaml(&original)
            .expect("generated YAML parses")
            .get(&files.production[k].0)
            .map(|(key, _)| key.line)
            .expect("the dataset is listed");
        let again = to_yaml(&Ordered(&files.production[k..=k]));
        prop_assert!(original.ends_with('\n'), "{original:?}");
        let text = format!("{original}{again}");
        let dir = ConfigDir::empty();
        files.write(&dir);
        dir.write("production.yaml", &text);
        let invalid = dir.load().expect_err("a dataset listed twice is invalid");
        let name = files.production[k].0.clone();
        let second_line = u32::try_from(original.lines().count() + 1).expect("small");
        let found = invalid.diagnostics.iter().any(|d| {
            d.file == "production.yaml"
                && d.path == KeyPath::root().key(name.clone())
                && d.line == Some(second_line)
                && d.problem == Problem::DuplicateKey { key: name.clone(), first_line }
        });
        prop_assert!(found, "expected a duplicate key {name:?} on line {second_line}, first on {first_line}:\n{}\n{text}",
            render_diagnostics(&invalid.diagnostics));
    }

    /// A dataset name too long for the derived names: `NameOutOfLimits` at its
    /// `dataset` key, for the group email that every GCP dataset gets.
    #[test]
    fn overlong_dataset_name_is_reported(
        (mut config, layouts) in config_and_layouts(),
        long_name in "[a-z][a-z0-9]{59}",
    ) {
        // Nothing depends on the last dataset, so it can be renamed alone.
        let last = config.datasets.last_mut().expect("at least one dataset");
        if config.infrastructure.common_dataset == last.dataset {
            config.infrastructure.common_dataset = long_name.clone();
        }
        last.dataset = long_name.clone();
        let files = Files::render(&config, &layouts);
        let invalid = load_invalid(&files, "over-long name")?;
        let path = KeyPath::root().key(long_name.clone()).key("dataset");
        expect_at(&invalid, &files, "over-long name", ("production.yaml", &path), |p| {
            matches!(
                p,
                Problem::NameOutOfLimits { what, name, length, .. }
                    if what == "group email local part"
                        && name.contains(&long_name)
                        && *length > 64
                        && *length == name.chars().count()
            )
        })?;
    }

    /// A key the dataset schema does not have: `UnknownKey` at the key.
    #[test]
    fn unknown_dataset_key_is_reported((config, layouts) in config_and_layouts(), pick in any::<Index>()) {
        let k = pick.index(config.datasets.len());
        let mut files = Files::render(&config, &layouts);
        let name = files.production[k].0.clone();
        files.entry(&name).insert("zzz_no_such_option".into(), Value::from(1));
        let invalid = load_invalid(&files, "unknown dataset key")?;
        let path = KeyPath::root().key(name).key("zzz_no_such_option");
        expect_at(&invalid, &files, "unknown dataset key", ("production.yaml", &path), |p| {
            matches!(p, Problem::UnknownKey { key, .. } if key == "zzz_no_such_option")
        })?;
    }

    /// A key the infrastructure schema does not have: `UnknownKey` at the key, on
    /// the line it was written.
    #[test]
    fn unknown_infrastructure_key_is_reported((config, layouts) in config_and_layouts()) {
        let mut files = Files::render(&config, &layouts);
        prop_assert!(files.cpg_toml.starts_with("[infrastructure]\n"), "{}", files.cpg_toml);
        files.cpg_toml = files
            .cpg_toml
            .replacen("[infrastructure]\n", "[infrastructure]\nzzz_no_such_setting = 1\n", 1);
        let invalid = load_invalid(&files, "unknown infrastructure key")?;
        let path = KeyPath::root().key("infrastructure").key("zzz_no_such_setting");
        expect_at(&invalid, &files, "unknown infrastructure key", ("cpg.toml", &path), |p| {
            matches!(p, Problem::UnknownKey { key, .. } if key == "zzz_no_such_setting")
        })?;
        prop_assert!(invalid
            .diagnostics
            .iter()
            .any(|d| d.path == path && d.line == Some(2)));
    }

    /// A component that does not exist: `InvalidValue` at the list entry.
    #[test]
    fn invalid_component_is_reported((config, layouts) in config_and_layouts(), pick in any::<Index>()) {
        let k = pick.index(config.datasets.len());
        let mut files = Files::render(&config, &layouts);
        let name = files.production[k].0.clone();
        let components = files
            .entry(&name)
            .entry("components")
            .or_insert_with(|| Value::Object(serde_json::Map::new()))
            .as_object_mut()
            .expect("components is a mapping")
            .entry("gcp")
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .expect("a component list");
        components.push(Value::from("not-a-component"));
        let index = components.len() - 1;
        let invalid = load_invalid(&files, "invalid component")?;
        let path = KeyPath::root().key(name).key("components").key("gcp").index(index);
        expect_at(&invalid, &files, "invalid component", ("production.yaml", &path), |p| {
            matches!(
                p,
                Problem::InvalidValue { value, expected, .. }
                    if value == "not-a-component" && expected.len() == Component::ALL.len()
            )
        })?;
    }

    /// A dropbox moving files to a bucket the dataset does not have:
    /// `UnknownUploadBucket` at its `move_to_bucket`, listing the known buckets.
    #[test]
    fn dropbox_to_unknown_bucket_is_reported((mut config, layouts) in config_and_layouts(), pick in any::<Index>()) {
        let k = pick.index(config.datasets.len());
        let name = config.datasets[k].dataset.clone();
        let upload = config.datasets[k].upload_config.get_or_insert_with(UploadConfig::default);
        let mut known: Vec<String> = upload
            .additional_buckets
            .iter()
            .flatten()
            .map(|b| b.name.clone())
            .collect();
        known.push("default".into());
        let dropboxes = upload.dropboxes.get_or_insert_with(Vec::new);
        let mut dropbox = UploadDropbox::builder()
            .id("zz-new-drop")
            .name("New")
            .allowed_filetypes(vec!["cram".into()])
            .uploaders(Vec::new())
            .build();
        dropbox.move_to_bucket = Some("no-such-bucket".into());
        dropboxes.push(dropbox);
        let index = dropboxes.len() - 1;
        let files = Files::render(&config, &layouts);
        let invalid = load_invalid(&files, "unknown upload bucket")?;
        let (file, path) = location(
            &name,
            layouts[k],
            "upload_config",
            &KeyPath::root().key("dropboxes").index(index).key("move_to_bucket"),
        );
        expect_at(&invalid, &files, "unknown upload bucket", (&file, &path), |p| {
            *p == Problem::UnknownUploadBucket { bucket: "no-such-bucket".into(), known: known.clone() }
        })?;
    }
}

// ---------------------------------------------------------------------------------
// Arbitrary input never panics
// ---------------------------------------------------------------------------------

/// Text built from YAML's punctuation, some keys and values, and indentation.
fn yaml_like() -> BoxedStrategy<String> {
    vec(
        select(vec![
            "key",
            "a",
            "gcp",
            "members",
            "analysis",
            "common",
            "dataset",
            ":",
            ": ",
            "-",
            "- ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "'",
            "\"",
            "\n",
            "\n",
            "\n  ",
            "\n    ",
            "  ",
            "    ",
            "#",
            "&x ",
            "*x",
            "!!str ",
            "!!int ",
            "!custom ",
            "? ",
            "|",
            ">",
            "---",
            "...",
            "~",
            "null",
            "true",
            "1",
            "-1",
            "0x1F",
            "1e400",
            ".inf",
            ".nan",
            "\t",
            "%YAML 1.2\n",
            "\\",
            "@",
            "`",
            "\r\n",
            "\r",
            "\u{e9}",
            "\u{feff}",
            "\u{85}",
        ]),
        0..64,
    )
    .prop_map(|tokens| tokens.concat())
    .boxed()
}

/// Text built from TOML's punctuation, some keys and values, and newlines.
fn toml_like() -> BoxedStrategy<String> {
    vec(
        select(vec![
            "[",
            "]",
            "[[",
            "]]",
            "infrastructure",
            "users",
            "gcp",
            "a",
            "b.c",
            "\"q\"",
            "'l'",
            " = ",
            "=",
            "{",
            "}",
            ",",
            "\n",
            "\n",
            " ",
            "#",
            "1",
            "-0",
            "0x1F",
            "1_000",
            "1.5e3",
            "1e400",
            "99999999999999999999",
            "inf",
            "-nan",
            "true",
            "1979-05-27T07:32:00Z",
            "07:32:00",
            "1979-05-27",
            "\"\"\"",
            "'''",
            "\\u00e9",
            "\\",
            ".",
            "\r\n",
            "\t",
            "\u{e9}",
        ]),
        0..64,
    )
    .prop_map(|tokens| tokens.concat())
    .boxed()
}

/// Any text: arbitrary strings, or YAML- or TOML-like ones.
fn any_text() -> BoxedStrategy<String> {
    prop_oneof![any::<String>(), yaml_like(), toml_like()].boxed()
}

/// The files of the valid baseline that arbitrary contents replace.
const TARGETS: [&str; 4] = [
    "cpg.toml",
    "production.yaml",
    "datasets/fewgenomes/members.yaml",
    "datasets/validation/members.yaml",
];

/// The largest line a parser may report for `text`: one past its last line break
/// (YAML also breaks lines at a lone carriage return).
fn max_line(text: &str) -> u32 {
    u32::try_from(text.matches('\n').count() + text.matches('\r').count() + 1).expect("small")
}

/// Every line in `node` is within the text's lines.
fn lines_within(node: &Node, max: u32) -> bool {
    let here = (1..=max).contains(&node.line);
    here && match &node.value {
        NodeValue::Seq(items) => items.iter().all(|item| lines_within(item, max)),
        NodeValue::Map(entries) => entries
            .iter()
            .all(|(key, value)| (1..=max).contains(&key.line) && lines_within(value, max)),
        _ => true,
    }
}

/// What any load must satisfy after `target` was given `bytes`: the result is a
/// config or diagnostics, diagnostics are sorted, name a file, render, and lines in
/// the replaced file are within it.
fn check_load(dir: &ConfigDir, target: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let text = std::str::from_utf8(bytes);
    match load_dir(dir.path()) {
        Ok(config) => {
            let text = text.map_err(|_| TestCaseError::fail("non-UTF-8 file accepted"))?;
            // The file was read: it must parse on its own.
            let parsed = if target.ends_with(".toml") {
                parse_toml(text).is_ok()
            } else {
                parse_yaml(text).is_ok()
            };
            prop_assert!(parsed, "accepted a file that does not parse: {text:?}");
            prop_assert!(!config.datasets.is_empty());
        }
        Err(invalid) => {
            prop_assert!(!invalid.diagnostics.is_empty());
            let order: Vec<_> = invalid
                .diagnostics
                .iter()
                .map(|d| (&d.file, d.line))
                .collect();
            let mut sorted = order.clone();
            sorted.sort();
            prop_assert_eq!(order, sorted, "diagnostics are not in file order");
            for diagnostic in &invalid.diagnostics {
                prop_assert!(!diagnostic.file.is_empty());
                prop_assert!(diagnostic.to_string().starts_with(&diagnostic.file));
                if let (true, Some(line), Ok(text)) =
                    (diagnostic.file == target, diagnostic.line, text)
                {
                    prop_assert!(
                        (1..=max_line(text)).contains(&line),
                        "line {line} outside {target} ({} lines): {diagnostic}\n{text:?}",
                        max_line(text)
                    );
                }
            }
            if text.is_err() {
                let unreadable = invalid
                    .diagnostics
                    .iter()
                    .any(|d| d.file == target && matches!(&d.problem, Problem::Unreadable { .. }));
                prop_assert!(unreadable, "a non-UTF-8 file is not reported as unreadable");
            }
        }
    }
    Ok(())
}

/// The text of `target` in the valid baseline, for near-valid edits.
fn baseline_text(target: &str) -> &'static str {
    use super::support::{CPG_TOML, MEMBERS_YAML, PRODUCTION_YAML};
    match target {
        "cpg.toml" => CPG_TOML,
        "production.yaml" => PRODUCTION_YAML,
        _ => MEMBERS_YAML,
    }
}

proptest! {
    #![proptest_config(file_config())]

    /// Arbitrary bytes in one file of a valid directory.
    #[test]
    fn loading_arbitrary_bytes_never_panics(
        target in select(TARGETS.to_vec()),
        bytes in vec(any::<u8>(), 0..512),
    ) {
        let dir = ConfigDir::valid();
        dir.write_bytes(target, &bytes);
        check_load(&dir, target, &bytes)?;
    }

    /// YAML- and TOML-like text in one file of a valid directory.
    #[test]
    fn loading_arbitrary_text_never_panics(target in select(TARGETS.to_vec()), text in any_text()) {
        let dir = ConfigDir::valid();
        dir.write(target, &text);
        check_load(&dir, target, text.as_bytes())?;
    }

    /// The baseline file with a slice replaced by YAML- or TOML-like text: near-valid
    /// files reach decoding and validation.
    #[test]
    fn loading_edited_files_never_panics(
        target in select(TARGETS.to_vec()),
        at in any::<Index>(),
        delete in 0..16usize,
        insert in prop_oneof![yaml_like(), toml_like()],
    ) {
        let original = baseline_text(target);
        let mut start = at.index(original.len() + 1);
        while !original.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + delete).min(original.len());
        while !original.is_char_boundary(end) {
            end -= 1;
        }
        let text = format!("{}{insert}{}", &original[..start], &original[end..]);
        let dir = ConfigDir::valid();
        dir.write(target, &text);
        check_load(&dir, target, text.as_bytes())?;
    }
}

/// What either parser's result must satisfy on `text`.
fn check_parse(
    text: &str,
    result: Result<Node, cpg_infra::config::source::SyntaxError>,
) -> Result<(), TestCaseError> {
    let max = max_line(text);
    match result {
        Ok(node) => prop_assert!(
            lines_within(&node, max),
            "a line outside 1..={max}: {node:?}"
        ),
        Err(error) => {
            prop_assert!(!error.message.is_empty());
            if let Some(line) = error.line {
                prop_assert!(
                    (1..=max).contains(&line),
                    "error line {line} outside 1..={max}: {error:?}"
                );
            }
            if let Some(duplicate) = &error.duplicate {
                prop_assert!(!duplicate.path.is_root());
                prop_assert!(
                    error.line.is_some_and(|line| duplicate.first_line <= line),
                    "{error:?}"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..memory_config() })]

    /// `parse_yaml` returns a tree or an error, with lines inside the text.
    #[test]
    fn parse_yaml_never_panics(text in any_text()) {
        let result = parse_yaml(&text);
        check_parse(&text, result)?;
    }

    /// `parse_toml` returns a tree or an error, with lines inside the text.
    #[test]
    fn parse_toml_never_panics(text in any_text()) {
        let result = parse_toml(&text);
        check_parse(&text, result)?;
    }
}

/// A plain scalar whose second byte is inside a multi-byte character is text like any
/// other (the property tests above shrink to this).
#[test]
fn plain_scalars_with_multibyte_characters_parse() {
    for text in ["\u{e9}t\u{e9}", "a\u{e9}", "\u{1F600}", "name: a\u{e9}"] {
        let node = parse_yaml(text).expect("valid YAML");
        let (value, expected) = match text.split_once(": ") {
            Some((key, value)) => (node.get(key).expect("the key").1.value.clone(), value),
            None => (node.value, text),
        };
        assert_eq!(value, NodeValue::Str(expected.to_owned()), "{text:?}");
    }
}

/// Compact block sequences (`- - - x`) nest one level per two bytes, past the
/// parser's limit on flow collections: a deep file (here 40 KB) must be refused or
/// read, never overflow the stack.
#[test]
fn deeply_nested_yaml_does_not_overflow_the_stack() {
    let deep = format!("{}x\n", "- ".repeat(20_000));
    let dir = ConfigDir::valid();
    dir.write(
        "datasets/fewgenomes/members.yaml",
        &format!("analysis:\n  {deep}"),
    );
    let invalid = dir.load().expect_err("nested lists are not member keys");
    assert!(
        invalid
            .diagnostics
            .iter()
            .any(|d| d.file == "datasets/fewgenomes/members.yaml"),
        "{invalid:?}"
    );
}
