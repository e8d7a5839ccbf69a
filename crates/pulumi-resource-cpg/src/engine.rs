//! The provider's side of the engine: progress messages, cancellation, and noticing
//! that the engine has gone.

use std::net::SocketAddr;
use std::sync::RwLock;
use std::time::Duration;

use pulumi_gestalt_proto::pulumi::pulumirpc::LogRequest;
use pulumi_gestalt_proto::pulumi::pulumirpc::engine_client::EngineClient;
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::Error;

/// Severity of a message to the engine (Pulumi's `LogSeverity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Severity {
    Info = 1,
    Warning = 2,
}

/// The engine the provider serves: where its messages go, and whether it asked to cancel.
#[derive(Debug)]
pub struct Engine {
    client: RwLock<Option<EngineClient<Channel>>>,
    cancelled: watch::Sender<bool>,
}

fn client(address: &str) -> Result<EngineClient<Channel>, Error> {
    let channel = Channel::from_shared(format!("http://{address}"))
        .map_err(|_| Error::EngineAddress(address.into()))?
        .connect_lazy();
    Ok(EngineClient::new(channel))
}

impl Engine {
    /// The engine at `address` (`host:port`, as the engine passes it on the command line),
    /// connected on first use; `None` until the engine says where it is (handshake or
    /// attach).
    pub fn new(address: Option<&str>) -> Result<Self, Error> {
        Ok(Self {
            client: RwLock::new(address.map(client).transpose()?),
            cancelled: watch::channel(false).0,
        })
    }

    /// Talks to the engine at `address` from now on (its handshake or attach says where
    /// it is).
    pub fn connect(&self, address: &str) -> Result<(), Error> {
        let new = client(address)?;
        *self
            .client
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(new);
        Ok(())
    }

    /// Sends an informational message about the resource `urn` (shown beside it).
    pub async fn info(&self, urn: &str, message: &str) {
        self.log(Severity::Info, urn, message).await;
    }

    /// Sends a warning about the resource `urn`.
    pub async fn warn(&self, urn: &str, message: &str) {
        self.log(Severity::Warning, urn, message).await;
    }

    async fn log(&self, severity: Severity, urn: &str, message: &str) {
        let client = self
            .client
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(mut client) = client {
            // A message the engine cannot take is not worth failing the operation for.
            let _ = client
                .log(LogRequest {
                    severity: severity as i32,
                    message: message.into(),
                    urn: urn.into(),
                    stream_id: 0,
                    ephemeral: false,
                })
                .await;
        }
    }

    /// Marks every operation under way, and every later one, as cancelled.
    pub fn cancel(&self) {
        self.cancelled.send_replace(true);
    }

    /// Whether the engine asked to cancel.
    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }

    /// Runs `work`, or fails as soon as the engine cancels (dropping `work`, and with it
    /// any request under way).
    pub async fn unless_cancelled<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let mut rx = self.cancelled.subscribe();
        tokio::select! {
            outcome = work => outcome,
            _ = rx.wait_for(|c| *c) => Err(Error::Cancelled),
        }
    }

    /// Waits `d`, or fails early when the engine cancels.
    pub async fn sleep(&self, d: Duration) -> Result<(), Error> {
        let mut rx = self.cancelled.subscribe();
        tokio::select! {
            () = tokio::time::sleep(d) => Ok(()),
            _ = rx.wait_for(|c| *c) => Err(Error::Cancelled),
        }
    }
}

/// Resolves when the engine at `address` stops accepting connections: it is probed every
/// `interval`, and two failed probes in a row mean it has gone.
pub async fn gone(address: SocketAddr, interval: Duration) {
    let mut failures = 0;
    loop {
        tokio::time::sleep(interval).await;
        let probe = tokio::time::timeout(interval, tokio::net::TcpStream::connect(address)).await;
        if matches!(probe, Ok(Ok(_))) {
            failures = 0;
        } else {
            failures += 1;
            if failures >= 2 {
                return;
            }
        }
    }
}
