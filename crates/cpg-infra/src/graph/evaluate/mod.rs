//! Evaluating a [`Value`] once the deploy-time values it refers to are known.
//!
//! A [`Resolver`] supplies other resources' outputs and data-source results;
//! [`Value::evaluate`] substitutes them and computes every [`Function`] the way the
//! Python reference (`cpg-infrastructure`) computed it, byte for byte where the
//! graph carries enough information (see each function below).
//!
//! Secrets stay secrets: a [`Value::Secret`] evaluates to a secret around its
//! evaluated value, and a function applied to anything secret gives a secret result
//! (as Pulumi's `apply` does).
//!
//! The renderings the functions share with the reference are Python's, and live
//! in [`python`](crate::python); [`json`] and [`toml`] take a [`Value`] to them.
//! This module resolves values and dispatches over the functions.

mod json;
mod members;
#[cfg(test)]
mod testing;
mod toml;

pub(crate) use json::dumps_object as json_dumps_object;
pub use members::sort_members;

use super::resource::ResourceId;
use super::value::{Function, Invoke, OutputRef, Value};
use crate::python::base64::{self, Base64Error};

/// `value` as Python's `json.dumps` writes it with its default arguments (what a
/// `$json` of a known value evaluates to): `", "` and `": "` separators, non-ASCII
/// escaped, map keys in the map's (sorted) order.
pub fn python_json_dumps(value: &Value) -> String {
    json::dumps(value)
}

/// Supplies the values known only at deploy time.
pub trait Resolver {
    /// The value of another resource's output property, or `None` while it is not
    /// known. The value returned must itself be known (no outputs, invokes or
    /// functions inside); it is used as is.
    fn output(&self, output: &OutputRef) -> Option<Value>;

    /// The used property of a data source's result, or `None` while it is not known.
    /// `invoke` is as declared: its arguments may themselves be unknown values. The
    /// value returned must be known; it is used as is.
    fn invoke(&self, invoke: &Invoke) -> Option<Value>;
}

/// Why a value could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluateError {
    /// The resolver does not know a resource's output.
    #[error("output {property:?} of {resource} is not known")]
    UnresolvedOutput {
        /// The resource.
        resource: ResourceId,
        /// The property path.
        property: String,
    },
    /// The resolver does not know a data source's result.
    #[error("property {property:?} of data source {token} is not known")]
    UnresolvedInvoke {
        /// The data source's token.
        token: String,
        /// The property of its result.
        property: String,
    },
    /// A function was applied to a value of the wrong kind.
    #[error("{function} expects {expected}, got {found}")]
    WrongArgument {
        /// The function, as the plan names it (`concat`, `toml`, …).
        function: &'static str,
        /// What it expects.
        expected: &'static str,
        /// What it got.
        found: &'static str,
    },
    /// `base64decode` got text that is not base64 (as Python's `base64.b64decode`
    /// judges it).
    #[error("base64decode: {reason}")]
    InvalidBase64 {
        /// Python's reason.
        reason: String,
    },
    /// `base64decode` decoded bytes that are not UTF-8.
    #[error("base64decode: the decoded bytes are not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// The length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// A TOML text to merge cannot be parsed.
    #[error("toml: merge input {index} is not valid TOML: {message}")]
    InvalidToml {
        /// The input's position in `merge`.
        index: usize,
        /// The parser's message.
        message: String,
    },
    /// A value the reference's TOML rendering cannot render either (it raises or
    /// writes TOML it cannot read back), or one this emulation does not cover.
    #[error("toml: cannot render {reason}")]
    UnsupportedToml {
        /// What cannot be rendered.
        reason: String,
    },
}

impl From<Base64Error> for EvaluateError {
    fn from(error: Base64Error) -> Self {
        match error {
            Base64Error::Invalid(reason) => EvaluateError::InvalidBase64 { reason },
            Base64Error::NotUtf8 { valid_up_to } => EvaluateError::NotUtf8 { valid_up_to },
        }
    }
}

