//! The suffix the reference gives the resource key of a person's membership.

use xxhash_rust::xxh32::xxh32;

/// `{initials}-{xxh32(dataset + member + cloud)}`, the suffix of the resource key of
/// a person's membership, e.g. `HW-d51b65ee`.
pub(crate) fn member_hash(dataset: &str, member: &str, cloud: &str) -> String {
    let local = member.split('@').next().unwrap_or_default();
    let initials: String = local
        .split('.')
        .filter_map(|part| part.chars().next())
        .collect::<String>()
        .to_uppercase();
    let message = format!("{dataset}{member}{cloud}");
    format!("{initials}-{:08x}", xxh32(message.as_bytes(), 0))
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
}
