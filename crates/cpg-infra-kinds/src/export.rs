//! What every rewriting of a `pulumi stack export` document ([`migrate`](crate::migrate),
//! [`split`](crate::split)) checks the same way: the version and `deployment` object,
//! pending operations, and that each URN names one resource.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Two resources of an export have the same URN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{urn}: the export holds this URN twice (/deployment/resources/{first} and /deployment/resources/{second})"
)]
pub struct DuplicateUrn {
    /// The URN.
    pub urn: String,
    /// The index of its first resource.
    pub first: usize,
    /// The index of its second resource.
    pub second: usize,
}

/// Records that the resource at position `at` has `urn`, refusing a URN `index` already
/// holds.
pub(crate) fn index_urn<'a>(
    index: &mut HashMap<&'a str, usize>,
    urn: &'a str,
    at: usize,
) -> Result<(), DuplicateUrn> {
    match index.insert(urn, at) {
        Some(first) => Err(DuplicateUrn {
            urn: urn.into(),
            first,
            second: at,
        }),
        None => Ok(()),
    }
}

/// The `deployment` object of an export whose `version` is one of `supported`; else the
/// JSON pointer of what is wrong and why.
pub(crate) fn deployment_of<'a>(
    export: &'a Value,
    supported: &[u64],
) -> Result<&'a Map<String, Value>, (&'static str, String)> {
    match export.get("version").and_then(Value::as_u64) {
        Some(v) if supported.contains(&v) => {}
        Some(v) => {
            let listed: Vec<String> = supported.iter().map(u64::to_string).collect();
            let verb = if supported.len() == 1 { "is" } else { "are" };
            let reason = format!(
                "version {v} is not supported ({} {verb})",
                listed.join(" and ")
            );
            return Err(("/version", reason));
        }
        None => {
            let reason = "missing: not a `pulumi stack export` document".to_string();
            return Err(("/version", reason));
        }
    }
    export
        .get("deployment")
        .and_then(Value::as_object)
        .ok_or(("/deployment", "missing or not an object".to_string()))
}

/// The deployment's pending operations, if it has any.
pub(crate) fn pending_operations(deployment: &Map<String, Value>) -> Option<&[Value]> {
    deployment
        .get("pending_operations")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .map(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_versions_understood_are_named_when_another_is_given() {
        let v2 = json!({"version": 2, "deployment": {}});
        assert_eq!(
            deployment_of(&v2, &[3]).expect_err("v2").1,
            "version 2 is not supported (3 is)"
        );
        assert_eq!(
            deployment_of(&v2, &[3, 4]).expect_err("v2").1,
            "version 2 is not supported (3 and 4 are)"
        );
        let bare = json!({"version": 4});
        assert_eq!(
            deployment_of(&bare, &[3, 4]).expect_err("no deployment"),
            ("/deployment", "missing or not an object".to_string())
        );
    }
}
