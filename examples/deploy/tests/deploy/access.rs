//! `deploy access`: questions about the example config's plan.

use std::io::Write;
use std::process::{Command, Stdio};

use super::support::{deploy, example_config, text};

fn config() -> String {
    example_config().to_str().expect("utf-8 path").to_owned()
}

#[test]
fn a_person_by_user_key_gets_every_identity_with_chains() {
    let output = deploy(&["access", &config(), "--person", "mira.okafor"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    // The Google identity and the Hail username are both hers, named by her key.
    assert!(
        out.contains("mira.okafor (mira.okafor@example.org)\n"),
        "{out}"
    );
    assert!(out.contains("\nmira.okafor (mokafor)\n"), "{out}");
    assert!(
        out.contains("  member on gcp:cloudidentity/group:Group::cardiac-gcp-analysis-group\n    via mira.okafor (mira.okafor@example.org) → cardiac-data-manager@example.org\n"),
        "{out}"
    );
    // Hail and metamist grants come through her groups.
    assert!(
        out.contains("  hail-billing-project-member on cpg:hail:BillingProject::cardiac-gcp-batch-billing-project\n    via mira.okafor (mokafor) → mira.okafor (mira.okafor@example.org) → cardiac-data-manager@example.org → cardiac-analysis@example.org\n"),
        "{out}"
    );
    assert!(
        out.contains("  metamist-read on cpg:metamist:Project::metamist-project-cardiac\n    via mira.okafor (mira.okafor@example.org) → cardiac-data-manager@example.org → cardiac-sample-metadata-main-read@example.org\n"),
        "{out}"
    );
}

#[test]
fn azure_access_names_roles_and_users() {
    let output = deploy(&["access", &config(), "--person", "mira.okafor"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(
        out.contains("\nmira.okafor (3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01)\n")
            || out.starts_with("mira.okafor (3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01)\n"),
        "{out}"
    );
    assert!(
        out.contains("  Storage Blob Data Reader on azure-native:storage:BlobContainer::common-azure-main-analysis-blob-container\n    via mira.okafor (3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01) → common-analysis\n"),
        "{out}"
    );
    assert!(out.contains("  AcrPull on "), "{out}");
    assert!(!out.contains("roleDefinitions/"), "{out}");
    let json = deploy(&["access", &config(), "--person", "mira.okafor", "--json"]);
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let reader = document["access"]
        .as_array()
        .expect("access")
        .iter()
        .find(|e| e["role_name"] == "Storage Blob Data Reader")
        .expect("a named Azure role");
    // JSON keeps the ids and adds the names.
    assert_eq!(
        reader["role"],
        "/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
    );
    assert_eq!(reader["principal"], "3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01");
    assert_eq!(reader["user"], "mira.okafor");
}

#[test]
fn json_lists_each_grant_with_person_role_resource_and_chain() {
    let output = deploy(&[
        "access",
        &config(),
        "--person",
        "mira.okafor@example.org",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(document["format_version"], 1);
    let access = document["access"].as_array().expect("access");
    assert!(!access.is_empty());
    for entry in access {
        assert_eq!(entry["principal"], "mira.okafor@example.org");
        assert_eq!(entry["chain"][0], "mira.okafor@example.org");
        assert!(entry["role"].is_string());
        assert!(entry["resource"].as_str().is_some_and(|r| r.contains("::")));
    }
    let main_bucket = access.iter().find(|e| {
        e["resource"] == "gcp:storage/bucket:Bucket::cardiac-gcp-main-bucket"
            && e["role"]
                .as_str()
                .is_some_and(|r| r.ends_with("/roles/StorageObjectAndBucketViewer"))
    });
    let chain = &main_bucket.expect("she reads cardiac's main bucket")["chain"];
    assert_eq!(
        chain,
        &serde_json::json!([
            "mira.okafor@example.org",
            "gcp:cloudidentity/group:Group::cardiac-gcp-data-manager-group",
            "gcp:cloudidentity/group:Group::cardiac-gcp-main-read-group"
        ])
    );
}

#[test]
fn a_bucket_by_name_and_a_resource_by_id_answer_the_same() {
    let by_name = deploy(&[
        "access",
        &config(),
        "--bucket",
        "exg-cardiac-main",
        "--json",
    ]);
    assert_eq!(by_name.status.code(), Some(0), "{}", text(&by_name.stderr));
    let by_id = deploy(&[
        "access",
        &config(),
        "--resource",
        "gcp:storage/bucket:Bucket::cardiac-gcp-main-bucket",
        "--json",
    ]);
    assert_eq!(by_name.stdout, by_id.stdout);
    let document: serde_json::Value = serde_json::from_slice(&by_id.stdout).expect("JSON");
    let people: Vec<&str> = document["access"]
        .as_array()
        .expect("access")
        .iter()
        .filter_map(|e| e["principal"].as_str())
        .collect();
    assert!(people.contains(&"mira.okafor@example.org"), "{people:?}");
}

#[test]
fn questions_about_nothing_exit_1() {
    for args in [
        ["--person", "nobody@example.org"],
        ["--bucket", "no-such-bucket"],
        ["--resource", "gcp:storage/bucket:Bucket::nope"],
        ["--resource", "not-a-resource-id"],
    ] {
        let output = deploy(&["access", &config(), args[0], args[1]]);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(text(&output.stderr).starts_with("error: "), "{args:?}");
    }
    let output = deploy(&["access", &config(), "--dataset", "intak", "--format", "dot"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: the config has no dataset \"intak\" — did you mean \"intake\"?\n"
    );
    let output = deploy(&["access", &config(), "--person", "mira.okafr"]);
    assert!(
        text(&output.stderr).ends_with(" — did you mean \"mira.okafor\"?\n"),
        "{}",
        text(&output.stderr)
    );
    let invalid = deploy(&["access", "/nonexistent/cpg-infra-config", "--person", "x"]);
    assert_eq!(invalid.status.code(), Some(1));
}

#[test]
fn conflicting_questions_are_usage_errors() {
    let both = deploy(&["access", &config(), "--person", "x", "--bucket", "y"]);
    assert_eq!(both.status.code(), Some(2));
    let format_alone = deploy(&["access", &config(), "--format", "dot"]);
    assert_eq!(format_alone.status.code(), Some(2));
}

#[test]
fn every_name_asked_about_gets_a_suggestion() {
    for (args, suggested) in [
        (["--bucket", "exg-cardiac-mian"], "exg-cardiac-main"),
        (
            [
                "--resource",
                "gcp:storage/bucket:Bucket::cardiac-gcp-main-buckt",
            ],
            "gcp:storage/bucket:Bucket::cardiac-gcp-main-bucket",
        ),
        (["--person", "mira.okafr"], "mira.okafor"),
        (["--dataset", "intak"], "intake"),
    ] {
        let output = deploy(&["access", &config(), args[0], args[1]]);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            text(&output.stderr).ends_with(&format!(" — did you mean {suggested:?}?\n")),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn a_dataset_in_text_lists_each_group_its_members_and_grants() {
    let output = deploy(&["access", &config(), "--dataset", "cardiac"]);
    let out = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(out.starts_with("access to cardiac\n\n"), "{out}");
    assert!(out.contains("\n  members: "), "{out}");
    assert!(out.contains("\n  member of: "), "{out}");
    assert!(
        out.contains("\ncardiac-analysis@example.org\n  members: ")
            && out.contains("\n  roles/compute.viewer on Project cardiac-gcp-project\n"),
        "{out}"
    );
    assert!(
        !out.contains("digraph") && !out.contains("flowchart"),
        "{out}"
    );
}

fn picture(format: &str) -> String {
    let output = deploy(&[
        "access",
        &config(),
        "--dataset",
        "intake",
        "--format",
        format,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout)
}

#[test]
fn dot_picture_is_stable_and_graphviz_draws_it() {
    let dot = picture("dot");
    insta::assert_snapshot!("access-intake-dot", dot);
    // A legend of the shapes and edge styles; one arrow between two nodes at most.
    assert!(dot.contains("  subgraph cluster_legend {\n    label=\"legend\";\n"));
    assert!(dot.contains("[label=\"person or machine account\", shape=ellipse]"));
    let pairs: Vec<(&str, &str)> = dot
        .lines()
        .filter_map(|l| l.trim().split_once(" -> "))
        .map(|(from, rest)| (from, rest.split(' ').next().unwrap_or(rest)))
        .collect();
    let distinct: std::collections::BTreeSet<_> = pairs.iter().collect();
    assert_eq!(distinct.len(), pairs.len(), "parallel edges are merged");
    let spawned = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        // Graphviz is optional on a developer's machine, and required in CI.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !in_ci() => {
            // Written past the test harness's capture, so that `cargo test` shows it.
            let _ = writeln!(
                std::io::stderr(),
                "skipped drawing the DOT picture in dot_picture_is_stable_and_graphviz_draws_it: Graphviz's `dot` is not installed (apt-get install graphviz)"
            );
            return;
        }
        Err(error) => panic!(
            "Graphviz's `dot` cannot be started: {error} (apt-get install graphviz; CI=true requires it)"
        ),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dot.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("dot");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).is_empty(), "{}", text(&output.stderr));
    let svg = text(&output.stdout);
    // Graphviz drew every node and edge the text declares.
    let declared_nodes = dot
        .lines()
        .filter(|l| l.contains(" [label=") && !l.contains(" -> "))
        .count();
    let declared_edges = dot.lines().filter(|l| l.contains(" -> ")).count();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
    assert_eq!(svg.matches("class=\"node\"").count(), declared_nodes);
    assert_eq!(svg.matches("class=\"edge\"").count(), declared_edges);
    assert!(declared_nodes > 10 && declared_edges > declared_nodes);
}

/// Whether the tests run in CI (`CI` set to anything but `false` or `0`), where the
/// outside tools a test uses must be installed.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0"))
}

/// Checks the Mermaid flowchart subset the picture writes: a front-matter title,
/// `flowchart LR`, nodes `id["…"]`, `id(["…"])` or `id[("…")]` with no bare quote in
/// a label, edges `a -->|"…"| b` between declared nodes, and class lines.
fn parse_mermaid(text: &str) -> Result<(usize, usize), String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.by_ref().take(4).collect();
    if header.len() != 4
        || header[0] != "---"
        || !header[1].starts_with("title: \"")
        || header[2] != "---"
        || header[3] != "flowchart LR"
    {
        return Err(format!("bad header {header:?}"));
    }
    let is_id = |s: &str| {
        s.strip_prefix('n')
            .or_else(|| s.strip_prefix("legend"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let label_ok = |s: &str| !s.contains('"');
    let mut nodes = std::collections::BTreeSet::new();
    let mut edges = 0;
    let mut legend = false;
    for line in lines {
        let line = line
            .strip_prefix("  ")
            .ok_or(format!("not indented: {line:?}"))?;
        // The legend: a subgraph of its own, indented once more.
        if line == "subgraph legend [\"legend\"]" {
            legend = true;
            continue;
        }
        if line == "end" && legend {
            continue;
        }
        let line = line.strip_prefix("  ").unwrap_or(line);
        let arrow = [" -->|\"", " -.->|\""]
            .into_iter()
            .find(|a| line.contains(a));
        if let Some((from, rest)) = arrow.and_then(|a| line.split_once(a)) {
            let (label, to) = rest
                .split_once("\"| ")
                .ok_or(format!("bad edge {line:?}"))?;
            if !is_id(from) || !is_id(to) || !label_ok(label) {
                return Err(format!("bad edge {line:?}"));
            }
            if !nodes.contains(from) || !nodes.contains(to) {
                return Err(format!("edge to an undeclared node: {line:?}"));
            }
            edges += 1;
        } else if line.starts_with("classDef ") || line.starts_with("class ") {
            continue;
        } else {
            let open = line.find(['[', '(']).ok_or(format!("bad line {line:?}"))?;
            let (id, shape) = line.split_at(open);
            let label = ["[\"", "([\"", "[(\""]
                .iter()
                .zip(["\"]", "\"])", "\")]"])
                .find_map(|(o, c)| shape.strip_prefix(o)?.strip_suffix(c));
            match label {
                Some(label) if is_id(id) && label_ok(label) => {
                    nodes.insert(id);
                }
                _ => return Err(format!("bad node {line:?}")),
            }
        }
    }
    if !legend {
        return Err("no legend".into());
    }
    Ok((nodes.len(), edges))
}

#[test]
fn mermaid_picture_is_stable_and_well_formed() {
    let mermaid = picture("mermaid");
    insta::assert_snapshot!("access-intake-mermaid", mermaid);
    let (nodes, edges) = parse_mermaid(&mermaid).expect("well-formed");
    assert!(nodes > 10 && edges > nodes, "{nodes} nodes, {edges} edges");
    assert!(parse_mermaid("---\ntitle: \"x\"\n---\nflowchart LR\n  n0 -->|\"a\"| n1\n").is_err());
    assert!(
        mermaid.contains("  subgraph legend [\"legend\"]\n    legend0[\"the dataset's group\"]\n")
    );
    // Memberships dashed, roles solid; people by their user keys.
    assert!(mermaid.contains(" -.->|\"member\"| "), "{mermaid}");
    assert!(
        mermaid.contains("([\"jonas.berg (jonas.berg@example.org)\"])"),
        "{mermaid}"
    );
    assert!(parse_mermaid("---\ntitle: \"x\"\n---\nflowchart LR\n  n0[\"a\"b\"]\n").is_err());
}
