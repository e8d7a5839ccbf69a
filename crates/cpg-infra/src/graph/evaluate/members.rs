//! The `sortedmembers` function's order: the reference's order of member lists.

/// Member ids lower-cased, de-duplicated, and sorted by (domain, local part).
pub fn sort_members<'a>(members: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut members: Vec<String> = members.into_iter().map(str::to_lowercase).collect();
    members.sort_by(|a, b| email_key(a).cmp(&email_key(b)));
    members.dedup();
    members
}

/// A member id's (domain, local part); an id without `@` sorts first, by itself.
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
    fn members_sort_by_domain_then_name() {
        let sorted = sort_members(["b@z.org", "A@y.org", "a@y.org", "c@a.org"]);
        assert_eq!(sorted, ["c@a.org", "a@y.org", "b@z.org"]);
    }
}
