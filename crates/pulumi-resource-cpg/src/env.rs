//! Where the provider reads its environment: the process's, or a fixed one in tests.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Environment variables and the home directory, as the provider sees them.
#[derive(Debug, Clone, Default)]
pub struct Env {
    fixed: Option<BTreeMap<String, String>>,
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

    /// A variable's value, when set and not empty.
    pub fn var(&self, key: &str) -> Option<String> {
        let value = match &self.fixed {
            Some(vars) => vars.get(key).cloned(),
            None => std::env::var(key).ok(),
        };
        value.filter(|v| !v.is_empty())
    }

    /// The home directory (`HOME`).
    pub fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }
}
