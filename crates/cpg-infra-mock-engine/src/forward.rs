//! Forwarding a package's custom resources to a real resource provider, as the
//! engine does: `CheckConfig` and `Configure` once, then per registration `Check`
//! and, with no prior state, `Create`; with prior state, `Diff` and, when it finds
//! changes, `Update` (or `Create` then `Delete` for a replacement). A preview
//! passes `preview` to `Create` and `Update` when the provider supports it, and
//! otherwise answers the checked inputs without calling it.

use prost_types::Struct;
use prost_types::value::Kind;
use tokio::sync::OnceCell;
use tonic::Status;
use tonic::transport::Channel;

use crate::{ForwardedResource, ProviderCall, ProviderRoute, Shared};
use cpg_infra_pulumi::proto::diff_response::DiffChanges;
use cpg_infra_pulumi::proto::resource_provider_client::ResourceProviderClient;
use cpg_infra_pulumi::proto::{
    CheckRequest, ConfigureRequest, ConfigureResponse, CreateRequest, DeleteRequest, DiffRequest,
    RegisterResourceRequest, UpdateRequest,
};
use cpg_infra_pulumi::wire;

/// The id the mock gives every default provider.
const PROVIDER_ID: &str = "default-provider";

/// A provider the mock talks to, configured on first use.
pub(super) struct Forwarder {
    route: ProviderRoute,
    configured: OnceCell<(ResourceProviderClient<Channel>, ConfigureResponse)>,
}

impl Forwarder {
    pub(super) fn new(route: ProviderRoute) -> Self {
        Forwarder {
            route,
            configured: OnceCell::new(),
        }
    }

    /// Whether this forwarder serves the custom resource of type `type_token`.
    pub(super) fn serves(&self, type_token: &str) -> bool {
        type_token.split(':').next() == Some(self.route.package.as_str())
    }

    async fn configured(
        &self,
        shared: &Shared,
    ) -> Result<&(ResourceProviderClient<Channel>, ConfigureResponse), Status> {
        self.configured
            .get_or_try_init(|| configure(shared, &self.route))
            .await
    }

    /// Registers `request` (at `urn`) through the provider: its id and outputs.
    pub(super) async fn register(
        &self,
        shared: &Shared,
        request: &RegisterResourceRequest,
        urn: &str,
    ) -> Result<(String, Struct), Status> {
        let (client, configured) = self.configured(shared).await?;
        let mut client = client.clone();
        let dry_run = shared.options.dry_run;
        let preview = dry_run && configured.supports_preview;
        let prior = shared.options.state.get(urn).cloned();
        let object = request.object.clone().unwrap_or_default();
        let news = accepted(&object, configured);
        let call = |method: &'static str| {
            shared.recorded().provider_calls.push(ProviderCall {
                method: method.to_owned(),
                urn: urn.to_owned(),
            });
        };

        call("Check");
        let checked = client
            .check(CheckRequest {
                urn: urn.to_owned(),
                olds: prior.as_ref().map(|p| p.inputs.clone()),
                news: Some(news),
                random_seed: urn.as_bytes().to_vec(),
                name: request.name.clone(),
                r#type: request.r#type.clone(),
                autonaming: None,
            })
            .await
            .map_err(|status| failed("Check", &status))?
            .into_inner();
        if !checked.failures.is_empty() {
            let reasons: Vec<String> = checked
                .failures
                .iter()
                .map(|f| format!("{}: {}", f.property, f.reason))
                .collect();
            return Err(Status::invalid_argument(format!(
                "{urn}: the provider refused the inputs: {}",
                reasons.join("; ")
            )));
        }
        let inputs = checked.inputs.unwrap_or_default();

        let create = |mut client: ResourceProviderClient<Channel>, inputs: Struct| async move {
            call("Create");
            let created = client
                .create(CreateRequest {
                    urn: urn.to_owned(),
                    properties: Some(inputs),
                    timeout: 0.0,
                    preview,
                    name: request.name.clone(),
                    r#type: request.r#type.clone(),
                    ..CreateRequest::default()
                })
                .await
                .map_err(|status| failed("Create", &status))?
                .into_inner();
            Ok::<_, Status>((created.id, created.properties.unwrap_or_default()))
        };

