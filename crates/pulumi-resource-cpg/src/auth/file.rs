//! Reading a credentials file: `service_account`, `authorized_user`, `external_account`
//! and `impersonated_service_account`, as Google's client libraries read them.
//!
//! The file is read as plain JSON and each field taken by hand, so that a complaint names
//! the field and never quotes its value (a key or a refresh token).

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::error::{At, CredentialStep as Step, Failure};
use super::external::External;
use super::impersonate::Impersonated;
use super::oauth::{AuthorizedUser, ServiceAccount, rsa_key};
use super::{Credential, Source};
use crate::env::Env;

/// Google's OAuth token endpoint, where keys and refresh tokens are exchanged.
pub(crate) const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// What a credentials file holds: the credentials and the quota project it names.
pub(crate) struct Loaded {
    pub(crate) credential: Credential,
    pub(crate) quota_project: Option<String>,
}

/// Reads the credentials file at `path`.
pub(crate) fn load(path: &Path, env: &Env) -> Result<Loaded, Failure> {
    let text = std::fs::read_to_string(path).at(&Step::ReadFile)?;
    // A syntax error names a line and column, never the text around it.
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::invalid(Step::ReadFile, format!("not JSON: {e}")))?;
    let fields = Fields::of(&value, "")?;
    Ok(Loaded {
        credential: credential(&fields, env)?,
        quota_project: fields.opt("quota_project_id")?.map(Into::into),
    })
}

/// The credentials an object of the file describes (the file itself, or an impersonated
/// account's `source_credentials`).
pub(crate) fn credential(f: &Fields<'_>, env: &Env) -> Result<Credential, Failure> {
    match f.need("type")? {
        "service_account" => {
            let key = rsa_key(f.need("private_key")?).map_err(|e| f.invalid(e))?;
            Ok(Credential::ServiceAccount(ServiceAccount {
                email: f.need("client_email")?.into(),
                key_id: f.opt("private_key_id")?.map(Into::into),
                key: Arc::new(key),
                token_uri: f.opt("token_uri")?.unwrap_or(DEFAULT_TOKEN_URI).into(),
            }))
        }
        "authorized_user" => Ok(Credential::AuthorizedUser(AuthorizedUser {
            client_id: f.need("client_id")?.into(),
            client_secret: f.need("client_secret")?.into(),
            refresh_token: f.need("refresh_token")?.into(),
            token_uri: f.opt("token_uri")?.unwrap_or(DEFAULT_TOKEN_URI).into(),
        })),
        "external_account" => External::load(f, env),
        "impersonated_service_account" => {
            let source = f
                .object("source_credentials")?
                .ok_or_else(|| f.missing("source_credentials"))?;
            let source = match source.need("type")? {
                "service_account" | "authorized_user" => credential(&source, env)?,
                other => {
                    return Err(source.invalid(format!(
                        "source_credentials of type {other:?} are not supported \
                         (service_account, authorized_user)"
                    )));
                }
            };
            let url = f.need("service_account_impersonation_url")?;
            let delegates = f.strings("delegates")?;
            Ok(Credential::Impersonated(Impersonated::new(
                Source::new(source),
                url,
                delegates,
                None,
                f,
            )?))
        }
        other => Err(f.invalid(format!(
            "credentials of type {other:?} are not supported (service_account, \
             authorized_user, external_account, impersonated_service_account)"
        ))),
    }
}

/// An object of the credentials file, with the key path that leads to it.
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    /// `""` at the top, `"credential_source."` inside that object, and so on.
    path: String,
}

impl<'a> Fields<'a> {
    /// The object `value`, reached by `path` (empty, or ending in `.`).
    pub(crate) fn of(value: &'a Value, path: &str) -> Result<Self, Failure> {
        match value.as_object() {
            Some(map) => Ok(Self {
                map,
                path: path.into(),
            }),
            None if path.is_empty() => Err(Failure::invalid(
                Step::ReadFile,
                "not a JSON object".to_string(),
            )),
            None => Err(Failure::invalid(
                Step::ReadFile,
                format!("{}: expected an object", path.trim_end_matches('.')),
            )),
        }
    }

    /// A failure of reading the file at this object.
    pub(crate) fn invalid(&self, what: impl Into<String>) -> Failure {
        Failure::invalid(Step::ReadFile, what)
    }

    /// The failure of a required key that is absent.
    pub(crate) fn missing(&self, key: &str) -> Failure {
        let kind = self.map.get("type").and_then(Value::as_str);
        let what = match kind {
            Some(kind) => format!("{kind} credentials need the key {}{key}", self.path),
            None => format!("the key {}{key} is required", self.path),
        };
        self.invalid(what)
    }

    /// A string value; absent (or empty) is `None`; another type is an error.
    pub(crate) fn opt(&self, key: &str) -> Result<Option<&'a str>, Failure> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(format!("{}{key}: expected a string", self.path))),
        }
    }

    /// A required, non-empty string value.
    pub(crate) fn need(&self, key: &str) -> Result<&'a str, Failure> {
        self.opt(key)?.ok_or_else(|| self.missing(key))
    }

    /// Whether the key is present at all.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    /// A non-negative integer value; absent is `None`.
    pub(crate) fn number(&self, key: &str) -> Result<Option<u64>, Failure> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                self.invalid(format!(
                    "{}{key}: expected a non-negative integer",
                    self.path
                ))
            }),
        }
    }

    /// A nested object; absent is `None`.
    pub(crate) fn object(&self, key: &str) -> Result<Option<Fields<'a>>, Failure> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Fields::of(v, &format!("{}{key}.", self.path)).map(Some),
        }
    }

    /// A list of strings; absent is empty.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, Failure> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(Into::into).ok_or_else(|| {
                        self.invalid(format!("{}{key}: expected a list of strings", self.path))
                    })
                })
                .collect(),
            Some(_) => Err(self.invalid(format!("{}{key}: expected a list of strings", self.path))),
        }
    }

    /// An object of string values (HTTP headers), in key order.
    pub(crate) fn string_map(&self, key: &str) -> Result<Vec<(String, String)>, Failure> {
        let Some(object) = self.object(key)? else {
            return Ok(Vec::new());
        };
        object
            .map
            .keys()
            .map(|k| Ok((k.clone(), object.need(k)?.to_string())))
            .collect()
    }
}
