//! What a credential failure names: where the credentials came from, the step that
//! failed, and why — never a token, a key or a secret.

use std::fmt;
use std::path::PathBuf;

/// Where the provider's Google credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialOrigin {
    /// The provider configuration key `cpg:accessToken`.
    AccessToken,
    /// The file that `GOOGLE_APPLICATION_CREDENTIALS` names.
    NamedFile(PathBuf),
    /// gcloud's application default credentials file.
    GcloudFile(PathBuf),
    /// The metadata server, because no credentials file was found.
    Metadata {
        /// The server's host (`GCE_METADATA_HOST`, default `metadata.google.internal`).
        host: String,
        /// Where gcloud's file was looked for.
        gcloud_file: Option<PathBuf>,
    },
}

impl fmt::Display for CredentialOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessToken => f.write_str("the provider configuration key cpg:accessToken"),
            Self::NamedFile(path) => write!(
                f,
                "{} (named by GOOGLE_APPLICATION_CREDENTIALS)",
                path.display()
            ),
            Self::GcloudFile(path) => write!(
                f,
                "{} (gcloud's application default credentials)",
                path.display()
            ),
            Self::Metadata { host, gcloud_file } => {
                write!(
                    f,
                    "the metadata server {host} (GOOGLE_APPLICATION_CREDENTIALS is not set"
                )?;
                match gcloud_file {
                    Some(path) => write!(f, " and {} does not exist)", path.display()),
                    None => f.write_str(" and there is no home directory for gcloud's file)"),
                }
            }
        }
    }
}

/// The step of obtaining a Google token that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialStep {
    /// Reading and understanding the credentials file.
    ReadFile,
    /// Signing a service-account key's token request.
    SignJwt,
    /// Asking an OAuth token endpoint (a key's or an authorized user's `token_uri`).
    TokenEndpoint(String),
    /// Asking the metadata server.
    Metadata(String),
    /// Reading the external account's subject token from a file.
    SubjectTokenFile(PathBuf),
    /// Fetching the external account's subject token from a URL.
    SubjectTokenUrl(String),
    /// Running the executable that prints the external account's subject token (its
    /// program, without arguments).
    SubjectTokenExecutable(String),
    /// Exchanging the subject token at the Security Token Service.
    StsExchange(String),
    /// Asking the IAM Credentials API for a service account's token.
    Impersonation(String),
    /// Getting an identity token from credentials that cannot give one.
    IdentityToken,
}

impl fmt::Display for CredentialStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadFile => f.write_str("reading the credentials file"),
            Self::SignJwt => f.write_str("signing the service account's token request"),
            Self::TokenEndpoint(url) => write!(f, "requesting a token at {url}"),
            Self::Metadata(url) => {
                write!(f, "requesting a token from the metadata server at {url}")
            }
            Self::SubjectTokenFile(path) => {
                write!(f, "reading the subject token from {}", path.display())
            }
            Self::SubjectTokenUrl(url) => write!(f, "fetching the subject token from {url}"),
            Self::SubjectTokenExecutable(program) => {
                write!(f, "getting the subject token from the executable {program}")
            }
            Self::StsExchange(url) => {
                write!(f, "exchanging the subject token at the STS endpoint {url}")
            }
            Self::Impersonation(url) => write!(f, "impersonating the service account at {url}"),
            Self::IdentityToken => f.write_str("getting an identity token"),
        }
    }
}

/// Why a credential step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialCause {
    /// A request could not be sent, or was answered with an error.
    #[error(transparent)]
    Http(Box<crate::Error>),
    /// A file could not be read.
    #[error(transparent)]
    Io(std::io::Error),
    /// What was found is not what the step needs (the message quotes no secret).
    #[error("{0}")]
    Invalid(String),
}

/// A failed step and its cause; the caller adds the origin.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) step: CredentialStep,
    pub(crate) cause: CredentialCause,
}

impl Failure {
    /// `step` failed because of `what` (which must not quote a secret).
    pub(crate) fn invalid(step: CredentialStep, what: impl Into<String>) -> Self {
        Self {
            step,
            cause: CredentialCause::Invalid(what.into()),
        }
    }

    /// The crate's error for this failure of credentials from `origin`.
    pub(crate) fn from(self, origin: &CredentialOrigin) -> crate::Error {
        crate::Error::Credentials {
            origin: origin.clone(),
            step: self.step,
            cause: self.cause,
        }
    }
}

/// Attaches the step to a failed request or file read.
pub(crate) trait At<T> {
    /// The result, its error a failure of `step`.
    fn at(self, step: &CredentialStep) -> Result<T, Failure>;
}

impl<T> At<T> for Result<T, crate::Error> {
    fn at(self, step: &CredentialStep) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            step: step.clone(),
            cause: CredentialCause::Http(Box::new(e)),
        })
    }
}

impl<T> At<T> for Result<T, std::io::Error> {
    fn at(self, step: &CredentialStep) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            step: step.clone(),
            cause: CredentialCause::Io(e),
        })
    }
}