        let (id, outputs) = match &prior {
            None if dry_run && !preview => (String::new(), inputs.clone()),
            None => create(client.clone(), inputs.clone()).await?,
            Some(prior) => {
                call("Diff");
                let diff = client
                    .diff(DiffRequest {
                        id: prior.id.clone(),
                        urn: urn.to_owned(),
                        olds: Some(prior.outputs.clone()),
                        news: Some(inputs.clone()),
                        ignore_changes: request.ignore_changes.clone(),
                        old_inputs: Some(prior.inputs.clone()),
                        name: request.name.clone(),
                        r#type: request.r#type.clone(),
                    })
                    .await
                    .map_err(|status| failed("Diff", &status))?
                    .into_inner();
                let changed = match DiffChanges::try_from(diff.changes) {
                    Ok(DiffChanges::DiffSome) => true,
                    Ok(DiffChanges::DiffNone) => false,
                    // A legacy answer: the engine compares the inputs itself.
                    Ok(DiffChanges::DiffUnknown) | Err(_) => prior.inputs != inputs,
                };
                if !changed {
                    (prior.id.clone(), prior.outputs.clone())
                } else if !diff.replaces.is_empty() {
                    if dry_run && !preview {
                        (String::new(), inputs.clone())
                    } else if dry_run {
                        create(client.clone(), inputs.clone()).await?
                    } else {
                        let delete_first =
                            request.delete_before_replace || diff.delete_before_replace;
                        if delete_first {
                            delete(&mut client, &call, urn, prior).await?;
                        }
                        let created = create(client.clone(), inputs.clone()).await?;
                        if !delete_first {
                            delete(&mut client, &call, urn, prior).await?;
                        }
                        created
                    }
                } else if dry_run && !preview {
                    (prior.id.clone(), inputs.clone())
                } else {
                    call("Update");
                    let updated = client
                        .update(UpdateRequest {
                            id: prior.id.clone(),
                            urn: urn.to_owned(),
                            olds: Some(prior.outputs.clone()),
                            news: Some(inputs.clone()),
                            timeout: 0.0,
                            ignore_changes: request.ignore_changes.clone(),
                            preview,
                            old_inputs: Some(prior.inputs.clone()),
                            name: request.name.clone(),
                            r#type: request.r#type.clone(),
                            ..UpdateRequest::default()
                        })
                        .await
                        .map_err(|status| failed("Update", &status))?
                        .into_inner();
                    (prior.id.clone(), updated.properties.unwrap_or_default())
                }
            }
        };
        if !dry_run {
            shared.recorded().state.insert(
                urn.to_owned(),
                ForwardedResource {
                    r#type: request.r#type.clone(),
                    id: id.clone(),
                    inputs,
                    outputs: outputs.clone(),
                },
            );
        }
        Ok((id, resecret(&object, outputs)))
    }
}

