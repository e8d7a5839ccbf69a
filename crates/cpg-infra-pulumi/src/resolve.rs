//! Turning the graph's values into wire values once the outputs they use are
//! back from the engine: outputs are looked up, functions evaluated by the core's
//! evaluator, secrets kept secret, and during a preview anything computed from an
//! unknown output is itself unknown — never a guessed value.

use std::collections::HashMap;

use cpg_infra::graph::{EvaluateError, Function, Invoke, OutputRef, Resolver, ResourceId, Value};
use prost_types::Struct;
use prost_types::Value as Wire;

use crate::error::MissingExport;
use crate::wire::{self, Lookup};

/// A resource the engine has registered.
#[derive(Debug, Clone)]
pub(crate) struct Registered {
    /// Its URN.
    pub(crate) urn: String,
    /// Its provider-assigned id (empty when not known, in a preview).
    pub(crate) id: String,
    /// Its output properties.
    pub(crate) object: Struct,
}

/// A data source's result.
#[derive(Debug, Clone)]
pub(crate) enum InvokeResult {
    /// The engine's answer.
    Known(Struct),
    /// Not known in this preview: its arguments are not.
    Unknown,
}

/// How values are written for this monitor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Encoding {
    /// The monitor accepts secrets.
    pub(crate) secrets: bool,
    /// The monitor accepts output values (an unknown secret keeps its secrecy).
    pub(crate) output_values: bool,
    /// The monitor accepts resource references (otherwise a whole resource is
    /// sent as its id).
    pub(crate) resource_references: bool,
}

/// Everything known so far.
pub(crate) struct Outputs<'a> {
    /// Registered resources.
    pub(crate) resources: &'a HashMap<ResourceId, Registered>,
    /// Data-source results, by [`invoke_key`].
    pub(crate) invokes: &'a HashMap<String, InvokeResult>,
    /// A preview: absent outputs are unknown (in an update they are null).
    pub(crate) dry_run: bool,
    /// The directory relative asset and archive paths are taken from.
    pub(crate) asset_root: Option<&'a std::path::Path>,
}

/// The type of a reference to another stack's exports: a resource read (never
/// registered) from the engine's builtin provider, which answers with the
/// referenced stack's `name`, `outputs` and `secretOutputNames`. Defined by the core,
/// whose shard graphs declare them.
pub use cpg_infra::shard::STACK_REFERENCE_TYPE;

/// The export a stack reference's property path names: `outputs.<export>…`.
fn export_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("outputs.")?;
    rest.split('.').next()
}

/// Whether the read stack reference `object` lists `export` among its
/// `secretOutputNames`.
fn secret_export(object: &Struct, export: &str) -> bool {
    let Lookup::Found(names) = wire::lookup(object, "secretOutputNames") else {
        return false;
    };
    let names = wire::secret_inner(&names).unwrap_or(&names);
    match &names.kind {
        Some(prost_types::value::Kind::ListValue(list)) => list.values.iter().any(|name| {
            matches!(&name.kind, Some(prost_types::value::Kind::StringValue(s)) if s == export)
        }),
        _ => false,
    }
}

/// The identity of a declared data-source call: its token and arguments.
pub(crate) fn invoke_key(invoke: &Invoke) -> String {
    let args = serde_json::to_string(&Value::Map(invoke.args.clone())).unwrap_or_default();
    format!("{}\u{0}{args}", invoke.token)
}

