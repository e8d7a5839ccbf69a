//! What the Pulumi language host tells a program through its environment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A language-host environment variable that is missing or unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A variable the language host always sets is not set.
    #[error(
        "{name} is not set: deploy runs as a Pulumi program, started by `pulumi preview` or `pulumi up`"
    )]
    Missing {
        /// The variable.
        name: &'static str,
    },
    /// A variable holds something it cannot.
    #[error("{name}={value:?}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A variable that may hold secrets cannot be read; its value is not quoted.
    #[error("{name}: {reason} (the value is not shown: it may hold secrets)")]
    Unreadable {
        /// The variable.
        name: &'static str,
        /// What is wrong with it, and where.
        reason: String,
    },
}

/// Where and why `text` is not what was expected, without quoting any of it (serde's
/// own message may quote a value).
fn unquoted(error: &serde_json::Error, expected: &str) -> String {
    let what = match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not JSON",
        _ => "another shape",
    };
    format!(
        "expected {expected}; found {what} at line {} column {}",
        error.line(),
        error.column()
    )
}

/// The environment of a Pulumi program (`pulumi preview` / `pulumi up`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    /// `PULUMI_MONITOR`: the resource monitor's address (`host:port`).
    pub monitor: String,
    /// `PULUMI_ENGINE`: the engine's address (`host:port`).
    pub engine: String,
    /// `PULUMI_PROJECT`.
    pub project: String,
    /// `PULUMI_STACK`.
    pub stack: String,
    /// `PULUMI_ORGANIZATION` (`organization` when not set, as Pulumi's SDKs assume).
    pub organization: String,
    /// `PULUMI_DRY_RUN`: true during a preview.
    pub dry_run: bool,
    /// `PULUMI_PARALLEL`: how many registrations may be in flight at once.
    pub parallel: usize,
    /// `PULUMI_CONFIG`: the stack's configuration, `<namespace>:<key>` → value.
    pub config: BTreeMap<String, String>,
    /// `PULUMI_CONFIG_SECRET_KEYS`: the configuration keys that are secrets.
    pub config_secret_keys: BTreeSet<String>,
    /// `PULUMI_ROOT_DIRECTORY`: the directory of `Pulumi.yaml`, when given.
    pub root_directory: Option<PathBuf>,
}

/// The variables a language host always sets.
const REQUIRED: [&str; 6] = [
    "PULUMI_MONITOR",
    "PULUMI_ENGINE",
    "PULUMI_PROJECT",
    "PULUMI_STACK",
    "PULUMI_DRY_RUN",
    "PULUMI_PARALLEL",
];

