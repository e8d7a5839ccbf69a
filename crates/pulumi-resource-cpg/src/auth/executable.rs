//! Executable-sourced subject tokens (Google's AIP-4117 "pluggable" credentials): a
//! command that prints a JSON response, run only when
//! `GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1`, its answer optionally kept in an output
//! file that later runs read first.
//!
//! The response: `version` (at most 1), `success`; on success `token_type` and
//! `id_token` (JWT or OIDC id token) or `saml_response` (SAML 2), and `expiration_time`
//! (Unix seconds; required when an output file is configured); on failure `code` and
//! `message`.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::error::{CredentialStep as Step, Failure};
use super::file::Fields;
use super::oauth::unix_now;
use crate::env::Env;

/// The variable that must be `1` before any executable runs.
pub(crate) const ALLOW_EXECUTABLES: &str = "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u64> = 5_000..=120_000;
const SUPPORTED_VERSION: u64 = 1;

/// A command that prints a subject token.
pub(crate) struct Executable {
    /// The command line as configured.
    argv: Vec<String>,
    timeout: Duration,
    output_file: Option<PathBuf>,
    /// The provider's environment, whose `ALLOW_EXECUTABLES` is read and (when fixed)
    /// passed on.
    env: Env,
    /// The `GOOGLE_EXTERNAL_ACCOUNT_*` variables the command is given.
    vars: Vec<(String, String)>,
}

/// Why a response gives no token.
enum Refused {
    /// Expired, or unsuccessful: worth running the command again (for a kept answer).
    Stale(String),
    /// Not a response of the documented shape.
    Malformed(String),
}

impl Executable {
    /// The executable that `credential_source.executable` (`f`) configures.
    pub(crate) fn load(
        f: &Fields<'_>,
        env: &Env,
        audience: &str,
        subject_token_type: &str,
        impersonated_email: Option<&str>,
    ) -> Result<Self, Failure> {
        let command = f.need("command")?;
        let argv = split_command(command).ok_or_else(|| {
            f.invalid("credential_source.executable.command has an unclosed quote")
        })?;
        if argv.is_empty() {
            return Err(f.missing("command"));
        }
        let timeout = match f.number("timeout_millis")? {
            None | Some(0) => DEFAULT_TIMEOUT,
            Some(ms) if TIMEOUT_RANGE_MS.contains(&ms) => Duration::from_millis(ms),
            Some(_) => {
                return Err(f.invalid(
                    "credential_source.executable.timeout_millis must be between 5000 and 120000",
                ));
            }
        };
        let output_file = f.opt("output_file")?.map(PathBuf::from);
        let mut vars = vec![
            ("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE", audience.to_string()),
            (
                "GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE",
                subject_token_type.to_string(),
            ),
            (
                "GOOGLE_EXTERNAL_ACCOUNT_ID",
                impersonated_email.unwrap_or_default().to_string(),
            ),
            ("GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE", "0".to_string()),
            ("GOOGLE_EXTERNAL_ACCOUNT_REVOKE", "0".to_string()),
        ];
        if let Some(email) = impersonated_email {
            vars.push(("GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL", email.into()));
        }
        if let Some(path) = &output_file {
            vars.push((
                "GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE",
                path.display().to_string(),
            ));
        }
        Ok(Self {
            argv,
            timeout,
            output_file,
            env: env.clone(),
            vars: vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        })
    }

    fn step(&self) -> Step {
        Step::SubjectTokenExecutable(self.argv.first().cloned().unwrap_or_default())
    }

