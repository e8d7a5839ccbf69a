//! The provider's errors.

use std::path::PathBuf;

use crate::auth::{CredentialCause, CredentialOrigin, CredentialStep};

/// What went wrong while serving a resource.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request could not be sent or its answer not read.
    #[error("{method} {url}: request failed")]
    Transport {
        /// HTTP method.
        method: String,
        /// The URL asked for (without credentials).
        url: String,
        /// What the HTTP client reported.
        #[source]
        source: reqwest::Error,
    },
    /// A service answered with an error status.
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status {
        /// HTTP method.
        method: String,
        /// The URL asked for.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// A service's answer did not have the expected shape.
    #[error("{url}: unexpected answer: {what}")]
    Unexpected {
        /// The URL asked for.
        url: String,
        /// What was missing or wrong.
        what: String,
    },
    /// A bounded retry gave up.
    #[error("{what}: gave up after {attempts} attempts")]
    GaveUp {
        /// What was being attempted.
        what: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// Google credentials could not give a token: where they came from and the step that
    /// failed (the cause is the source; no token or secret is quoted).
    #[error("Google credentials from {origin}: {step} failed")]
    Credentials {
        /// Where the credentials came from.
        origin: CredentialOrigin,
        /// The step that failed.
        step: CredentialStep,
        /// Why.
        #[source]
        cause: CredentialCause,
    },
    /// A Hail Batch tokens file could not be read or understood.
    #[error("{}: {what}", path.display())]
    CredentialsFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// No Hail Batch token was found for a token category.
    #[error(
        "no Hail Batch token for {category:?}: set the environment variable {env_var} or the key {category:?} in {}",
        tokens_file.display()
    )]
    NoHailToken {
        /// The token category (e.g. `gcp`).
        category: String,
        /// The environment variable that was looked at.
        env_var: String,
        /// The tokens file that was looked at.
        tokens_file: PathBuf,
    },
    /// An input had a value the kind cannot use.
    #[error("{property}: {reason}")]
    Input {
        /// The property name.
        property: String,
        /// What is wrong.
        reason: String,
    },
    /// A provider configuration key is needed but not set.
    #[error("the provider configuration key cpg:{0} is not set")]
    MissingConfig(&'static str),
    /// The operation was cancelled by the engine.
    #[error("cancelled")]
    Cancelled,
    /// The engine's address (the last command-line argument) is not `host:port`.
    #[error("the engine address {0:?} is not host:port")]
    EngineAddress(String),
    /// The gRPC server failed.
    #[error("serving the provider failed")]
    Serve(#[source] tonic::transport::Error),
    /// Binding or reading the listening socket failed.
    #[error("the provider's socket")]
    Io(#[source] std::io::Error),
}

impl Error {
    /// The HTTP status, when a service answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        use std::error::Error as _;
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        match e {
            Error::Cancelled => Self::cancelled(message),
            Error::Input { .. } | Error::MissingConfig(_) => Self::invalid_argument(message),
            _ => Self::unknown(message),
        }
    }
}