impl EngineSettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (the environment, or a map in tests).
    /// `PULUMI_MONITOR`, `PULUMI_ENGINE`, `PULUMI_PROJECT`, `PULUMI_STACK`,
    /// `PULUMI_DRY_RUN` and `PULUMI_PARALLEL` are required; `PULUMI_ORGANIZATION`,
    /// `PULUMI_CONFIG`, `PULUMI_CONFIG_SECRET_KEYS` and `PULUMI_ROOT_DIRECTORY`,
    /// which older CLIs do not set, are optional.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let required = |name: &'static str| -> Result<String, SettingsError> {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or(SettingsError::Missing { name })
        };
        // Report the first missing variable in a fixed order.
        for name in REQUIRED {
            required(name)?;
        }
        let dry_run = match required("PULUMI_DRY_RUN")?.as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(SettingsError::Invalid {
                    name: "PULUMI_DRY_RUN",
                    value: other.to_owned(),
                    reason: "expected true or false".into(),
                });
            }
        };
        let parallel_text = required("PULUMI_PARALLEL")?;
        let parallel = match parallel_text.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(SettingsError::Invalid {
                    name: "PULUMI_PARALLEL",
                    value: parallel_text,
                    reason: "expected a positive number".into(),
                });
            }
        };
        let config = match lookup("PULUMI_CONFIG").filter(|v| !v.is_empty()) {
            None => BTreeMap::new(),
            Some(text) => {
                serde_json::from_str::<BTreeMap<String, String>>(&text).map_err(|error| {
                    SettingsError::Unreadable {
                        name: "PULUMI_CONFIG",
                        reason: unquoted(&error, "a JSON object of strings"),
                    }
                })?
            }
        };
        let config_secret_keys = match lookup("PULUMI_CONFIG_SECRET_KEYS").filter(|v| !v.is_empty())
        {
            None => BTreeSet::new(),
            Some(text) => serde_json::from_str::<BTreeSet<String>>(&text).map_err(|error| {
                SettingsError::Invalid {
                    name: "PULUMI_CONFIG_SECRET_KEYS",
                    value: text.clone(),
                    reason: format!("expected a JSON list of strings: {error}"),
                }
            })?,
        };
        Ok(EngineSettings {
            monitor: required("PULUMI_MONITOR")?,
            engine: required("PULUMI_ENGINE")?,
            project: required("PULUMI_PROJECT")?,
            stack: required("PULUMI_STACK")?,
            organization: lookup("PULUMI_ORGANIZATION")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "organization".to_owned()),
            dry_run,
            parallel,
            config,
            config_secret_keys,
            root_directory: lookup("PULUMI_ROOT_DIRECTORY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        })
    }

    /// The project's configuration value `key` (`<project>:<key>` in the stack's
    /// configuration).
    pub fn config(&self, key: &str) -> Option<&str> {
        self.config
            .get(&format!("{}:{key}", self.project))
            .map(String::as_str)
    }

    /// Whether the project's configuration value `key` is a secret.
    pub fn config_is_secret(&self, key: &str) -> bool {
        self.config_secret_keys
            .contains(&format!("{}:{key}", self.project))
    }

    /// The root stack resource's logical name, `<project>-<stack>`.
    pub fn root_name(&self) -> String {
        format!("{}-{}", self.project, self.stack)
    }

    /// The URN the engine gives resource `name` of qualified type `qualified_type`
    /// (its parents' types joined by `$`, without the root stack's).
    pub fn urn(&self, qualified_type: &str, name: &str) -> String {
        format!(
            "urn:pulumi:{}::{}::{qualified_type}::{name}",
            self.stack, self.project
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const FULL: [(&str, &str); 10] = [
        ("PULUMI_MONITOR", "127.0.0.1:1"),
        ("PULUMI_ENGINE", "127.0.0.1:2"),
        ("PULUMI_PROJECT", "cpg"),
        ("PULUMI_STACK", "test"),
        ("PULUMI_ORGANIZATION", "org"),
        ("PULUMI_DRY_RUN", "true"),
        ("PULUMI_PARALLEL", "8"),
        (
            "PULUMI_CONFIG",
            r#"{"cpg:config-dir":"conf","gcp:project":"p"}"#,
        ),
        ("PULUMI_CONFIG_SECRET_KEYS", r#"["cpg:token"]"#),
        ("PULUMI_ROOT_DIRECTORY", "/srv/deploy"),
    ];

    #[test]
    fn reads_every_variable() {
        let settings = EngineSettings::from_lookup(env(&FULL)).expect("valid");
        assert_eq!(settings.monitor, "127.0.0.1:1");
        assert_eq!(settings.engine, "127.0.0.1:2");
        assert!(settings.dry_run);
        assert_eq!(settings.parallel, 8);
        assert_eq!(settings.organization, "org");
        assert_eq!(settings.config("config-dir"), Some("conf"));
        assert_eq!(settings.config("project"), None);
        assert!(settings.config_is_secret("token"));
        assert_eq!(settings.root_directory, Some(PathBuf::from("/srv/deploy")));
        assert_eq!(settings.root_name(), "cpg-test");
        assert_eq!(
            settings.urn("gcp:storage/bucket:Bucket", "b"),
            "urn:pulumi:test::cpg::gcp:storage/bucket:Bucket::b"
        );
    }

    #[test]
    fn a_missing_variable_is_named() {
        for name in REQUIRED {
            let pairs: Vec<_> = FULL.iter().copied().filter(|(k, _)| *k != name).collect();
            let error = EngineSettings::from_lookup(env(&pairs)).expect_err("missing");
            assert_eq!(error, SettingsError::Missing { name });
            assert!(error.to_string().starts_with(&format!("{name} is not set")));
        }
        let optional: Vec<_> = FULL
            .iter()
            .copied()
            .filter(|(k, _)| !k.starts_with("PULUMI_CONFIG") && *k != "PULUMI_ORGANIZATION")
            .collect();
        let settings = EngineSettings::from_lookup(env(&optional)).expect("optional");
        assert_eq!(settings.organization, "organization");
        assert!(settings.config.is_empty());
    }

    #[test]
    fn invalid_values_are_explained() {
        let with = |name: &str, value: &'static str| {
            let pairs: Vec<_> = FULL
                .iter()
                .map(|(k, v)| if *k == name { (*k, value) } else { (*k, *v) })
                .collect();
            EngineSettings::from_lookup(env(&pairs))
                .expect_err("invalid")
                .to_string()
        };
        assert_eq!(
            with("PULUMI_PARALLEL", "0"),
            "PULUMI_PARALLEL=\"0\": expected a positive number"
        );
        assert_eq!(
            with("PULUMI_DRY_RUN", "maybe"),
            "PULUMI_DRY_RUN=\"maybe\": expected true or false"
        );
        assert!(with("PULUMI_CONFIG", "[1]").starts_with(
            "PULUMI_CONFIG: expected a JSON object of strings; found another shape at line 1"
        ));
        // The stack's configuration holds secrets: no part of it is quoted.
        for value in [
            r#"{"cpg:token": ["s3cr3t"]}"#,
            r#"{"cpg:token": {"v": "s3cr3t"}}"#,
            r#""s3cr3t""#,
            r#"{"cpg:token": "s3cr3t", "n": 3}"#,
            r#"{"cpg:token": "s3cr3t""#,
        ] {
            let shown = with("PULUMI_CONFIG", value);
            assert!(
                shown.starts_with("PULUMI_CONFIG: expected") && !shown.contains("s3cr3t"),
                "{shown}"
            );
        }
    }
}
