//! The ETL: accounts, the accessor configuration, BigQuery, Pub/Sub, the extract and
//! load functions, and who may call them (the reference's `_setup_etl`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cpg_infra::config::{CloudName, JsonObject};
use cpg_infra::graph::{Asset, Function, Invoke, Resource, ResourceId, Value, python_json_dumps};
use cpg_infra_plugin_api::sdk::{PluginError, PluginHost};

use crate::notification::{self, push_config};
use crate::{Settings, id, resource, tokens, with_asset};

/// The ETL functions' source files (the reference's `archive_folder` default).
const SOURCE_EXTENSIONS: [&str; 3] = [".py", ".txt", ".json"];

/// The Python registry the driver declares.
const PYTHON_REGISTRY: &str = "python-artifact-registry";

/// The metamist project's services.
pub(crate) struct Services {
    pub iam: ResourceId,
    pub functions: ResourceId,
    pub pubsub: ResourceId,
    pub build: ResourceId,
    pub bigquery: ResourceId,
    pub secretmanager: ResourceId,
}

impl Services {
    fn declare(host: &mut dyn PluginHost, settings: &Settings<'_>) -> Result<Self, PluginError> {
        let mut service = |short: &str, depends: Option<&ResourceId>| {
            host.declare(
                resource(tokens::SERVICE, format!("metamist-{short}-service"))
                    .input("service", format!("{short}.googleapis.com"))
                    .input("disableOnDestroy", false)
                    .input("project", settings.project())
                    .depends_on(depends.cloned()),
            )
        };
        let manager = service("cloudresourcemanager", None)?;
        Ok(Services {
            iam: service("iam", Some(&manager))?,
            functions: service("cloudfunctions", None)?,
            pubsub: service("pubsub", None)?,
            build: service("cloudbuild", None)?,
            bigquery: service("bigquery", None)?,
            secretmanager: service("secretmanager", Some(&manager))?,
        })
    }
}

/// `serviceAccount:<the account's email>`.
pub(crate) fn service_account_member(account: &ResourceId) -> Value {
    Value::concat([
        Value::from("serviceAccount:"),
        Value::output(account, "email"),
    ])
}

/// The policy that gives the project's Pub/Sub service agent `role` (the
/// reference's `prepare_service_account_policy_data`), read when deploying.
pub(crate) fn pubsub_policy(role: &str) -> Value {
    let project_number = Value::Invoke(Invoke {
        token: tokens::GET_PROJECT.to_owned(),
        args: BTreeMap::new(),
        property: "number".to_owned(),
    });
    let member = Value::concat([
        Value::from("serviceAccount:service-"),
        project_number,
        Value::from("@gcp-sa-pubsub.iam.gserviceaccount.com"),
    ]);
    Value::Invoke(Invoke {
        token: tokens::GET_IAM_POLICY.to_owned(),
        args: BTreeMap::from([(
            "bindings".to_owned(),
            Value::List(vec![Value::map([
                ("role", Value::from(role)),
                ("members", Value::List(vec![member])),
            ])]),
        )]),
        property: "policyData".to_owned(),
    })
}

/// A gen2 ETL function's inputs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn function_inputs(
    function: Resource,
    settings: &Settings<'_>,
    name: &str,
    entry_point: &str,
    bucket: &ResourceId,
    object: &ResourceId,
    env: Value,
    account: &ResourceId,
) -> Resource {
    function
        .input("name", name)
        .input(
            "buildConfig",
            Value::map([
                ("runtime", Value::from("python311")),
                ("entryPoint", Value::from(entry_point)),
                ("environmentVariables", Value::Map(BTreeMap::new())),
                (
                    "dockerRepository",
                    Value::from(format!(
                        "projects/{}/locations/australia-southeast1/repositories/gcf-artifacts",
                        settings.project
                    )),
                ),
                (
                    "source",
                    Value::map([(
                        "storageSource",
                        Value::map([
                            ("bucket", Value::output(bucket, "name")),
                            ("object", Value::output(object, "name")),
                        ]),
                    )]),
                ),
            ]),
        )
        .input(
            "serviceConfig",
            Value::map([
                ("maxInstanceCount", Value::Int(1)),
                ("minInstanceCount", Value::Int(0)),
                ("availableMemory", Value::from("2Gi")),
                ("availableCpu", Value::from("1")),
                ("timeoutSeconds", Value::Int(540)),
                ("environmentVariables", env),
                ("ingressSettings", Value::from("ALLOW_ALL")),
                ("allTrafficOnLatestRevision", Value::Bool(true)),
                ("serviceAccountEmail", Value::output(account, "email")),
            ]),
        )
        .input("project", settings.project())
        .input("location", settings.region.as_str())
}

