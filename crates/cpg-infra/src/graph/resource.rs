//! A declared resource: its type token, logical name, inputs and options.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value as Json, json};

use super::value::Value;

/// A resource's identity in the stack: its type token and logical name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId {
    /// The Pulumi type token, e.g. `gcp:storage/bucket:Bucket`.
    pub type_token: String,
    /// The logical name.
    pub name: String,
}

impl ResourceId {
    /// The resource `name` of type `type_token`.
    pub fn new(type_token: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceId {
            type_token: type_token.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ResourceId {
    /// `type::name`, the form the plan uses for references.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.type_token, self.name)
    }
}

/// An earlier identity of a resource, so Pulumi moves it instead of replacing it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alias {
    /// The earlier logical name.
    pub name: Option<String>,
    /// The earlier type token.
    pub type_token: Option<String>,
    /// Whether the earlier resource had no parent (the stack's root).
    pub no_parent: bool,
}

/// Every resource option Pulumi has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceOptions {
    /// Resources that must exist first.
    pub depends_on: Vec<ResourceId>,
    /// The parent resource.
    pub parent: Option<ResourceId>,
    /// Refuse to delete the resource.
    pub protect: bool,
    /// Input properties whose changes are ignored.
    pub ignore_changes: Vec<String>,
    /// Delete before creating the replacement.
    pub delete_before_replace: bool,
    /// Earlier identities.
    pub aliases: Vec<Alias>,
    /// An explicit provider resource.
    pub provider: Option<ResourceId>,
    /// Outputs stored as secrets.
    pub additional_secret_outputs: Vec<String>,
    /// Input properties whose changes force a replacement.
    pub replace_on_changes: Vec<String>,
}

impl ResourceOptions {
    /// Options with only `depends_on` set.
    pub fn depends_on(resources: impl IntoIterator<Item = ResourceId>) -> Self {
        ResourceOptions {
            depends_on: resources.into_iter().collect(),
            ..ResourceOptions::default()
        }
    }

    /// The options that differ from the defaults, in the plan's JSON form.
    pub fn to_json(&self) -> Json {
        let mut out = Map::new();
        let ids = |ids: &[ResourceId]| {
            Json::Array(ids.iter().map(|id| Json::String(id.to_string())).collect())
        };
        let strings =
            |s: &[String]| Json::Array(s.iter().map(|x| Json::String(x.clone())).collect());
        if !self.depends_on.is_empty() {
            out.insert("dependsOn".into(), ids(&self.depends_on));
        }
        if let Some(parent) = &self.parent {
            out.insert("parent".into(), Json::String(parent.to_string()));
        }
        if self.protect {
            out.insert("protect".into(), Json::Bool(true));
        }
        if !self.ignore_changes.is_empty() {
            out.insert("ignoreChanges".into(), strings(&self.ignore_changes));
        }
        if self.delete_before_replace {
            out.insert("deleteBeforeReplace".into(), Json::Bool(true));
        }
        if !self.aliases.is_empty() {
            let aliases = self
                .aliases
                .iter()
                .map(|alias| {
                    let mut a = Map::new();
                    if let Some(name) = &alias.name {
                        a.insert("name".into(), Json::String(name.clone()));
                    }
                    if let Some(type_token) = &alias.type_token {
                        a.insert("type".into(), Json::String(type_token.clone()));
                    }
                    if alias.no_parent {
                        a.insert("noParent".into(), Json::Bool(true));
                    }
                    Json::Object(a)
                })
                .collect();
            out.insert("aliases".into(), Json::Array(aliases));
        }
        if let Some(provider) = &self.provider {
            out.insert("provider".into(), Json::String(provider.to_string()));
        }
        if !self.additional_secret_outputs.is_empty() {
            out.insert(
                "additionalSecretOutputs".into(),
                strings(&self.additional_secret_outputs),
            );
        }
        if !self.replace_on_changes.is_empty() {
            out.insert("replaceOnChanges".into(), strings(&self.replace_on_changes));
        }
        Json::Object(out)
    }
}

/// A resource to declare.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Its identity.
    pub id: ResourceId,
    /// Inputs under the provider's wire names.
    pub inputs: BTreeMap<String, Value>,
    /// Its options.
    pub options: ResourceOptions,
}

impl Resource {
    /// A resource without inputs or options.
    pub fn new(type_token: impl Into<String>, name: impl Into<String>) -> Self {
        Resource {
            id: ResourceId::new(type_token, name),
            inputs: BTreeMap::new(),
            options: ResourceOptions::default(),
        }
    }

    /// Sets an input; a `Null` value is left out, as Pulumi's SDKs do.
    pub fn input(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let value = value.into();
        if value != Value::Null {
            self.inputs.insert(key.into(), value);
        }
        self
    }

    /// Adds resources that must exist first.
    pub fn depends_on(mut self, resources: impl IntoIterator<Item = ResourceId>) -> Self {
        self.options.depends_on.extend(resources);
        self
    }

    /// Replaces the options.
    pub fn options(mut self, options: ResourceOptions) -> Self {
        self.options = options;
        self
    }

    /// The plan's JSON form.
    pub fn to_json(&self) -> Json {
        json!({
            "type": self.id.type_token,
            "name": self.id.name,
            "inputs": Json::Object(self.inputs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            "options": self.options.to_json(),
        })
    }
}
