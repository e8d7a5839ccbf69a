//! The crate's layers, checked: each top-level module uses only itself and the
//! modules below it, in the order the crate docs give (the line with `→`).
//!
//! Every `crate::` and `super::` path outside test code is read; test code (a
//! `#[cfg(test)]` module, inline or in its own file) may use anything.

use std::path::{Path, PathBuf};

/// The source directory.
fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The layer order the crate docs give, bottom first: the doc line of `lib.rs`
/// that names the modules joined by `→`.
fn layers(lib: &str) -> Vec<String> {
    let line = lib
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .find(|line| line.contains('→'))
        .expect("lib.rs documents its layers on a line joined by →");
    line.split('→')
        .map(|name| name.trim().trim_matches(['`', '.']).to_owned())
        .collect()
}

/// `text` without comments and without what `#[cfg(test)]` marks: an inline
/// module (up to its closing brace at the same indentation) or one item line.
/// Returns the names of test-only modules declared in their own files too.
fn code(text: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut test_files = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            let line = line.split("//").next().unwrap_or_default();
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let Some(item) = lines.next() else { break };
        let trimmed = item.trim();
        if let Some(name) = trimmed
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(';'))
        {
            test_files.push(name.to_owned());
        } else if trimmed.ends_with('{') {
            let indent = &item[..item.len() - item.trim_start().len()];
            let end = format!("{indent}}}");
            for line in lines.by_ref() {
                if line == end {
                    break;
                }
            }
        }
    }
    (out, test_files)
}

/// The top-level module each `crate::`/`super::` path in `code` reaches, for a
/// file of module path `module` (`["graph", "evaluate"]` for
/// `graph/evaluate/mod.rs`). A grouped path (`crate::{…}`) that leaves the layer
/// is an error: the check reads one module per path.
fn reached(module: &[String], code: &str) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let joined = before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
        if joined {
            continue;
        }
        let mut rest = &code[start..];
        let mut depth = module.len();
        if let Some(after) = rest.strip_prefix("crate::") {
            depth = 0;
            rest = after;
        } else {
            while let Some(after) = rest.strip_prefix("super::") {
                depth = depth.saturating_sub(1);
                rest = after;
            }
        }
        if depth > 0 {
            continue; // within its own top-level module
        }
        if rest.starts_with('{') {
            return Err(format!(
                "a grouped path from the crate root: {}",
                &code[start..(start + 40).min(code.len())]
            ));
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        found.push(name);
    }
    Ok(found)
}

/// Every source file below `dir` that is not test-only, with its module path.
fn files(dir: &Path, module: &[String], out: &mut Vec<(Vec<String>, PathBuf)>) {
    let text = std::fs::read_to_string(dir.join("mod.rs"))
        .or_else(|_| std::fs::read_to_string(dir.join("lib.rs")))
        .unwrap_or_default();
    let (_, test_only) = code(&text);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if test_only.contains(&stem) {
            continue;
        }
        let mut child = module.to_vec();
        if path.is_dir() {
            child.push(stem);
            files(&path, &child, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            if stem != "mod" && stem != "lib" {
                child.push(stem);
            }
            out.push((child, path));
        }
    }
}

/// Each use of a module above the user's own layer: `file: module uses module`.
fn violations(layers: &[String], module: &[String], code: &str) -> Result<Vec<String>, String> {
    let Some(own) = module.first() else {
        return Ok(Vec::new());
    };
    let rank = |name: &str| layers.iter().position(|l| l == name);
    let own_rank = rank(own).ok_or_else(|| format!("module {own} is not in the layer order"))?;
    Ok(reached(module, code)?
        .into_iter()
        .filter(|target| rank(target).is_some_and(|r| r > own_rank))
        .map(|target| format!("{own} uses {target}, a layer above it"))
        .collect())
}

#[test]
fn modules_import_downward_only() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let layers = layers(&lib);
    // Every top-level module has its place in the order.
    let (lib_code, test_only) = code(&lib);
    let declared: Vec<String> = lib_code
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line
                .strip_prefix("pub ")
                .or_else(|| line.strip_prefix("pub(crate) "))
                .unwrap_or(line);
            line.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_owned)
        })
        .collect();
    let mut sorted_declared = declared.clone();
    sorted_declared.sort();
    let mut sorted_layers = layers.clone();
    sorted_layers.sort();
    assert_eq!(
        sorted_declared, sorted_layers,
        "lib.rs's modules and its layer order ({test_only:?} are test-only)"
    );
    let mut all = Vec::new();
    files(&src(), &[], &mut all);
    assert!(all.len() > 50, "only {} files read", all.len());
    let mut problems = Vec::new();
    for (module, path) in all {
        let text = std::fs::read_to_string(&path).expect("source");
        let shown = path.strip_prefix(src()).unwrap_or(&path).display();
        match violations(&layers, &module, &code(&text).0) {
            Ok(found) => problems.extend(found.into_iter().map(|v| format!("{shown}: {v}"))),
            Err(error) => problems.push(format!("{shown}: {error}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_upward_import_is_found() {
    let layers: Vec<String> = ["python", "config", "graph", "driver"]
        .map(String::from)
        .to_vec();
    let module = |path: &[&str]| path.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let text = "use crate::python::json;\nuse super::super::driver::x; // crate::driver\n\
                #[cfg(test)]\nmod tests {\n    use crate::driver::y;\n}\n";
    let (code, _) = code(text);
    assert_eq!(
        violations(&layers, &module(&["graph", "evaluate"]), &code),
        Ok(vec!["graph uses driver, a layer above it".to_owned()])
    );
    // Within its own layer, and downward: nothing to report.
    assert_eq!(
        violations(&layers, &module(&["driver", "a", "b"]), &code),
        Ok(Vec::new())
    );
    assert!(violations(&layers, &module(&["config"]), "use crate::{graph, python};").is_err());
}
