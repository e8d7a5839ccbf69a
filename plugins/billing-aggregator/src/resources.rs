//! The aggregator's resources, with the reference's type tokens, logical names and
//! inputs.

use std::collections::BTreeMap;

use cpg_infra::config::GcpCostControlsConfig;
use cpg_infra::graph::{Invoke, ResourceId, Value};
use cpg_infra_gcp::{resource, tokens};
use cpg_infra_plugin_api::sdk::{PluginError, PluginHost};

use crate::{AGGREGATE, COST_CONTROL, COST_REPORT, Settings, capitalize};

/// What is made once and shared.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    functions_service: Option<ResourceId>,
    build_service: Option<ResourceId>,
    scheduler_service: Option<ResourceId>,
    source_bucket: Option<ResourceId>,
    slack_channel: Option<ResourceId>,
}

fn map(entries: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::map(entries)
}

/// A map without the entries whose value is absent (Pulumi drops them).
fn map_present(entries: impl IntoIterator<Item = (&'static str, Option<Value>)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect(),
    )
}

fn project(settings: &Settings<'_>) -> Value {
    Value::from(settings.billing.gcp.project_id.as_str())
}

fn service(
    host: &mut dyn PluginHost,
    slot: &mut Option<ResourceId>,
    settings: &Settings<'_>,
    short: &str,
) -> Result<ResourceId, PluginError> {
    if let Some(id) = slot {
        return Ok(id.clone());
    }
    let id = host.declare(
        resource(
            tokens::SERVICE,
            format!("billing-aggregator-{short}-service"),
        )
        .input("service", format!("{short}.googleapis.com"))
        .input("project", project(settings))
        .input("disableOnDestroy", false),
    )?;
    *slot = Some(id.clone());
    Ok(id)
}

fn source_bucket(
    host: &mut dyn PluginHost,
    memo: &mut Memo,
    settings: &Settings<'_>,
) -> Result<ResourceId, PluginError> {
    if let Some(id) = &memo.source_bucket {
        return Ok(id.clone());
    }
    let id = host.declare(
        resource(tokens::BUCKET, "billing-aggregator-source-bucket")
            .input(
                "name",
                format!("{}aggregator-source-bucket", settings.storage_prefix),
            )
            .input("location", settings.region.as_str())
            .input("project", project(settings))
            .input("uniformBucketLevelAccess", true),
    )?;
    memo.source_bucket = Some(id.clone());
    Ok(id)
}

/// The Slack channel; its token is read from Secret Manager when deploying.
fn slack_channel(
    host: &mut dyn PluginHost,
    memo: &mut Memo,
    settings: &Settings<'_>,
) -> Result<ResourceId, PluginError> {
    if let Some(id) = &memo.slack_channel {
        return Ok(id.clone());
    }
    let token = Value::Invoke(Invoke {
        token: tokens::GET_SECRET_VERSION_ACCESS.to_owned(),
        args: BTreeMap::from([
            ("project".to_owned(), project(settings)),
            (
                "secret".to_owned(),
                Value::from(settings.aggregator.slack_token_secret_name.as_str()),
            ),
        ]),
        property: "secretData".to_owned(),
    });
    let id = host.declare(
        resource(
            tokens::NOTIFICATION_CHANNEL,
            "billing-aggregator-slack-notification-channel",
        )
        .input(
            "displayName",
            "Billing Aggregator Slack Notification Channel",
        )
        .input("type", "slack")
        .input(
            "labels",
            map([(
                "channel_name",
                Value::from(settings.aggregator.slack_channel.as_str()),
            )]),
        )
        .input("sensitiveLabels", map([("authToken", token)]))
        .input(
            "description",
            "Slack notification channel for all cost aggregator functions",
        )
        .input("project", project(settings)),
    )?;
    memo.slack_channel = Some(id.clone());
    Ok(id)
}

/// The archive of a source directory, uploaded to the source bucket.
fn source_archive(
    host: &mut dyn PluginHost,
    memo: &mut Memo,
    settings: &Settings<'_>,
    name: &str,
    group: &str,
) -> Result<ResourceId, PluginError> {
    let bucket = source_bucket(host, memo, settings)?;
    let mut object = resource(tokens::BUCKET_OBJECT, name)
        .input("bucket", Value::output(&bucket, "name"))
        .input("source", Value::Archive(settings.archive(group)?));
    object.options.replace_on_changes = vec!["*".to_owned()];
    Ok(host.declare(object)?)
}

/// What differs between the aggregator's functions.
struct FunctionSpec<'a> {
    resource_name: &'a str,
    /// The name alert policies are named after.
    name: &'a str,
    service_account: Option<&'a str>,
    archive: &'a ResourceId,
    source_file: &'a str,
    entry_point: &'a str,
    env: Value,
    memory: &'a str,
    cpu: Option<u32>,
    timeout: i64,
}

