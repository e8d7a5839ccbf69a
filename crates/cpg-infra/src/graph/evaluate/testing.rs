//! What the tests of every evaluation module share: a resolver that knows what it
//! was given, and short ways to build and evaluate functions.

use super::{EvaluateError, Resolver};
use crate::graph::{Function, Invoke, OutputRef, ResourceId, Value};

/// Knows the outputs and invokes it was given.
#[derive(Default)]
pub(super) struct Known {
    /// Each known output and its value.
    pub(super) outputs: Vec<(OutputRef, Value)>,
    /// Each known invoke, by token and property, and its value.
    pub(super) invokes: Vec<(String, String, Value)>,
}

impl Resolver for Known {
    fn output(&self, output: &OutputRef) -> Option<Value> {
        self.outputs
            .iter()
            .find(|(o, _)| o == output)
            .map(|(_, v)| v.clone())
    }

    fn invoke(&self, invoke: &Invoke) -> Option<Value> {
        self.invokes
            .iter()
            .find(|(t, p, _)| *t == invoke.token && *p == invoke.property)
            .map(|(_, _, v)| v.clone())
    }
}

/// The `toml` function of `value` over the `merge` texts.
pub(super) fn toml(value: Value, merge: &[&str]) -> Value {
    Value::Function(Function::Toml {
        value: Box::new(value),
        merge: merge.iter().map(|t| Value::from(*t)).collect(),
    })
}

/// `value` evaluated without any outputs or invokes known; panics on an error.
pub(super) fn evaluated(value: Value) -> Value {
    value.evaluate(&Known::default()).expect("evaluates")
}

/// The string `value` evaluates to; panics on an error or anything but a string.
pub(super) fn text(value: Value) -> String {
    match evaluated(value) {
        Value::String(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

/// A bucket's resource id.
pub(super) fn bucket(id: &str) -> ResourceId {
    ResourceId::new("gcp:storage/bucket:Bucket", id)
}

/// The error `value` gives when evaluated without any outputs or invokes known.
pub(super) fn text_error(value: Value) -> EvaluateError {
    value.evaluate(&Known::default()).expect_err("fails")
}