    /// The subject token: from the output file while its answer is fresh, otherwise from
    /// a run of the command.
    pub(crate) async fn subject_token(&self) -> Result<String, Failure> {
        let step = self.step();
        if self.env.var(ALLOW_EXECUTABLES).as_deref() != Some("1") {
            return Err(Failure::invalid(
                step,
                format!("executables run only when {ALLOW_EXECUTABLES}=1"),
            ));
        }
        if let Some(kept) = self.kept_response() {
            match token(&kept, true) {
                Ok(token) => return Ok(token),
                Err(Refused::Stale(_)) => {}
                Err(Refused::Malformed(what)) => {
                    let path = self.output_file.as_ref().map(|p| p.display().to_string());
                    return Err(Failure::invalid(
                        step,
                        format!("the output file {}: {what}", path.unwrap_or_default()),
                    ));
                }
            }
        }
        let output = self.run().await?;
        let response = if output.trim().is_empty() {
            self.kept_response().ok_or_else(|| {
                Failure::invalid(step.clone(), "it printed nothing and wrote no output file")
            })?
        } else {
            serde_json::from_str(&output).map_err(|e| {
                Failure::invalid(step.clone(), format!("its output is not JSON: {e}"))
            })?
        };
        token(&response, self.output_file.is_some()).map_err(|r| match r {
            Refused::Stale(what) | Refused::Malformed(what) => Failure::invalid(step, what),
        })
    }

    /// The response kept in the output file, when there is one that is JSON.
    fn kept_response(&self) -> Option<Value> {
        let text = std::fs::read_to_string(self.output_file.as_ref()?).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Runs the command; its standard output. Its standard error is shown only (the end
    /// of it) when it fails; standard output, which holds the token, never is.
    async fn run(&self) -> Result<String, Failure> {
        let step = self.step();
        let mut command = Command::new(&self.argv[0]);
        command
            .args(&self.argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(vars) = self.env.fixed_vars() {
            command.env_clear().envs(vars);
        }
        command.envs(self.vars.iter().map(|(k, v)| (k, v)));
        let timeout = self.timeout;
        let ran = tokio::task::spawn_blocking(move || run_with_timeout(command, timeout))
            .await
            .map_err(|_| Failure::invalid(step.clone(), "the run was lost"))?;
        let (status, stdout, stderr) = ran.map_err(|what| Failure::invalid(step.clone(), what))?;
        if !status.success() {
            let last = String::from_utf8_lossy(&stderr)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().chars().take(200).collect::<String>());
            let said = last.map(|l| format!("; its last error line: {l}"));
            return Err(Failure::invalid(
                step,
                format!("it exited with {status}{}", said.unwrap_or_default()),
            ));
        }
        String::from_utf8(stdout).map_err(|_| Failure::invalid(step, "its output is not UTF-8"))
    }
}

type Ran = (std::process::ExitStatus, Vec<u8>, Vec<u8>);

/// Runs `command`, killing it after `timeout`; its status, output and error output.
fn run_with_timeout(mut command: Command, timeout: Duration) -> Result<Ran, String> {
    let mut child = command
        .spawn()
        .map_err(|e| format!("it could not be started: {e}"))?;
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as Box<_>));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as Box<_>));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("it did not finish within {timeout:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for it failed: {e}")),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    Ok((status, stdout, stderr))
}

/// The subject token of a response; `output_file` says whether an output file is
/// configured (then `expiration_time` is required).
fn token(response: &Value, output_file: bool) -> Result<String, Refused> {
    let malformed = |what: &str| Refused::Malformed(format!("the response {what}"));
    let version = response["version"]
        .as_u64()
        .ok_or_else(|| malformed("has no version"))?;
    if version > SUPPORTED_VERSION {
        return Err(malformed(&format!(
            "has version {version}; version {SUPPORTED_VERSION} is supported"
        )));
    }
    let success = response["success"]
        .as_bool()
        .ok_or_else(|| malformed("has no success"))?;
    if !success {
        let code = scalar(&response["code"]);
        let message = response["message"].as_str();
        return match (code, message) {
            (Some(code), Some(message)) => Err(Refused::Stale(format!(
                "it reported failure: code {code}, message {message}"
            ))),
            _ => Err(malformed("reports failure without code and message")),
        };
    }
    match response["expiration_time"].as_u64() {
        Some(at) if at < unix_now() => {
            return Err(Refused::Stale("the token it gave has expired".into()));
        }
        Some(_) => {}
        None if output_file => {
            return Err(Refused::Stale(
                "the response has no expiration_time, which an output file needs".into(),
            ));
        }
        None => {}
    }
    let token_type = response["token_type"]
        .as_str()
        .ok_or_else(|| malformed("has no token_type"))?;
    let field = match token_type {
        "urn:ietf:params:oauth:token-type:jwt"
        | "urn:ietf:params:oauth:token-type:id_token"
        | "urn:ietf:params:oauth:token-type:id-token" => "id_token",
        "urn:ietf:params:oauth:token-type:saml2" => "saml_response",
        other => {
            return Err(malformed(&format!(
                "has the unsupported token_type {other:?}"
            )));
        }
    };
    response[field]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| malformed(&format!("has no {field}")))
}

