//! The `toml` function over [`Value`]s: a known map taken as the Python dict the
//! reference would have held, merged over the texts and rendered by
//! [`python::toml`](crate::python::toml).

#[cfg(test)]
mod layout;

use std::collections::BTreeMap;

use crate::graph::{EvaluateError, Value};
use crate::python::toml::{TomlError, dict_to_toml, merged};
use crate::python::{Dict, Py};

impl From<TomlError> for EvaluateError {
    fn from(error: TomlError) -> Self {
        match error {
            TomlError::Invalid { index, message } => EvaluateError::InvalidToml { index, message },
            TomlError::Unsupported(reason) => EvaluateError::UnsupportedToml { reason },
        }
    }
}

/// The TOML text of `value` merged over the parsed `merge` texts.
pub(super) fn render(
    value: &BTreeMap<String, Value>,
    merge: &[String],
) -> Result<String, EvaluateError> {
    let mut config = merged(merge)?;
    config.update(dict_from_map(value)?);
    Ok(dict_to_toml(&config)?)
}

/// A map's keys in descending order: a [`Value::Map`] does not keep the order
/// its entries were added in, and the reference's dicts are never already in
/// sorted order (`default`, `web`, `analysis`, …), so none counts as sorted.
fn dict_from_map(map: &BTreeMap<String, Value>) -> Result<Dict, EvaluateError> {
    map.iter()
        .rev()
        .map(|(key, value)| Ok((key.clone(), py_from_value(value)?)))
        .collect::<Result<_, _>>()
        .map(Dict)
}

