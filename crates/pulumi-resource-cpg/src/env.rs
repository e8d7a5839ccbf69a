//! Where the provider reads its environment: the process's, or a fixed one in tests.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Environment variables and the home directory, as the provider sees them.
#[derive(Clone, Default)]
pub struct Env {
    fixed: Option<BTreeMap<String, String>>,
}

/// Names only: the values include tokens.
impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.fixed {
            None => f.write_str("Env(process)"),
            Some(vars) => f.debug_set().entries(vars.keys()).finish(),
        }
    }
}

impl Env {
    /// The process's own environment.
    pub fn process() -> Self {
        Self { fixed: None }
    }

    /// A fixed set of variables (nothing else is visible; `HOME` among them gives the
    /// home directory).
    pub fn fixed(vars: BTreeMap<String, String>) -> Self {
        Self { fixed: Some(vars) }
    }

    /// A fixed set of variables given as pairs (tests).
    #[cfg(test)]
    pub(crate) fn of(vars: &[(&str, &str)]) -> Self {
        Self::fixed(
            vars.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        )
    }

    /// A variable's value, when set and not empty.
    pub fn var(&self, key: &str) -> Option<String> {
        let value = match &self.fixed {
            Some(vars) => vars.get(key).cloned(),
            None => std::env::var(key).ok(),
        };
        value.filter(|v| !v.is_empty())
    }

    /// The fixed variables, when this is not the process's environment (a child process
    /// is given exactly these).
    pub(crate) fn fixed_vars(&self) -> Option<&BTreeMap<String, String>> {
        self.fixed.as_ref()
    }

    /// The home directory (`HOME`).
    pub fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values() {
        let env = Env::fixed(BTreeMap::from([("HAIL_TOKEN_GCP".into(), "s3cr3t".into())]));
        let shown = format!("{env:?}");
        assert!(
            shown.contains("HAIL_TOKEN_GCP") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }
}