impl Outputs<'_> {
    /// What `output` refers to, as far as it is known.
    pub(crate) fn output(&self, output: &OutputRef) -> Lookup {
        let Some(registered) = self.resources.get(&output.resource) else {
            return Lookup::Unknown { secret: false };
        };
        let found = match output.property.as_str() {
            "urn" => Lookup::Found(wire::string(registered.urn.clone())),
            // The whole resource, where a reference cannot be sent: its id.
            "id" | "" if registered.id.is_empty() => Lookup::Unknown { secret: false },
            "id" | "" => Lookup::Found(wire::string(registered.id.clone())),
            path => wire::lookup(&registered.object, path),
        };
        let found = match export_name(&output.property) {
            Some(export)
                if output.resource.type_token.as_ref() == STACK_REFERENCE_TYPE
                    && secret_export(&registered.object, export) =>
            {
                match found {
                    Lookup::Found(w) if wire::secret_inner(&w).is_none() => {
                        Lookup::Found(wire::secret(w))
                    }
                    Lookup::Unknown { .. } => Lookup::Unknown { secret: true },
                    other => other,
                }
            }
            _ => found,
        };
        self.absent(found)
    }

    /// In an update, the first stack-reference export `value` uses that the
    /// referenced stack does not have (a preview sends it as unknown: the
    /// stack may not be deployed yet).
    pub(crate) fn missing_export(&self, value: &Value) -> Option<MissingExport> {
        if self.dry_run {
            return None;
        }
        value.walk().find_map(|v| {
            let Value::Output(output) = v else {
                return None;
            };
            if output.resource.type_token.as_ref() != STACK_REFERENCE_TYPE {
                return None;
            }
            let export = export_name(&output.property)?;
            let registered = self.resources.get(&output.resource)?;
            let path = format!("outputs.{export}");
            matches!(wire::lookup(&registered.object, &path), Lookup::Absent).then(|| {
                MissingExport {
                    reference: output.resource.clone(),
                    stack: if registered.id.is_empty() {
                        output.resource.name.to_string()
                    } else {
                        registered.id.clone()
                    },
                    export: export.to_owned(),
                }
            })
        })
    }

    /// A whole registered resource as a reference: its URN and, once known, its id.
    fn resource_reference(&self, output: &OutputRef) -> Wire {
        match self.resources.get(&output.resource) {
            Some(registered) => {
                let id = if registered.id.is_empty() {
                    self.dry_run.then(wire::unknown)
                } else {
                    Some(wire::string(registered.id.clone()))
                };
                wire::resource_reference(&registered.urn, id)
            }
            None => wire::unknown(),
        }
    }

    /// What a data-source property refers to, as far as it is known.
    pub(crate) fn invoke(&self, invoke: &Invoke) -> Lookup {
        match self.invokes.get(&invoke_key(invoke)) {
            Some(InvokeResult::Known(result)) => {
                self.absent(wire::lookup(result, &invoke.property))
            }
            Some(InvokeResult::Unknown) | None => Lookup::Unknown { secret: false },
        }
    }

    /// An absent property is unknown in a preview and null in an update.
    fn absent(&self, lookup: Lookup) -> Lookup {
        match lookup {
            Lookup::Absent if self.dry_run => Lookup::Unknown { secret: false },
            Lookup::Absent => Lookup::Found(wire::null()),
            other => other,
        }
    }

    /// Whether any output `value` uses is (partly) unknown, and whether any part
    /// of it is secret.
    fn scan(&self, value: &Value) -> (bool, bool) {
        let from_lookup = |lookup: Lookup| match lookup {
            Lookup::Found(w) => (wire::contains_unknown(&w), wire::contains_secret(&w)),
            Lookup::Unknown { secret } => (true, secret),
            Lookup::Absent => (false, false),
        };
        match value {
            Value::Secret(inner) => (self.scan(inner).0, true),
            Value::Output(output) => from_lookup(self.output(output)),
            // A data source's result as looked up; its arguments are its own.
            Value::Invoke(invoke) => from_lookup(self.invoke(invoke)),
            _ => value.children().fold((false, false), |(u, s), v| {
                let (vu, vs) = self.scan(v);
                (u || vu, s || vs)
            }),
        }
    }

    /// The wire form of `value`.
    pub(crate) fn encode(&self, value: &Value, encoding: Encoding) -> Result<Wire, EvaluateError> {
        Ok(match value {
            Value::Null => wire::null(),
            Value::Bool(b) => wire::boolean(*b),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(n) => wire::number(*n as f64),
            Value::Float(x) => wire::number(*x),
            Value::String(s) => wire::string(s.clone()),
            Value::List(items) => wire::list(
                items
                    .iter()
                    .map(|item| self.encode(item, encoding))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(entries) => wire::object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.encode(v, encoding)?)))
                    .collect::<Result<Vec<_>, EvaluateError>>()?,
            ),
            Value::Secret(inner) => secret(self.encode(inner, encoding)?, encoding),
            Value::Asset(asset) => wire::asset(asset, self.asset_root),
            Value::Archive(archive) => wire::archive(archive, self.asset_root),
            Value::Output(output) if output.property.is_empty() && encoding.resource_references => {
                self.resource_reference(output)
            }
            Value::Output(output) => from_lookup(self.output(output), encoding),
            Value::Invoke(invoke) => from_lookup(self.invoke(invoke), encoding),
            Value::Function(function) => self.encode_function(function, encoding)?,
        })
    }

    fn encode_function(
        &self,
        function: &Function,
        encoding: Encoding,
    ) -> Result<Wire, EvaluateError> {
        let value = Value::Function(function.clone());
        match self.scan(&value) {
            (true, true) => Ok(secret(wire::unknown(), encoding)),
            (true, false) => Ok(wire::unknown()),
            (false, _) => {
                let known = value.evaluate(self)?;
                self.encode(&known, encoding)
            }
        }
    }
}