/// The ETL's accounts.
struct Accounts {
    /// Runs the notifications.
    etl: ResourceId,
    load: ResourceId,
    extract: ResourceId,
    /// The configured accessors, by name.
    accessors: BTreeMap<String, ResourceId>,
    /// The accessors in config order.
    accessor_order: Vec<String>,
}

impl Accounts {
    fn declare(
        host: &mut dyn PluginHost,
        settings: &Settings<'_>,
        services: &Services,
    ) -> Result<Self, PluginError> {
        let mut account = |name: &str, account_id: &str| {
            host.declare(
                resource(tokens::SERVICE_ACCOUNT, name)
                    .input("accountId", account_id)
                    .input("project", settings.project())
                    .depends_on([services.iam.clone()]),
            )
        };
        let etl = account("metamist-etl-service-account", "metamist-etl-sa")?;
        let load = account("metamist-etl-load-service-account", "metamist-etl-load-sa")?;
        let extract = account(
            "metamist-etl-extract-service-account",
            "metamist-etl-extract-sa",
        )?;
        let mut accessors = BTreeMap::new();
        let mut accessor_order = Vec::new();
        for name in &settings.etl.accessors {
            if accessors.contains_key(name) {
                continue;
            }
            let created = account(
                &format!("metamist-etl-accessor-{name}"),
                &format!("metamist-etl-{name}"),
            )?;
            accessors.insert(name.clone(), created);
            accessor_order.push(name.clone());
        }
        Ok(Accounts {
            etl,
            load,
            extract,
            accessors,
            accessor_order,
        })
    }
}

