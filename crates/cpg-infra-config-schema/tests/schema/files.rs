//! Every config the suite knows is accepted; a mutated document is rejected by the
//! schema exactly when the loader's decoding rejects it.

use std::path::{Path, PathBuf};

use cpg_infra::config::{Problem, load_dir};
use cpg_infra::synthetic::{synthetic_config, write_config_dir};
use cpg_infra_config_schema::ConfigFile;
use proptest::prelude::*;
use serde_json::{Value as Json, json};

use super::support::{config_files, example_dir, reference_dir, validator};

/// A fresh temporary directory, removed when dropped (also when a test fails).
fn temp_dir(label: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("cpg-schema-{label}-"))
        .tempdir()
        .expect("temporary directory")
}

/// The schema's errors for every config file under `dir`.
fn schema_errors(dir: &Path) -> Vec<String> {
    let files = config_files(dir);
    assert!(!files.is_empty(), "{} has no config files", dir.display());
    files
        .iter()
        .flat_map(|(path, kind, json)| {
            validator(*kind)
                .iter_errors(json)
                .map(|e| format!("{}: {} at {}", path.display(), e, e.instance_path()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_example_config_is_accepted() {
    assert_eq!(schema_errors(&example_dir()), Vec::<String>::new());
}

#[test]
fn every_reference_config_is_accepted() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(reference_dir())
        .expect("the reference configs (CPG_INFRA_REFERENCE)")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 3, "{dirs:?}");
    for dir in dirs {
        assert_eq!(
            schema_errors(&dir),
            Vec::<String>::new(),
            "{}",
            dir.display()
        );
    }
}

#[test]
fn generated_configs_are_accepted() {
    for seed in [1, 7, 42] {
        let temp = temp_dir("generated");
        let dir = temp.path();
        write_config_dir(&synthetic_config(8, seed), dir).expect("write");
        let errors = schema_errors(dir);
        assert_eq!(errors, Vec::<String>::new(), "seed {seed}");
    }
}

/// One change to one document.
#[derive(Debug, Clone)]
enum Mutation {
    /// A key no type has, in the n-th object.
    UnknownKey(usize),
    /// The n-th scalar or list replaced by a map.
    MapForValue(usize),
    /// The n-th string replaced by a name of no closed set.
    BadName(usize),
    /// The n-th string replaced by a number.
    NumberForString(usize),
    /// The n-th number replaced by a string.
    StringForNumber(usize),
    /// The n-th boolean replaced by a string.
    StringForBool(usize),
    /// The n-th key of any object removed.
    RemoveKey(usize),
}

/// Every node of `json`, depth first, with a path to reach it.
fn paths(json: &Json, at: &mut Vec<Vec<String>>, here: Vec<String>) {
    at.push(here.clone());
    match json {
        Json::Object(entries) => {
            for (key, value) in entries {
                let mut next = here.clone();
                next.push(key.clone());
                paths(value, at, next);
            }
        }
        Json::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                let mut next = here.clone();
                next.push(i.to_string());
                paths(value, at, next);
            }
        }
        _ => {}
    }
}

fn node<'a>(json: &'a mut Json, path: &[String]) -> &'a mut Json {
    path.iter().fold(json, |node, step| match node {
        Json::Object(entries) => entries.get_mut(step).expect("key"),
        Json::Array(items) => &mut items[step.parse::<usize>().expect("index")],
        _ => unreachable!("paths only lead into containers"),
    })
}

/// A change to a whole document; false when it cannot be made.
type DocumentEdit<'a> = dyn Fn(&mut Json) -> bool + 'a;
/// Which nodes a mutation may change.
type Filter = dyn Fn(&Json) -> bool;
/// How it changes one.
type Edit<'a> = dyn Fn(&mut Json) + 'a;