async fn delete(
    client: &mut ResourceProviderClient<Channel>,
    call: &impl Fn(&'static str),
    urn: &str,
    prior: &ForwardedResource,
) -> Result<(), Status> {
    call("Delete");
    client
        .delete(DeleteRequest {
            id: prior.id.clone(),
            urn: urn.to_owned(),
            properties: Some(prior.outputs.clone()),
            old_inputs: Some(prior.inputs.clone()),
            ..DeleteRequest::default()
        })
        .await
        .map_err(|status| failed("Delete", &status))?;
    Ok(())
}

/// Connects to the provider, checks its configuration and configures it.
async fn configure(
    shared: &Shared,
    route: &ProviderRoute,
) -> Result<(ResourceProviderClient<Channel>, ConfigureResponse), Status> {
    let unavailable = |error: &dyn std::fmt::Display| {
        Status::unknown(format!(
            "the {} provider at {}: {error}",
            route.package, route.address
        ))
    };
    let channel = Channel::from_shared(format!("http://{}", route.address))
        .map_err(|e| unavailable(&e))?
        .connect()
        .await
        .map_err(|e| unavailable(&e))?;
    let mut client = ResourceProviderClient::new(channel)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    let urn = provider_urn(&shared.options, &route.package);
    shared.recorded().provider_calls.push(ProviderCall {
        method: "CheckConfig".into(),
        urn: urn.clone(),
    });
    let checked = client
        .check_config(CheckRequest {
            urn: urn.clone(),
            olds: None,
            news: Some(route.config.clone()),
            random_seed: Vec::new(),
            name: "default".into(),
            r#type: format!("pulumi:providers:{}", route.package),
            autonaming: None,
        })
        .await
        .map_err(|status| failed("CheckConfig", &status))?
        .into_inner();
    if !checked.failures.is_empty() {
        let reasons: Vec<String> = checked
            .failures
            .iter()
            .map(|f| format!("{}:{}: {}", route.package, f.property, f.reason))
            .collect();
        return Err(Status::invalid_argument(reasons.join("; ")));
    }
    let args = checked.inputs.unwrap_or_else(|| route.config.clone());
    let variables = args
        .fields
        .iter()
        .map(|(key, value)| {
            let text = match &value.kind {
                Some(Kind::StringValue(s)) => s.clone(),
                _ => wire::to_json(value).to_string(),
            };
            (format!("{}:config:{key}", route.package), text)
        })
        .collect();
    shared.recorded().provider_calls.push(ProviderCall {
        method: "Configure".into(),
        urn: urn.clone(),
    });
    let configured = client
        .configure(ConfigureRequest {
            variables,
            args: Some(args),
            accept_secrets: true,
            accept_resources: true,
            sends_old_inputs: true,
            sends_old_inputs_to_delete: true,
            id: Some(PROVIDER_ID.to_owned()),
            urn: Some(urn),
            name: Some("default".to_owned()),
            r#type: Some(format!("pulumi:providers:{}", route.package)),
        })
        .await
        .map_err(|status| failed("Configure", &status))?
        .into_inner();
    Ok((client, configured))
}

/// A failed provider call as the registration's error: the method and the
/// provider's message (never `Unavailable`, which would say the engine went away).
fn failed(method: &str, status: &Status) -> Status {
    Status::unknown(format!("{method}: {}", status.message()))
}

/// The URN of the default provider of `package`.
fn provider_urn(options: &crate::MockOptions, package: &str) -> String {
    format!(
        "urn:pulumi:{}::{}::pulumi:providers:{package}::default",
        options.stack, options.project
    )
}

/// `value` in the forms the provider said it accepts, as the engine converts
/// them: a secret becomes what it holds, a resource reference its id (its URN
/// when it has none), an output value its value (unknown when it has none).
fn accepted_value(value: &prost_types::Value, accepts: &ConfigureResponse) -> prost_types::Value {
    let Some(Kind::StructValue(object)) = &value.kind else {
        if let Some(Kind::ListValue(list)) = &value.kind {
            return wire::list(
                list.values
                    .iter()
                    .map(|v| accepted_value(v, accepts))
                    .collect(),
            );
        }
        return value.clone();
    };
    let signature = match object
        .fields
        .get(wire::SIG_KEY)
        .and_then(|v| v.kind.as_ref())
    {
        Some(Kind::StringValue(sig)) => sig.as_str(),
        _ => "",
    };
    let field = |name: &str| object.fields.get(name);
    match signature {
        wire::SECRET_SIG if !accepts.accept_secrets => {
            field("value").map_or_else(wire::null, |v| accepted_value(v, accepts))
        }
        wire::RESOURCE_SIG if !accepts.accept_resources => field("id")
            .filter(|id| !matches!(&id.kind, Some(Kind::StringValue(s)) if s.is_empty()))
            .or_else(|| field("urn"))
            .map_or_else(wire::null, |v| accepted_value(v, accepts)),
        wire::OUTPUT_SIG if !accepts.accept_outputs => {
            let inner = field("value").map_or_else(wire::unknown, |v| accepted_value(v, accepts));
            let secret = matches!(
                field("secret").and_then(|v| v.kind.as_ref()),
                Some(Kind::BoolValue(true))
            );
            if secret && accepts.accept_secrets {
                wire::secret(inner)
            } else {
                inner
            }
        }
        _ => prost_types::Value {
            kind: Some(Kind::StructValue(accepted(object, accepts))),
        },
    }
}

/// The properties `object` in the forms the provider accepts ([`accepted_value`]).
fn accepted(object: &Struct, accepts: &ConfigureResponse) -> Struct {
    Struct {
        fields: object
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), accepted_value(v, accepts)))
            .collect(),
    }
}

