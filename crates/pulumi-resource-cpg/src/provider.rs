//! The ResourceProvider gRPC service: the engine's calls, dispatched to the kinds.

use std::collections::HashMap;
use std::sync::Arc;

use cpg_infra_kinds::schema::{Kind, OnChange, schema_text};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_server::ResourceProvider;
use serde_json::{Map, Value};
use tokio::sync::RwLock;
use tonic::{Request, Response, Status};

use crate::config::ProviderConfig;
use crate::engine::Engine;
use crate::env::Env;
use crate::http::RetryPolicy;
use crate::inputs;
use crate::kinds::{HailUserWait, Services};
use crate::props::{UNKNOWN, to_json, to_struct};

/// How the provider runs: what it reads from its environment and how patient it is.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where environment variables (credentials, Hail tokens) are read.
    pub env: Env,
    /// Retries after transient failures.
    pub retry: RetryPolicy,
    /// How long a new Hail Batch user is waited for.
    pub hail_user_wait: HailUserWait,
}

/// The provider: one per engine run.
#[derive(Debug)]
pub struct CpgProvider {
    engine: Arc<Engine>,
    options: Options,
    services: RwLock<Option<Arc<Services>>>,
}

// Pulumi's DiffResponse.DiffChanges and PropertyDiff.Kind.
const DIFF_NONE: i32 = 1;
const DIFF_SOME: i32 = 2;
const PROPERTY_ADD: i32 = 0;
const PROPERTY_ADD_REPLACE: i32 = 1;
const PROPERTY_UPDATE: i32 = 4;
const PROPERTY_UPDATE_REPLACE: i32 = 5;

impl CpgProvider {
    /// A provider reporting to `engine`.
    pub fn new(engine: Arc<Engine>, options: Options) -> Self {
        Self {
            engine,
            options,
            services: RwLock::new(None),
        }
    }

    async fn services(&self) -> Result<Arc<Services>, Status> {
        self.services
            .read()
            .await
            .clone()
            .ok_or_else(|| Status::failed_precondition("the provider was not configured"))
    }
}

fn kind_of(urn: &str) -> Result<Kind, Status> {
    Kind::from_urn(urn).ok_or_else(|| {
        Status::invalid_argument(format!("{urn}: not a resource type of the cpg provider"))
    })
}

/// `properties` over `base`: the state, completed by the old inputs where it lacks a key.
fn merged(
    base: Option<&prost_types::Struct>,
    properties: Option<&prost_types::Struct>,
) -> Map<String, Value> {
    let mut out = to_json(base);
    out.extend(to_json(properties));
    out
}

/// The inputs as outputs, with every output-only property unknown (a preview).
fn preview_outputs(kind: Kind, inputs: &Map<String, Value>) -> Map<String, Value> {
    let mut out = inputs.clone();
    for p in kind.spec().outputs() {
        out.insert(p.name.into(), Value::String(UNKNOWN.into()));
    }
    out
}

/// The inputs of a resource read back: its input properties among `outputs`.
fn inputs_of(kind: Kind, outputs: &Map<String, Value>) -> Map<String, Value> {
    kind.spec()
        .inputs()
        .filter_map(|p| outputs.get(p.name).map(|v| (p.name.to_string(), v.clone())))
        .collect()
}

fn config_failures(problems: Vec<crate::config::ConfigProblem>) -> Vec<rpc::CheckFailure> {
    problems
        .into_iter()
        .map(|p| rpc::CheckFailure {
            property: p.key,
            reason: p.reason,
        })
        .collect()
}

#[tonic::async_trait]
impl ResourceProvider for CpgProvider {
    async fn handshake(
        &self,
        request: Request<rpc::ProviderHandshakeRequest>,
    ) -> Result<Response<rpc::ProviderHandshakeResponse>, Status> {
        let address = &request.get_ref().engine_address;
        if !address.is_empty() {
            self.engine.connect(address)?;
        }
        Ok(Response::new(rpc::ProviderHandshakeResponse {
            accept_secrets: false,
            accept_resources: false,
            accept_outputs: false,
            supports_autonaming_configuration: false,
        }))
    }

    async fn parameterize(
        &self,
        _request: Request<rpc::ParameterizeRequest>,
    ) -> Result<Response<rpc::ParameterizeResponse>, Status> {
        Err(Status::unimplemented(
            "the cpg provider takes no parameters",
        ))
    }

    async fn get_schema(
        &self,
        request: Request<rpc::GetSchemaRequest>,
    ) -> Result<Response<rpc::GetSchemaResponse>, Status> {
        let version = request.get_ref().version;
        if version != 0 {
            return Err(Status::invalid_argument(format!(
                "schema version {version} is not supported (0 is)"
            )));
        }
        Ok(Response::new(rpc::GetSchemaResponse {
            schema: schema_text(),
        }))
    }

