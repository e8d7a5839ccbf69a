//! The provider's configuration (`cpg:` keys of the stack configuration).

use serde_json::{Map, Value};

use cpg_infra_kinds::schema::{DEFAULT_CLOUD_IDENTITY, DEFAULT_GROUPS_SETTINGS, DEFAULT_METAMIST};

/// The configuration keys, without the `cpg:` namespace.
pub const KEYS: [&str; 4] = [
    "cloudIdentityEndpoint",
    "groupsSettingsEndpoint",
    "metamistEndpoint",
    "accessToken",
];

/// The provider's configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// Root URL of the Cloud Identity API, ending in `/`.
    pub cloud_identity_endpoint: String,
    /// Root URL of the Groups Settings API, ending in `/`.
    pub groups_settings_endpoint: String,
    /// Root URL of metamist, ending in `/`.
    pub metamist_endpoint: String,
    /// A static bearer token for the Google APIs and metamist; otherwise application
    /// default credentials are used.
    pub access_token: Option<String>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("cloud_identity_endpoint", &self.cloud_identity_endpoint)
            .field("groups_settings_endpoint", &self.groups_settings_endpoint)
            .field("metamist_endpoint", &self.metamist_endpoint)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            cloud_identity_endpoint: DEFAULT_CLOUD_IDENTITY.into(),
            groups_settings_endpoint: DEFAULT_GROUPS_SETTINGS.into(),
            metamist_endpoint: DEFAULT_METAMIST.into(),
            access_token: None,
        }
    }
}

/// One problem with the configuration: the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The key, without namespace.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

/// Keys the engine itself adds to a provider's configuration.
fn is_engine_key(key: &str) -> bool {
    key == "version" || key == "pluginDownloadURL" || key.starts_with("__")
}

impl ProviderConfig {
    /// Reads the configuration from the engine's properties (keys without namespace,
    /// or with `cpg:` or `cpg:config:`). Every problem is reported; nothing unknown is ignored silently.
    pub fn from_properties(props: &Map<String, Value>) -> Result<Self, Vec<ConfigProblem>> {
        let mut config = Self::default();
        let mut problems = Vec::new();
        for (raw_key, value) in props {
            // `variables` name keys `cpg:config:<key>`; `args` and checks name them bare.
            let key = raw_key
                .strip_prefix("cpg:config:")
                .or_else(|| raw_key.strip_prefix("cpg:"))
                .unwrap_or(raw_key);
            if is_engine_key(key) {
                continue;
            }
            let Some(text) = value.as_str() else {
                problems.push(ConfigProblem {
                    key: key.into(),
                    // The value is not quoted: it may be a secret given in the wrong shape.
                    reason: format!("expected a string, found {}", crate::kinds::shape(value)),
                });
                continue;
            };
            match key {
                "cloudIdentityEndpoint" | "groupsSettingsEndpoint" | "metamistEndpoint" => {
                    match endpoint(text) {
                        Ok(url) => match key {
                            "cloudIdentityEndpoint" => config.cloud_identity_endpoint = url,
                            "groupsSettingsEndpoint" => config.groups_settings_endpoint = url,
                            _ => config.metamist_endpoint = url,
                        },
                        Err(reason) => problems.push(ConfigProblem {
                            key: key.into(),
                            reason,
                        }),
                    }
                }
                "accessToken" if text.is_empty() => problems.push(ConfigProblem {
                    key: key.into(),
                    reason: "is empty".into(),
                }),
                "accessToken" => config.access_token = Some(text.into()),
                _ => problems.push(ConfigProblem {
                    key: key.into(),
                    reason: format!("unknown key; the keys are {}", KEYS.join(", ")),
                }),
            }
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }
}

/// An API root: an `http(s)://` URL without credentials, normalised to end in `/`.
/// Messages quote it with any `user:password@` blanked out.
fn endpoint(text: &str) -> Result<String, String> {
    let shown = crate::http::redact_url(text);
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| format!("{shown:?} is not an http:// or https:// URL"))?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(format!(
            "{shown:?} carries credentials (user:password@); give the token as cpg:accessToken"
        ));
    }
    if rest.is_empty() || rest.starts_with('/') || text.contains(['?', '#', ' ']) {
        return Err(format!("{shown:?} is not an API root URL"));
    }
    Ok(if text.ends_with('/') {
        text.into()
    } else {
        format!("{text}/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn defaults_are_the_public_apis() {
        let c = ProviderConfig::from_properties(&props(json!({"version": "0.1.0"})));
        assert_eq!(c, Ok(ProviderConfig::default()));
    }

    #[test]
    fn endpoints_are_normalised_and_namespaced_keys_accepted() {
        let c = ProviderConfig::from_properties(&props(json!({
            "cpg:cloudIdentityEndpoint": "http://127.0.0.1:9000",
            "metamistEndpoint": "https://metamist.example.org/",
            "accessToken": "t",
        })))
        .ok();
        let c = c.as_ref();
        assert_eq!(
            c.map(|c| c.cloud_identity_endpoint.as_str()),
            Some("http://127.0.0.1:9000/")
        );
        assert_eq!(
            c.map(|c| c.metamist_endpoint.as_str()),
            Some("https://metamist.example.org/")
        );
        assert_eq!(c.and_then(|c| c.access_token.as_deref()), Some("t"));
    }

    #[test]
    fn every_problem_is_reported() {
        let e = ProviderConfig::from_properties(&props(json!({
            "cloudIdentityEndpoint": "ftp://x",
            "groupSettingsEndpoint": "https://x/",
            "accessToken": 3,
        })))
        .err()
        .unwrap_or_default();
        let keys: Vec<&str> = e.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "accessToken",
                "cloudIdentityEndpoint",
                "groupSettingsEndpoint"
            ]
        );
    }

    #[test]
    fn problems_never_quote_secrets() {
        for props in [
            json!({"accessToken": ["s3cr3t"]}),
            json!({"accessToken": {"token": "s3cr3t"}}),
            json!({"metamistEndpoint": "https://user:s3cr3t@metamist.example.org/"}),
            json!({"metamistEndpoint": "ftp://user:s3cr3t@metamist.example.org/"}),
            json!({"cloudIdentityEndpoint": "https://user:s3cr3t@x/?a"}),
        ] {
            let problems = ProviderConfig::from_properties(&props_of(&props))
                .err()
                .unwrap_or_default();
            assert_eq!(problems.len(), 1, "{props}");
            let shown = format!("{problems:?}");
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
    }

    fn props_of(v: &Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn debug_redacts_the_token() {
        let c = ProviderConfig {
            access_token: Some("s3cr3t".into()),
            ..ProviderConfig::default()
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
