//! The provider's side of the engine: progress messages, cancellation, and noticing
//! that the engine has gone.

use std::net::SocketAddr;
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
    client: Option<EngineClient<Channel>>,
    cancelled: watch::Sender<bool>,
}

impl Engine {
    /// The engine at `address` (`host:port`, as the engine passes it on the command line),
    /// connected on first use; `None` when there is no engine to talk to.
    pub fn new(address: Option<&str>) -> Result<Self, Error> {
        let client = match address {
            None => None,
            Some(a) => {
                let channel = Channel::from_shared(format!("http://{a}"))
                    .map_err(|_| Error::EngineAddress(a.into()))?
                    .connect_lazy();
                Some(EngineClient::new(channel))
            }
        };
        Ok(Self {
            client,
            cancelled: watch::channel(false).0,
        })
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
        if let Some(client) = &self.client {
            let mut client = client.clone();
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