    async fn check_config(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let news = request.get_ref().news.clone();
        let failures = match ProviderConfig::from_properties(&to_json(news.as_ref())) {
            Ok(_) => Vec::new(),
            Err(problems) => config_failures(problems),
        };
        Ok(Response::new(rpc::CheckResponse {
            inputs: news,
            failures,
        }))
    }

    async fn diff_config(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        // A configuration change never replaces the resources: endpoints and credentials
        // only say where and how to reach the same services. The version is the engine's.
        let req = request.into_inner();
        let olds = match &req.old_inputs {
            Some(inputs) if !inputs.fields.is_empty() => to_json(Some(inputs)),
            _ => to_json(req.olds.as_ref()),
        };
        let news = to_json(req.news.as_ref());
        let mut changed: Vec<String> = olds
            .keys()
            .chain(news.keys())
            .filter(|k| *k != "version" && olds.get(*k) != news.get(*k))
            .cloned()
            .collect();
        changed.sort();
        changed.dedup();
        let detailed_diff = changed
            .iter()
            .map(|k| {
                let kind = if olds.contains_key(k) {
                    PROPERTY_UPDATE
                } else {
                    PROPERTY_ADD
                };
                (
                    k.clone(),
                    rpc::PropertyDiff {
                        kind,
                        input_diff: true,
                    },
                )
            })
            .collect();
        Ok(Response::new(rpc::DiffResponse {
            replaces: Vec::new(),
            stables: Vec::new(),
            delete_before_replace: false,
            changes: if changed.is_empty() {
                DIFF_NONE
            } else {
                DIFF_SOME
            },
            diffs: changed,
            detailed_diff,
            has_detailed_diff: true,
        }))
    }

    async fn configure(
        &self,
        request: Request<rpc::ConfigureRequest>,
    ) -> Result<Response<rpc::ConfigureResponse>, Status> {
        let req = request.into_inner();
        let props = match &req.args {
            Some(args) => to_json(Some(args)),
            None => req
                .variables
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        };
        let config = ProviderConfig::from_properties(&props).map_err(|problems| {
            let text: Vec<String> = problems
                .iter()
                .map(|p| format!("cpg:{}: {}", p.key, p.reason))
                .collect();
            Status::invalid_argument(text.join("; "))
        })?;
        let services = Services::new(
            config,
            self.options.env.clone(),
            self.options.retry,
            self.options.hail_user_wait,
            self.engine.clone(),
        )?;
        *self.services.write().await = Some(Arc::new(services));
        Ok(Response::new(rpc::ConfigureResponse {
            accept_secrets: false,
            supports_preview: true,
            accept_resources: false,
            accept_outputs: false,
            supports_autonaming_configuration: false,
        }))
    }

    async fn invoke(
        &self,
        request: Request<rpc::InvokeRequest>,
    ) -> Result<Response<rpc::InvokeResponse>, Status> {
        Err(Status::unimplemented(format!(
            "the cpg provider has no function {}",
            request.get_ref().tok
        )))
    }

    async fn call(
        &self,
        request: Request<rpc::CallRequest>,
    ) -> Result<Response<rpc::CallResponse>, Status> {
        Err(Status::unimplemented(format!(
            "the cpg provider has no method {}",
            request.get_ref().tok
        )))
    }

    async fn check(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let req = request.into_inner();
        let kind = kind_of(&req.urn)?;
        let failures = inputs::check(kind.spec(), &to_json(req.news.as_ref()))
            .into_iter()
            .map(|f| rpc::CheckFailure {
                property: f.property,
                reason: f.reason,
            })
            .collect();
        Ok(Response::new(rpc::CheckResponse {
            inputs: req.news,
            failures,
        }))
    }

    async fn diff(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let req = request.into_inner();
        let kind = kind_of(&req.urn)?;
        let olds = match &req.old_inputs {
            Some(inputs) if !inputs.fields.is_empty() => to_json(Some(inputs)),
            _ => to_json(req.olds.as_ref()),
        };
        let mut news = to_json(req.news.as_ref());
        for ignored in &req.ignore_changes {
            match olds.get(ignored) {
                Some(old) => news.insert(ignored.clone(), old.clone()),
                None => news.remove(ignored),
            };
        }
        let diff = inputs::diff(kind.spec(), &olds, &news);
        let mut detailed_diff = HashMap::new();
        let mut replaces = Vec::new();
        for (name, change) in &diff.changes {
            let added = olds.get(*name).is_none_or(Value::is_null);
            let property_kind = match (change, added) {
                (OnChange::Replace, true) => PROPERTY_ADD_REPLACE,
                (OnChange::Replace, false) => PROPERTY_UPDATE_REPLACE,
                (OnChange::Update, true) => PROPERTY_ADD,
                (OnChange::Update, false) => PROPERTY_UPDATE,
            };
            if *change == OnChange::Replace {
                replaces.push((*name).to_string());
            }
            detailed_diff.insert(
                (*name).to_string(),
                rpc::PropertyDiff {
                    kind: property_kind,
                    input_diff: true,
                },
            );
        }
        Ok(Response::new(rpc::DiffResponse {
            replaces,
            stables: Vec::new(),
            delete_before_replace: diff.delete_before_replace,
            changes: if diff.changes.is_empty() {
                DIFF_NONE
            } else {
                DIFF_SOME
            },
            diffs: diff.changes.iter().map(|(n, _)| (*n).to_string()).collect(),
            detailed_diff,
            has_detailed_diff: true,
        }))
    }

