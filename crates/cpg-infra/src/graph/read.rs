//! Reading the plan document's forms back: a [`Value`], [`Resource`] or
//! [`ResourceId`] from the JSON the plan writes. Plugins send resources in this form.
//!
//! An object with exactly one key that starts with `$` is a tagged value; any other
//! object is a map. A plain map cannot have a single `$` key (the plan never writes
//! one).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value as Json;

use super::asset::{Archive, Asset, Digest256};
use super::resource::{Alias, AliasParent, Resource, ResourceId, ResourceOptions};
use super::value::{Function, Invoke, OutputRef, Value};

/// Why a JSON document is not a plan value or resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
#[non_exhaustive]
pub struct ReadError {
    /// Where in the document, as a JSON pointer (`/inputs/name`).
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

fn error(path: &str, message: impl Into<String>) -> ReadError {
    ReadError {
        path: if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
        message: message.into(),
    }
}

fn field<'a>(
    object: &'a serde_json::Map<String, Json>,
    key: &str,
    path: &str,
) -> Result<&'a Json, ReadError> {
    object
        .get(key)
        .ok_or_else(|| error(path, format!("missing {key:?}")))
}

fn string(json: &Json, path: &str) -> Result<String, ReadError> {
    json.as_str()
        .map(str::to_owned)
        .ok_or_else(|| error(path, "expected a string"))
}

fn object<'a>(json: &'a Json, path: &str) -> Result<&'a serde_json::Map<String, Json>, ReadError> {
    json.as_object()
        .ok_or_else(|| error(path, "expected an object"))
}

fn list<'a>(json: &'a Json, path: &str) -> Result<&'a Vec<Json>, ReadError> {
    json.as_array()
        .ok_or_else(|| error(path, "expected a list"))
}

impl ResourceId {
    /// Reads `type::name`; the type token holds no `::`, so the name may.
    pub fn from_plan_text(text: &str) -> Option<Self> {
        let (type_token, name) = text.split_once("::")?;
        (!type_token.is_empty() && !name.is_empty()).then(|| ResourceId::new(type_token, name))
    }
}

impl<'de> serde::Deserialize<'de> for ResourceId {
    /// Reads `type::name`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ResourceId::from_plan_text(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not \"type::name\"")))
    }
}

fn resource_id(json: &Json, path: &str) -> Result<ResourceId, ReadError> {
    let text = string(json, path)?;
    ResourceId::from_plan_text(&text).ok_or_else(|| error(path, "expected \"type::name\""))
}

fn resource_ids(json: &Json, path: &str) -> Result<Vec<ResourceId>, ReadError> {
    list(json, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| resource_id(item, &format!("{path}/{i}")))
        .collect()
}

fn strings(json: &Json, path: &str) -> Result<Vec<String>, ReadError> {
    list(json, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| string(item, &format!("{path}/{i}")))
        .collect()
}

impl Value {
    /// Reads a value in the plan's JSON form.
    pub fn from_plan_json(json: &Json) -> Result<Self, ReadError> {
        read_value(json, "")
    }
}

fn read_values(json: &Json, path: &str) -> Result<Vec<Value>, ReadError> {
    list(json, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| read_value(item, &format!("{path}/{i}")))
        .collect()
}

fn read_map(
    map: &serde_json::Map<String, Json>,
    path: &str,
) -> Result<BTreeMap<String, Value>, ReadError> {
    map.iter()
        .map(|(key, item)| Ok((key.clone(), read_value(item, &format!("{path}/{key}"))?)))
        .collect()
}

fn read_value(json: &Json, path: &str) -> Result<Value, ReadError> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(
                n.as_f64()
                    .ok_or_else(|| error(path, "number out of range"))?,
            ),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(_) => Value::List(read_values(json, path)?),
        Json::Object(map) => match map.iter().next() {
            Some((key, inner)) if map.len() == 1 && key.starts_with('$') => {
                read_tagged(key, inner, &format!("{path}/{key}"))?
            }
            _ => Value::Map(read_map(map, path)?),
        },
    })
}

