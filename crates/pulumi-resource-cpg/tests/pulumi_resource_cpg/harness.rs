//! A provider served in-process, a mock engine that records its messages, and the fakes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpg_infra_fakes::{FakeCloudIdentity, FakeGroupsSettings, FakeHail, FakeMetamist, Fakes};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use pulumi_gestalt_proto::pulumi::pulumirpc::engine_server::{
    Engine as EngineService, EngineServer,
};
use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_client::ResourceProviderClient;
use pulumi_resource_cpg::{Engine, Env, HailUserWait, Options, RetryPolicy, serve};
use serde_json::{Map, Value, json};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

pub const GOOGLE_TOKEN: &str = "google-test-token";
pub const HAIL_TOKEN: &str = "hail-test-token";

/// Messages the provider sent to the engine: (severity, urn, message).
#[derive(Debug, Default, Clone)]
pub struct MockEngine {
    pub logs: Arc<Mutex<Vec<(i32, String, String)>>>,
}

#[tonic::async_trait]
impl EngineService for MockEngine {
    async fn log(&self, request: Request<rpc::LogRequest>) -> Result<Response<()>, Status> {
        let r = request.into_inner();
        self.logs
            .lock()
            .map_err(|_| Status::internal("poisoned"))?
            .push((r.severity, r.urn, r.message));
        Ok(Response::new(()))
    }
    async fn get_root_resource(
        &self,
        _: Request<rpc::GetRootResourceRequest>,
    ) -> Result<Response<rpc::GetRootResourceResponse>, Status> {
        Ok(Response::new(rpc::GetRootResourceResponse::default()))
    }
    async fn set_root_resource(
        &self,
        _: Request<rpc::SetRootResourceRequest>,
    ) -> Result<Response<rpc::SetRootResourceResponse>, Status> {
        Ok(Response::new(rpc::SetRootResourceResponse::default()))
    }
    async fn start_debugging(
        &self,
        _: Request<rpc::StartDebuggingRequest>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }
    async fn require_pulumi_version(
        &self,
        _: Request<rpc::RequirePulumiVersionRequest>,
    ) -> Result<Response<rpc::RequirePulumiVersionResponse>, Status> {
        Ok(Response::new(rpc::RequirePulumiVersionResponse::default()))
    }
}

impl MockEngine {
    /// Serves the mock engine on 127.0.0.1; returns its address.
    pub async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let svc = EngineServer::new(self.clone());
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(svc)
                .serve_with_incoming(
                    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                )
                .await;
        });
        address.to_string()
    }

    pub fn messages(&self) -> Vec<String> {
        self.logs
            .lock()
            .map(|l| l.iter().map(|(_, _, m)| m.clone()).collect())
            .unwrap_or_default()
    }
}

/// Fast retries for tests.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        request_timeout: Duration::from_secs(5),
    }
}

pub struct Harness {
    pub options: Options,
    pub client: ResourceProviderClient<Channel>,
    pub engine: MockEngine,
    pub ci: FakeCloudIdentity,
    pub gs: FakeGroupsSettings,
    pub hail: FakeHail,
    pub metamist: FakeMetamist,
}

pub fn env(vars: &[(&str, &str)]) -> Env {
    let mut map: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    map.entry("HOME".into())
        .or_insert_with(|| "/nonexistent".into());
    Env::fixed(map)
}

/// Starts a provider with `options` (without configuring it) and returns a client.
pub async fn provider(options: Options, engine: &MockEngine) -> ResourceProviderClient<Channel> {
    let engine_address = engine.start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let engine = Arc::new(Engine::new(Some(&engine_address)).expect("engine"));
    tokio::spawn(serve(listener, engine, options, std::future::pending()));
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    ResourceProviderClient::new(channel)
}

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

pub fn st(v: Value) -> prost_types::Struct {
    to_struct(&obj(v))
}

fn to_value(v: &Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match v {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.iter().map(to_value).collect(),
        }),
        Value::Object(o) => Kind::StructValue(to_struct(o)),
    };
    prost_types::Value { kind: Some(kind) }
}

pub fn to_struct(m: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: m.iter().map(|(k, v)| (k.clone(), to_value(v))).collect(),
    }
}

