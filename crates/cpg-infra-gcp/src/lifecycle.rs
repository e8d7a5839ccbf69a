//! Buckets in the provider's terms: lifecycle rules and the custom roles that
//! bucket memberships map to.

use cpg_infra::cloud::{BucketMembership, LifecycleRule, periods};
use cpg_infra::graph::Value;

/// The role, resource key suffix and name of a bucket membership.
pub(crate) fn bucket_role(membership: BucketMembership, key: &str) -> (&'static str, String) {
    match membership {
        BucketMembership::Mutate => (
            "StorageObjectAndBucketMutator",
            format!("{key}-no-bucket-deletion"),
        ),
        BucketMembership::Append => ("StorageViewerAndCreator", key.to_owned()),
        BucketMembership::Read => ("StorageObjectAndBucketViewer", key.to_owned()),
        BucketMembership::List => ("StorageLister", key.to_owned()),
    }
}

/// A lifecycle rule in the provider's shape.
pub(crate) fn lifecycle_rule(rule: &LifecycleRule) -> Value {
    let (action, condition) = match rule {
        LifecycleRule::Undelete { days } => (
            Value::map([("type", Value::from("Delete"))]),
            Value::map([
                ("daysSinceNoncurrentTime", Value::Int(*days)),
                ("withState", Value::from("ARCHIVED")),
            ]),
        ),
        LifecycleRule::Archive { days } => (
            Value::map([
                ("type", Value::from("SetStorageClass")),
                ("storageClass", Value::from("ARCHIVE")),
            ]),
            Value::map([("age", Value::Int(*days))]),
        ),
        LifecycleRule::Temporary {
            days,
            matches_prefixes,
        } => {
            let mut condition = vec![("age", Value::Int(*days))];
            if !matches_prefixes.is_empty() {
                condition.push(("matchesPrefixes", Value::strings(matches_prefixes.clone())));
            }
            (
                Value::map([("type", Value::from("Delete"))]),
                Value::map(condition),
            )
        }
    };
    Value::map([("action", action), ("condition", condition)])
}

pub(crate) fn abort_incomplete_uploads() -> Value {
    Value::map([
        (
            "action",
            Value::map([("type", Value::from("AbortIncompleteMultipartUpload"))]),
        ),
        (
            "condition",
            Value::map([("age", Value::Int(periods::INCOMPLETE_UPLOAD))]),
        ),
    ])
}
