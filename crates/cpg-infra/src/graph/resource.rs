//! A declared resource: its type token, logical name, inputs and options.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value as Json;

use super::value::Value;

/// A resource's identity in the stack: its type token and logical name. Cheap to
/// clone: references to a resource share its strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId {
    /// The Pulumi type token, e.g. `gcp:storage/bucket:Bucket`.
    pub type_token: Arc<str>,
    /// The logical name.
    pub name: Arc<str>,
}

impl ResourceId {
    /// The resource `name` of type `type_token`.
    pub fn new(type_token: impl AsRef<str>, name: impl AsRef<str>) -> Self {
        ResourceId {
            type_token: Arc::from(type_token.as_ref()),
            name: Arc::from(name.as_ref()),
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
    /// The earlier resource's parent.
    pub parent: AliasParent,
}

/// The parent an earlier identity of a resource had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AliasParent {
    /// The resource's own parent, whatever it is now: what Pulumi's SDKs send for an
    /// alias that names no parent (its spec's `parentUrn` left empty).
    #[default]
    Inherit,
    /// No parent at all: the resource was registered without one (the spec's
    /// `noParent`).
    NoParent,
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
    /// The provider id of an existing resource to read instead of managing one
    /// (Pulumi's `id` option, e.g. a `pulumi:pulumi:StackReference` reads the stack
    /// it names): the engine's `ReadResource`, not `RegisterResource`.
    pub id: Option<String>,
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
        serde_json::to_value(self).unwrap_or(Json::Null)
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
    pub fn new(type_token: impl AsRef<str>, name: impl AsRef<str>) -> Self {
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
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}
