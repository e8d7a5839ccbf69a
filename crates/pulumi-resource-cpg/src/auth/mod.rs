//! Credentials: Google's application default credentials, found as Google's client
//! libraries find them, and Hail Batch tokens.
//!
//! Google: a static bearer token from the provider configuration (`cpg:accessToken`);
//! otherwise the file that `GOOGLE_APPLICATION_CREDENTIALS` names; otherwise gcloud's
//! well-known file (`$CLOUDSDK_CONFIG/application_default_credentials.json`, by default
//! under `~/.config/gcloud/`) when it exists; otherwise the metadata server
//! (`GCE_METADATA_HOST`, default `metadata.google.internal`). A file holds one of
//!
//! - `service_account`: a key whose signed JWT is exchanged at its `token_uri`;
//! - `authorized_user`: gcloud's refresh token (`gcloud auth application-default login`);
//! - `external_account`: workload or workforce identity federation — a subject token from
//!   a file, a URL or an executable, exchanged at the Security Token Service, optionally
//!   then used to impersonate the service account of `service_account_impersonation_url`;
//! - `impersonated_service_account`: source credentials (a key or an authorized user)
//!   that impersonate a service account, through `delegates` when there are any.
//!
//! API calls carry the quota project as `x-goog-user-project`: `GOOGLE_CLOUD_QUOTA_PROJECT`
//! when set, else the file's `quota_project_id`. Tokens are kept until
//! [`REFRESH_MARGIN`](cache::REFRESH_MARGIN) before they expire; calls that need a token
//! being fetched wait for that fetch. A failure names where the credentials came from and
//! the step that failed, never a token.

mod cache;
mod error;
mod executable;
mod external;
mod file;
mod hail;
mod impersonate;
mod oauth;
#[cfg(test)]
mod secrets_tests;

use std::path::PathBuf;
use std::time::Duration;

pub use error::{CredentialCause, CredentialOrigin, CredentialStep};
pub use hail::hail_token;

use crate::Error;
use crate::env::Env;
use crate::http::Http;
use cache::TokenCache;
use error::Failure;

/// Scope of the Cloud Identity groups API.
pub const CLOUD_IDENTITY_SCOPE: &str = "https://www.googleapis.com/auth/cloud-identity.groups";
/// Scope of the Groups Settings API.
pub const GROUPS_SETTINGS_SCOPE: &str = "https://www.googleapis.com/auth/apps.groups.settings";

/// The variable whose value, when set, is the quota project of every API call.
const QUOTA_PROJECT_VAR: &str = "GOOGLE_CLOUD_QUOTA_PROJECT";

/// What a token is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Want {
    /// An OAuth access token with this scope.
    Access(&'static str),
    /// An OpenID identity token for this audience (metamist checks these).
    Identity(String),
}

/// An access token for a Google API, and the project the call's quota is charged to.
#[derive(Clone)]
pub struct GoogleToken {
    /// The bearer token.
    pub(crate) token: String,
    /// The quota project, sent as `x-goog-user-project`.
    pub(crate) quota_project: Option<String>,
}

/// The quota project only: the token is a secret.
impl std::fmt::Debug for GoogleToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleToken")
            .field("quota_project", &self.quota_project)
            .finish_non_exhaustive()
    }
}

/// Kinds of Google credentials.
pub(crate) enum Credential {
    /// A bearer token given as is.
    Static(String),
    ServiceAccount(oauth::ServiceAccount),
    AuthorizedUser(oauth::AuthorizedUser),
    Metadata(oauth::Metadata),
    External(external::External),
    Impersonated(impersonate::Impersonated),
}

/// What kind, and nothing secret.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Static(_) => f.write_str("Static(<redacted>)"),
            Self::ServiceAccount(sa) => {
                write!(f, "ServiceAccount({} via {})", sa.email, sa.token_uri)
            }
            Self::AuthorizedUser(user) => write!(f, "AuthorizedUser(via {})", user.token_uri),
            Self::Metadata(m) => write!(f, "Metadata({})", m.root),
            Self::External(_) => f.write_str("ExternalAccount"),
            Self::Impersonated(_) => f.write_str("ImpersonatedServiceAccount"),
        }
    }
}