pub fn from_struct(s: Option<&prost_types::Struct>) -> Value {
    use prost_types::value::Kind;
    fn conv(v: &prost_types::Value) -> Value {
        match &v.kind {
            None | Some(Kind::NullValue(_)) => Value::Null,
            Some(Kind::BoolValue(b)) => json!(b),
            Some(Kind::NumberValue(n)) if n.fract() == 0.0 => json!(*n as i64),
            Some(Kind::NumberValue(n)) => json!(n),
            Some(Kind::StringValue(s)) => json!(s),
            Some(Kind::ListValue(l)) => Value::Array(l.values.iter().map(conv).collect()),
            Some(Kind::StructValue(s)) => {
                Value::Object(s.fields.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
            }
        }
    }
    Value::Object(
        s.map(|s| s.fields.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
            .unwrap_or_default(),
    )
}

pub fn urn(token: &str, name: &str) -> String {
    format!("urn:pulumi:test::cpg::{token}::{name}")
}

/// A resource the provider created.
#[derive(Debug, Clone)]
pub struct Created {
    pub urn: String,
    pub id: String,
    pub outputs: Value,
    pub inputs: Value,
}

impl Harness {
    /// The fakes and a provider configured against them, with fast retries.
    pub async fn start() -> Self {
        Self::start_with(Options {
            env: env(&[("HAIL_TOKEN_GCP", HAIL_TOKEN)]),
            retry: fast_retry(),
            hail_user_wait: HailUserWait {
                attempts: 5,
                interval: Duration::from_millis(5),
            },
        })
        .await
    }

    pub async fn start_with(options: Options) -> Self {
        let fakes = Fakes::start(GOOGLE_TOKEN, HAIL_TOKEN).await.expect("fakes");
        Self::run(
            options,
            fakes.cloud_identity,
            fakes.groups_settings,
            fakes.hail,
            fakes.metamist,
        )
        .await
    }

    /// A new provider run (as for the next `pulumi` command) against the same fakes.
    pub async fn next_run(&self) -> Self {
        Self::run(
            self.options.clone(),
            self.ci.clone(),
            self.gs.clone(),
            self.hail.clone(),
            self.metamist.clone(),
        )
        .await
    }

    async fn run(
        options: Options,
        ci: FakeCloudIdentity,
        gs: FakeGroupsSettings,
        hail: FakeHail,
        metamist: FakeMetamist,
    ) -> Self {
        let engine = MockEngine::default();
        let mut client = provider(options.clone(), &engine).await;
        let config = json!({
            "cloudIdentityEndpoint": ci.url,
            "groupsSettingsEndpoint": gs.url,
            "metamistEndpoint": metamist.url,
            "accessToken": GOOGLE_TOKEN,
        });
        client
            .configure(rpc::ConfigureRequest {
                args: Some(st(config)),
                ..Default::default()
            })
            .await
            .expect("configure");
        Self {
            options,
            client,
            engine,
            ci,
            gs,
            hail,
            metamist,
        }
    }

    pub async fn check(&mut self, token: &str, inputs: Value) -> Vec<(String, String)> {
        let resp = self
            .client
            .check(rpc::CheckRequest {
                urn: urn(token, "r"),
                news: Some(st(inputs)),
                ..Default::default()
            })
            .await
            .expect("check");
        resp.into_inner()
            .failures
            .into_iter()
            .map(|f| (f.property, f.reason))
            .collect()
    }

    pub async fn create(
        &mut self,
        token: &str,
        name: &str,
        inputs: Value,
    ) -> Result<Created, Status> {
        let urn = urn(token, name);
        let resp = self
            .client
            .create(rpc::CreateRequest {
                urn: urn.clone(),
                properties: Some(st(inputs.clone())),
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok(Created {
            urn,
            id: resp.id,
            outputs: from_struct(resp.properties.as_ref()),
            inputs,
        })
    }

    /// Read: `None` when the provider reports the resource gone.
    pub async fn read(&mut self, r: &Created) -> Result<Option<(String, Value, Value)>, Status> {
        let resp = self
            .client
            .read(rpc::ReadRequest {
                id: r.id.clone(),
                urn: r.urn.clone(),
                properties: Some(st(r.outputs.clone())),
                inputs: Some(st(r.inputs.clone())),
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok((!resp.id.is_empty()).then(|| {
            (
                resp.id,
                from_struct(resp.properties.as_ref()),
                from_struct(resp.inputs.as_ref()),
            )
        }))
    }

    pub async fn diff(&mut self, r: &Created, news: Value) -> rpc::DiffResponse {
        self.client
            .diff(rpc::DiffRequest {
                id: r.id.clone(),
                urn: r.urn.clone(),
                olds: Some(st(r.outputs.clone())),
                old_inputs: Some(st(r.inputs.clone())),
                news: Some(st(news)),
                ..Default::default()
            })
            .await
            .expect("diff")
            .into_inner()
    }

    pub async fn update(&mut self, r: &Created, news: Value) -> Result<Value, Status> {
        let resp = self
            .client
            .update(rpc::UpdateRequest {
                id: r.id.clone(),
                urn: r.urn.clone(),
                olds: Some(st(r.outputs.clone())),
                old_inputs: Some(st(r.inputs.clone())),
                news: Some(st(news)),
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok(from_struct(resp.properties.as_ref()))
    }

    pub async fn delete(&mut self, r: &Created) -> Result<(), Status> {
        self.client
            .delete(rpc::DeleteRequest {
                id: r.id.clone(),
                urn: r.urn.clone(),
                properties: Some(st(r.outputs.clone())),
                old_inputs: Some(st(r.inputs.clone())),
                ..Default::default()
            })
            .await?;
        Ok(())
    }
}

/// The detailed diff as sorted (property, kind) pairs.
pub fn detailed(d: &rpc::DiffResponse) -> Vec<(String, i32)> {
    let mut v: Vec<(String, i32)> = d
        .detailed_diff
        .iter()
        .map(|(k, p)| (k.clone(), p.kind))
        .collect();
    v.sort();
    v
}

/// (type token, inputs) of every dynamic resource in the reference's small config.
pub fn reference_dynamic_resources() -> Vec<(String, Value)> {
    let doc = cpg_infra_reference::read("small");
    doc["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["dynamic_provider"].is_string())
        .filter_map(|r| {
            let mut inputs = r["inputs"].clone();
            inputs.as_object_mut()?.remove("__provider");
            Some((cpg_infra_reference::type_token(r).to_string(), inputs))
        })
        .collect()
}