fn read_tagged(tag: &str, json: &Json, path: &str) -> Result<Value, ReadError> {
    let boxed = |json| read_value(json, path).map(Box::new);
    Ok(match tag {
        "$secret" => Value::Secret(boxed(json)?),
        "$output" => {
            let fields = object(json, path)?;
            Value::Output(OutputRef {
                resource: resource_id(
                    field(fields, "resource", path)?,
                    &format!("{path}/resource"),
                )?,
                property: string(
                    field(fields, "property", path)?,
                    &format!("{path}/property"),
                )?,
            })
        }
        "$invoke" => {
            let fields = object(json, path)?;
            let args = object(field(fields, "args", path)?, &format!("{path}/args"))?;
            Value::Invoke(Invoke {
                token: string(field(fields, "token", path)?, &format!("{path}/token"))?,
                args: read_map(args, &format!("{path}/args"))?,
                property: string(
                    field(fields, "property", path)?,
                    &format!("{path}/property"),
                )?,
            })
        }
        "$concat" => Value::Function(Function::Concat(read_values(json, path)?)),
        "$json" => Value::Function(Function::Json(boxed(json)?)),
        "$toml" => {
            let fields = object(json, path)?;
            Value::Function(Function::Toml {
                value: Box::new(read_value(
                    field(fields, "value", path)?,
                    &format!("{path}/value"),
                )?),
                merge: read_values(field(fields, "merge", path)?, &format!("{path}/merge"))?,
            })
        }
        "$base64decode" => Value::Function(Function::Base64Decode(boxed(json)?)),
        "$sortedmembers" => Value::Function(Function::SortedMembers(read_values(json, path)?)),
        "$sorted" => Value::Function(Function::Sorted(read_values(json, path)?)),
        "$lines" => Value::Function(Function::Lines(boxed(json)?)),
        "$asset" => Value::Asset(read_asset(json, path)?),
        "$archive" => {
            let fields = object(json, path)?;
            if let Some(assets) = fields.get("assets") {
                let assets_path = format!("{path}/assets");
                let mut read = BTreeMap::new();
                for (name, asset) in object(assets, &assets_path)? {
                    let asset_path = format!("{assets_path}/{name}");
                    let inner = object(asset, &asset_path)?
                        .get("$asset")
                        .ok_or_else(|| error(&asset_path, "expected {\"$asset\": …}"))?;
                    read.insert(
                        name.clone(),
                        read_asset(inner, &format!("{asset_path}/$asset"))?,
                    );
                }
                Value::Archive(Archive::Assets(read))
            } else {
                Value::Archive(Archive::Directory {
                    path: PathBuf::from(string(
                        field(fields, "path", path)?,
                        &format!("{path}/path"),
                    )?),
                })
            }
        }
        other => return Err(error(path, format!("unknown value kind {other:?}"))),
    })
}

fn read_asset(json: &Json, path: &str) -> Result<Asset, ReadError> {
    let fields = object(json, path)?;
    if let Some(text) = fields.get("text") {
        return Ok(Asset::Text(string(text, &format!("{path}/text"))?));
    }
    let file = PathBuf::from(string(
        field(fields, "path", path)?,
        &format!("{path}/path"),
    )?);
    let digest = match (fields.get("sha256"), fields.get("size")) {
        (Some(sha), Some(size)) => {
            let size = size
                .as_u64()
                .ok_or_else(|| error(&format!("{path}/size"), "expected a size"))?;
            Some(
                Digest256::from_hex(&string(sha, &format!("{path}/sha256"))?, size)
                    .ok_or_else(|| error(&format!("{path}/sha256"), "expected 64 hex digits"))?,
            )
        }
        (None, None) => None,
        _ => return Err(error(path, "sha256 and size go together")),
    };
    Ok(Asset::File { path: file, digest })
}

impl Resource {
    /// Reads a resource in the plan's JSON form (`type`, `name`, `inputs`,
    /// `options`).
    pub fn from_plan_json(json: &Json) -> Result<Self, ReadError> {
        let fields = object(json, "")?;
        let type_token = string(field(fields, "type", "")?, "/type")?;
        let name = string(field(fields, "name", "")?, "/name")?;
        if type_token.is_empty() || type_token.contains("::") {
            return Err(error("/type", "a type token, without \"::\""));
        }
        if name.is_empty() {
            return Err(error("/name", "an empty name"));
        }
        let mut resource = Resource::new(type_token, name);
        if let Some(inputs) = fields.get("inputs") {
            for (key, value) in read_map(object(inputs, "/inputs")?, "/inputs")? {
                resource = resource.input(key, value);
            }
        }
        if let Some(options) = fields.get("options") {
            resource.options = read_options(options)?;
        }
        for key in fields.keys() {
            if !["type", "name", "inputs", "options"].contains(&key.as_str()) {
                return Err(error(&format!("/{key}"), "unknown key"));
            }
        }
        Ok(resource)
    }
}