/// Credentials and the tokens they gave.
pub(crate) struct Source {
    credential: Credential,
    cache: TokenCache,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.credential.fmt(f)
    }
}

impl Source {
    pub(crate) fn new(credential: Credential) -> Self {
        Self {
            credential,
            cache: TokenCache::default(),
        }
    }

    /// A token for `want`: the kept one while it is fresh, else a new one.
    pub(crate) async fn token(&self, http: &Http, want: &Want) -> Result<String, Failure> {
        if let Credential::Static(token) = &self.credential {
            return Ok(token.clone());
        }
        self.cache.get(want, self.fetch(http, want)).await
    }

    async fn fetch(&self, http: &Http, want: &Want) -> Result<(String, Duration), Failure> {
        match &self.credential {
            Credential::Static(token) => Ok((token.clone(), Duration::from_secs(3600))),
            Credential::ServiceAccount(c) => c.fetch(http, want).await,
            Credential::AuthorizedUser(c) => c.fetch(http, want).await,
            Credential::Metadata(c) => c.fetch(http, want).await,
            Credential::External(c) => c.fetch(http, want).await,
            Credential::Impersonated(c) => c.fetch(http, want).await,
        }
    }
}

/// The provider's Google credentials: where they came from, the tokens they gave, and
/// the quota project.
pub struct GoogleAuth {
    origin: CredentialOrigin,
    source: Source,
    quota_project: Option<String>,
}

/// Where from and what kind: the tokens are secrets.
impl std::fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleAuth")
            .field("origin", &self.origin)
            .field("source", &self.source)
            .field("quota_project", &self.quota_project)
            .finish_non_exhaustive()
    }
}

impl GoogleAuth {
    /// Credentials from a static token, or else found as application default credentials
    /// in `env`. A credentials file is read now; no service is asked anything until a
    /// token is needed.
    pub fn discover(static_token: Option<&str>, env: &Env) -> Result<Self, Error> {
        let (origin, credential, file_quota) = match static_token {
            Some(token) => (
                CredentialOrigin::AccessToken,
                Credential::Static(token.into()),
                None,
            ),
            None => match env.var("GOOGLE_APPLICATION_CREDENTIALS") {
                Some(named) => from_file(named.into(), CredentialOrigin::NamedFile, env)?,
                None => match gcloud_file(env) {
                    Some(path) if path.is_file() => {
                        from_file(path, CredentialOrigin::GcloudFile, env)?
                    }
                    gcloud_file => {
                        let host = metadata_host(env);
                        let root = format!(
                            "http://{host}/computeMetadata/v1/instance/service-accounts/default/"
                        );
                        (
                            CredentialOrigin::Metadata { host, gcloud_file },
                            Credential::Metadata(oauth::Metadata { root }),
                            None,
                        )
                    }
                },
            },
        };
        Ok(Self {
            origin,
            source: Source::new(credential),
            quota_project: env.var(QUOTA_PROJECT_VAR).or(file_quota),
        })
    }

    /// An access token with `scope` for a Google API call, with the quota project.
    pub async fn access(&self, http: &Http, scope: &'static str) -> Result<GoogleToken, Error> {
        Ok(GoogleToken {
            token: self.token(http, &Want::Access(scope)).await?,
            quota_project: self.quota_project.clone(),
        })
    }

    /// A token for `want`, fetched or refreshed when needed.
    pub async fn token(&self, http: &Http, want: &Want) -> Result<String, Error> {
        self.source
            .token(http, want)
            .await
            .map_err(|f| f.from(&self.origin))
    }
}