impl Value {
    /// This value with every output and invoke replaced by the resolver's value and
    /// every function computed: a known value (see [`Value::is_known`]).
    ///
    /// - `concat`: the parts joined; every part must be a string (the reference's
    ///   `"".join` accepts nothing else).
    /// - `json`: Python's `json.dumps(v)` with its defaults (`", "`, `": "`,
    ///   `ensure_ascii`, `NaN`/`Infinity`, floats as `repr`); map keys come in the
    ///   map's (sorted) order, where the reference used its dict's insertion order.
    /// - `toml`: the merge texts parsed and deep-merged in order
    ///   (`cpg_utils.config.update_dict`), `value` deep-merged over them, then
    ///   rendered as the reference's `dict_to_toml` does
    ///   (`TomlSort(toml.dumps(d)).sorted()`, toml 0.10.2 and toml-sort 0.25.0).
    ///   The layout depends on the dicts' insertion order, which a [`Value::Map`]
    ///   does not keep: its keys are taken in descending order (so no table counts as
    ///   already sorted, as with the reference's own dicts); merge texts keep their
    ///   textual order exactly. Merge texts are read as TOML 1.1 (toml 0.10.2's
    ///   misreadings of escapes in quoted header keys are not reproduced); arrays of
    ///   tables, date-times and integers beyond 64 bits are
    ///   [`EvaluateError::UnsupportedToml`], as are strings the reference cannot
    ///   write either. Unassigned code points, which Python's `repr` escapes, are
    ///   written as they are.
    /// - `base64decode`: Python's lenient `base64.b64decode`, then strict UTF-8.
    /// - `sortedmembers`: [`sort_members`] of the ids, which must be strings.
    /// - `sorted`: the strings sorted by code point (Python's `sorted` of `str`),
    ///   duplicates kept.
    /// - `lines`: a list of strings joined by newlines; `"\n"` when that is empty.
    pub fn evaluate(&self, resolver: &dyn Resolver) -> Result<Value, EvaluateError> {
        Ok(match self {
            Value::Secret(inner) => match inner.evaluate(resolver)? {
                secret @ Value::Secret(_) => secret,
                plain => plain.secret(),
            },
            Value::Output(output) => {
                resolver
                    .output(output)
                    .ok_or_else(|| EvaluateError::UnresolvedOutput {
                        resource: output.resource.clone(),
                        property: output.property.clone(),
                    })?
            }
            Value::Invoke(invoke) => {
                resolver
                    .invoke(invoke)
                    .ok_or_else(|| EvaluateError::UnresolvedInvoke {
                        token: invoke.token.clone(),
                        property: invoke.property.clone(),
                    })?
            }
            Value::Function(function) => function.evaluate(resolver)?,
            // Plain data as it is; lists and maps with their values evaluated.
            _ => self.try_map_children(|child| child.evaluate(resolver))?,
        })
    }
}

impl Function {
    /// The function's result; secret when any argument holds a secret.
    fn evaluate(&self, resolver: &dyn Resolver) -> Result<Value, EvaluateError> {
        let mut secret = false;
        let mut known = |value: &Value| -> Result<Value, EvaluateError> {
            Ok(reveal(&value.evaluate(resolver)?, &mut secret))
        };
        let result =
            match self {
                Function::Concat(parts) => {
                    let mut joined = String::new();
                    for part in parts {
                        joined.push_str(&expect_string("concat", "strings", known(part)?)?);
                    }
                    Value::String(joined)
                }
                Function::Json(value) => Value::String(json::dumps(&known(value)?)),
                Function::Toml { value, merge } => {
                    let value = match known(value)? {
                        Value::Map(value) => value,
                        other => return Err(wrong("toml", "a map", &other)),
                    };
                    let texts = merge
                        .iter()
                        .map(|text| expect_string("toml", "TOML texts to merge", known(text)?))
                        .collect::<Result<Vec<_>, _>>()?;
                    Value::String(toml::render(&value, &texts)?)
                }
                Function::Base64Decode(value) => Value::String(base64::decode_utf8(
                    &expect_string("base64decode", "a string", known(value)?)?,
                )?),
                Function::SortedMembers(members) => {
                    let ids = members
                        .iter()
                        .map(|id| expect_string("sortedmembers", "member ids", known(id)?))
                        .collect::<Result<Vec<_>, _>>()?;
                    Value::strings(sort_members(ids.iter().map(String::as_str)))
                }
                Function::Sorted(items) => {
                    let mut strings = items
                        .iter()
                        .map(|item| expect_string("sorted", "strings", known(item)?))
                        .collect::<Result<Vec<_>, _>>()?;
                    // Byte order of UTF-8 is code-point order.
                    strings.sort();
                    Value::strings(strings)
                }
                Function::Lines(value) => {
                    let items = match known(value)? {
                        Value::List(items) => items,
                        other => return Err(wrong("lines", "a list of strings", &other)),
                    };
                    let lines = items
                        .into_iter()
                        .map(|item| expect_string("lines", "a list of strings", item))
                        .collect::<Result<Vec<_>, _>>()?;
                    let joined = lines.join("\n");
                    // The reference writes `joined or '\n'`.
                    Value::String(if joined.is_empty() {
                        "\n".to_owned()
                    } else {
                        joined
                    })
                }
            };
        Ok(if secret { result.secret() } else { result })
    }
}

