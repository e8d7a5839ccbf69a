//! The resource monitor and engine services of the mock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use prost_types::Struct;
use tonic::{Request, Response, Status};

use crate::{MockOptions, Shared};
use cpg_infra_pulumi::proto::{
    CallResponse, Callback, GetRootResourceRequest, GetRootResourceResponse, InvokeResponse,
    LogRequest, ReadResourceRequest, ReadResourceResponse, RegisterErrorHookRequest,
    RegisterPackageRequest, RegisterPackageResponse, RegisterResourceHookRequest,
    RegisterResourceOutputsRequest, RegisterResourceRequest, RegisterResourceResponse,
    RequirePulumiVersionRequest, RequirePulumiVersionResponse, ResourceCallRequest,
    ResourceInvokeRequest, SetRootResourceRequest, SetRootResourceResponse, StartDebuggingRequest,
    SupportsFeatureRequest, SupportsFeatureResponse, engine_server::Engine,
    resource_monitor_server::ResourceMonitor,
};
use cpg_infra_pulumi::wire;

/// The URN the engine gives `name` of `type_token` under the parent `parent`.
fn urn(options: &MockOptions, type_token: &str, name: &str, parent: &str) -> String {
    let parent_type = parent
        .split("::")
        .nth(2)
        .filter(|t| *t != cpg_infra_pulumi::ROOT_TYPE);
    let qualified = match parent_type {
        Some(p) if !parent.is_empty() => format!("{p}${type_token}"),
        _ => type_token.to_owned(),
    };
    format!(
        "urn:pulumi:{}::{}::{qualified}::{name}",
        options.stack, options.project
    )
}

/// The mock's own answer to a registration: an id (none for a component or in
/// a preview; [`crate::answered_id`] unless the outputs hook computes an `id`)
/// and the inputs plus what the outputs hook adds.
fn answer(options: &MockOptions, request: &RegisterResourceRequest) -> (String, Struct) {
    let mut object = request.object.clone().unwrap_or_default();
    if !request.custom || options.dry_run {
        return (String::new(), object);
    }
    let mut id = crate::answered_id(&request.name);
    if let Some(hook) = &options.outputs {
        let mut added = hook(request);
        // An `id` the hook computes is the resource's id, as a provider chooses it.
        if let Some(chosen) = added.remove("id") {
            id = match chosen.kind {
                Some(prost_types::value::Kind::StringValue(s)) => s,
                _ => wire::to_json(&chosen).to_string(),
            };
        }
        object.fields.extend(added);
    }
    object.fields.insert("id".into(), wire::string(id.clone()));
    (id, object)
}

/// The failure [`MockOptions::fail`] injects for `type_token` `name`, if it names it.
fn injected_failure(
    options: &MockOptions,
    type_token: &str,
    name: &str,
    doing: &str,
) -> Result<(), Status> {
    if options
        .fail
        .as_ref()
        .is_some_and(|(t, n)| t == type_token && n == name)
    {
        return Err(Status::unknown(format!(
            "{doing} {name} failed: injected failure"
        )));
    }
    Ok(())
}

/// As the engine does: the outputs named secret come back as secrets.
fn mark_secret(object: &mut Struct, names: &[String]) {
    for name in names {
        if let Some(value) = object.fields.remove(name) {
            let value = if wire::secret_inner(&value).is_some() {
                value
            } else {
                wire::secret(value)
            };
            object.fields.insert(name.clone(), value);
        }
    }
}

/// The engine's builtin provider's answer to reading a stack reference: the
/// stack it names (its only input, `name`) with that stack's `outputs` and the
/// sorted names of those holding a secret (`secretOutputNames`).
fn read_stack_reference(
    options: &MockOptions,
    request: &ReadResourceRequest,
) -> Result<Struct, Status> {
    let properties = request.properties.clone().unwrap_or_default();
    if let Some(other) = properties.fields.keys().find(|k| *k != "name") {
        return Err(Status::invalid_argument(format!(
            "stack reference {}: unknown property {other:?}",
            request.name
        )));
    }
    let name = match properties.fields.get("name").and_then(|v| v.kind.as_ref()) {
        Some(prost_types::value::Kind::StringValue(name)) => name.clone(),
        _ => {
            return Err(Status::invalid_argument(format!(
                "stack reference {}: property \"name\" must be a string",
                request.name
            )));
        }
    };
    let Some(outputs) = options.stacks.get(&name) else {
        return Err(Status::not_found(format!(
            "stack reference {}: unknown stack {name:?}",
            request.name
        )));
    };
    // Names come sorted from the map, as the engine sorts them.
    let secret: Vec<prost_types::Value> = outputs
        .fields
        .iter()
        .filter(|(_, value)| wire::contains_secret(value))
        .map(|(export, _)| wire::string(export.clone()))
        .collect();
    Ok(Struct {
        fields: [
            ("name".to_owned(), wire::string(name)),
            ("outputs".to_owned(), wire::object(outputs.fields.clone())),
            ("secretOutputNames".to_owned(), wire::list(secret)),
        ]
        .into_iter()
        .collect(),
    })
}