/// A gen2 function and its error alert (the reference's `create_cloud_function`).
fn cloud_function(
    host: &mut dyn PluginHost,
    memo: &mut Memo,
    settings: &Settings<'_>,
    spec: FunctionSpec<'_>,
) -> Result<ResourceId, PluginError> {
    let channel = slack_channel(host, memo, settings)?;
    let bucket = source_bucket(host, memo, settings)?;
    let functions = service(
        host,
        &mut memo.functions_service,
        settings,
        "cloudfunctions",
    )?;
    let build = service(host, &mut memo.build_service, settings, "cloudbuild")?;
    let project_id = &settings.billing.gcp.project_id;
    let service_config = map_present([
        ("maxInstanceCount", Some(Value::Int(1))),
        ("minInstanceCount", Some(Value::Int(0))),
        ("availableMemory", Some(Value::from(spec.memory))),
        ("availableCpu", spec.cpu.map(|c| Value::from(c.to_string()))),
        ("timeoutSeconds", Some(Value::Int(spec.timeout))),
        ("environmentVariables", Some(spec.env)),
        ("ingressSettings", Some(Value::from("ALLOW_INTERNAL_ONLY"))),
        ("allTrafficOnLatestRevision", Some(Value::Bool(true))),
        ("serviceAccountEmail", spec.service_account.map(Value::from)),
    ]);
    let build_config = map([
        ("runtime", Value::from("python311")),
        ("entryPoint", Value::from(spec.entry_point)),
        (
            "environmentVariables",
            map([("GOOGLE_FUNCTION_SOURCE", Value::from(spec.source_file))]),
        ),
        (
            "dockerRepository",
            Value::from(format!(
                "projects/{project_id}/locations/australia-southeast1/repositories/gcf-artifacts"
            )),
        ),
        (
            "source",
            map([(
                "storageSource",
                map([
                    ("bucket", Value::output(&bucket, "name")),
                    ("object", Value::output(spec.archive, "name")),
                ]),
            )]),
        ),
    ]);
    let function = host.declare(
        resource(tokens::FUNCTION, spec.resource_name)
            .input("buildConfig", build_config)
            .input("serviceConfig", service_config)
            .input("project", project(settings))
            .input("location", settings.region.as_str())
            .depends_on([functions, build]),
    )?;

    let name = Value::output(&function, "name");
    let filter = Value::concat([
        Value::from(
            "\n                ((\n                    resource.type=\"cloud_function\"\n                    AND resource.labels.function_name=\"",
        ),
        name.clone(),
        Value::from(
            "\"\n                ) OR (\n                    resource.type=\"cloud_run_revision\"\n                    AND resource.labels.service_name=\"",
        ),
        name,
        Value::from("\"\n                ))\n                AND severity>=WARNING\n            "),
    ]);
    let alert_name = format!(
        "billing-{}-alert",
        spec.name.to_lowercase().replace(' ', "-")
    );
    host.declare(
        resource(tokens::ALERT_POLICY, &alert_name)
            .input(
                "displayName",
                format!("{} Billing Function Error Alert", capitalize(spec.name)),
            )
            .input("combiner", "OR")
            .input(
                "notificationChannels",
                Value::List(vec![Value::output(&channel, "id")]),
            )
            .input(
                "conditions",
                Value::List(vec![map([
                    ("conditionMatchedLog", map([("filter", filter)])),
                    ("displayName", Value::from("Function warning/error")),
                ])]),
            )
            .input(
                "alertStrategy",
                map([(
                    "notificationRateLimit",
                    map([("period", Value::from("300s"))]),
                )]),
            )
            .depends_on([function.clone()]),
    )?;
    Ok(function)
}

/// A scheduler job that posts to a function's URL with an OIDC token.
fn http_target(function: &ResourceId, service_account: Option<&str>) -> Value {
    let url = Value::output(function, "url");
    map([
        ("uri", url.clone()),
        ("httpMethod", Value::from("POST")),
        (
            "headers",
            map([(
                "Content-Type",
                Value::from("application/x-www-form-urlencoded"),
            )]),
        ),
        (
            "oidcToken",
            map_present([
                ("audience", Some(url)),
                ("serviceAccountEmail", service_account.map(Value::from)),
            ]),
        ),
    ])
}

