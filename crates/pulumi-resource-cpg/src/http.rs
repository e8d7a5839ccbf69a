//! One HTTP client for every service, with bounded retries and backoff.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::Error;
use crate::auth::GoogleToken;
use crate::engine::Engine;

/// How often and how patiently a request is repeated after a transient failure
/// (a timeout, a refused connection, HTTP 429 or 5xx, and per call 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait before the second attempt; it doubles each time.
    pub base_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// How long one request may take.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(16),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based): exponential, capped.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// An HTTP request.
#[derive(Clone)]
pub struct Request {
    /// The method.
    pub method: reqwest::Method,
    /// The full URL.
    pub url: String,
    /// Headers (the bearer token among them).
    pub headers: Vec<(String, String)>,
    /// A JSON body.
    pub body: Option<Value>,
    /// A form body (`application/x-www-form-urlencoded`), for token endpoints.
    pub form: Option<String>,
    /// Statuses besides 429 and 5xx that are worth another attempt.
    pub retry_statuses: &'static [u16],
}

/// Header names only, and no form body: they carry credentials.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A request without body.
    pub fn new(method: reqwest::Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            form: None,
            retry_statuses: &[],
        }
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// Authorises a Google API call: the bearer token and, when there is one, the
    /// project the call's quota is charged to (`x-goog-user-project`).
    pub fn google(self, token: &GoogleToken) -> Self {
        let req = self.bearer(&token.token);
        match &token.quota_project {
            Some(project) => req.header("x-goog-user-project", project.clone()),
            None => req,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets a form body.
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        self.form = Some(body.join("&"));
        self
    }

    /// The credentials the request carries: its header values (and the tokens in
    /// `Bearer` ones) and its form body's values.
    fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("authorization") || name.contains("authorization") {
                secrets.push(value.clone());
                if let Some(token) = value.strip_prefix("Bearer ") {
                    secrets.push(token.to_string());
                }
            }
        }
        if let Some(form) = &self.form {
            secrets.extend(
                form.split('&')
                    .filter_map(|pair| pair.split_once('=').map(|(_, v)| v.to_string())),
            );
        }
        secrets.retain(|s| s.len() >= 4);
        secrets
    }

    /// Also retries on these statuses.
    pub fn retry_on(mut self, statuses: &'static [u16]) -> Self {
        self.retry_statuses = statuses;
        self
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body, as text.
    pub text: String,
    method: String,
    url: String,
    /// The credentials the request carried, blanked out of any message quoting the body.
    secrets: Vec<String>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, when the status is 2xx; otherwise the status as an error.
    pub fn json(self) -> Result<Value, Error> {
        let resp = self.success()?;
        if resp.text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&resp.text).map_err(|e| Error::Unexpected {
            url: resp.url,
            what: format!("not JSON ({e})"),
        })
    }

    /// The answer itself, when the status is 2xx; otherwise the status as an error.
    pub fn success(self) -> Result<Self, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }

    /// The answer as an error; the body is quoted with the request's credentials, and
    /// anything that looks like a bearer token, blanked out.
    pub fn into_error(self) -> Error {
        let body = redact(&self.text, &self.secrets);
        Error::Status {
            method: self.method,
            url: self.url,
            status: self.status,
            body: body.chars().take(500).collect(),
        }
    }

    /// The URL that was asked for.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The HTTP client shared by every resource kind.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    retry: RetryPolicy,
    engine: Arc<Engine>,
}

impl Http {
    /// A client with the given retry policy, reporting retries to the engine.
    pub fn new(retry: RetryPolicy, engine: Arc<Engine>) -> Result<Self, Error> {
        // Rustls needs one process-wide crypto provider; ring is ours. A second install
        // (another client in the same process) is refused harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(retry.request_timeout)
            .build()
            .map_err(|source| Error::Transport {
                method: "-".into(),
                url: "-".into(),
                source,
            })?;
        Ok(Self {
            client,
            retry,
            engine,
        })
    }

