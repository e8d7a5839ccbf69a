//! JSON Schemas (draft 2020-12) for each of cpg-infra's config files, generated from
//! the config types with their doc comments as descriptions, so that editors complete
//! and check configs (taplo for TOML, yaml-language-server for YAML).
//!
//! ```
//! use cpg_infra_config_schema::ConfigFile;
//!
//! let schema = ConfigFile::MembersYaml.schema();
//! assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
//! assert_eq!(ConfigFile::from_file_name("cpg.toml"), Some(ConfigFile::CpgToml));
//! ```

use std::collections::BTreeMap;

use cpg_infra::config::{
    Budget, CloudName, CpgDatasetConfig, CpgInfrastructureConfig, GroupName, UploadConfig,
};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Value as Json, json};

/// A config file that has a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigFile {
    /// `cpg.toml` (or `config-infrastructure.yaml`): the infrastructure config, at the
    /// top level or under an `[infrastructure]` table.
    CpgToml,
    /// `production.yaml` (or `config-datasets.yaml`): dataset name → dataset config.
    ProductionYaml,
    /// `datasets/<dataset>/members.yaml`: access group → member keys.
    MembersYaml,
    /// `datasets/<dataset>/budgets.yaml`: cloud → budget.
    BudgetsYaml,
    /// `datasets/<dataset>/upload.yaml`: upload buckets and dropboxes.
    UploadYaml,
}

impl ConfigFile {
    /// Every config file, in the order of the config directory's description.
    pub const ALL: [ConfigFile; 5] = [
        ConfigFile::CpgToml,
        ConfigFile::ProductionYaml,
        ConfigFile::MembersYaml,
        ConfigFile::BudgetsYaml,
        ConfigFile::UploadYaml,
    ];

    /// The file's usual name.
    pub fn file_name(self) -> &'static str {
        match self {
            ConfigFile::CpgToml => "cpg.toml",
            ConfigFile::ProductionYaml => "production.yaml",
            ConfigFile::MembersYaml => "members.yaml",
            ConfigFile::BudgetsYaml => "budgets.yaml",
            ConfigFile::UploadYaml => "upload.yaml",
        }
    }

    /// The config file named `name` (the alternative names `config-infrastructure.yaml`
    /// and `config-datasets.yaml` included).
    pub fn from_file_name(name: &str) -> Option<ConfigFile> {
        match name {
            "config-infrastructure.yaml" => Some(ConfigFile::CpgToml),
            "config-datasets.yaml" => Some(ConfigFile::ProductionYaml),
            _ => ConfigFile::ALL.into_iter().find(|f| f.file_name() == name),
        }
    }

    /// The file's JSON Schema (draft 2020-12).
    pub fn schema(self) -> Json {
        let mut schema = match self {
            ConfigFile::CpgToml => {
                let (infrastructure, mut defs) = parts::<CpgInfrastructureConfig>();
                defs.insert("CpgInfrastructureConfig".into(), infrastructure);
                json!({
                    "anyOf": [
                        { "$ref": "#/$defs/CpgInfrastructureConfig" },
                        {
                            "type": "object",
                            "properties": {
                                "infrastructure": { "$ref": "#/$defs/CpgInfrastructureConfig" }
                            },
                            "required": ["infrastructure"],
                            "additionalProperties": false
                        }
                    ],
                    "$defs": defs,
                })
            }
            ConfigFile::ProductionYaml => {
                let (mut dataset, mut defs) = parts::<CpgDatasetConfig>();
                // The key is the dataset's name; `dataset` may repeat it.
                if let Some(required) = dataset.get_mut("required").and_then(Json::as_array_mut) {
                    required.retain(|key| key != "dataset");
                }
                defs.insert("CpgDatasetConfig".into(), dataset);
                json!({
                    "type": "object",
                    "additionalProperties": { "$ref": "#/$defs/CpgDatasetConfig" },
                    "$defs": defs,
                })
            }
            ConfigFile::MembersYaml => nullable(map_file::<GroupName, Vec<String>>()),
            ConfigFile::BudgetsYaml => nullable(map_file::<CloudName, Budget>()),
            ConfigFile::UploadYaml => nullable(root::<UploadConfig>()),
        };
        let object = schema.as_object_mut().expect("a schema is an object");
        let mut ordered = serde_json::Map::new();
        ordered.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        ordered.insert("title".into(), json!(self.file_name()));
        ordered.insert("description".into(), json!(self.description()));
        for (key, value) in std::mem::take(object) {
            if key != "$schema" && key != "title" && key != "description" {
                ordered.insert(key, value);
            }
        }
        Json::Object(ordered)
    }

    fn description(self) -> &'static str {
        match self {
            ConfigFile::CpgToml => {
                "The infrastructure config (CPGInfrastructureConfig), at the top level or under an [infrastructure] table."
            }
            ConfigFile::ProductionYaml => {
                "Dataset name → dataset options (CPGDatasetConfig; `dataset` may be left out: the key is the name)."
            }
            ConfigFile::MembersYaml => {
                "A dataset's access groups → member keys (users in cpg.toml)."
            }
            ConfigFile::BudgetsYaml => "A dataset's budget per cloud.",
            ConfigFile::UploadYaml => "A dataset's upload buckets and dropboxes.",
        }
    }
}

/// The generated root schema of `T` as JSON.
fn root<T: JsonSchema>() -> Json {
    SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// `T`'s schema without its `$schema` and `$defs`, and the `$defs`.
fn parts<T: JsonSchema>() -> (Json, serde_json::Map<String, Json>) {
    let mut schema = root::<T>();
    let object = schema.as_object_mut().expect("a schema is an object");
    object.remove("$schema");
    let defs = match object.remove("$defs") {
        Some(Json::Object(defs)) => defs,
        _ => serde_json::Map::new(),
    };
    (schema, defs)
}

/// The schema of a file that maps names of a closed set (`K`) to `V`.
fn map_file<K: JsonSchema, V: JsonSchema>() -> Json {
    let (key, _) = parts::<K>();
    let mut schema = root::<BTreeMap<K, V>>();
    let object = schema.as_object_mut().expect("a schema is an object");
    // Only the set's names are keys.
    object.insert("propertyNames".into(), key);
    schema
}

/// `schema`, also accepting an empty file (YAML's null).
fn nullable(mut schema: Json) -> Json {
    if let Some(object) = schema.as_object_mut() {
        object.insert("type".into(), json!(["object", "null"]));
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_names_draft_2020_12_and_has_a_description() {
        for file in ConfigFile::ALL {
            let schema = file.schema();
            assert_eq!(
                schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            assert_eq!(schema["title"], file.file_name());
            assert!(
                schema["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
            assert_eq!(ConfigFile::from_file_name(file.file_name()), Some(file));
        }
        assert_eq!(ConfigFile::from_file_name("other.yaml"), None);
    }

    #[test]
    fn doc_comments_become_descriptions() {
        let schema = ConfigFile::CpgToml.schema();
        let infrastructure = &schema["$defs"]["CpgInfrastructureConfig"];
        assert_eq!(
            infrastructure["properties"]["budget_currency"]["description"],
            "The currency budgets are written in, e.g. `AUD`."
        );
        assert_eq!(infrastructure["additionalProperties"], false);
    }

    #[test]
    fn members_keys_are_the_access_groups() {
        let schema = ConfigFile::MembersYaml.schema();
        let names = schema["propertyNames"].to_string();
        assert!(
            names.contains("\"analysis\"") && names.contains("\"data-manager\""),
            "{names}"
        );
    }
}
