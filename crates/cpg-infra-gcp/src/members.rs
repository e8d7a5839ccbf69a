//! How GCP names a member in each place: IAM bindings, group memberships, groups,
//! member lists.

use cpg_infra::cloud::{Member, ResourceRef};
use cpg_infra::graph::Value;

/// The principal in an IAM binding: `group:…`, `serviceAccount:…`, `user:…`.
pub fn iam_member(member: &Member) -> Value {
    match member {
        Member::Group(group) => {
            Value::concat([Value::from("group:"), Value::output(group, "groupKey.id")])
        }
        Member::MachineAccount(account) => Value::concat([
            Value::from("serviceAccount:"),
            Value::output(account, "email"),
        ]),
        Member::Bucket(bucket) => Value::output(bucket, "name"),
        Member::Id(id) => Value::String(principal(id)),
        Member::MachineAccountEmail(email) => {
            Value::concat([Value::from("serviceAccount:"), email.clone()])
        }
    }
}

/// A plain id as an IAM principal: service accounts and emails get their prefix.
pub fn principal(id: &str) -> String {
    if id.ends_with(".iam.gserviceaccount.com") && !id.starts_with("serviceAccount:") {
        format!("serviceAccount:{id}")
    } else if !id.contains(':') && id.contains('@') {
        format!("user:{id}")
    } else {
        id.to_owned()
    }
}

/// The member key of a group membership: the group's or account's email.
pub fn membership_key(member: &Member) -> Value {
    match member {
        Member::Group(group) => Value::output(group, "groupKey.id"),
        Member::MachineAccount(account) => Value::output(account, "email"),
        Member::Bucket(bucket) => Value::output(bucket, "name"),
        Member::Id(id) => Value::from(id.as_str()),
        Member::MachineAccountEmail(email) => email.clone(),
    }
}

/// The id a member list holds: an email.
pub fn member_id(member: &Member) -> Value {
    membership_key(member)
}

/// The group a membership goes into: its resource id, or a group email.
pub fn group_key(group: &Member, groups_domain: &str) -> Value {
    match group {
        Member::Group(group) => Value::output(group, "id"),
        Member::Id(id)
            if id.ends_with(&format!("@{groups_domain}")) && !id.starts_with("group:") =>
        {
            Value::String(format!("group:{id}"))
        }
        other => membership_key(other),
    }
}

/// A bucket as a binding names it.
pub fn bucket_name(bucket: &ResourceRef) -> Value {
    match bucket {
        ResourceRef::Declared(id) => Value::output(id, "name"),
        ResourceRef::Named(name) => Value::from(name.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_get_their_prefix() {
        assert_eq!(principal("a@b.org"), "user:a@b.org");
        assert_eq!(
            principal("x@p.iam.gserviceaccount.com"),
            "serviceAccount:x@p.iam.gserviceaccount.com"
        );
        assert_eq!(principal("group:g@b.org"), "group:g@b.org");
        assert_eq!(principal("allUsers"), "allUsers");
    }
}