/// Everything of the ETL, in the reference's order.
pub(crate) fn setup(host: &mut dyn PluginHost, settings: &Settings<'_>) -> Result<(), PluginError> {
    let services = Services::declare(host, settings)?;
    let accounts = Accounts::declare(host, settings, &services)?;
    let analysis_datasets: BTreeSet<String> = settings
        .etl
        .by_type
        .values()
        .filter_map(|t| t.analysis_group_dataset.clone())
        .collect();

    let dataset = host.declare(
        resource(tokens::DATASET, "metamist-etl-bigquery-dataset")
            .input("datasetId", "metamist")
            .input("friendlyName", "metamist bigquery dataset")
            .input("description", "Metamist related bigquery tables")
            .input("location", settings.region.as_str())
            .input("labels", Value::map([("project", Value::from("metamist"))]))
            .input("project", settings.project())
            .depends_on([services.bigquery.clone()]),
    )?;
    for (name, account) in [("extract", &accounts.extract), ("load", &accounts.load)] {
        host.declare(
            resource(
                tokens::DATASET_ACCESS,
                format!("metamist-etl-bq-dataset-{name}-service-access"),
            )
            .input("project", settings.project())
            .input("datasetId", Value::output(&dataset, "datasetId"))
            .input("role", "WRITER")
            .input("userByEmail", Value::output(account, "email")),
        )?;
    }
    for (name, role, account) in [
        ("bq-job-user-role", "roles/bigquery.jobUser", &accounts.load),
        ("extract-editor-role", "roles/editor", &accounts.extract),
        ("load-editor-role", "roles/editor", &accounts.load),
        (
            "load-secret-accessor-role",
            "roles/secretmanager.secretAccessor",
            &accounts.load,
        ),
    ] {
        host.declare(
            resource(tokens::PROJECT_IAM_MEMBER, format!("metamist-etl-{name}"))
                .input("project", settings.project())
                .input("role", role)
                .input("member", service_account_member(account)),
        )?;
    }
    // The serverless robot deploys functions' Cloud Run services.
    host.declare(
        resource(
            tokens::PROJECT_IAM_MEMBER,
            "metamist-etl-robot-service-agent-role",
        )
        .input("project", settings.project())
        .input("role", "roles/run.serviceAgent")
        .input(
            "member",
            Value::concat([
                Value::from("serviceAccount:service-"),
                Value::Invoke(Invoke {
                    token: tokens::GET_PROJECT.to_owned(),
                    args: BTreeMap::new(),
                    property: "number".to_owned(),
                }),
                Value::from("@serverless-robot-prod.iam.gserviceaccount.com"),
            ]),
        ),
    )?;

    let source_bucket = host.declare(
        resource(tokens::BUCKET, "metamist-source-bucket")
            .input(
                "name",
                format!("{}metamist-source-bucket", settings.storage_prefix),
            )
            .input("location", settings.region.as_str())
            .input("project", settings.project())
            .input("uniformBucketLevelAccess", true),
    )?;
    let table = bigquery_table(host, settings, &dataset, "bq_schema.json", "etl-data", "")?;
    let log_table = bigquery_table(
        host,
        settings,
        &dataset,
        "bq_log_schema.json",
        "etl-logs",
        "-logs",
    )?;
    let topic = host.declare(
        resource(tokens::TOPIC, "metamist-etl-topic")
            .input("project", settings.project())
            .depends_on([services.pubsub.clone()]),
    )?;
    let notification_topic =
        notification::setup(host, settings, &services, &accounts.etl, &source_bucket)?;
    let (secret, secret_version) =
        configuration_secret(host, settings, &services, &accounts, &analysis_datasets)?;

    let table_path = |table: &ResourceId| {
        Value::concat([
            Value::output(table, "project"),
            Value::from("."),
            Value::output(table, "datasetId"),
            Value::from("."),
            Value::output(table, "tableId"),
        ])
    };
    let env = Value::Map(
        [
            ("BIGQUERY_TABLE", Some(table_path(&table))),
            ("BIGQUERY_LOG_TABLE", Some(table_path(&log_table))),
            ("PUBSUB_TOPIC", Some(Value::output(&topic, "id"))),
            (
                "NOTIFICATION_PUBSUB_TOPIC",
                Some(Value::output(&notification_topic, "id")),
            ),
            (
                "SM_ENVIRONMENT",
                settings.etl.environment.as_deref().map(Value::from),
            ),
            (
                "CONFIGURATION_SECRET",
                Some(Value::output(&secret_version, "id")),
            ),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect(),
    );

    let extract_archive = settings.archive("extract", &SOURCE_EXTENSIONS)?;
    let extract = etl_function(
        host,
        settings,
        &services,
        "extract",
        extract_archive,
        &accounts.extract,
        &source_bucket,
        env.clone(),
    )?;
    let load_archive = load_archive(host, settings)?;
    let load = etl_function(
        host,
        settings,
        &services,
        "load",
        load_archive,
        &accounts.load,
        &source_bucket,
        env,
    )?;

    // Pub/Sub: the topic that triggers the load function, with dead letters.
    let dead_letters = host.declare(
        resource(tokens::TOPIC, "metamist-etl-dead-letters-topic")
            .input("project", settings.project())
            .depends_on([services.pubsub.clone()]),
    )?;
    host.declare(
        resource(
            tokens::TOPIC_IAM_POLICY,
            "metamist-etl-dead-letters-topic-iam-policy",
        )
        .input("project", settings.project())
        .input("topic", Value::output(&dead_letters, "name"))
        .input("policyData", pubsub_policy("roles/pubsub.publisher")),
    )?;
    let dead_letter_subscription = host.declare(
        resource(
            tokens::SUBSCRIPTION,
            "metamist-etl-dead-letter-subscription",
        )
        .input("topic", Value::output(&dead_letters, "name"))
        .input("project", settings.project())
        .input("ackDeadlineSeconds", Value::Int(20)),
    )?;
    let subscription = host.declare(
        resource(tokens::SUBSCRIPTION, "metamist-etl-subscription")
            .input("topic", Value::output(&topic, "name"))
            .input("ackDeadlineSeconds", Value::Int(300))
            .input("expirationPolicy", Value::map([("ttl", Value::from(""))]))
            .input(
                "retryPolicy",
                Value::map([("minimumBackoff", Value::from("10s"))]),
            )
            .input(
                "deadLetterPolicy",
                Value::map([
                    ("deadLetterTopic", Value::output(&dead_letters, "id")),
                    ("maxDeliveryAttempts", Value::Int(5)),
                ]),
            )
            .input("pushConfig", push_config(&load, &accounts.extract))
            .input("project", settings.project())
            .depends_on([services.pubsub.clone(), dead_letter_subscription]),
    )?;
    host.declare(
        resource(
            tokens::SUBSCRIPTION_IAM_POLICY,
            "metamist-etl-pubsub-topic-subscription-policy",
        )
        .input("project", settings.project())
        .input("subscription", Value::output(&subscription, "name"))
        .input("policyData", pubsub_policy("roles/pubsub.subscriber")),
    )?;

    // Who may call the extract function: the accessors and the analysis groups.
    let mut invokers: Vec<(String, Value)> = accounts
        .accessor_order
        .iter()
        .map(|name| {
            (
                name.clone(),
                service_account_member(&accounts.accessors[name]),
            )
        })
        .collect();
    for dataset in &analysis_datasets {
        let group = host.group(CloudName::Gcp, &format!("{dataset}-analysis"))?;
        invokers.push((
            format!("{dataset}-analysis-group"),
            Value::concat([
                Value::from("group:"),
                Value::output(&group.resource, "groupKey.id"),
            ]),
        ));
    }
    for (name, member) in invokers {
        host.declare(
            resource(
                tokens::FUNCTION_IAM_MEMBER,
                format!("metamist-etl-accessor-{name}"),
            )
            .input("location", Value::output(&extract, "location"))
            .input("project", Value::output(&extract, "project"))
            .input("cloudFunction", Value::output(&extract, "name"))
            .input("role", "roles/cloudfunctions.invoker")
            .input("member", member.clone()),
        )?;
        host.declare(
            resource(
                tokens::CLOUDRUN_IAM_MEMBER,
                format!("metamist-etl-run-accessor-{name}"),
            )
            .input("location", Value::output(&extract, "location"))
            .input("project", Value::output(&extract, "project"))
            .input("service", Value::output(&extract, "name"))
            .input("role", "roles/run.invoker")
            .input("member", member),
        )?;
    }

    host.declare(
        resource(
            tokens::SECRET_IAM_MEMBER,
            "metamist-etl-accessor-configuration-access",
        )
        .input("project", settings.project())
        .input("secretId", Value::output(&secret, "id"))
        .input("role", "roles/secretmanager.secretAccessor")
        .input("member", service_account_member(&accounts.load)),
    )?;
    Ok(())
}

/// A table of the ETL's dataset with the schema of `schema_file`.
fn bigquery_table(
    host: &mut dyn PluginHost,
    settings: &Settings<'_>,
    dataset: &ResourceId,
    schema_file: &str,
    table_id: &str,
    suffix: &str,
) -> Result<ResourceId, PluginError> {
    let schema = settings.source_text(Path::new(schema_file))?;
    Ok(host.declare(
        resource(
            tokens::TABLE,
            format!("metamist-etl-bigquery-table{suffix}"),
        )
        .input("tableId", table_id)
        .input("datasetId", Value::output(dataset, "datasetId"))
        .input("labels", Value::map([("project", Value::from("metamist"))]))
        .input("schema", schema.map_or(Value::Null, Value::from))
        .input("project", settings.project())
        .input("deletionProtection", false),
    )?)
}

/// The accessor configuration: which users may submit each ETL type (the
/// reference's `etl_configuration_secret_version`).
fn configuration_secret(
    host: &mut dyn PluginHost,
    settings: &Settings<'_>,
    services: &Services,
    accounts: &Accounts,
    analysis_datasets: &BTreeSet<String>,
) -> Result<(ResourceId, ResourceId), PluginError> {
    let secret = host.declare(
        resource(tokens::SECRET, "metamist-etl-accessor-configuration-secret")
            .input("secretId", "accessor-configuration")
            .input(
                "replication",
                Value::map([(
                    "userManaged",
                    Value::map([(
                        "replicas",
                        Value::List(vec![Value::map([(
                            "location",
                            Value::from(settings.region.as_str()),
                        )])]),
                    )]),
                )]),
            )
            .input("project", settings.project())
            .depends_on([services.secretmanager.clone()]),
    )?;
    let mut members_of: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for dataset in analysis_datasets {
        let group = host.group(CloudName::Gcp, &format!("{dataset}-analysis"))?;
        let members = group.resolved_members.ok_or_else(|| {
            PluginError::failed(format!(
                "the members of {dataset}-analysis are not resolved: the ETL runs after group finalisation"
            ))
        })?;
        members_of.insert(dataset, members);
    }
    // The reference writes `json.dumps` of its dataclasses: each type's keys in the
    // order parser_name, default_parameters, users, the parameters in the config's
    // order, and every user reached (one per membership, so a user in two groups of
    // the analysis group is listed twice), as recorded: sorted. The user emails are
    // known only when deploying, so the text is joined then.
    let mut parts: Vec<Value> = vec![Value::from("{\"by_type\": {")];
    for (i, (etl_type, parser)) in settings.etl.by_type.iter().enumerate() {
        let mut users: Vec<Value> = Vec::new();
        for accessor in &parser.accessors {
            let account = accounts.accessors.get(accessor).ok_or_else(|| {
                PluginError::failed(format!(
                    "metamist.etl.by_type.{etl_type}.accessors names {accessor:?}, which is not in metamist.etl.accessors"
                ))
            })?;
            users.push(Value::output(account, "email"));
        }
        if let Some(dataset) = &parser.analysis_group_dataset {
            users.extend(
                members_of
                    .get(dataset.as_str())
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        let parameters = parser
            .default_parameters
            .as_ref()
            .map_or_else(|| "null".to_owned(), JsonObject::to_python_json);
        parts.push(Value::from(format!(
            "{}{}: {{\"parser_name\": {}, \"default_parameters\": {parameters}, \"users\": ",
            if i > 0 { ", " } else { "" },
            python_json_dumps(&Value::from(etl_type)),
            python_json_dumps(&Value::from(parser.parser_name.as_str())),
        )));
        parts.push(Value::Function(Function::Json(Box::new(Value::Function(
            Function::Sorted(users),
        )))));
        parts.push(Value::from("}"));
    }
    parts.push(Value::from("}}"));
    let version = host.declare(
        resource(
            tokens::SECRET_VERSION,
            "metamist-etl-accessor-configuration",
        )
        .input("secret", Value::output(&secret, "id"))
        .input("secretData", Value::concat(parts).secret()),
    )?;
    Ok((secret, version))
}

/// The load function's archive: its requirements also name the organisation's
/// Python registry and the configured private packages.
fn load_archive(
    host: &mut dyn PluginHost,
    settings: &Settings<'_>,
) -> Result<cpg_infra::graph::Archive, PluginError> {
    let archive = settings.archive("load", &SOURCE_EXTENSIONS)?;
    let Some(requirements) = settings.source_text(Path::new("load/requirements.txt"))? else {
        return Ok(archive);
    };
    let registry = host
        .resource(&id(tokens::REPOSITORY, PYTHON_REGISTRY))
        .ok_or_else(|| {
            PluginError::failed(format!(
                "the Python registry {PYTHON_REGISTRY} is not declared"
            ))
        })?;
    let input = |key: &str| {
        registry
            .inputs
            .get(key)
            .and_then(|value| known_string(host, value, 4))
            .ok_or_else(|| {
                PluginError::failed(format!(
                    "the Python registry's {key} is not known while planning"
                ))
            })
    };
    let url = format!(
        "https://{}-python.pkg.dev/{}/{}/simple/",
        input("location")?,
        input("project")?,
        input("repositoryId")?
    );
    let text = match settings.etl.private_repo_packages.as_deref() {
        Some(packages) if !packages.is_empty() => {
            format!(
                "{requirements}\n--extra-index-url {url}\n{}",
                packages.join("\n")
            )
        }
        _ => requirements,
    };
    Ok(with_asset(archive, "requirements.txt", Asset::Text(text)))
}

/// The text `value` holds while planning: a string, or another resource's output
/// that is one of its own inputs (a project's `projectId`), followed at most
/// `depth` times.
fn known_string(host: &dyn PluginHost, value: &Value, depth: usize) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Output(output) if depth > 0 && !output.property.contains('.') => {
            let source = host.resource(&output.resource)?;
            known_string(host, source.inputs.get(&output.property)?, depth - 1)
        }
        _ => None,
    }
}

/// An ETL function (`extract` or `load`) and its source archive.
#[allow(clippy::too_many_arguments)]
fn etl_function(
    host: &mut dyn PluginHost,
    settings: &Settings<'_>,
    services: &Services,
    name: &str,
    archive: cpg_infra::graph::Archive,
    account: &ResourceId,
    bucket: &ResourceId,
    env: Value,
) -> Result<ResourceId, PluginError> {
    let mut object = resource(
        tokens::BUCKET_OBJECT,
        format!("metamist-etl-{name}-source-code"),
    )
    .input("bucket", Value::output(bucket, "name"))
    .input("source", Value::Archive(archive));
    object.options.replace_on_changes = vec!["*".to_owned()];
    let object = host.declare(object)?;
    let function_name = format!("metamist-etl-{name}");
    Ok(host.declare(
        function_inputs(
            resource(tokens::FUNCTION, &function_name),
            settings,
            &function_name,
            &format!("etl_{name}"),
            bucket,
            &object,
            env,
            account,
        )
        .depends_on([
            services.functions.clone(),
            services.build.clone(),
            account.clone(),
        ]),
    )?)
}