/// Applies `mutation` to `json`; false when the document has no node of that kind.
fn mutate(json: &mut Json, mutation: &Mutation) -> bool {
    let mut all = Vec::new();
    paths(json, &mut all, Vec::new());
    let pick = |filter: &dyn Fn(&Json) -> bool, n: usize, json: &Json| -> Option<Vec<String>> {
        let matching: Vec<&Vec<String>> = all
            .iter()
            .filter(|p| filter(node(&mut json.clone(), p)))
            .collect();
        (!matching.is_empty()).then(|| matching[n % matching.len()].clone())
    };
    let (filter, n, replace): (&Filter, usize, Box<Edit<'_>>) = match mutation {
        Mutation::UnknownKey(n) => (
            &|j| j.is_object(),
            *n,
            Box::new(|j| {
                j.as_object_mut()
                    .map(|o| o.insert("zz_not_a_key".into(), json!(1)));
            }),
        ),
        Mutation::MapForValue(n) => (&|j| !j.is_object(), *n, Box::new(|j| *j = json!({"zz": 1}))),
        Mutation::BadName(n) => (
            &Json::is_string,
            *n,
            Box::new(|j| *j = json!("zz-no-such-name")),
        ),
        Mutation::NumberForString(n) => (&Json::is_string, *n, Box::new(|j| *j = json!(7))),
        Mutation::StringForNumber(n) => (&Json::is_number, *n, Box::new(|j| *j = json!("7"))),
        Mutation::StringForBool(n) => (&Json::is_boolean, *n, Box::new(|j| *j = json!("yes"))),
        Mutation::RemoveKey(n) => (
            &|j| j.as_object().is_some_and(|o| !o.is_empty()),
            *n,
            Box::new(move |j| {
                if let Some(o) = j.as_object_mut() {
                    let keys: Vec<String> = o.keys().cloned().collect();
                    o.remove(&keys[n % keys.len()]);
                }
            }),
        ),
    };
    let Some(path) = pick(filter, n, json) else {
        return false;
    };
    replace(node(json, &path));
    true
}

/// Whether loading `dir` reports a decoding problem (as opposed to a rule of
/// validation broken by a value that decodes).
fn decoding_rejects(dir: &Path) -> bool {
    match load_dir(dir) {
        Ok(_) => false,
        Err(invalid) => invalid.diagnostics.iter().any(|d| {
            matches!(
                d.problem,
                Problem::UnknownKey { .. }
                    | Problem::WrongType { .. }
                    | Problem::InvalidValue { .. }
                    | Problem::MissingKey { .. }
                    | Problem::Invalid { .. }
            )
        }),
    }
}

/// Writes `files` (paths relative to the example directory) as a config directory:
/// each document as JSON, which YAML reads; `cpg.toml` as `config-infrastructure.yaml`.
fn write_dir(files: &[(PathBuf, ConfigFile, Json)], dir: &Path) {
    for (relative, kind, json) in files {
        let relative = if *kind == ConfigFile::CpgToml {
            PathBuf::from("config-infrastructure.yaml")
        } else {
            relative.clone()
        };
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, json.to_string()).expect("write");
    }
}

fn example_files() -> Vec<(PathBuf, ConfigFile, Json)> {
    let base = example_dir();
    config_files(&base)
        .into_iter()
        .map(|(path, kind, json)| {
            (
                path.strip_prefix(&base).expect("inside").to_path_buf(),
                kind,
                json,
            )
        })
        .collect()
}

#[test]
fn the_example_written_as_json_still_loads() {
    // The harness itself: the unmutated documents load.
    let temp = temp_dir("unmutated");
    let dir = temp.path();
    write_dir(&example_files(), dir);
    let loaded = load_dir(dir);
    assert!(loaded.is_ok(), "{loaded:?}");
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = any::<usize>();
    prop_oneof![
        n.prop_map(Mutation::UnknownKey),
        n.prop_map(Mutation::MapForValue),
        n.prop_map(Mutation::BadName),
        n.prop_map(Mutation::NumberForString),
        n.prop_map(Mutation::StringForNumber),
        n.prop_map(Mutation::StringForBool),
        n.prop_map(Mutation::RemoveKey),
    ]
}

/// Mutates one document of the example and compares the schema's verdict with the
/// loader's; returns whether they rejected it.
fn compare(file: usize, mutation: &Mutation) -> Result<Option<bool>, TestCaseError> {
    compare_with(
        file,
        &|json| mutate(json, mutation),
        &format!("{mutation:?}"),
    )
}

