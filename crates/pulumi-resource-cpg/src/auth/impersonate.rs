//! Service-account impersonation through the IAM Credentials API: source credentials'
//! token buys the target account's access token (`generateAccessToken`) or identity
//! token (`generateIdToken`), through a chain of delegates when there is one.

use std::time::Duration;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::error::{At, CredentialStep as Step, Failure};
use super::file::Fields;
use super::oauth::{token_field, unix_now};
use super::{Source, Want};
use crate::http::{Http, Request};

/// The scope the source credentials' token carries: enough to call IAM Credentials.
pub(crate) const IAM_SCOPE: &str = "https://www.googleapis.com/auth/iam";

const GENERATE_ACCESS_TOKEN: &str = ":generateAccessToken";
const GENERATE_ID_TOKEN: &str = ":generateIdToken";

/// A service account impersonated with source credentials.
pub(crate) struct Impersonated {
    source: Box<Source>,
    /// The `…/serviceAccounts/<email>:generateAccessToken` URL.
    url: String,
    /// Each delegate as `projects/-/serviceAccounts/<email>`.
    delegates: Vec<String>,
    /// The lifetime asked for, in seconds.
    lifetime: u64,
}

impl Impersonated {
    /// Impersonation at `url` (a `generateAccessToken` URL, as the file names it) with
    /// `source`; `f` is the file's object, for complaints.
    pub(crate) fn new(
        source: Source,
        url: &str,
        delegates: Vec<String>,
        lifetime: Option<u64>,
        f: &Fields<'_>,
    ) -> Result<Self, Failure> {
        if target(url).is_none() {
            return Err(f.invalid(format!(
                "service_account_impersonation_url {url:?} does not end in \
                 serviceAccounts/<email>{GENERATE_ACCESS_TOKEN}"
            )));
        }
        let delegates = delegates
            .into_iter()
            .map(|d| {
                if d.starts_with("projects/") {
                    d
                } else {
                    format!("projects/-/serviceAccounts/{d}")
                }
            })
            .collect();
        Ok(Self {
            source: Box::new(source),
            url: url.into(),
            delegates,
            lifetime: lifetime.unwrap_or(3600),
        })
    }

    /// A token for `want`, bought with the source credentials' token.
    pub(crate) async fn fetch(
        &self,
        http: &Http,
        want: &Want,
    ) -> Result<(String, Duration), Failure> {
        let source_token = Box::pin(self.source.token(http, &Want::Access(IAM_SCOPE))).await?;
        let (url, body) = match want {
            Want::Access(scope) => (
                self.url.clone(),
                json!({
                    "delegates": self.delegates,
                    "scope": [scope],
                    "lifetime": format!("{}s", self.lifetime),
                }),
            ),
            Want::Identity(audience) => (
                format!(
                    "{}{GENERATE_ID_TOKEN}",
                    self.url.trim_end_matches(GENERATE_ACCESS_TOKEN)
                ),
                json!({
                    "audience": audience,
                    "delegates": self.delegates,
                    "includeEmail": true,
                }),
            ),
        };
        let step = Step::Impersonation(url.clone());
        let req = Request::new(Method::POST, url)
            .bearer(&source_token)
            .json(body);
        let answer = http.send(&req, "").await.and_then(|r| r.json()).at(&step)?;
        let field = match want {
            Want::Access(_) => "accessToken",
            Want::Identity(_) => "token",
        };
        let token = token_field(&answer, field, &step)?;
        let expires = match want {
            Want::Access(_) => answer["expireTime"].as_str().and_then(rfc3339_seconds),
            Want::Identity(_) => jwt_expiry(token),
        };
        let now = unix_now();
        let lifetime = expires.map_or(Duration::from_secs(3600), |at| {
            Duration::from_secs(at.saturating_sub(now))
        });
        Ok((token.into(), lifetime))
    }
}

/// The target account's email in a `generateAccessToken` URL.
pub(crate) fn target(url: &str) -> Option<&str> {
    let head = url.strip_suffix(GENERATE_ACCESS_TOKEN)?;
    let (_, email) = head.rsplit_once('/')?;
    (!email.is_empty()).then_some(email)
}

/// The `exp` claim of a JWT, read without checking its signature (only to know when to
/// ask again).
fn jwt_expiry(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?["exp"].as_u64()
}

/// Seconds since the Unix epoch of an RFC 3339 UTC time (`2024-05-01T12:00:00Z`, with
/// or without fractional seconds), as IAM Credentials gives `expireTime`.
fn rfc3339_seconds(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let time = time.split('.').next()?;
    let mut t = time.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_times_are_read_as_iam_credentials_writes_them() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2024-02-29T12:30:15Z"), Some(1_709_209_815));
        assert_eq!(
            rfc3339_seconds("2024-02-29T12:30:15.123456Z"),
            Some(1_709_209_815)
        );
        assert_eq!(rfc3339_seconds("2024-02-29 12:30:15"), None);
        assert_eq!(rfc3339_seconds("2024-13-01T00:00:00Z"), None);
    }

    #[test]
    fn the_target_is_read_from_the_url() {
        let url = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/\
                   deployer@p.iam.gserviceaccount.com:generateAccessToken";
        assert_eq!(target(url), Some("deployer@p.iam.gserviceaccount.com"));
        assert_eq!(target("https://x/serviceAccounts/a@b"), None);
        assert_eq!(target("https://x/:generateAccessToken"), None);
    }

    #[test]
    fn an_identity_token_expiry_is_its_exp_claim() {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.sig",
            b64.encode(r#"{"alg":"RS256"}"#),
            b64.encode(r#"{"exp":1700000000}"#)
        );
        assert_eq!(jwt_expiry(&token), Some(1_700_000_000));
        assert_eq!(jwt_expiry("opaque"), None);
    }
}
