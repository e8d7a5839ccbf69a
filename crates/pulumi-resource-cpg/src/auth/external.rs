//! External accounts (workload and workforce identity federation, Google's AIP-4117): a
//! subject token from a file, a URL or an executable, exchanged at the Security Token
//! Service for a federated access token, optionally then used to impersonate a service
//! account.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::error::{At, CredentialStep as Step, Failure};
use super::executable::Executable;
use super::file::Fields;
use super::impersonate::{Impersonated, target};
use super::oauth::token_answer;
use super::{Credential, Source, Want};
use crate::env::Env;
use crate::http::{Http, Request};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const AWS_TOKEN_TYPE: &str = "urn:ietf:params:aws:token-type:aws4_request";

/// Credentials of a workload or workforce identity pool.
pub(crate) struct External {
    audience: String,
    subject_token_type: String,
    token_url: String,
    /// The OAuth client the STS call authenticates as (HTTP basic), when the file names one.
    client: Option<(String, String)>,
    /// A workforce pool's user project, sent as the STS `userProject` option.
    user_project: Option<String>,
    supplier: Supplier,
}

/// Where the subject token comes from.
pub(crate) enum Supplier {
    /// A file that an earlier step wrote (GitHub Actions' auth step writes one).
    File {
        /// The file.
        path: PathBuf,
        /// How to read it.
        format: Format,
    },
    /// A URL, asked with GET and these headers.
    Url {
        /// The URL.
        url: String,
        /// Headers (their values may be secrets).
        headers: Vec<(String, String)>,
        /// How to read the answer.
        format: Format,
    },
    /// An executable that prints the token as JSON.
    Executable(Executable),
}

/// How a subject token file or answer is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Format {
    /// The whole text is the token (surrounding whitespace aside).
    Text,
    /// A JSON object whose field of this name is the token.
    Json(String),
}

impl External {
    /// External-account credentials from the file's object `f`: the exchange alone, or
    /// wrapped in impersonation when the file names `service_account_impersonation_url`.
    pub(crate) fn load(f: &Fields<'_>, env: &Env) -> Result<Credential, Failure> {
        let audience = f.need("audience")?.to_string();
        let subject_token_type = f.need("subject_token_type")?.to_string();
        let source = f
            .object("credential_source")?
            .ok_or_else(|| f.missing("credential_source"))?;
        if subject_token_type == AWS_TOKEN_TYPE || source.has("environment_id") {
            return Err(f.invalid(
                "AWS-sourced external accounts are not supported (file, url and \
                 executable credential sources are)",
            ));
        }
        let token_url = match f.opt("token_url")? {
            Some(url) => url.to_string(),
            None => format!(
                "https://sts.{}/v1/token",
                f.opt("universe_domain")?.unwrap_or("googleapis.com")
            ),
        };
        let client = match f.opt("client_id")? {
            Some(id) => Some((
                id.to_string(),
                f.opt("client_secret")?.unwrap_or_default().to_string(),
            )),
            None => None,
        };
        let user_project = f.opt("workforce_pool_user_project")?;
        if user_project.is_some() && !is_workforce_pool(&audience) {
            return Err(f.invalid(
                "workforce_pool_user_project is only for workforce pools (an audience \
                 //iam.googleapis.com/locations/<location>/workforcePools/…)",
            ));
        }
        let impersonation_url = f.opt("service_account_impersonation_url")?;
        let impersonated_email = impersonation_url.and_then(target);
        let supplier = Supplier::load(
            &source,
            env,
            &audience,
            &subject_token_type,
            impersonated_email,
        )?;
        let external = Self {
            audience,
            subject_token_type,
            token_url,
            // As the libraries do: the user project goes to STS only without a client.
            user_project: user_project.filter(|_| client.is_none()).map(Into::into),
            client,
            supplier,
        };
        match impersonation_url {
            None => Ok(Credential::External(external)),
            Some(url) => {
                let lifetime = match f.object("service_account_impersonation")? {
                    Some(options) => options.number("token_lifetime_seconds")?,
                    None => None,
                };
                Ok(Credential::Impersonated(Impersonated::new(
                    Source::new(Credential::External(external)),
                    url,
                    Vec::new(),
                    lifetime,
                    f,
                )?))
            }
        }
    }

    /// A federated access token for `want`: the subject token exchanged at STS.
    pub(crate) async fn fetch(
        &self,
        http: &Http,
        want: &Want,
    ) -> Result<(String, Duration), Failure> {
        let Want::Access(scope) = want else {
            return Err(Failure::invalid(
                Step::IdentityToken,
                "a federated token cannot give identity tokens; name a service account \
                 to impersonate (service_account_impersonation_url)",
            ));
        };
        let subject_token = self.supplier.subject_token(http).await?;
        let options = self
            .user_project
            .as_ref()
            .map(|p| json!({"userProject": p}).to_string());
        let mut form = vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("audience", self.audience.as_str()),
            ("scope", scope),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("subject_token", subject_token.as_str()),
            ("subject_token_type", self.subject_token_type.as_str()),
        ];
        if let Some(options) = &options {
            form.push(("options", options));
        }
        let mut req = Request::new(Method::POST, self.token_url.clone()).form(&form);
        if let Some((id, secret)) = &self.client {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            req = req.header("authorization", format!("Basic {basic}"));
        }
        let step = Step::StsExchange(self.token_url.clone());
        let answer = http.send(&req, "").await.and_then(|r| r.json()).at(&step)?;
        token_answer(&answer, want, &step)
    }
}

