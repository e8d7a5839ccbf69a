//! A provider's schema, as far as a plan can be checked against it: each resource's
//! and invoke's input properties by wire name, which are required, and the input
//! types that object-valued properties hold.
//!
//! Two sources read into the same form: the compact files `provider-schemas/*.json`
//! (written by `provider-schemas/extract.py` from the pinned SDK packages), and a
//! Pulumi package schema (what a provider's `GetSchema` returns), for this project's
//! own `cpg:` provider.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value as Json;

/// The input properties of a resource, invoke or input type, by wire name.
pub type Properties = BTreeMap<String, Property>;

/// One input property.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    /// Whether every declaration must give it.
    #[serde(default)]
    pub required: bool,
    /// The input type of an object value (a key of [`ProviderSchema::types`]).
    #[serde(default)]
    pub object: Option<String>,
    /// The input type of a list's items.
    #[serde(default)]
    pub list: Option<String>,
    /// The input type of a map's values.
    #[serde(default)]
    pub map: Option<String>,
}

/// A provider's resources, invokes and input types.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSchema {
    /// The provider (`pulumi-gcp`, `azure-native`, `azuread`, `cpg`).
    pub provider: String,
    /// The package the schema was read from.
    pub package: String,
    /// Its version.
    pub version: String,
    /// Resources by type token.
    pub resources: BTreeMap<String, Properties>,
    /// Invokes (data sources) by token.
    pub invokes: BTreeMap<String, Properties>,
    /// Input types by key.
    pub types: BTreeMap<String, Properties>,
    /// The output property names of each resource, and the result property names of
    /// each invoke, by token.
    #[serde(default)]
    pub outputs: BTreeMap<String, BTreeSet<String>>,
}

/// A schema that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The file is not JSON of the expected form.
    #[error("{file}: not a provider schema")]
    Malformed {
        /// The file.
        file: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The committed schema is of another version than the one the cloud crate pins:
    /// it must be regenerated with `provider-schemas/extract.py`.
    #[error("{file}: the schema of version {found}, but {pinned} is pinned")]
    OtherVersion {
        /// The file.
        file: String,
        /// The version the cloud crate pins.
        pinned: String,
        /// The version the file holds.
        found: String,
    },
}

impl ProviderSchema {
    /// Reads a compact schema file's text (`provider-schemas/<provider>.json`).
    pub fn from_compact(file: &str, text: &str) -> Result<Self, SchemaError> {
        serde_json::from_str(text).map_err(|source| SchemaError::Malformed {
            file: file.to_owned(),
            source,
        })
    }

    /// Reads a Pulumi package schema (`schema.json`, as `GetSchema` returns it):
    /// `resources.<token>.inputProperties` and `requiredInputs`,
    /// `functions.<token>.inputs`, and `types.<token>` with `properties` and
    /// `required`; `$ref`s to `#/types/…` become object types.
    pub fn from_package_schema(file: &str, text: &str) -> Result<Self, SchemaError> {
        let json: Json = serde_json::from_str(text).map_err(|source| SchemaError::Malformed {
            file: file.to_owned(),
            source,
        })?;
        let name = json["name"].as_str().unwrap_or_default().to_owned();
        let section = |key: &str, properties: &str, required: &str| {
            json[key]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(token, spec)| {
                    let (props, req) = if key == "functions" {
                        (&spec["inputs"]["properties"], &spec["inputs"]["required"])
                    } else {
                        (&spec[properties], &spec[required])
                    };
                    (token.clone(), package_properties(props, req))
                })
                .collect::<BTreeMap<_, _>>()
        };
        let names = |key: &str, properties: &dyn Fn(&Json) -> Json| {
            json[key]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(token, spec)| {
                    let names = properties(spec)
                        .as_object()
                        .map(|p| p.keys().cloned().collect())
                        .unwrap_or_default();
                    (token.clone(), names)
                })
                .collect::<Vec<(String, BTreeSet<String>)>>()
        };
        let mut outputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        outputs.extend(names("resources", &|spec| spec["properties"].clone()));
        outputs.extend(names("functions", &|spec| {
            spec["outputs"]["properties"].clone()
        }));
        Ok(ProviderSchema {
            provider: name.clone(),
            package: name,
            version: json["version"].as_str().unwrap_or("unversioned").to_owned(),
            resources: section("resources", "inputProperties", "requiredInputs"),
            invokes: section("functions", "", ""),
            types: section("types", "properties", "required"),
            outputs,
        })
    }
}

/// A Pulumi package schema's properties and required list in this crate's form.
fn package_properties(properties: &Json, required: &Json) -> Properties {
    let required: Vec<&str> = required
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    let reference = |spec: &Json| {
        spec["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/types/"))
            .map(str::to_owned)
    };
    properties
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, spec)| {
            let property = Property {
                required: required.contains(&name.as_str()),
                object: reference(spec),
                list: (spec["type"] == "array")
                    .then(|| reference(&spec["items"]))
                    .flatten(),
                map: (spec["type"] == "object")
                    .then(|| reference(&spec["additionalProperties"]))
                    .flatten(),
            };
            (name.clone(), property)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_schemas_read_inputs_required_and_types() {
        let text = r##"{
            "name": "cpg", "version": "0.1.0",
            "resources": {"cpg:google:GroupMembership": {
                "inputProperties": {"group_key": {"type": "string"}, "settings": {"$ref": "#/types/cpg:google:Settings"}},
                "properties": {"group_key": {"type": "string"}, "membership_id": {"type": "string"}},
                "requiredInputs": ["group_key"]}},
            "functions": {"cpg:google:getGroup": {"inputs": {"properties": {"email": {"type": "string"}}, "required": ["email"]}}},
            "types": {"cpg:google:Settings": {"properties": {"tags": {"type": "array", "items": {"$ref": "#/types/cpg:google:Tag"}}}}}
        }"##;
        let schema = ProviderSchema::from_package_schema("schema.json", text).expect("read");
        let membership = &schema.resources["cpg:google:GroupMembership"];
        assert!(membership["group_key"].required);
        assert_eq!(
            membership["settings"].object.as_deref(),
            Some("cpg:google:Settings")
        );
        assert!(schema.invokes["cpg:google:getGroup"]["email"].required);
        assert!(schema.outputs["cpg:google:GroupMembership"].contains("membership_id"));
        assert_eq!(
            schema.types["cpg:google:Settings"]["tags"].list.as_deref(),
            Some("cpg:google:Tag")
        );
    }

    #[test]
    fn compact_files_reject_unknown_fields() {
        let text = r#"{"provider": "p", "package": "p", "version": "1", "resources": {"p:a:B": {"x": {"optional": true}}}, "invokes": {}, "types": {}}"#;
        assert!(ProviderSchema::from_compact("p.json", text).is_err());
    }
}