/// One function, alert and scheduler job per configured aggregation function.
pub(crate) fn aggregator_functions(
    host: &mut dyn PluginHost,
    memo: &mut Memo,
    settings: &Settings<'_>,
) -> Result<(), PluginError> {
    let archive = source_archive(
        host,
        memo,
        settings,
        "billing-aggregator-functions-source-code",
        AGGREGATE,
    )?;
    let aggregator = settings.aggregator;
    let coordinator = settings.billing.coordinator_machine_account.as_deref();
    for function in &aggregator.functions {
        let mut memory = "1024M";
        let mut cpu = 1;
        let mut timeout = 540;
        let mut interval = aggregator.interval_hours;
        let mut start_minute = 0;
        if function == "gcp" {
            // Billing records arrive late: the GCP function looks back a day per hour
            // of interval.
            interval *= 24;
            start_minute = 1;
        }
        if ["hail", "seqr", "seqr24", "gcp"].contains(&function.as_str()) {
            timeout = 3600;
        }
        if function == "hail" {
            cpu = 2;
            memory = "8Gi";
            start_minute = 2;
        }
        if function == "seqr" || function == "seqr24" {
            cpu = 4;
            memory = "16Gi";
            start_minute = if function == "seqr" { 3 } else { 4 };
        }
        let env = map_present([
            (
                "GCP_AGGREGATE_DEST_TABLE",
                Some(Value::from(aggregator.destination_bq_table.as_str())),
            ),
            (
                "GCP_BILLING_SOURCE_TABLE",
                settings
                    .billing
                    .gcp
                    .source_bq_table
                    .as_deref()
                    .map(Value::from),
            ),
            ("DEFAULT_INTERVAL_HOURS", Some(Value::Int(interval))),
            ("BILLING_PROJECT_ID", Some(project(settings))),
            (
                "ICA_RAW_TABLE",
                aggregator.ica_raw_table.as_deref().map(Value::from),
            ),
            (
                "ICA_API_SECRET_NAME",
                aggregator.ica_api_secret_name.as_deref().map(Value::from),
            ),
        ]);
        let resource_name = format!("billing-aggregator-{function}-billing-function");
        let name = format!("Aggregator {}", capitalize(function));
        let source_file = format!("{function}.py");
        let created = cloud_function(
            host,
            memo,
            settings,
            FunctionSpec {
                resource_name: &resource_name,
                name: &name,
                service_account: coordinator,
                archive: &archive,
                source_file: &source_file,
                entry_point: "from_request",
                env,
                memory,
                cpu: Some(cpu),
                timeout,
            },
        )?;
        let scheduler = service(
            host,
            &mut memo.scheduler_service,
            settings,
            "cloudscheduler",
        )?;
        host.declare(
            resource(
                tokens::SCHEDULER_JOB,
                format!("billing-aggregator-scheduler-job-{function}"),
            )
            .input("httpTarget", http_target(&created, coordinator))
            .input(
                "schedule",
                format!("{start_minute} */{} * * *", aggregator.interval_hours),
            )
            .input("project", project(settings))
            .input("region", settings.region.as_str())
            .input("timeZone", "Australia/Sydney")
            .depends_on([created, scheduler]),
        )?;
    }
    Ok(())
}

/// The aggregate BigQuery table, `project.dataset.table` of
/// `destination_bq_table`, in the billing project.
pub(crate) fn aggregate_table(
    host: &mut dyn PluginHost,
    settings: &Settings<'_>,
) -> Result<ResourceId, PluginError> {
    let destination = &settings.aggregator.destination_bq_table;
    let parts: Vec<&str> = destination.split('.').collect();
    let [project_id, dataset_id, table_id] = parts.as_slice() else {
        return Err(PluginError::failed(format!(
            "billing.aggregator.destination_bq_table {destination:?} is not of the form project_id.dataset_id.table_id"
        )));
    };
    if *project_id != settings.billing.gcp.project_id {
        return Err(PluginError::failed(format!(
            "billing.aggregator.destination_bq_table {destination:?} is not in the billing project {:?}",
            settings.billing.gcp.project_id
        )));
    }
    let schema = settings.source_text(AGGREGATE, "aggregate_schema.json")?;
    let table = resource(tokens::TABLE, format!("billing-{table_id}-table"))
        .input("datasetId", *dataset_id)
        .input("tableId", *table_id)
        .input("schema", schema.map_or(Value::Null, Value::from))
        .input("project", *project_id)
        .input("clusterings", Value::strings(["topic"]))
        .input(
            "timePartitioning",
            map([
                ("type", Value::from("DAY")),
                ("field", Value::from("usage_end_time")),
            ]),
        )
        .input("deletionProtection", false);
    Ok(host.declare(table)?)
}

