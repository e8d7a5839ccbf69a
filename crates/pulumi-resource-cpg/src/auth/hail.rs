//! Hail Batch tokens, found where the reference finds them.

use serde_json::Value;

use crate::Error;
use crate::env::Env;

/// The Hail Batch token of a token category: `HAIL_TOKEN_<CATEGORY>` or the category's key
/// in `~/.hail/tokens.json`, as in the reference.
pub fn hail_token(env: &Env, category: &str) -> Result<String, Error> {
    let env_var = format!("HAIL_TOKEN_{}", category.to_uppercase());
    if let Some(t) = env.var(&env_var) {
        return Ok(t);
    }
    let tokens_file = env
        .home()
        .unwrap_or_default()
        .join(".hail")
        .join("tokens.json");
    if let Ok(text) = std::fs::read_to_string(&tokens_file) {
        let tokens: Value = serde_json::from_str(&text).map_err(|e| Error::CredentialsFile {
            path: tokens_file.clone(),
            what: format!("not JSON: {e}"),
        })?;
        if let Some(t) = tokens[category].as_str().filter(|t| !t.is_empty()) {
            return Ok(t.into());
        }
    }
    Err(Error::NoHailToken {
        category: category.into(),
        env_var,
        tokens_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hail_token_prefers_the_environment() {
        let e = Env::of(&[("HAIL_TOKEN_GCP", "from-env"), ("HOME", "/nonexistent")]);
        assert_eq!(hail_token(&e, "gcp").ok().as_deref(), Some("from-env"));
    }

    #[test]
    fn hail_token_reads_the_tokens_file() {
        let home = std::env::temp_dir().join(format!("cpg-hail-home-{}", std::process::id()));
        let _ = std::fs::create_dir_all(home.join(".hail"));
        let _ = std::fs::write(home.join(".hail/tokens.json"), r#"{"azure": "from-file"}"#);
        let e = Env::of(&[("HOME", home.to_str().unwrap_or_default())]);
        assert_eq!(hail_token(&e, "azure").ok().as_deref(), Some("from-file"));
        let missing = hail_token(&e, "gcp").err().map(|e| e.to_string());
        assert!(
            missing
                .as_deref()
                .is_some_and(|m| m.contains("HAIL_TOKEN_GCP") && m.contains(".hail/tokens.json")),
            "{missing:?}"
        );
        let _ = std::fs::remove_dir_all(home);
    }
}
