//! The ETL's Slack notifications (the reference's `SlackNotification` of type
//! `NOTIFICATION`): a topic the ETL functions publish failures to, a function that
//! posts them to Slack, and the subscription between them, with dead letters.

use std::collections::BTreeMap;

use cpg_infra::graph::{Invoke, ResourceId, Value};
use cpg_infra_plugin_api::sdk::{PluginError, PluginHost};

use crate::etl::{Services, function_inputs, pubsub_policy, service_account_member};
use crate::{Settings, resource, tokens};

/// The topic name, which names every resource here.
pub(crate) const TOPIC: &str = "metamist-etl-notification";

/// The notification function's source files.
const NOTIFICATION_EXTENSIONS: [&str; 4] = [".gz", ".py", ".txt", ".json"];

/// Sets up the notifications and returns the topic the ETL functions publish to.
pub(crate) fn setup(
    host: &mut dyn PluginHost,
    settings: &Settings<'_>,
    services: &Services,
    account: &ResourceId,
    source_bucket: &ResourceId,
) -> Result<ResourceId, PluginError> {
    let channel = settings.metamist.slack_channel.as_deref().ok_or_else(|| {
        PluginError::failed("metamist.etl needs metamist.slack_channel for its Slack notifications")
    })?;
    let billing = settings.config.billing.as_ref();
    let token_secret = billing
        .and_then(|b| b.aggregator.as_ref())
        .map(|a| a.slack_token_secret_name.clone())
        .ok_or_else(|| {
            PluginError::failed(
                "metamist.etl's Slack notifications use billing.aggregator.slack_token_secret_name, which is not configured",
            )
        })?;
    let token_project = billing
        .map(|b| b.gcp.project_id.clone())
        .unwrap_or_default();

    host.declare(
        resource(
            tokens::PROJECT_IAM_MEMBER,
            format!("{TOPIC}-sa-run-invoker-role"),
        )
        .input("project", settings.project())
        .input("role", "roles/run.invoker")
        .input("member", service_account_member(account)),
    )?;

    let topic =
        host.declare(resource(tokens::TOPIC, TOPIC).input("project", settings.project()))?;
    let dead_letters = host.declare(
        resource(tokens::TOPIC, format!("{TOPIC}-dead-letters-topic"))
            .input("project", settings.project()),
    )?;
    host.declare(
        resource(
            tokens::TOPIC_IAM_POLICY,
            format!("{TOPIC}-dead-letters-topic-iam-policy"),
        )
        .input("project", settings.project())
        .input("topic", Value::output(&dead_letters, "name"))
        .input("policyData", pubsub_policy("roles/pubsub.publisher")),
    )?;

    let archive = settings.archive("notification", &NOTIFICATION_EXTENSIONS)?;
    let mut object = resource(tokens::BUCKET_OBJECT, format!("{TOPIC}-func-source-code"))
        .input("bucket", Value::output(source_bucket, "name"))
        .input("source", Value::Archive(archive));
    object.options.replace_on_changes = vec!["*".to_owned()];
    let object = host.declare(object)?;

    let token = Value::Invoke(Invoke {
        token: tokens::GET_SECRET_VERSION_ACCESS.to_owned(),
        args: BTreeMap::from([
            ("project".to_owned(), Value::from(token_project)),
            ("secret".to_owned(), Value::from(token_secret)),
        ]),
        property: "secretData".to_owned(),
    });
    let env = Value::map([
        ("SLACK_BOT_TOKEN", token),
        ("SLACK_CHANNEL", Value::from(channel)),
    ]);
    let name = format!("{TOPIC}-func");
    let function = host.declare(
        function_inputs(
            resource(tokens::FUNCTION, &name),
            settings,
            &name,
            "etl_notify",
            source_bucket,
            &object,
            env,
            account,
        )
        .depends_on([
            services.iam.clone(),
            services.functions.clone(),
            services.build.clone(),
            services.pubsub.clone(),
            account.clone(),
        ]),
    )?;

    let subscription = host.declare(
        resource(tokens::SUBSCRIPTION, format!("{TOPIC}-subscription"))
            .input("topic", Value::output(&topic, "name"))
            .input("ackDeadlineSeconds", Value::Int(20))
            .input(
                "deadLetterPolicy",
                Value::map([
                    ("deadLetterTopic", Value::output(&dead_letters, "id")),
                    ("maxDeliveryAttempts", Value::Int(5)),
                ]),
            )
            .input("pushConfig", push_config(&function, account))
            .input("project", settings.project()),
    )?;
    host.declare(
        resource(
            tokens::SUBSCRIPTION_IAM_POLICY,
            format!("{TOPIC}-subscription-iam-policy"),
        )
        .input("project", settings.project())
        .input("subscription", Value::output(&subscription, "name"))
        .input("policyData", pubsub_policy("roles/pubsub.subscriber")),
    )?;
    Ok(topic)
}

/// A push subscription's target: the function's URL, with an OIDC token of `account`.
pub(crate) fn push_config(function: &ResourceId, account: &ResourceId) -> Value {
    Value::map([
        ("pushEndpoint", Value::output(function, "serviceConfig.uri")),
        (
            "oidcToken",
            Value::map([("serviceAccountEmail", Value::output(account, "email"))]),
        ),
        (
            "attributes",
            Value::map([("x-goog-version", Value::from("v1"))]),
        ),
    ])
}