/// Credentials from the file at `path`, which `origin` says how it was found.
fn from_file(
    path: PathBuf,
    origin: fn(PathBuf) -> CredentialOrigin,
    env: &Env,
) -> Result<(CredentialOrigin, Credential, Option<String>), Error> {
    let loaded = file::load(&path, env);
    let origin = origin(path);
    match loaded {
        Ok(loaded) => Ok((origin, loaded.credential, loaded.quota_project)),
        Err(failure) => Err(failure.from(&origin)),
    }
}

/// gcloud's application default credentials file: under `CLOUDSDK_CONFIG`, else under
/// `~/.config/gcloud`.
fn gcloud_file(env: &Env) -> Option<PathBuf> {
    env.var("CLOUDSDK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".config").join("gcloud")))
        .map(|d| d.join("application_default_credentials.json"))
}

/// The metadata server's host: `GCE_METADATA_HOST`, else the older `GCE_METADATA_ROOT`,
/// else `metadata.google.internal`.
fn metadata_host(env: &Env) -> String {
    env.var("GCE_METADATA_HOST")
        .or_else(|| env.var("GCE_METADATA_ROOT"))
        .unwrap_or_else(|| "metadata.google.internal".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_file_the_metadata_server_is_used() {
        let e = Env::of(&[
            ("HOME", "/nonexistent"),
            ("GCE_METADATA_HOST", "127.0.0.1:1"),
        ]);
        let auth = GoogleAuth::discover(None, &e).map(|a| format!("{:?}", a.source));
        assert_eq!(
            auth.ok().as_deref(),
            Some(
                "Metadata(http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/)"
            )
        );
    }

    #[test]
    fn a_bad_credentials_file_is_named() {
        let path = std::env::temp_dir().join(format!("cpg-bad-adc-{}.json", std::process::id()));
        let _ = std::fs::write(&path, r#"{"type": "external_account"}"#);
        let e = Env::of(&[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            path.to_str().unwrap_or_default(),
        )]);
        // The message with its causes, as the engine shows it.
        let err = GoogleAuth::discover(None, &e)
            .err()
            .map(|e| tonic::Status::from(e).message().to_string());
        assert!(
            err.as_deref()
                .is_some_and(|m| m.contains("external_account") && m.contains("cpg-bad-adc")),
            "{err:?}"
        );
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn the_named_file_comes_before_gcloud_s_and_gcloud_s_before_the_metadata_server() {
        let temp = tempfile::Builder::new()
            .prefix("cpg-adc-order-")
            .tempdir()
            .expect("temporary directory");
        let dir = temp.path();
        let user = r#"{"type": "authorized_user", "client_id": "i", "client_secret": "s",
            "refresh_token": "r"}"#;
        let gcloud = dir.join("application_default_credentials.json");
        let named = dir.join("named.json");
        std::fs::write(&gcloud, user).expect("write");
        std::fs::write(&named, user).expect("write");
        let (dir, named_str) = (
            dir.to_str().unwrap_or_default(),
            named.to_str().unwrap_or_default(),
        );
        let origin =
            |vars: &[(&str, &str)]| GoogleAuth::discover(None, &Env::of(vars)).map(|a| a.origin);
        let both = [
            ("CLOUDSDK_CONFIG", dir),
            ("GOOGLE_APPLICATION_CREDENTIALS", named_str),
        ];
        assert_eq!(
            origin(&both).ok(),
            Some(CredentialOrigin::NamedFile(named.clone()))
        );
        let gcloud_only = [("CLOUDSDK_CONFIG", dir)];
        assert_eq!(
            origin(&gcloud_only).ok(),
            Some(CredentialOrigin::GcloudFile(gcloud.clone()))
        );
        std::fs::remove_file(&gcloud).expect("remove");
        let metadata = origin(&gcloud_only).ok();
        assert_eq!(
            metadata,
            Some(CredentialOrigin::Metadata {
                host: "metadata.google.internal".into(),
                gcloud_file: Some(gcloud),
            })
        );
        // The static token wins over everything.
        let token = GoogleAuth::discover(Some("t"), &Env::of(&both)).map(|a| a.origin);
        assert_eq!(token.ok(), Some(CredentialOrigin::AccessToken));
    }
}
