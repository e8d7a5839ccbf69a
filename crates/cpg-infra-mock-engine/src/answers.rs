//! What a provider would answer: computed outputs and data-source results.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cpg_infra::graph::{Graph, Value};

use crate::{InvokeHook, MockOptions, OutputsHook};
use cpg_infra_pulumi::proto::{RegisterResourceRequest, ResourceInvokeRequest};
use cpg_infra_pulumi::wire;

/// Standard base64 of `text` (for outputs that providers return encoded).
pub fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The value a provider would compute for output `property` of resource `name`:
/// base64 of a small JSON key file for a `privateKey`, `"<name>.<property>"`
/// otherwise.
pub fn computed_value(name: &str, property: &str) -> prost_types::Value {
    if property == "privateKey" {
        wire::string(base64(&format!("{{\"key\": \"{name}\"}}")))
    } else {
        wire::string(format!("{name}.{property}"))
    }
}

/// Every output property `value` reads, by resource.
fn read_properties(
    value: &Value,
    read: &mut std::collections::HashMap<(String, String), BTreeSet<String>>,
) {
    for value in value.walk() {
        if let Value::Output(o) = value {
            read.entry((
                o.resource.type_token.to_string(),
                o.resource.name.to_string(),
            ))
            .or_default()
            .insert(o.property.clone());
        }
    }
}

/// An outputs hook that, like a provider, computes every output property
/// `graph` reads that a resource's inputs do not hold ([`computed_value`]).
pub fn computed_outputs(graph: &Graph) -> OutputsHook {
    let mut read = std::collections::HashMap::new();
    for resource in graph.resources() {
        for value in resource.inputs.values() {
            read_properties(value, &mut read);
        }
    }
    for value in graph.exports().values() {
        read_properties(value, &mut read);
    }
    Arc::new(move |request: &RegisterResourceRequest| {
        let mut added = BTreeMap::new();
        let key = (request.r#type.clone(), request.name.clone());
        let inputs = request.object.as_ref();
        for property in read.get(&key).into_iter().flatten() {
            let (head, rest) = property.split_once('.').unwrap_or((property, ""));
            if head == "id" || inputs.is_some_and(|i| i.fields.contains_key(head)) {
                continue;
            }
            let value = computed_value(&request.name, property);
            let value = if rest.is_empty() {
                value
            } else {
                wire::object([(rest.to_owned(), value)])
            };
            added.insert(head.to_owned(), value);
        }
        added
    })
}

/// An invoke hook answering `gcp:organizations/getOrganization` (and any other
/// call) with its arguments plus `id` `organizations/<org_id>` and `orgId`.
pub fn organization(org_id: &str) -> InvokeHook {
    let org_id = org_id.to_owned();
    Arc::new(move |request: &ResourceInvokeRequest| {
        let mut result = request.args.clone().unwrap_or_default();
        result
            .fields
            .insert("id".into(), wire::string(format!("organizations/{org_id}")));
        result
            .fields
            .insert("orgId".into(), wire::string(org_id.clone()));
        Ok(result)
    })
}

/// Options answering for `graph` as a provider would: computed outputs
/// ([`computed_outputs`]) and an organisation for data sources
/// ([`organization`]).
pub fn answering_for(graph: &Graph, org_id: &str, options: MockOptions) -> MockOptions {
    MockOptions {
        outputs: Some(computed_outputs(graph)),
        invoke: Some(organization(org_id)),
        ..options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_the_standard_alphabet() {
        assert_eq!(base64(""), "");
        assert_eq!(base64("f"), "Zg==");
        assert_eq!(base64("fo"), "Zm8=");
        assert_eq!(base64("foo"), "Zm9v");
        assert_eq!(base64("{\"key\": 1}"), "eyJrZXkiOiAxfQ==");
    }
}