/// `outputs` with the properties that were secret inputs secret again, as the
/// engine keeps an input's secrecy in the outputs of the same name.
fn resecret(inputs: &Struct, mut outputs: Struct) -> Struct {
    for (key, input) in &inputs.fields {
        if wire::contains_secret(input)
            && let Some(output) = outputs.fields.remove(key)
        {
            let output = if wire::contains_secret(&output) {
                output
            } else {
                wire::secret(output)
            };
            outputs.fields.insert(key.clone(), output);
        }
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(secrets: bool, resources: bool, outputs: bool) -> ConfigureResponse {
        ConfigureResponse {
            accept_secrets: secrets,
            accept_resources: resources,
            accept_outputs: outputs,
            ..ConfigureResponse::default()
        }
    }

    #[test]
    fn secrets_are_revealed_for_the_provider_and_kept_in_the_outputs() {
        let inputs = Struct {
            fields: [
                ("token".to_owned(), wire::secret(wire::string("s3cret"))),
                (
                    "nested".to_owned(),
                    wire::list(vec![wire::secret(wire::string("x"))]),
                ),
                ("plain".to_owned(), wire::string("p")),
            ]
            .into_iter()
            .collect(),
        };
        let revealed = accepted(&inputs, &accepting(false, false, false));
        assert_eq!(
            wire::to_json(&revealed.fields["token"]),
            serde_json::json!("s3cret")
        );
        assert_eq!(
            wire::to_json(&revealed.fields["nested"]),
            serde_json::json!(["x"])
        );
        assert!(!revealed.fields.values().any(wire::contains_secret));
        assert_eq!(accepted(&inputs, &accepting(true, false, false)), inputs);
        let outputs = resecret(&inputs, revealed);
        assert!(wire::secret_inner(&outputs.fields["token"]).is_some());
        assert!(wire::contains_secret(&outputs.fields["nested"]));
        assert!(!wire::contains_secret(&outputs.fields["plain"]));
    }

    #[test]
    fn references_and_output_values_become_what_the_provider_accepts() {
        let reference = wire::resource_reference("urn:a", Some(wire::string("a-id")));
        let component = wire::resource_reference("urn:c", None);
        let unknown_secret = wire::unknown_secret_output();
        let inputs = Struct {
            fields: [
                ("reference".to_owned(), reference.clone()),
                ("component".to_owned(), component),
                ("output".to_owned(), unknown_secret.clone()),
            ]
            .into_iter()
            .collect(),
        };
        let plain = accepted(&inputs, &accepting(false, false, false));
        assert_eq!(
            wire::to_json(&plain.fields["reference"]),
            serde_json::json!("a-id")
        );
        assert_eq!(
            wire::to_json(&plain.fields["component"]),
            serde_json::json!("urn:c")
        );
        assert_eq!(plain.fields["output"], wire::unknown());
        let secrets = accepted(&inputs, &accepting(true, false, false));
        assert_eq!(secrets.fields["output"], wire::secret(wire::unknown()));
        let all = accepted(&inputs, &accepting(true, true, true));
        assert_eq!(all.fields["reference"], reference);
        assert_eq!(all.fields["output"], unknown_secret);
    }

    #[test]
    fn routes_serve_their_package_only() {
        let forwarder = Forwarder::new(ProviderRoute {
            package: "cpg".into(),
            address: "127.0.0.1:1".parse().expect("address"),
            config: Struct::default(),
        });
        assert!(forwarder.serves("cpg:google:GroupMembership"));
        assert!(!forwarder.serves("cpgx:a:B"));
        assert!(!forwarder.serves("gcp:cloudidentity:Group"));
    }
}
