//! The layouts the `toml` function writes, against texts from Python 3.11 with toml
//! 0.10.2, toml-sort 0.25.0 and cpg-utils 5.8.1: tables and sections as
//! `toml.dumps` writes them, toml-sort's pass, and merge inputs it cannot read.

use super::super::testing::{text, text_error, toml};
use crate::graph::{EvaluateError, Value};

// --- Against strings from Python 3.11 with toml 0.10.2, toml-sort 0.25.0 and
// cpg-utils 5.8.1. The Python dicts were built with their keys in descending
// order, as the evaluation takes a map's keys.

#[test]
fn toml_nested_tables_and_dotted_sections() {
    let value = Value::map([
        ("top", Value::from("level")),
        (
            "storage",
            Value::map([
                (
                    "default",
                    Value::map([
                        ("default", Value::from("gs://a-main")),
                        ("analysis", Value::from("gs://a-main-analysis")),
                        (
                            "test",
                            Value::map([
                                ("default", Value::from("gs://a-test")),
                                ("web", Value::from("gs://a-test-web")),
                            ]),
                        ),
                    ]),
                ),
                (
                    "a",
                    Value::map([
                        ("default", Value::from("gs://a-main")),
                        (
                            "test",
                            Value::map([("default", Value::from("gs://a-test"))]),
                        ),
                    ]),
                ),
            ]),
        ),
        (
            "only",
            Value::map([(
                "sub",
                Value::map([("deep", Value::map([("x", Value::Int(1))]))]),
            )]),
        ),
        ("empty", Value::map::<&str>([])),
        ("nulls", Value::map([("gone", Value::Null)])),
    ]);
    let expected = "top = \"level\"\n\n[empty]\n\n[nulls]\n\n[only.sub.deep]\nx = 1\n\n\
[storage.a]\ndefault = \"gs://a-main\"\n\n[storage.a.test]\ndefault = \"gs://a-test\"\n\n\
[storage.default]\nanalysis = \"gs://a-main-analysis\"\ndefault = \"gs://a-main\"\n\n\
[storage.default.test]\ndefault = \"gs://a-test\"\nweb = \"gs://a-test-web\"\n";
    assert_eq!(text(toml(value, &[])), expected);
}

#[test]
fn toml_scalars_quotes_unicode_and_arrays() {
    let value = Value::map([
        ("int", Value::Int(-42)),
        ("big", Value::Int(i64::MAX)),
        ("yes", Value::Bool(true)),
        ("no", Value::Bool(false)),
        ("float", Value::Float(0.1)),
        ("huge", Value::Float(1e16)),
        ("tiny", Value::Float(1e-5)),
        ("whole", Value::Float(3.0)),
        ("quote", Value::from("say \"hi\"")),
        ("apostrophe", Value::from("it's")),
        ("both", Value::from("both ' and \"")),
        ("unicode", Value::from("ünïcødé 日本 😀")),
        ("escapes", Value::from("tab\there\nnl\\")),
        (
            "list",
            Value::List(vec![
                Value::Int(1),
                Value::from("x"),
                Value::List(vec![]),
                Value::Null,
            ]),
        ),
        ("empty", Value::List(vec![])),
        ("a.b", Value::Int(1)),
        ("ü", Value::Int(2)),
        ("", Value::Int(3)),
        (
            "users",
            Value::map([
                ("alice.smith", Value::map([("id", Value::from("a@x.org"))])),
                ("bob", Value::map([("id", Value::from("b@x.org"))])),
            ]),
        ),
    ]);
    let expected = r#""" = 3
"a.b" = 1
apostrophe = "it's"
big = 9223372036854775807
both = "both ' and \""
empty = []
escapes = "tab\there\nnl\\"
float = 0.1
huge = 1e+16
int = -42
list = [1, "x", [], "None"]
no = false
quote = "say \"hi\""
tiny = 1e-5
unicode = "ünïcødé 日本 😀"
whole = 3.0
yes = true
"ü" = 2

[users."alice.smith"]
id = "a@x.org"

[users.bob]
id = "b@x.org"
"#;
    assert_eq!(text(toml(value, &[])), expected);
}

// --- Against a string from Python 3.11 with toml 0.10.2, toml-sort 0.25.0 and
// cpg-utils 5.8.1.

#[test]
fn toml_gathers_tables_merged_out_of_order() {
    // A merge input in `toml.dumps`' own, unsorted layout: tables out of order
    // are gathered, and lines of other tables between theirs move after them.
    let unsorted = "z = 1\nb = 2\n\n[y]\nk = 1\n\n[x]\nk = 2\n\n[y.q]\nv = 1\n\n[y.p]\nv = 2\n\n\
[x.r]\nv = 3\n\n[x.r.s]\nv = 4\n\n[y.q.t]\nv = 5\n";
    let value = Value::map([("w", Value::map([("k", Value::Int(9))]))]);
    let expected = "b = 2\nz = 1\n\n[w]\nk = 9\n\n[x]\nk = 2\n\n[x.r]\nv = 3\n\n[x.r.s]\n\
v = 4\n\n[y]\nk = 1\n\n[y.p]\nv = 2\n\n[y.q]\nv = 1\n\n[y.q.t]\nv = 5\n";
    assert_eq!(text(toml(value, &[unsorted])), expected);
}

#[test]
fn unparsable_merge_input() {
    let error = text_error(toml(Value::map::<&str>([]), &["a = 1\n", "[broken\n"]));
    assert!(
        matches!(error, EvaluateError::InvalidToml { index: 1, .. }),
        "{error:?}"
    );
}
