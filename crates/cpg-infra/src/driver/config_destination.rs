//! Where the config files the infrastructure writes go: objects under the
//! organisation's `config_destination`.

/// The bucket and object name of `name` under `config_destination`
/// (`gs://<bucket>/<path>`), joined as the reference's `os.path.join` does; `None`
/// when the destination has another form (validation rejects it).
pub(crate) fn config_object(config_destination: &str, name: &str) -> Option<(String, String)> {
    let (bucket, path) = config_destination.strip_prefix("gs://")?.split_once('/')?;
    let object = if path.is_empty() || path.ends_with('/') {
        format!("{path}{name}")
    } else {
        format!("{path}/{name}")
    };
    Some((bucket.to_owned(), object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_objects_join_like_os_path_join() {
        let object = |d: &str| config_object(d, "infrastructure.toml").map(|(_, o)| o);
        assert_eq!(
            object("gs://b/deploy").as_deref(),
            Some("deploy/infrastructure.toml")
        );
        assert_eq!(
            object("gs://b/deploy/").as_deref(),
            Some("deploy/infrastructure.toml")
        );
        assert_eq!(object("gs://b/").as_deref(), Some("infrastructure.toml"));
        assert_eq!(object("gs://b"), None);
        assert_eq!(object("s3://b/x"), None);
    }
}
