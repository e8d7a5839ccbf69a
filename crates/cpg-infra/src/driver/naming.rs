//! The reference's small naming helpers: member hashes and member-list order.

use xxhash_rust::xxh32::xxh32;

/// `{initials}-{xxh32(dataset + member + cloud)}`, the suffix of the resource key of
/// a person's membership, e.g. `HW-d51b65ee`.
pub fn member_hash(dataset: &str, member: &str, cloud: &str) -> String {
    let local = member.split('@').next().unwrap_or_default();
    let initials: String = local
        .split('.')
        .filter_map(|part| part.chars().next())
        .collect::<String>()
        .to_uppercase();
    let message = format!("{dataset}{member}{cloud}");
    format!("{initials}-{:08x}", xxh32(message.as_bytes(), 0))
}

/// The bucket and object name of `name` under `config_destination`
/// (`gs://<bucket>/<path>`), joined as the reference's `os.path.join` does; `None`
/// when the destination has another form (validation rejects it).
pub fn config_object(config_destination: &str, name: &str) -> Option<(String, String)> {
    let (bucket, path) = config_destination.strip_prefix("gs://")?.split_once('/')?;
    let object = if path.is_empty() || path.ends_with('/') {
        format!("{path}{name}")
    } else {
        format!("{path}/{name}")
    };
    Some((bucket.to_owned(), object))
}

/// `name` with the organisation's group prefix, as the cloud group is named.
pub fn prefixed_group(prefix: Option<&str>, name: &str) -> String {
    format!("{}{name}", prefix.unwrap_or_default())
}

/// Member ids lower-cased, de-duplicated, and sorted by (domain, local part).
pub fn sort_members<'a>(members: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut members: Vec<String> = members.into_iter().map(str::to_lowercase).collect();
    members.sort_by(|a, b| email_key(a).cmp(&email_key(b)));
    members.dedup();
    members
}

fn email_key(member: &str) -> (&str, &str) {
    match member.split_once('@') {
        Some((local, domain)) => (domain, local),
        None => ("", member),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_hash_matches_the_reference() {
        // The reference's doctest.
        assert_eq!(
            member_hash("dataset", "hello.world@email.com", ""),
            "HW-d51b65ee"
        );
    }

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

    #[test]
    fn members_sort_by_domain_then_name() {
        let sorted = sort_members(["b@z.org", "A@y.org", "a@y.org", "c@a.org"]);
        assert_eq!(sorted, ["c@a.org", "a@y.org", "b@z.org"]);
    }
}