/// Applies `edit` to the `file`-th document of the example (`None` when it cannot)
/// and compares the verdicts.
fn compare_with(
    file: usize,
    edit: &DocumentEdit<'_>,
    mutation: &str,
) -> Result<Option<bool>, TestCaseError> {
    let mut files = example_files();
    let index = file % files.len();
    if !edit(&mut files[index].2) {
        return Ok(None);
    }
    let (path, kind, json) = files[index].clone();
    let schema_rejects = !validator(kind).is_valid(&json);
    let temp = temp_dir("mutated");
    let dir = temp.path();
    write_dir(&files, dir);
    let decoding = decoding_rejects(dir);
    let report = load_dir(dir).err().map(|i| {
        i.diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    });
    prop_assert_eq!(
        schema_rejects,
        decoding,
        "{} after {:?}: schema errors {:?}; loader {:?}",
        path.display(),
        mutation,
        validator(kind)
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect::<Vec<_>>(),
        report
    );
    Ok(Some(decoding))
}

#[test]
fn schema_rejects_exactly_what_decoding_rejects() {
    use proptest::test_runner::{Config, TestRunner};
    use std::cell::Cell;

    let (accepted, rejected) = (Cell::new(0), Cell::new(0));
    let mut runner = TestRunner::new(Config {
        cases: 128,
        ..Config::default()
    });
    runner
        .run(&(any::<usize>(), mutation()), |(file, mutation)| {
            match compare(file, &mutation)? {
                Some(true) => rejected.set(rejected.get() + 1),
                Some(false) => accepted.set(accepted.get() + 1),
                None => {}
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // Both verdicts were met, so the comparison could have failed either way.
    assert!(
        accepted.get() > 5 && rejected.get() > 5,
        "{} accepted, {} rejected",
        accepted.get(),
        rejected.get()
    );
}

/// Removing `deploy_locations` from the example's Azure-only dataset leaves a valid
/// document that breaks a rule across datasets (its dependency no longer deploys
/// where it does): a validation error, not a decoding one, so the schema rightly
/// accepts the document. The case a random run once found.
#[test]
fn a_rule_broken_by_a_removed_key_is_not_a_decoding_error() {
    let verdict = compare(
        1_434_197_625_100_602_769,
        &Mutation::RemoveKey(17_876_709_946_354_670_866),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verdict, Some(false));
}

/// The index of the first example document of `kind`.
fn index_of(kind: ConfigFile) -> usize {
    example_files()
        .iter()
        .position(|(_, k, _)| *k == kind)
        .expect("the example has one")
}

#[test]
fn unknown_keys_wrong_types_and_bad_names_are_rejected_by_both() {
    fn first_entry(json: &mut Json) -> Option<&mut serde_json::Map<String, Json>> {
        json.as_object_mut()?.values_mut().next()?.as_object_mut()
    }
    let cases: [(ConfigFile, &DocumentEdit<'_>, &str); 5] = [
        (
            ConfigFile::CpgToml,
            &|json| {
                let infrastructure = json
                    .as_object_mut()
                    .map(|o| o.contains_key("infrastructure"))
                    .unwrap_or_default();
                let target = if infrastructure {
                    &mut json["infrastructure"]
                } else {
                    json
                };
                target["budget_curency"] = json!("AUD");
                true
            },
            "a misspelt key",
        ),
        (
            ConfigFile::ProductionYaml,
            &|json| {
                first_entry(json).map(|d| d.insert("deploy_locations".into(), json!(["gcpp"])));
                true
            },
            "a cloud that does not exist",
        ),
        (
            ConfigFile::ProductionYaml,
            &|json| {
                first_entry(json).map(|d| d.insert("setup_test".into(), json!("maybe")));
                true
            },
            "a string for a boolean",
        ),
        (
            ConfigFile::BudgetsYaml,
            &|json| {
                first_entry(json).map(|b| b.insert("monthly_budget".into(), json!("100")));
                true
            },
            "a string for a number",
        ),
        (
            ConfigFile::MembersYaml,
            &|json| {
                json.as_object_mut()
                    .map(|m| m.insert("analyst".into(), json!([])));
                true
            },
            "a group that does not exist",
        ),
    ];
    for (kind, edit, label) in cases {
        let verdict = compare_with(index_of(kind), edit, label).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verdict, Some(true), "{label}");
    }
}