pub(super) struct Monitor(pub(super) Arc<Shared>);

/// Decrements the in-flight count when a registration ends, answered or not.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tonic::async_trait]
impl ResourceMonitor for Monitor {
    async fn supports_feature(
        &self,
        request: Request<SupportsFeatureRequest>,
    ) -> Result<Response<SupportsFeatureResponse>, Status> {
        if self.0.options.silent {
            std::future::pending::<()>().await;
        }
        let id = request.into_inner().id;
        let has_support = self.0.options.features.contains(&id);
        self.0.recorded().features.push(id);
        Ok(Response::new(SupportsFeatureResponse { has_support }))
    }

    async fn invoke(
        &self,
        request: Request<ResourceInvokeRequest>,
    ) -> Result<Response<InvokeResponse>, Status> {
        let request = request.into_inner();
        self.0.recorded().invokes.push(request.clone());
        let result = match &self.0.options.invoke {
            Some(hook) => hook(&request).map_err(Status::unknown)?,
            None => request.args.clone().unwrap_or_default(),
        };
        Ok(Response::new(InvokeResponse {
            r#return: Some(result),
            failures: Vec::new(),
        }))
    }

    async fn call(
        &self,
        _request: Request<ResourceCallRequest>,
    ) -> Result<Response<CallResponse>, Status> {
        Err(Status::unimplemented("the mock has no components"))
    }