/// `value` with its secrets unwrapped; sets `secret` when there was one.
fn reveal(value: &Value, secret: &mut bool) -> Value {
    match value {
        Value::Secret(inner) => {
            *secret = true;
            reveal(inner, secret)
        }
        Value::List(_) | Value::Map(_) => value.map_children(|child| reveal(child, secret)),
        other => other.clone(),
    }
}

/// The string `value` holds, or a [`EvaluateError::WrongArgument`] for `function`.
fn expect_string(
    function: &'static str,
    expected: &'static str,
    value: Value,
) -> Result<String, EvaluateError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(wrong(function, expected, &other)),
    }
}

/// `function` expected `expected` and got `found`.
fn wrong(function: &'static str, expected: &'static str, found: &Value) -> EvaluateError {
    EvaluateError::WrongArgument {
        function,
        expected,
        found: kind(found),
    }
}

/// What kind of value this is, as an error message names it.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Secret(_) => "a secret",
        Value::Output(_) => "an output",
        Value::Invoke(_) => "an invoke",
        Value::Function(_) => "a function",
        Value::Asset(_) => "an asset",
        Value::Archive(_) => "an archive",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::testing::{Known, bucket, evaluated, text, toml};
    use super::*;

    #[test]
    fn sorted_keeps_duplicates_and_case() {
        let items = Value::Function(Function::Sorted(vec![
            Value::from("notebook@x.org"),
            Value::from("bob@y.org"),
            Value::from("Zed@y.org"),
            Value::from("bob@y.org"),
            Value::from("metamist-etl@z.org"),
        ]));
        assert_eq!(
            evaluated(items),
            Value::strings([
                "Zed@y.org",
                "bob@y.org",
                "bob@y.org",
                "metamist-etl@z.org",
                "notebook@x.org"
            ])
        );
    }

    #[test]
    fn lines_and_sorted_members() {
        let members = Value::Function(Function::SortedMembers(vec![
            Value::from("B@z.org"),
            Value::from("a@y.org"),
            Value::from("A@y.org"),
            Value::from("c@a.org"),
        ]));
        assert_eq!(
            evaluated(members.clone()),
            Value::strings(["c@a.org", "a@y.org", "b@z.org"])
        );
        let lines = Value::Function(Function::Lines(Box::new(members)));
        assert_eq!(text(lines), "c@a.org\na@y.org\nb@z.org");
        let empty = Value::Function(Function::Lines(Box::new(Value::List(vec![]))));
        assert_eq!(text(empty), "\n");
        let blank = Value::Function(Function::Lines(Box::new(Value::strings([""]))));
        assert_eq!(text(blank), "\n");
    }

    #[test]
    fn outputs_invokes_and_concat_resolve() {
        let bucket = bucket("b");
        let invoke = Invoke {
            token: "gcp:organizations/getProject:getProject".into(),
            args: BTreeMap::new(),
            property: "number".into(),
        };
        let resolver = Known {
            outputs: vec![(
                OutputRef {
                    resource: bucket.clone(),
                    property: "name".into(),
                },
                Value::from("cpg-b"),
            )],
            invokes: vec![(invoke.token.clone(), "number".into(), Value::from("1234"))],
        };
        let value = Value::map([
            (
                "url",
                Value::concat([Value::from("gs://"), Value::output(&bucket, "name")]),
            ),
            ("number", Value::Invoke(invoke)),
            ("plain", Value::List(vec![Value::Int(1), Value::Null])),
        ]);
        let evaluated = value.evaluate(&resolver).expect("evaluates");
        assert!(evaluated.is_known());
        assert_eq!(
            evaluated,
            Value::map([
                ("url", Value::from("gs://cpg-b")),
                ("number", Value::from("1234")),
                ("plain", Value::List(vec![Value::Int(1), Value::Null])),
            ])
        );
    }

    #[test]
    fn secrets_stay_secret() {
        let bucket = bucket("b");
        let resolver = Known {
            outputs: vec![(
                OutputRef {
                    resource: bucket.clone(),
                    property: "key".into(),
                },
                Value::from("k").secret(),
            )],
            ..Known::default()
        };
        let concat = Value::concat([Value::from("key="), Value::output(&bucket, "key")]);
        assert_eq!(
            concat.evaluate(&resolver),
            Ok(Value::from("key=k").secret())
        );
        let wrapped = Value::from("x").secret().secret();
        assert_eq!(wrapped.evaluate(&resolver), Ok(Value::from("x").secret()));
        let in_list = Value::List(vec![Value::output(&bucket, "key")]);
        assert_eq!(
            in_list.evaluate(&resolver),
            Ok(Value::List(vec![Value::from("k").secret()]))
        );
    }

    // --- Every error.

    #[test]
    fn unresolved_output_names_resource_and_property() {
        let error = Value::output(&bucket("b"), "name")
            .evaluate(&Known::default())
            .expect_err("unknown");
        assert_eq!(
            error,
            EvaluateError::UnresolvedOutput {
                resource: bucket("b"),
                property: "name".into()
            }
        );
        assert_eq!(
            error.to_string(),
            "output \"name\" of gcp:storage/bucket:Bucket::b is not known"
        );
    }

    #[test]
    fn unresolved_invoke_names_token_and_property() {
        let invoke = Value::Invoke(Invoke {
            token: "gcp:organizations/getProject:getProject".into(),
            args: BTreeMap::new(),
            property: "number".into(),
        });
        let error = invoke.evaluate(&Known::default()).expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "property \"number\" of data source gcp:organizations/getProject:getProject is not known"
        );
    }

    #[test]
    fn wrong_arguments_name_the_function() {
        let cases = [
            (Value::concat([Value::from("a"), Value::Int(1)]), "concat"),
            (toml(Value::from("not a map"), &[]), "toml"),
            (
                Value::Function(Function::Toml {
                    value: Box::new(Value::map::<&str>([])),
                    merge: vec![Value::Int(1)],
                }),
                "toml",
            ),
            (
                Value::Function(Function::Base64Decode(Box::new(Value::Int(1)))),
                "base64decode",
            ),
            (
                Value::Function(Function::SortedMembers(vec![Value::Null])),
                "sortedmembers",
            ),
            (
                Value::Function(Function::Lines(Box::new(Value::from("x")))),
                "lines",
            ),
            (
                Value::Function(Function::Lines(Box::new(Value::List(vec![Value::Int(1)])))),
                "lines",
            ),
        ];
        for (value, function) in cases {
            match value.evaluate(&Known::default()) {
                Err(EvaluateError::WrongArgument { function: f, .. }) => assert_eq!(f, function),
                other => panic!("{function}: {other:?}"),
            }
        }
        let error = Value::concat([Value::Int(1)])
            .evaluate(&Known::default())
            .expect_err("not a string");
        assert_eq!(error.to_string(), "concat expects strings, got an integer");
    }

    #[test]
    fn base64decode_decodes_and_keeps_pythons_reasons() {
        let decode = |s: &str| {
            Value::Function(Function::Base64Decode(Box::new(Value::from(s).secret())))
                .evaluate(&Known::default())
        };
        assert_eq!(decode("w6k="), Ok(Value::from("é").secret()));
        assert_eq!(
            decode("aGVsbG8"),
            Err(EvaluateError::InvalidBase64 {
                reason: "Incorrect padding".into()
            })
        );
        assert_eq!(
            decode("//4=").map_err(|e| e.to_string()),
            Err("base64decode: the decoded bytes are not UTF-8 (valid up to byte 0)".into())
        );
    }
}
