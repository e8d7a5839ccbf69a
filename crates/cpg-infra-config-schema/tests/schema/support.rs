//! Config files as JSON, through the loader's own parsers.

use std::path::{Path, PathBuf};

use cpg_infra::config::source::{Node, NodeValue, parse_toml, parse_yaml};
use cpg_infra_config_schema::ConfigFile;
use serde_json::Value as Json;

pub use cpg_infra_reference::reference_dir;

/// The example config directory.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy/config")
}

/// A parsed tree as JSON (TOML dates as their text).
pub fn to_json(node: &Node) -> Json {
    match &node.value {
        NodeValue::Null => Json::Null,
        NodeValue::Bool(b) => Json::Bool(*b),
        NodeValue::Int(n) => Json::from(*n),
        NodeValue::Float(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
        NodeValue::Str(s) | NodeValue::Datetime(s) => Json::String(s.clone()),
        NodeValue::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        NodeValue::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, value)| (key.name.clone(), to_json(value)))
                .collect(),
        ),
    }
}

/// Every config file under `dir`, with its kind and its contents as JSON.
pub fn config_files(dir: &Path) -> Vec<(PathBuf, ConfigFile, Json)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&current)
            .unwrap_or_else(|e| panic!("{}: {e}", current.display()))
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Some(kind) = ConfigFile::from_file_name(name) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).expect("read");
            let node = if name.ends_with(".toml") {
                parse_toml(&text)
            } else {
                parse_yaml(&text)
            }
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            found.push((path, kind, to_json(&node)));
        }
    }
    found
}

/// A compiled validator for `file`.
pub fn validator(file: ConfigFile) -> jsonschema::Validator {
    jsonschema::draft202012::new(&file.schema()).expect("the schema compiles")
}