    async fn read_resource(
        &self,
        request: Request<ReadResourceRequest>,
    ) -> Result<Response<ReadResourceResponse>, Status> {
        let shared = &self.0;
        let request = request.into_inner();
        shared.recorded().reads.push(request.clone());
        let options = &shared.options;
        injected_failure(options, &request.r#type, &request.name, "reading")?;
        if request.id.is_empty() {
            return Err(Status::invalid_argument(format!(
                "reading {} {}: no id",
                request.r#type, request.name
            )));
        }
        let mut object = if request.r#type == cpg_infra_pulumi::STACK_REFERENCE_TYPE {
            read_stack_reference(options, &request)?
        } else if shared.forwarders.iter().any(|f| f.serves(&request.r#type)) {
            return Err(Status::unimplemented(format!(
                "the mock does not read {} {} through its provider",
                request.r#type, request.name
            )));
        } else {
            // As a registration would be answered, with the id it was read by.
            let as_registered = RegisterResourceRequest {
                r#type: request.r#type.clone(),
                name: request.name.clone(),
                parent: request.parent.clone(),
                custom: true,
                object: request.properties.clone(),
                ..RegisterResourceRequest::default()
            };
            let (_, mut object) = answer(options, &as_registered);
            object
                .fields
                .insert("id".into(), wire::string(request.id.clone()));
            object
        };
        mark_secret(&mut object, &request.additional_secret_outputs);
        let response = ReadResourceResponse {
            urn: urn(options, &request.r#type, &request.name, &request.parent),
            properties: Some(object),
        };
        shared
            .recorded()
            .read_responses
            .push((request.r#type, request.name, response.clone()));
        Ok(Response::new(response))
    }

    async fn register_resource(
        &self,
        request: Request<RegisterResourceRequest>,
    ) -> Result<Response<RegisterResourceResponse>, Status> {
        let shared = &self.0;
        let request = request.into_inner();
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = InFlight(&shared.in_flight);
        let count = shared.registrations.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut recorded = shared.recorded();
            recorded.max_in_flight = recorded.max_in_flight.max(now);
            recorded.registrations.push(request.clone());
        }
        if shared.options.stop_after == Some(count) {
            shared.stop();
            std::future::pending::<()>().await;
        }
        if !shared.options.delay.is_zero() {
            tokio::time::sleep(shared.options.delay).await;
        }
        let options = &shared.options;
        injected_failure(options, &request.r#type, &request.name, "creating")?;
        let urn = if options
            .empty_urn
            .as_ref()
            .is_some_and(|(t, n)| *t == request.r#type && *n == request.name)
        {
            String::new()
        } else {
            urn(options, &request.r#type, &request.name, &request.parent)
        };
        let forwarder = shared
            .forwarders
            .iter()
            .find(|f| request.custom && f.serves(&request.r#type));
        let (id, mut object) = match forwarder {
            Some(forwarder) => forwarder.register(shared, &request, &urn).await?,
            None => answer(options, &request),
        };
        mark_secret(&mut object, &request.additional_secret_outputs);
        let response = RegisterResourceResponse {
            urn,
            id,
            object: Some(object),
            ..RegisterResourceResponse::default()
        };
        shared
            .recorded()
            .responses
            .push((request.r#type, request.name, response.clone()));
        Ok(Response::new(response))
    }

    async fn register_resource_outputs(
        &self,
        request: Request<RegisterResourceOutputsRequest>,
    ) -> Result<Response<()>, Status> {
        self.0.recorded().outputs.push(request.into_inner());
        Ok(Response::new(()))
    }

    async fn register_stack_transform(
        &self,
        _request: Request<Callback>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no transforms"))
    }

    async fn register_stack_invoke_transform(
        &self,
        _request: Request<Callback>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no transforms"))
    }

    async fn register_resource_hook(
        &self,
        _request: Request<RegisterResourceHookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no hooks"))
    }

    async fn register_error_hook(
        &self,
        _request: Request<RegisterErrorHookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no hooks"))
    }

    async fn register_package(
        &self,
        _request: Request<RegisterPackageRequest>,
    ) -> Result<Response<RegisterPackageResponse>, Status> {
        Err(Status::unimplemented("no packages"))
    }

    async fn signal_and_wait_for_shutdown(
        &self,
        _request: Request<()>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }
}

pub(super) struct EngineLog(pub(super) Arc<Shared>);

#[tonic::async_trait]
impl Engine for EngineLog {
    async fn log(&self, request: Request<LogRequest>) -> Result<Response<()>, Status> {
        self.0.recorded().logs.push(request.into_inner());
        Ok(Response::new(()))
    }

    async fn get_root_resource(
        &self,
        _request: Request<GetRootResourceRequest>,
    ) -> Result<Response<GetRootResourceResponse>, Status> {
        let urn = self.0.recorded().root.clone().unwrap_or_default();
        Ok(Response::new(GetRootResourceResponse { urn }))
    }

    async fn set_root_resource(
        &self,
        request: Request<SetRootResourceRequest>,
    ) -> Result<Response<SetRootResourceResponse>, Status> {
        self.0.recorded().root = Some(request.into_inner().urn);
        Ok(Response::new(SetRootResourceResponse {}))
    }

    async fn start_debugging(
        &self,
        _request: Request<StartDebuggingRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("no debugging"))
    }

    async fn require_pulumi_version(
        &self,
        _request: Request<RequirePulumiVersionRequest>,
    ) -> Result<Response<RequirePulumiVersionResponse>, Status> {
        Ok(Response::new(RequirePulumiVersionResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_reference_is_answered_as_the_builtin_provider_answers() {
        let stack = "organization/cpg/p";
        let options = MockOptions {
            stacks: [(
                stack.to_owned(),
                Struct {
                    fields: [
                        ("plain".to_owned(), wire::string("a")),
                        ("key".to_owned(), wire::secret(wire::string("k"))),
                        (
                            "nested".to_owned(),
                            wire::object([("x".to_owned(), wire::secret(wire::string("s")))]),
                        ),
                    ]
                    .into_iter()
                    .collect(),
                },
            )]
            .into_iter()
            .collect(),
            ..MockOptions::default()
        };
        let read = |properties: Vec<(&str, prost_types::Value)>| {
            read_stack_reference(
                &options,
                &ReadResourceRequest {
                    id: stack.into(),
                    r#type: cpg_infra_pulumi::STACK_REFERENCE_TYPE.into(),
                    name: stack.into(),
                    properties: Some(Struct {
                        fields: properties
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect(),
                    }),
                    ..ReadResourceRequest::default()
                },
            )
        };
        let answer = read(vec![("name", wire::string(stack))]).expect("read");
        assert_eq!(
            wire::struct_to_json(&answer),
            serde_json::json!({
                "name": stack,
                "outputs": {"key": {"$secret": "k"}, "nested": {"x": {"$secret": "s"}}, "plain": "a"},
                "secretOutputNames": ["key", "nested"],
            })
        );
        let refused = read(vec![
            ("name", wire::string(stack)),
            ("outputs", wire::object([])),
        ])
        .expect_err("only name");
        assert_eq!(
            refused.message(),
            "stack reference organization/cpg/p: unknown property \"outputs\""
        );
        let unknown =
            read(vec![("name", wire::string("organization/cpg/q"))]).expect_err("no such stack");
        assert_eq!(
            unknown.message(),
            "stack reference organization/cpg/p: unknown stack \"organization/cpg/q\""
        );
    }

    #[test]
    fn urns_name_non_root_parents() {
        let options = MockOptions::default();
        assert_eq!(
            urn(
                &options,
                "t:m:M",
                "a",
                "urn:pulumi:test::cpg::pulumi:pulumi:Stack::cpg-test"
            ),
            "urn:pulumi:test::cpg::t:m:M::a"
        );
        assert_eq!(
            urn(
                &options,
                "t:m:M",
                "b",
                "urn:pulumi:test::cpg::p:c:C::parent"
            ),
            "urn:pulumi:test::cpg::p:c:C$t:m:M::b"
        );
        assert_eq!(
            urn(&options, "t:m:M", "c", ""),
            "urn:pulumi:test::cpg::t:m:M::c"
        );
    }
}