/// A lookup's wire value.
fn from_lookup(lookup: Lookup, encoding: Encoding) -> Wire {
    match lookup {
        Lookup::Found(w) if encoding.secrets => w,
        Lookup::Found(w) => reveal(w),
        Lookup::Unknown { secret: true } => secret(wire::unknown(), encoding),
        Lookup::Unknown { secret: false } | Lookup::Absent => wire::unknown(),
    }
}

/// `value` as a secret, in the form this monitor accepts.
fn secret(value: Wire, encoding: Encoding) -> Wire {
    if wire::secret_inner(&value).is_some() {
        return value;
    }
    let unknown =
        matches!(&value.kind, Some(prost_types::value::Kind::StringValue(s)) if s == wire::UNKNOWN);
    match (unknown, encoding) {
        (
            true,
            Encoding {
                output_values: true,
                ..
            },
        ) => wire::unknown_secret_output(),
        (_, Encoding { secrets: true, .. }) => wire::secret(value),
        _ => value,
    }
}

/// `value` without secret markers, for a monitor that does not accept them.
fn reveal(value: Wire) -> Wire {
    use prost_types::value::Kind;
    if let Some(inner) = wire::secret_inner(&value) {
        return reveal(inner.clone());
    }
    match value.kind {
        Some(Kind::ListValue(l)) => wire::list(l.values.into_iter().map(reveal).collect()),
        Some(Kind::StructValue(s)) => {
            wire::object(s.fields.into_iter().map(|(k, v)| (k, reveal(v))))
        }
        kind => Wire { kind },
    }
}