/// A known value as Python gets it; a secret as its value.
fn py_from_value(value: &Value) -> Result<Py, EvaluateError> {
    let unsupported = |reason: &str| EvaluateError::UnsupportedToml {
        reason: reason.to_owned(),
    };
    Ok(match value {
        Value::Null => Py::None,
        Value::Bool(b) => Py::Bool(*b),
        Value::Int(n) => Py::Int(*n),
        Value::Float(x) => Py::Float(*x),
        Value::String(s) => Py::Str(s.clone()),
        Value::List(items) => Py::List(items.iter().map(py_from_value).collect::<Result<_, _>>()?),
        Value::Map(entries) => Py::Dict(dict_from_map(entries)?),
        Value::Secret(inner) => py_from_value(inner)?,
        Value::Output(_) | Value::Invoke(_) | Value::Function(_) => {
            return Err(unsupported("a value that is not known"));
        }
        Value::Asset(_) | Value::Archive(_) => return Err(unsupported("an asset or archive")),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::testing::{Known, bucket, text, text_error, toml};
    use crate::graph::{EvaluateError, Function, OutputRef, Value};

    // --- Against strings from Python 3.11 with toml 0.10.2, toml-sort 0.25.0 and
    // cpg-utils 5.8.1.

    #[test]
    fn toml_merges_two_dependency_configs() {
        // Two dependencies' configs (their own rendering), merged in order, then the
        // value over them: nested tables merge, later values win.
        let first = "[images]\nbase = \"v1\"\n\n[storage.common]\ndefault = \"gs://common\"\n\n\
[storage.common.test]\ndefault = \"gs://common-test\"\n\n[storage.default]\ndefault = \"gs://common\"\n";
        let second = "[images]\nbase = \"v2\"\nextra = [1, 2]\n\n[storage.default]\ndefault = \"gs://dep\"\n\n\
[storage.default.test]\ndefault = \"gs://dep-test\"\n\n[storage.dep]\ndefault = \"gs://dep\"\n";
        let value = Value::map([(
            "storage",
            Value::map([
                ("default", Value::map([("default", Value::from("gs://me"))])),
                ("me", Value::map([("default", Value::from("gs://me"))])),
            ]),
        )]);
        let expected = "[images]\nbase = \"v2\"\nextra = [1, 2]\n\n[storage.common]\n\
default = \"gs://common\"\n\n[storage.default]\ndefault = \"gs://me\"\n\n[storage.dep]\n\
default = \"gs://dep\"\n\n[storage.me]\ndefault = \"gs://me\"\n\n[storage.common.test]\n\
default = \"gs://common-test\"\n\n[storage.default.test]\ndefault = \"gs://dep-test\"\n";
        assert_eq!(text(toml(value, &[first, second])), expected);
    }

    #[test]
    fn toml_edge_cases() {
        // dict_to_toml({}) is a lone newline.
        assert_eq!(text(toml(Value::map::<&str>([]), &[])), "\n");
        // toml.loads reads `-0.0` as `0.0`; a value's own -0.0 stays.
        let value = Value::map([("own", Value::Float(-0.0))]);
        assert_eq!(
            text(toml(value, &["merged = -0.0\n"])),
            "merged = 0.0\nown = -0.0\n"
        );
    }

    // --- The real case: the storage-only reference's config objects.

    fn reference_contents() -> BTreeMap<String, String> {
        cpg_infra_testdata::read("storage-only")["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter(|r| r["type"] == "gcp:storage/bucketObject:BucketObject")
            .filter_map(|r| {
                let content = r["inputs"]["content"]["$secret"].as_str()?;
                Some((r["name"].as_str()?.to_owned(), content.to_owned()))
            })
            .collect()
    }

    /// The bucket paths of a namespace, as outputs of the buckets.
    fn bucket_paths(dataset: &str, namespace: &str) -> Vec<(String, Value)> {
        ["default", "web", "analysis", "tmp", "upload"]
            .into_iter()
            .map(|category| {
                let suffix = if category == "default" {
                    String::new()
                } else {
                    format!("-{category}")
                };
                let id = bucket(&format!("{dataset}-{namespace}{suffix}"));
                (category.to_owned(), Value::output(&id, "url"))
            })
            .collect()
    }

    /// Resolves each bucket's `url` to `gs://cpg-<name>`.
    fn bucket_resolver(datasets: &[&str]) -> Known {
        let mut known = Known::default();
        for dataset in datasets {
            for namespace in ["main", "test"] {
                for (_, path) in bucket_paths(dataset, namespace) {
                    let Value::Output(output) = path else {
                        continue;
                    };
                    let url = format!("gs://cpg-{}", output.resource.name);
                    known.outputs.push((output, Value::from(url)));
                }
            }
        }
        known
    }

    /// The storage config of a namespace, as the storage driver declares it.
    fn storage_config(
        dataset: &str,
        namespace: &str,
        setup_test: bool,
        merge: Vec<Value>,
    ) -> Value {
        let mut buckets = Value::map(bucket_paths(dataset, namespace));
        if namespace == "main"
            && setup_test
            && let Value::Map(entries) = &mut buckets
        {
            entries.insert("test".into(), Value::map(bucket_paths(dataset, "test")));
        }
        Value::Function(Function::Toml {
            value: Box::new(Value::map([(
                "storage",
                Value::map([("default", buckets.clone()), (dataset, buckets)]),
            )])),
            merge,
        })
    }

    #[test]
    fn storage_configs_match_the_reference() {
        let reference = reference_contents();
        let resolver = bucket_resolver(&["common", "fewgenomes", "validation"]);
        let check = |name: &str, config: &Value| {
            let evaluated = config.evaluate(&resolver).expect("evaluates");
            assert_eq!(
                evaluated.as_str(),
                Some(reference[name].as_str()),
                "{name} differs from the reference"
            );
        };
        // common: no dependencies.
        let common_main = storage_config("common", "main", true, vec![]);
        let common_test = storage_config("common", "test", true, vec![]);
        check("storage-config-gcp-common-main", &common_main);
        check("storage-config-gcp-common-test", &common_test);
        // fewgenomes: merges common's config (still unevaluated) per namespace.
        let fewgenomes_main = storage_config("fewgenomes", "main", true, vec![common_main.clone()]);
        let fewgenomes_test = storage_config("fewgenomes", "test", true, vec![common_test]);
        check("storage-config-gcp-fewgenomes-main", &fewgenomes_main);
        check("storage-config-gcp-fewgenomes-test", &fewgenomes_test);
        // validation: depends on fewgenomes, no test namespace; merges its sorted
        // dependencies' configs (common, fewgenomes).
        let validation_main = storage_config(
            "validation",
            "main",
            false,
            vec![common_main, fewgenomes_main],
        );
        check("storage-config-gcp-validation-main", &validation_main);
        assert!(!reference.contains_key("storage-config-gcp-validation-test"));
    }

    #[test]
    fn infrastructure_config_matches_the_reference() {
        let reference = reference_contents();
        let cache = bucket("members-group-cache");
        let mut resolver = Known::default();
        resolver.outputs.push((
            OutputRef {
                resource: cache.clone(),
                property: "url".into(),
            },
            Value::from("gs://cpg-members-group-cache"),
        ));
        let config = toml(
            Value::map([(
                "infrastructure",
                Value::map([("members_cache_location", Value::output(&cache, "url"))]),
            )]),
            &[],
        );
        let evaluated = config.evaluate(&resolver).expect("evaluates");
        assert_eq!(
            evaluated.as_str(),
            Some(reference["infrastructure-config"].as_str())
        );
    }

    // --- What the reference cannot render, or this emulation does not cover.

    #[test]
    fn unsupported_toml_values() {
        let cases = [
            // An array of tables.
            Value::map([("a", Value::List(vec![Value::map([("x", Value::Int(1))])]))]),
            // Python's toml.dumps raises on a string starting with a control character.
            Value::map([("a", Value::from("\u{1}x"))]),
            // …and writes `"a\x"` for `a\x`, which toml-sort cannot read.
            Value::map([("a", Value::from("a\\x"))]),
            // A key with a final newline is written bare.
            Value::map([("a\n", Value::Int(1))]),
        ];
        for value in cases {
            let error = text_error(toml(value.clone(), &[]));
            assert!(
                matches!(error, EvaluateError::UnsupportedToml { .. }),
                "{value:?}: {error:?}"
            );
        }
        let datetime = text_error(toml(Value::map::<&str>([]), &["a = 1979-05-27\n"]));
        assert!(matches!(datetime, EvaluateError::UnsupportedToml { .. }));
    }
}
