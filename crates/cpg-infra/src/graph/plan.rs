//! The plan document, serialised directly (no intermediate JSON tree, so a plan of
//! hundreds of thousands of resources streams to its writer). Object keys are
//! written in sorted order, as a JSON value tree would hold them.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::asset::{Archive, Asset};
use super::resource::{Alias, AliasParent, Resource, ResourceOptions};
use super::value::{Function, Value};
use super::{Graph, PLAN_FORMAT_VERSION};

/// The plan document of a graph: `{"exports", "format_version", "resources"}` with
/// the resources sorted by (type, name).
pub struct Plan<'a>(pub &'a Graph);

impl Serialize for Plan<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut resources: Vec<&Resource> = self.0.resources().iter().collect();
        resources.sort_by(|a, b| a.id.cmp(&b.id));
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("exports", self.0.exports())?;
        map.serialize_entry("format_version", &PLAN_FORMAT_VERSION)?;
        map.serialize_entry("resources", &resources)?;
        map.end()
    }
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("inputs", &self.inputs)?;
        map.serialize_entry("name", &*self.id.name)?;
        map.serialize_entry("options", &self.options)?;
        map.serialize_entry("type", &*self.id.type_token)?;
        map.end()
    }
}

/// A list of resources as `type::name` strings.
struct Ids<'a>(&'a [super::ResourceId]);

impl Serialize for Ids<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl Serialize for Alias {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(name) = &self.name {
            map.serialize_entry("name", name)?;
        }
        if self.parent == AliasParent::NoParent {
            map.serialize_entry("noParent", &true)?;
        }
        if let Some(type_token) = &self.type_token {
            map.serialize_entry("type", type_token)?;
        }
        map.end()
    }
}

impl Serialize for ResourceOptions {
    /// Only what differs from Pulumi's defaults, keys sorted.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.additional_secret_outputs.is_empty() {
            map.serialize_entry("additionalSecretOutputs", &self.additional_secret_outputs)?;
        }
        if !self.aliases.is_empty() {
            map.serialize_entry("aliases", &self.aliases)?;
        }
        if self.delete_before_replace {
            map.serialize_entry("deleteBeforeReplace", &true)?;
        }
        if !self.depends_on.is_empty() {
            map.serialize_entry("dependsOn", &Ids(&self.depends_on))?;
        }
        if let Some(id) = &self.id {
            map.serialize_entry("id", id)?;
        }
        if !self.ignore_changes.is_empty() {
            map.serialize_entry("ignoreChanges", &self.ignore_changes)?;
        }
        if let Some(parent) = &self.parent {
            map.serialize_entry("parent", &parent.to_string())?;
        }
        if self.protect {
            map.serialize_entry("protect", &true)?;
        }
        if let Some(provider) = &self.provider {
            map.serialize_entry("provider", &provider.to_string())?;
        }
        if !self.replace_on_changes.is_empty() {
            map.serialize_entry("replaceOnChanges", &self.replace_on_changes)?;
        }
        map.end()
    }
}

/// `{key: value}`, the form of every value not known before deploying.
fn tagged<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

/// The `$output` object.
struct OutputFields<'a>(&'a super::OutputRef);

impl Serialize for OutputFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("property", &self.0.property)?;
        map.serialize_entry("resource", &self.0.resource.to_string())?;
        map.end()
    }
}

/// The `$invoke` object.
struct InvokeFields<'a>(&'a super::Invoke);

impl Serialize for InvokeFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("args", &self.0.args)?;
        map.serialize_entry("property", &self.0.property)?;
        map.serialize_entry("token", &self.0.token)?;
        map.end()
    }
}

/// The `$toml` object.
struct TomlFields<'a>(&'a Value, &'a [Value]);

impl Serialize for TomlFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("merge", self.1)?;
        map.serialize_entry("value", self.0)?;
        map.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(n) => serializer.serialize_i64(*n),
            Value::Float(f) if f.is_finite() => serializer.serialize_f64(*f),
            Value::Float(_) => serializer.serialize_unit(),
            Value::String(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => serializer.collect_map(entries),
            Value::Secret(inner) => tagged(serializer, "$secret", inner.as_ref()),
            Value::Output(output) => tagged(serializer, "$output", &OutputFields(output)),
            Value::Invoke(invoke) => tagged(serializer, "$invoke", &InvokeFields(invoke)),
            Value::Function(function) => match function {
                Function::Concat(parts) => tagged(serializer, "$concat", parts),
                Function::Json(value) => tagged(serializer, "$json", value.as_ref()),
                Function::Toml { value, merge } => {
                    tagged(serializer, "$toml", &TomlFields(value, merge))
                }
                Function::Base64Decode(value) => {
                    tagged(serializer, "$base64decode", value.as_ref())
                }
                Function::SortedMembers(members) => tagged(serializer, "$sortedmembers", members),
                Function::Sorted(items) => tagged(serializer, "$sorted", items),
                Function::Lines(value) => tagged(serializer, "$lines", value.as_ref()),
            },
            Value::Asset(asset) => asset.serialize(serializer),
            Value::Archive(archive) => tagged(serializer, "$archive", &ArchiveFields(archive)),
        }
    }
}

impl Serialize for Asset {
    /// `{"$asset": {"text": …}}`, or `{"$asset": {"path", "sha256", "size"}}` with the
    /// hash and size only when the file was there while planning.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        tagged(serializer, "$asset", &AssetFields(self))
    }
}

/// The `$asset` object.
struct AssetFields<'a>(&'a Asset);

impl Serialize for AssetFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.0 {
            Asset::Text(text) => map.serialize_entry("text", text)?,
            Asset::File { path, digest } => {
                map.serialize_entry("path", &path_text(path))?;
                if let Some(digest) = digest {
                    map.serialize_entry("sha256", &digest.hex())?;
                    map.serialize_entry("size", &digest.len)?;
                }
            }
        }
        map.end()
    }
}

/// The `$archive` object: `{"assets": {name: asset}}` or `{"path": …}`.
struct ArchiveFields<'a>(&'a Archive);

impl Serialize for ArchiveFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self.0 {
            Archive::Assets(assets) => map.serialize_entry("assets", assets)?,
            Archive::Directory { path } => map.serialize_entry("path", &path_text(path))?,
        }
        map.end()
    }
}

/// A path with `/` between its parts on every platform, so plans compare.
fn path_text(path: &std::path::Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

impl Serialize for super::ResourceId {
    /// `type::name`, as the plan refers to resources.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