impl Resolver for Outputs<'_> {
    fn output(&self, output: &OutputRef) -> Option<Value> {
        match Outputs::output(self, output) {
            Lookup::Found(w) if !wire::contains_unknown(&w) => Some(wire::to_value(&w)),
            _ => None,
        }
    }

    fn invoke(&self, invoke: &Invoke) -> Option<Value> {
        match Outputs::invoke(self, invoke) {
            Lookup::Found(w) if !wire::contains_unknown(&w) => Some(wire::to_value(&w)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const ALL: Encoding = Encoding {
        resource_references: true,
        secrets: true,
        output_values: true,
    };

    fn account() -> ResourceId {
        ResourceId::new("gcp:serviceaccount/account:Account", "sa")
    }

    fn outputs_with(id: &str, email: Option<Wire>) -> HashMap<ResourceId, Registered> {
        let mut fields = BTreeMap::new();
        if let Some(email) = email {
            fields.insert("email".to_owned(), email);
        }
        fields.insert("key".to_owned(), wire::secret(wire::string("k")));
        HashMap::from([(
            account(),
            Registered {
                urn: "urn:pulumi:test::cpg::gcp:serviceaccount/account:Account::sa".into(),
                id: id.into(),
                object: Struct { fields },
            },
        )])
    }

    fn json(w: &Wire) -> serde_json::Value {
        wire::to_json(w)
    }

    #[test]
    fn functions_of_known_outputs_are_evaluated() {
        let resources = outputs_with("sa-id", Some(wire::string("sa@p.iam")));
        let invokes = HashMap::new();
        let outputs = Outputs {
            resources: &resources,
            invokes: &invokes,
            dry_run: false,
            asset_root: None,
        };
        let member = Value::concat([
            Value::from("serviceAccount:"),
            Value::output(&account(), "email"),
        ]);
        assert_eq!(
            json(&outputs.encode(&member, ALL).expect("encodes")),
            serde_json::json!("serviceAccount:sa@p.iam")
        );
        let keyed = Value::concat([Value::from("k="), Value::output(&account(), "key")]);
        assert_eq!(
            json(&outputs.encode(&keyed, ALL).expect("encodes")),
            serde_json::json!({"$secret": "k=k"})
        );
        assert_eq!(
            json(
                &outputs
                    .encode(&Value::output(&account(), "id"), ALL)
                    .expect("id")
            ),
            serde_json::json!("sa-id")
        );
    }

    #[test]
    fn preview_unknowns_spread_to_everything_computed_from_them() {
        let resources = outputs_with("", None);
        let invokes = HashMap::new();
        let outputs = Outputs {
            resources: &resources,
            invokes: &invokes,
            dry_run: true,
            asset_root: None,
        };
        let email = Value::output(&account(), "email");
        let member = Value::concat([Value::from("serviceAccount:"), email.clone()]);
        let list = Value::List(vec![Value::from("known"), member.clone()]);
        assert_eq!(
            json(&outputs.encode(&list, ALL).expect("encodes")),
            serde_json::json!(["known", "$unknown"])
        );
        assert_eq!(
            json(
                &outputs
                    .encode(&Value::output(&account(), "id"), ALL)
                    .expect("id")
            ),
            serde_json::json!("$unknown")
        );
        // An unknown computed with a secret stays secret.
        let both = Value::concat([Value::output(&account(), "key"), email]);
        assert_eq!(
            json(&outputs.encode(&both, ALL).expect("encodes")),
            serde_json::json!({"$outputValue": {"secret": true}})
        );
        let plain_monitor = Encoding {
            resource_references: true,
            secrets: true,
            output_values: false,
        };
        assert_eq!(
            json(&outputs.encode(&both, plain_monitor).expect("encodes")),
            serde_json::json!({"$secret": "$unknown"})
        );
    }

    #[test]
    fn absent_outputs_are_null_in_an_update() {
        let resources = outputs_with("sa-id", None);
        let invokes = HashMap::new();
        let outputs = Outputs {
            resources: &resources,
            invokes: &invokes,
            dry_run: false,
            asset_root: None,
        };
        assert_eq!(
            outputs
                .encode(&Value::output(&account(), "email"), ALL)
                .expect("encodes"),
            wire::null()
        );
        let error = outputs
            .encode(
                &Value::concat([Value::from("x"), Value::output(&account(), "email")]),
                ALL,
            )
            .expect_err("null is not a string");
        assert_eq!(error.to_string(), "concat expects strings, got null");
    }

    #[test]
    fn secrets_are_plain_for_a_monitor_without_secrets() {
        let resources = outputs_with("sa-id", None);
        let invokes = HashMap::new();
        let outputs = Outputs {
            resources: &resources,
            invokes: &invokes,
            dry_run: false,
            asset_root: None,
        };
        let none = Encoding {
            resource_references: true,
            secrets: false,
            output_values: false,
        };
        let value = Value::map([
            ("declared", Value::from("s").secret()),
            ("output", Value::output(&account(), "key")),
        ]);
        assert_eq!(
            json(&outputs.encode(&value, none).expect("encodes")),
            serde_json::json!({"declared": "s", "output": "k"})
        );
        assert_eq!(
            json(&outputs.encode(&value, ALL).expect("encodes")),
            serde_json::json!({"declared": {"$secret": "s"}, "output": {"$secret": "k"}})
        );
    }

    #[test]
    fn a_stack_references_secret_output_names_make_its_exports_secret() {
        let reference = ResourceId::new(STACK_REFERENCE_TYPE, "org/cpg/p");
        let exported = wire::object([
            ("plain".to_owned(), wire::string("a")),
            ("listed".to_owned(), wire::string("b")),
            ("marked".to_owned(), wire::secret(wire::string("c"))),
            ("later".to_owned(), wire::unknown()),
        ]);
        let object = Struct {
            fields: BTreeMap::from([
                ("name".to_owned(), wire::string("org/cpg/p")),
                ("outputs".to_owned(), exported),
                (
                    "secretOutputNames".to_owned(),
                    wire::list(vec![wire::string("listed"), wire::string("later")]),
                ),
            ]),
        };
        let resources = HashMap::from([(
            reference.clone(),
            Registered {
                urn: "urn:pulumi:s::cpg::pulumi:pulumi:StackReference::org/cpg/p".into(),
                id: "org/cpg/p".into(),
                object,
            },
        )]);
        let invokes = HashMap::new();
        let encode = |dry_run: bool, export: &str| {
            let outputs = Outputs {
                resources: &resources,
                invokes: &invokes,
                dry_run,
                asset_root: None,
            };
            let value = Value::output(&reference, format!("outputs.{export}"));
            (
                json(&outputs.encode(&value, ALL).expect("encodes")),
                outputs.missing_export(&value),
            )
        };
        assert_eq!(encode(false, "plain"), (serde_json::json!("a"), None));
        assert_eq!(
            encode(false, "listed"),
            (serde_json::json!({"$secret": "b"}), None)
        );
        assert_eq!(
            encode(false, "marked"),
            (serde_json::json!({"$secret": "c"}), None)
        );
        assert_eq!(
            encode(true, "later"),
            (serde_json::json!({"$outputValue": {"secret": true}}), None)
        );
        assert_eq!(
            encode(true, "absent"),
            (serde_json::json!("$unknown"), None)
        );
        assert_eq!(
            encode(false, "absent").1,
            Some(MissingExport {
                reference: reference.clone(),
                stack: "org/cpg/p".into(),
                export: "absent".into(),
            })
        );
        // Other resources' `outputs` properties are plain properties.
        assert_eq!(export_name("outputs.a.b"), Some("a"));
        assert_eq!(export_name("outputsX"), None);
    }

    #[test]
    fn invokes_resolve_by_token_and_arguments() {
        let resources = HashMap::new();
        let invoke = Invoke {
            token: "gcp:organizations/getOrganization:getOrganization".into(),
            args: BTreeMap::from([("domain".to_owned(), Value::from("example.org"))]),
            property: "orgId".into(),
        };
        let mut other = invoke.clone();
        other.args.insert("domain".into(), Value::from("other.org"));
        let invokes = HashMap::from([(
            invoke_key(&invoke),
            InvokeResult::Known(Struct {
                fields: BTreeMap::from([("orgId".to_owned(), wire::string("123"))]),
            }),
        )]);
        let outputs = Outputs {
            resources: &resources,
            invokes: &invokes,
            dry_run: false,
            asset_root: None,
        };
        let role = Value::concat([
            Value::from("organizations/"),
            Value::Invoke(invoke),
            Value::from("/roles/x"),
        ]);
        assert_eq!(
            json(&outputs.encode(&role, ALL).expect("encodes")),
            serde_json::json!("organizations/123/roles/x")
        );
        assert_eq!(
            json(&outputs.encode(&Value::Invoke(other), ALL).expect("encodes")),
            serde_json::json!("$unknown")
        );
    }
}
