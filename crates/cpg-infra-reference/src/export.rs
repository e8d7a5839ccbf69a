//! A recorded stack as `pulumi stack export` writes it, for tests of the state
//! migration.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::{Map, Value, json};

/// What Pulumi's Python SDK stores as `__provider`: a base64 (dill) pickle that refers to
/// the provider class by module and name.
pub fn pickle(class_path: &str) -> String {
    let (module, class) = class_path.rsplit_once('.').unwrap_or(("", class_path));
    let mut bytes = b"\x80\x04\x95\x40\x00\x00\x00\x00\x00\x00\x00\x8c".to_vec();
    bytes.push(u8::try_from(module.len()).unwrap_or(0));
    bytes.extend(module.as_bytes());
    bytes.extend(b"\x94\x8c");
    bytes.push(u8::try_from(class.len()).unwrap_or(0));
    bytes.extend(class.as_bytes());
    bytes.extend(b"\x94\x93\x94)\x81\x94.");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A `pulumi stack export` (version 3) of the recorded stack `name` as the reference
/// left it: its Python dynamic resources as `pulumi-python:dynamic:Resource` with
/// their provider pickled in `__provider`, every other resource under a default
/// provider of its package and recorded version, in stack `test` of project `cpg`.
///
/// # Panics
///
/// When the recording cannot be read, naming the file.
pub fn stack_export(name: &str) -> Value {
    let recorded = crate::read(name);
    let records = recorded["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let stack_urn = "urn:pulumi:test::cpg::pulumi:pulumi:Stack::cpg-test".to_string();
    let mut urn_of: BTreeMap<String, String> = BTreeMap::from([(
        "pulumi:pulumi:Stack::cpg-test".to_string(),
        stack_urn.clone(),
    )]);
    for r in &records {
        let key = format!(
            "{}::{}",
            r["type"].as_str().unwrap_or(""),
            r["name"].as_str().unwrap_or("")
        );
        urn_of.insert(key, r["urn"].as_str().unwrap_or("").to_string());
    }
    let mut resources = vec![json!({
        "urn": stack_urn,
        "custom": false,
        "type": "pulumi:pulumi:Stack",
        "outputs": recorded["exports"],
    })];
    let mut providers: BTreeMap<String, String> = BTreeMap::new();
    let mut provider_ref = |package: &str, version: Option<&str>, resources: &mut Vec<Value>| {
        let name = version.map_or("default".to_string(), |v| {
            format!("default_{}", v.replace('.', "_"))
        });
        let urn = format!("urn:pulumi:test::cpg::pulumi:providers:{package}::{name}");
        providers
            .entry(urn.clone())
            .or_insert_with(|| {
                let id = format!("00000000-0000-0000-0000-{:012}", resources.len());
                let mut inputs = Map::new();
                if let Some(v) = version {
                    inputs.insert("version".into(), json!(v));
                }
                resources.push(json!({
                    "urn": urn, "custom": true, "id": id,
                    "type": format!("pulumi:providers:{package}"),
                    "inputs": inputs, "outputs": inputs,
                }));
                format!("{urn}::{id}")
            })
            .clone()
    };
    for r in &records {
        let ty = r["type"].as_str().unwrap_or("");
        let mut inputs = r["inputs"].as_object().cloned().unwrap_or_default();
        let provider = if let Some(class) = r["dynamic_provider"].as_str() {
            inputs.insert("__provider".into(), json!(pickle(class)));
            provider_ref("pulumi-python", None, &mut resources)
        } else {
            let package = ty.split(':').next().unwrap_or("");
            provider_ref(package, r["version"].as_str(), &mut resources)
        };
        let mut outputs = inputs.clone();
        outputs.extend(r["mock_outputs"].as_object().cloned().unwrap_or_default());
        let to_urns = |list: &Value| -> Vec<String> {
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().and_then(|d| urn_of.get(d)).cloned())
                .collect()
        };
        let mut property_dependencies = Map::new();
        let mut dependencies: BTreeSet<String> = to_urns(&r["depends_on"]).into_iter().collect();
        for (k, deps) in r["property_dependencies"].as_object().into_iter().flatten() {
            let urns = to_urns(deps);
            dependencies.extend(urns.iter().cloned());
            property_dependencies.insert(k.clone(), json!(urns));
        }
        let parent = r["parent"].as_str().and_then(|p| urn_of.get(p)).cloned();
        resources.push(json!({
            "urn": r["urn"],
            "custom": true,
            "id": r["mock_id"],
            "type": ty,
            "inputs": inputs,
            "outputs": outputs,
            "parent": parent,
            "dependencies": dependencies,
            "propertyDependencies": property_dependencies,
            "provider": provider,
        }));
    }
    json!({
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-01-01T00:00:00Z", "magic": "-", "version": "v3.96.2"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "-"}},
            "resources": resources,
        },
    })
}