    async fn create(
        &self,
        request: Request<rpc::CreateRequest>,
    ) -> Result<Response<rpc::CreateResponse>, Status> {
        let req = request.into_inner();
        let kind = kind_of(&req.urn)?;
        let inputs = to_json(req.properties.as_ref());
        if req.preview {
            return Ok(Response::new(rpc::CreateResponse {
                id: String::new(),
                properties: Some(to_struct(&preview_outputs(kind, &inputs))),
                refresh_before_update: false,
            }));
        }
        let outcome = self
            .services()
            .await?
            .create(kind, &req.urn, &inputs)
            .await?;
        Ok(Response::new(rpc::CreateResponse {
            id: outcome.id,
            properties: Some(to_struct(&outcome.outputs)),
            refresh_before_update: false,
        }))
    }

    async fn read(
        &self,
        request: Request<rpc::ReadRequest>,
    ) -> Result<Response<rpc::ReadResponse>, Status> {
        let req = request.into_inner();
        let kind = kind_of(&req.urn)?;
        let state = merged(req.inputs.as_ref(), req.properties.as_ref());
        let found = self
            .services()
            .await?
            .read(kind, &req.urn, &req.id, &state)
            .await?;
        // An empty id tells the engine the resource is gone.
        let response = match found {
            None => rpc::ReadResponse::default(),
            Some(outcome) => rpc::ReadResponse {
                inputs: Some(to_struct(&inputs_of(kind, &outcome.outputs))),
                properties: Some(to_struct(&outcome.outputs)),
                id: outcome.id,
                refresh_before_update: false,
            },
        };
        Ok(Response::new(response))
    }

    async fn update(
        &self,
        request: Request<rpc::UpdateRequest>,
    ) -> Result<Response<rpc::UpdateResponse>, Status> {
        let req = request.into_inner();
        let kind = kind_of(&req.urn)?;
        let olds = merged(req.old_inputs.as_ref(), req.olds.as_ref());
        let news = to_json(req.news.as_ref());
        let outputs = if req.preview {
            let mut out = preview_outputs(kind, &news);
            // Outputs that do not depend on the changed inputs stay as they are.
            for p in kind.spec().outputs() {
                if let Some(v) = olds.get(p.name) {
                    out.insert(p.name.into(), v.clone());
                }
            }
            out
        } else {
            self.services()
                .await?
                .update(kind, &req.urn, &req.id, &olds, &news)
                .await?
        };
        Ok(Response::new(rpc::UpdateResponse {
            properties: Some(to_struct(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn delete(&self, request: Request<rpc::DeleteRequest>) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        let kind = kind_of(&req.urn)?;
        let state = merged(req.old_inputs.as_ref(), req.properties.as_ref());
        self.services()
            .await?
            .delete(kind, &req.urn, &req.id, &state)
            .await?;
        Ok(Response::new(()))
    }

    async fn construct(
        &self,
        request: Request<rpc::ConstructRequest>,
    ) -> Result<Response<rpc::ConstructResponse>, Status> {
        Err(Status::unimplemented(format!(
            "the cpg provider has no component {}",
            request.get_ref().r#type
        )))
    }

    async fn cancel(&self, _request: Request<()>) -> Result<Response<()>, Status> {
        self.engine.cancel();
        Ok(Response::new(()))
    }

    async fn get_plugin_info(
        &self,
        _request: Request<()>,
    ) -> Result<Response<rpc::PluginInfo>, Status> {
        Ok(Response::new(rpc::PluginInfo {
            version: env!("CARGO_PKG_VERSION").into(),
        }))
    }

    async fn attach(&self, request: Request<rpc::PluginAttach>) -> Result<Response<()>, Status> {
        // An engine attaching to a provider started by hand says where it is.
        self.engine.connect(&request.get_ref().address)?;
        Ok(Response::new(()))
    }

    async fn get_mapping(
        &self,
        _request: Request<rpc::GetMappingRequest>,
    ) -> Result<Response<rpc::GetMappingResponse>, Status> {
        // No mappings to other ecosystems' providers.
        Ok(Response::new(rpc::GetMappingResponse::default()))
    }

    async fn get_mappings(
        &self,
        _request: Request<rpc::GetMappingsRequest>,
    ) -> Result<Response<rpc::GetMappingsResponse>, Status> {
        Ok(Response::new(rpc::GetMappingsResponse::default()))
    }
}