/// A code given as a string or a number.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Splits a command line into words as a POSIX shell would, without expanding anything:
/// single quotes keep everything, double quotes keep all but `\"`, `\\`, `\$` and `` \` ``,
/// a backslash outside quotes keeps the next character. `None` when a quote is unclosed.
fn split_command(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => w.push(c),
                            '\n' => {}
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        c => w.push(c),
                    }
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => w.push(c),
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn commands_are_split_as_a_shell_would() {
        let words = split_command(r#"/bin/get-token --aud="a b" 'c d'  e\ f "x\"y" ''"#);
        assert_eq!(
            words,
            Some(vec![
                "/bin/get-token".to_string(),
                "--aud=a b".into(),
                "c d".into(),
                "e f".into(),
                "x\"y".into(),
                String::new(),
            ])
        );
        assert_eq!(split_command("a 'b"), None);
        assert_eq!(split_command("  "), Some(vec![]));
    }

    fn refused(r: Result<String, Refused>) -> Option<(bool, String)> {
        match r {
            Ok(_) => None,
            Err(Refused::Stale(w)) => Some((true, w)),
            Err(Refused::Malformed(w)) => Some((false, w)),
        }
    }

    #[test]
    fn responses_are_read_as_the_aip_describes() {
        let later = unix_now() + 3600;
        let oidc = json!({"version": 1, "success": true,
            "token_type": "urn:ietf:params:oauth:token-type:id_token",
            "id_token": "oidc-token", "expiration_time": later});
        assert_eq!(token(&oidc, true).ok().as_deref(), Some("oidc-token"));
        let saml = json!({"version": 1, "success": true,
            "token_type": "urn:ietf:params:oauth:token-type:saml2", "saml_response": "saml"});
        assert_eq!(token(&saml, false).ok().as_deref(), Some("saml"));
        // Without an expiry, an output file's answer is never trusted.
        assert!(refused(token(&saml, true)).is_some_and(|(stale, _)| stale));
        let expired = json!({"version": 1, "success": true, "expiration_time": 1,
            "token_type": "urn:ietf:params:oauth:token-type:jwt", "id_token": "old"});
        assert!(
            refused(token(&expired, false))
                .is_some_and(|(stale, w)| stale && w.contains("expired"))
        );
        let failed = json!({"version": 1, "success": false, "code": "401", "message": "denied"});
        assert!(
            refused(token(&failed, false))
                .is_some_and(|(stale, w)| stale && w.contains("code 401") && w.contains("denied"))
        );
        let bare_failure = json!({"version": 1, "success": false});
        assert!(refused(token(&bare_failure, false)).is_some_and(|(stale, _)| !stale));
        let future = json!({"version": 2, "success": true});
        assert!(
            refused(token(&future, false))
                .is_some_and(|(stale, w)| !stale && w.contains("version 2"))
        );
        let unknown =
            json!({"version": 1, "success": true, "token_type": "other", "id_token": "x"});
        assert!(
            refused(token(&unknown, false))
                .is_some_and(|(stale, w)| !stale && w.contains("\"other\""))
        );
    }
}