    /// The engine connection, for progress messages.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Sends a request, repeating it after transient failures within the retry policy.
    /// Any status that is not transient is returned as an answer; a transient one that
    /// persists through every attempt is returned as an error. `urn` names the resource in
    /// the warnings sent to the engine.
    pub async fn send(&self, req: &Request, urn: &str) -> Result<Response, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Cancel ends a request under way at once, not after its timeout.
            let outcome = self.engine.unless_cancelled(self.send_once(req)).await;
            if matches!(outcome, Err(Error::Cancelled)) {
                return outcome;
            }
            let transient = match &outcome {
                Ok(r) => {
                    r.status == 429 || r.status >= 500 || req.retry_statuses.contains(&r.status)
                }
                Err(Error::Transport { source, .. }) => {
                    source.is_timeout() || source.is_connect() || source.is_request()
                }
                Err(_) => false,
            };
            if !transient {
                return outcome;
            }
            if attempt >= self.retry.max_attempts {
                return match outcome {
                    Ok(r) => Err(r.into_error()),
                    Err(e) => Err(e),
                };
            }
            let what = match &outcome {
                Ok(r) => format!("HTTP {}", r.status),
                Err(e) => e.to_string(),
            };
            let delay = self.retry.delay(attempt);
            self.engine
                .warn(
                    urn,
                    &format!(
                        "{} {}: {what}; retrying in {delay:?} (attempt {} of {})",
                        req.method,
                        redact_url(&req.url),
                        attempt + 1,
                        self.retry.max_attempts
                    ),
                )
                .await;
            self.engine.sleep(delay).await?;
        }
    }

    async fn send_once(&self, req: &Request) -> Result<Response, Error> {
        let mut builder = self.client.request(req.method.clone(), &req.url);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        if let Some(form) = &req.form {
            builder = builder
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone());
        }
        // reqwest's messages quote the URL: it is given once, without credentials.
        let transport = |source: reqwest::Error| Error::Transport {
            method: req.method.to_string(),
            url: redact_url(&req.url),
            source: source.without_url(),
        };
        let resp = builder.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(transport)?;
        Ok(Response {
            status,
            text,
            method: req.method.to_string(),
            url: redact_url(&req.url),
            secrets: req.secrets(),
        })
    }
}

/// What stands in a message for a secret.
pub const REDACTED: &str = "<redacted>";

/// `text` with every one of `secrets` and every `Bearer <token>` blanked out.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), REDACTED);
    }
    // A token the service echoes that the request did not carry (another header's).
    let mut blanked = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = find_bearer(rest) {
        let (head, tail) = rest.split_at(at + "bearer ".len());
        blanked.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '}'))
            .unwrap_or(tail.len());
        if end > 0 {
            blanked.push_str(REDACTED);
        }
        rest = &tail[end..];
    }
    blanked.push_str(rest);
    blanked
}

fn find_bearer(text: &str) -> Option<usize> {
    text.to_ascii_lowercase().find("bearer ")
}

/// `url` with any `user:password@` replaced by `<redacted>@`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{REDACTED}{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// Percent-encodes a query or form component (RFC 3986 unreserved characters stay).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            request_timeout: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (1..=5).map(|a| p.delay(a).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        assert_eq!(p.delay(40), Duration::from_millis(500));
    }

    #[test]
    fn debug_hides_credentials() {
        let req = Request::new(reqwest::Method::POST, "http://x/token")
            .bearer("s3cr3t")
            .form(&[("assertion", "jwt-s3cr3t")]);
        let shown = format!("{req:?}");
        assert!(
            shown.contains("authorization") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }

    #[test]
    fn redaction_blanks_credentials_and_bearer_tokens() {
        let shown = redact(
            r#"{"error": "bad header Authorization: Bearer abc.def, also s3cr3t"}"#,
            &["s3cr3t".to_string()],
        );
        assert_eq!(
            shown,
            r#"{"error": "bad header Authorization: Bearer <redacted>, also <redacted>"}"#
        );
        assert_eq!(
            redact_url("https://u:p@host:1/a@b?x=1"),
            "https://<redacted>@host:1/a@b?x=1"
        );
        assert_eq!(redact_url("https://host/a@b"), "https://host/a@b");
    }

    #[test]
    fn encoding_keeps_unreserved_characters() {
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode("a@b c/d"), "a%40b%20c%2Fd");
    }
}