/// The function that cuts billing off when a budget is exceeded, triggered by the
/// budget notifications topic.
pub(crate) fn cost_control(
    host: &mut dyn PluginHost,
    memo: &mut Memo,
    settings: &Settings<'_>,
    controls: &GcpCostControlsConfig,
) -> Result<(), PluginError> {
    let archive = source_archive(
        host,
        memo,
        settings,
        "billing-gcp-cost-control-source-code",
        COST_CONTROL,
    )?;
    let bucket = source_bucket(host, memo, settings)?;
    let account = Value::from(controls.machine_account.as_str());
    let pubsub_topic = settings
        .config
        .gcp
        .as_ref()
        .and_then(|g| g.budget_notification_pubsub.as_deref())
        .map(Value::from);
    let function = host.declare(
        resource(tokens::FUNCTION, "gcp-cost-control")
            .input("location", settings.region.as_str())
            .input(
                "serviceConfig",
                map([
                    ("maxInstanceCount", Value::Int(1)),
                    ("minInstanceCount", Value::Int(0)),
                    ("availableMemory", Value::from("256M")),
                    ("availableCpu", Value::Int(1)),
                    ("timeoutSeconds", Value::Int(540)),
                    (
                        "environmentVariables",
                        map([
                            (
                                "SLACK_CHANNEL",
                                Value::from(controls.slack_channel.as_str()),
                            ),
                            ("GCP_PROJECT", project(settings)),
                        ]),
                    ),
                    ("ingressSettings", Value::from("ALLOW_INTERNAL_ONLY")),
                    ("allTrafficOnLatestRevision", Value::Bool(true)),
                    ("serviceAccountEmail", account.clone()),
                ]),
            )
            .input(
                "buildConfig",
                map([
                    ("entryPoint", Value::from("gcp_cost_control")),
                    ("runtime", Value::from("python311")),
                    (
                        "environmentVariables",
                        map([("GOOGLE_FUNCTION_SOURCE", Value::from("main.py"))]),
                    ),
                    (
                        "source",
                        map([(
                            "storageSource",
                            map([
                                ("bucket", Value::output(&bucket, "name")),
                                ("object", Value::output(&archive, "name")),
                            ]),
                        )]),
                    ),
                ]),
            )
            .input(
                "eventTrigger",
                map_present([
                    (
                        "eventType",
                        Some(Value::from("google.cloud.pubsub.topic.v1.messagePublished")),
                    ),
                    ("pubsubTopic", pubsub_topic),
                    ("serviceAccountEmail", Some(account)),
                ]),
            ),
    )?;
    host.export("gcp_cost_control_cloud_function", whole(&function))?;
    Ok(())
}

/// The daily Slack cost report: a function and the job that triggers it.
pub(crate) fn cost_reporting(
    host: &mut dyn PluginHost,
    memo: &mut Memo,
    settings: &Settings<'_>,
    controls: &GcpCostControlsConfig,
) -> Result<(), PluginError> {
    let archive = source_archive(
        host,
        memo,
        settings,
        "billing-gcp-cost-report-source-code",
        COST_REPORT,
    )?;
    let env = map_present([
        (
            "QUERY_TIME_ZONE",
            Some(Value::from(controls.timezone.as_str())),
        ),
        (
            "SLACK_CHANNEL",
            Some(Value::from(controls.slack_channel.as_str())),
        ),
        (
            "BIGQUERY_BILLING_TABLE",
            settings
                .billing
                .gcp
                .source_bq_table
                .as_deref()
                .map(Value::from),
        ),
        (
            "BILLING_ACCOUNT_ID",
            Some(Value::from(settings.billing.gcp.account_id.as_str())),
        ),
    ]);
    let function = cloud_function(
        host,
        memo,
        settings,
        FunctionSpec {
            resource_name: "gcp-cost-reporting-cloud-function",
            name: "GCP Cost Reporting",
            service_account: Some(&controls.machine_account),
            archive: &archive,
            source_file: "main.py",
            entry_point: "slack_bot_cost_report",
            env,
            memory: "256M",
            cpu: None,
            timeout: 540,
        },
    )?;
    let scheduler = service(
        host,
        &mut memo.scheduler_service,
        settings,
        "cloudscheduler",
    )?;
    let job = host.declare(
        resource(tokens::SCHEDULER_JOB, "gcp-cost-reporting-job")
            .input("project", project(settings))
            .input("region", settings.region.as_str())
            .input("timeZone", controls.timezone.as_str())
            .input("description", "Triggers a daily cost report Cloud Function")
            .input("schedule", "0 9 * * *")
            .input(
                "httpTarget",
                http_target(&function, Some(&controls.machine_account)),
            )
            .depends_on([scheduler]),
    )?;
    host.export("gcp_cost_reporting_cloud_function", whole(&function))?;
    host.export("gcp_cost_reporting_cloud_scheduler_job", whole(&job))?;
    Ok(())
}

/// A whole resource as an export: every output of it (Pulumi's export of a
/// resource), written as an output reference with the empty property path.
fn whole(resource: &ResourceId) -> Value {
    Value::output(resource, "")
}