fn read_options(json: &Json) -> Result<ResourceOptions, ReadError> {
    let mut options = ResourceOptions::default();
    for (key, value) in object(json, "/options")? {
        let path = format!("/options/{key}");
        let flag = |value: &Json| value.as_bool().ok_or_else(|| error(&path, "expected true"));
        match key.as_str() {
            "additionalSecretOutputs" => options.additional_secret_outputs = strings(value, &path)?,
            "aliases" => {
                for (i, alias) in list(value, &path)?.iter().enumerate() {
                    let alias_path = format!("{path}/{i}");
                    let fields = object(alias, &alias_path)?;
                    let text = |key: &str| {
                        fields
                            .get(key)
                            .map(|v| string(v, &format!("{alias_path}/{key}")))
                            .transpose()
                    };
                    options.aliases.push(Alias {
                        name: text("name")?,
                        type_token: text("type")?,
                        parent: if fields.get("noParent").and_then(Json::as_bool) == Some(true) {
                            AliasParent::NoParent
                        } else {
                            AliasParent::Inherit
                        },
                    });
                }
            }
            "deleteBeforeReplace" => options.delete_before_replace = flag(value)?,
            "dependsOn" => options.depends_on = resource_ids(value, &path)?,
            "id" => options.id = Some(string(value, &path)?),
            "ignoreChanges" => options.ignore_changes = strings(value, &path)?,
            "parent" => options.parent = Some(resource_id(value, &path)?),
            "protect" => options.protect = flag(value)?,
            "provider" => options.provider = Some(resource_id(value, &path)?),
            "replaceOnChanges" => options.replace_on_changes = strings(value, &path)?,
            _ => return Err(error(&path, "unknown resource option")),
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_value_kind_reads_back_as_written() {
        let bucket = ResourceId::new("gcp:storage/bucket:Bucket", "b");
        let value = Value::map([
            ("plain", Value::from("x")),
            ("secret", Value::from("s").secret()),
            (
                "concat",
                Value::concat([Value::from("gs://"), Value::output(&bucket, "name")]),
            ),
            (
                "invoke",
                Value::Invoke(Invoke {
                    token: "gcp:organizations/getOrganization:getOrganization".into(),
                    args: BTreeMap::from([("domain".into(), Value::from("d"))]),
                    property: "orgId".into(),
                }),
            ),
            (
                "toml",
                Value::Function(Function::Toml {
                    value: Box::new(Value::map([("a", Value::Int(1))])),
                    merge: vec![Value::from("b = 2")],
                }),
            ),
            (
                "json",
                Value::Function(Function::Json(Box::new(Value::Bool(true)))),
            ),
            (
                "lines",
                Value::Function(Function::Lines(Box::new(Value::strings(["a"])))),
            ),
            (
                "b64",
                Value::Function(Function::Base64Decode(Box::new(Value::from("YQ==")))),
            ),
            (
                "sorted",
                Value::Function(Function::SortedMembers(vec![Value::from("a@b")])),
            ),
            (
                "sorted-strings",
                Value::Function(Function::Sorted(vec![Value::from("b"), Value::from("a")])),
            ),
            ("float", Value::Float(1.5)),
            ("text", Value::Asset(Asset::Text("t".into()))),
            (
                "archive",
                Value::Archive(Archive::Assets(BTreeMap::from([(
                    "main.py".into(),
                    Asset::File {
                        path: "src/main.py".into(),
                        digest: Some(Digest256::of(b"x")),
                    },
                )]))),
            ),
            (
                "directory",
                Value::Archive(Archive::Directory { path: "src".into() }),
            ),
        ]);
        let json = value.to_json();
        assert_eq!(Value::from_plan_json(&json), Ok(value));
    }

    #[test]
    fn resources_read_back_with_their_options() {
        let mut resource = Resource::new("gcp:storage/bucket:Bucket", "b")
            .input("name", "x")
            .depends_on([ResourceId::new("t:a:A", "a")]);
        resource.options.replace_on_changes.push("*".into());
        resource.options.aliases.push(Alias {
            name: Some("old".into()),
            type_token: None,
            parent: AliasParent::NoParent,
        });
        resource.options.parent = Some(ResourceId::new("t:p:P", "p"));
        resource.options.id = Some("org/project/stack".into());
        let json = resource.to_json();
        assert_eq!(json["options"]["id"], "org/project/stack");
        assert_eq!(Resource::from_plan_json(&json), Ok(resource));
    }

    #[test]
    fn bad_documents_name_the_place() {
        let unknown = Value::from_plan_json(&json!({"a": [{"$nope": 1}]}));
        assert_eq!(
            unknown.map_err(|e| e.to_string()),
            Err("/a/0/$nope: unknown value kind \"$nope\"".into())
        );
        let id = Resource::from_plan_json(&json!({
            "type": "t:a:A", "name": "n", "options": {"dependsOn": ["nocolons"]}
        }));
        assert_eq!(
            id.map_err(|e| e.to_string()),
            Err("/options/dependsOn/0: expected \"type::name\"".into())
        );
        let extra = Resource::from_plan_json(&json!({"type": "t:a:A", "name": "n", "x": 1}));
        assert_eq!(
            extra.map_err(|e| e.to_string()),
            Err("/x: unknown key".into())
        );
    }
}
