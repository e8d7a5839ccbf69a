//! `pulumi-resource-cpg`: the Pulumi resource provider for the `cpg:` resources that
//! cpg-infra declares and no published provider serves — Google group memberships and
//! settings (`cpg:google:*`), Hail Batch users, billing projects and their members
//! (`cpg:hail:*`), metamist projects and their members (`cpg:metamist:*`). They replace
//! the reference's Python dynamic providers, with the same ids and outputs.
//!
//! The engine starts the binary with its own address; the provider serves Pulumi's
//! `ResourceProvider` gRPC service on 127.0.0.1, prints the port on the first line of
//! standard output, and stops when the engine goes away. Tests serve it in-process:
//!
//! ```no_run
//! # async fn run() -> Result<(), pulumi_resource_cpg::Error> {
//! use std::sync::Arc;
//! use pulumi_resource_cpg::{Engine, Options, serve};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await
//!     .map_err(pulumi_resource_cpg::Error::Io)?;
//! println!("{}", listener.local_addr().map_err(pulumi_resource_cpg::Error::Io)?.port());
//! let engine = Arc::new(Engine::new(Some("127.0.0.1:4000"))?);
//! serve(listener, engine, Options::default(), std::future::pending()).await
//! # }
//! ```

mod auth;
mod config;
mod engine;
mod env;
mod error;
mod http;
mod inputs;
mod kinds;
mod props;
mod provider;

use std::future::Future;
use std::sync::Arc;

use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_server::ResourceProviderServer;

pub use auth::{CredentialCause, CredentialOrigin, CredentialStep};
pub use config::{ConfigProblem, ProviderConfig};
pub use engine::{Engine, gone};
pub use env::Env;
pub use error::Error;
pub use http::RetryPolicy;
pub use kinds::HailUserWait;
pub use provider::{CpgProvider, Options};

/// This provider's version (its plugin version and the default provider's name): the
/// version of the `cpg:` kinds it serves, which plans and migrated state name.
pub use cpg_infra_kinds::PROVIDER_VERSION;

/// Serves the provider on `listener` until `shutdown` resolves, then finishes the calls
/// under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    options: Options,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let provider = CpgProvider::new(engine, options);
    tonic::transport::Server::builder()
        .add_service(ResourceProviderServer::new(provider))
        .serve_with_incoming_shutdown(
            // Answers go out at once, not after the peer's delayed ACK.
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
        .map_err(Error::Serve)
}

#[cfg(test)]
mod version_tests {
    #[test]
    fn the_provider_ships_the_version_of_the_kinds_it_serves() {
        assert_eq!(env!("CARGO_PKG_VERSION"), super::PROVIDER_VERSION);
    }
}