/// Whether `audience` names a workforce pool (rather than a workload identity pool).
fn is_workforce_pool(audience: &str) -> bool {
    audience
        .strip_prefix("//iam.googleapis.com/locations/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(location, rest)| !location.is_empty() && rest.starts_with("workforcePools/"))
}

impl Supplier {
    fn load(
        source: &Fields<'_>,
        env: &Env,
        audience: &str,
        subject_token_type: &str,
        impersonated_email: Option<&str>,
    ) -> Result<Self, Failure> {
        if let Some(executable) = source.object("executable")? {
            return Executable::load(
                &executable,
                env,
                audience,
                subject_token_type,
                impersonated_email,
            )
            .map(Self::Executable);
        }
        let file = source.opt("file")?;
        let url = source.opt("url")?;
        if source.has("certificate") {
            return Err(source.invalid(
                "credential_source.certificate (X.509 workload certificates) is not \
                 supported (file, url and executable are)",
            ));
        }
        let format = match source.object("format")? {
            None => Format::Text,
            Some(format) => match format.opt("type")?.unwrap_or("text") {
                "text" => Format::Text,
                "json" => Format::Json(format.need("subject_token_field_name")?.into()),
                other => {
                    return Err(source.invalid(format!(
                        "credential_source.format.type {other:?} is neither \"text\" nor \"json\""
                    )));
                }
            },
        };
        match (file, url) {
            (Some(path), None) => Ok(Self::File {
                path: path.into(),
                format,
            }),
            (None, Some(url)) => Ok(Self::Url {
                url: url.into(),
                headers: source.string_map("headers")?,
                format,
            }),
            (Some(_), Some(_)) => {
                Err(source.invalid("credential_source names both a file and a url; it takes one"))
            }
            (None, None) => {
                Err(source.invalid("credential_source needs a file, a url or an executable"))
            }
        }
    }

    /// The subject token.
    async fn subject_token(&self, http: &Http) -> Result<String, Failure> {
        match self {
            Self::File { path, format } => {
                let step = Step::SubjectTokenFile(path.clone());
                let text = std::fs::read_to_string(path).at(&step)?;
                format.token(&text, &step)
            }
            Self::Url {
                url,
                headers,
                format,
            } => {
                let step = Step::SubjectTokenUrl(url.clone());
                let mut req = Request::new(Method::GET, url.clone());
                for (name, value) in headers {
                    req = req.header(name.clone(), value.clone());
                }
                let resp = http
                    .send(&req, "")
                    .await
                    .and_then(|r| r.success())
                    .at(&step)?;
                format.token(&resp.text, &step)
            }
            Self::Executable(executable) => executable.subject_token().await,
        }
    }
}

impl Format {
    /// The token in `text`.
    fn token(&self, text: &str, step: &Step) -> Result<String, Failure> {
        let token = match self {
            Self::Text => text.trim().to_string(),
            Self::Json(field) => {
                let value: Value = serde_json::from_str(text)
                    .map_err(|e| Failure::invalid(step.clone(), format!("not JSON: {e}")))?;
                value[field.as_str()]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| {
                        Failure::invalid(
                            step.clone(),
                            format!("no string field {field:?} (subject_token_field_name)"),
                        )
                    })?
            }
        };
        if token.is_empty() {
            return Err(Failure::invalid(step.clone(), "the subject token is empty"));
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workforce_pools_are_told_from_workload_pools() {
        assert!(is_workforce_pool(
            "//iam.googleapis.com/locations/global/workforcePools/pool/providers/p"
        ));
        assert!(!is_workforce_pool(
            "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/p"
        ));
        assert!(!is_workforce_pool(
            "//iam.googleapis.com/locations//workforcePools/x"
        ));
    }

    #[test]
    fn a_json_subject_token_is_read_from_its_field() {
        let step = Step::SubjectTokenUrl("http://x".into());
        let json = Format::Json("value".into());
        let token = json.token(r#"{"value": "tok", "count": 1}"#, &step);
        assert_eq!(token.ok().as_deref(), Some("tok"));
        let missing = json.token(r#"{"other": "tok"}"#, &step).err();
        assert!(
            missing.is_some_and(|f| f.cause.to_string().contains("\"value\"")),
            "the field is named"
        );
        assert_eq!(
            Format::Text.token(" tok\n", &step).ok().as_deref(),
            Some("tok")
        );
        assert!(Format::Text.token("\n", &step).is_err());
    }
}
