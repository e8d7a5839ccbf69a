//! `split::split` on a hand-built export (every kind of reference, secrets, several
//! providers) and on the export of the reference's recorded small stack.

use std::collections::{BTreeMap, BTreeSet};

use cpg_infra_kinds::export::DuplicateUrn;
use cpg_infra_kinds::split::{
    CrossParent, DroppedReference, Reference, ShardOf, Split, SplitError, SplitFileError,
    SplitOptions, project_of, split, split_file,
};
use cpg_infra_reference::stack_export;
use serde_json::{Value, json};

const SIG: &str = "4dabf18193072939515e22adb298388d";
const SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";
const REF: &str = "5cf8f73096256a8f31e491e813e4eb8e";

fn urn(stack: &str, qualified: &str, name: &str) -> String {
    format!("urn:pulumi:{stack}::cpg::{qualified}::{name}")
}

fn prod(qualified: &str, name: &str) -> String {
    urn("prod", qualified, name)
}

const PROJECT: &str = "gcp:organizations/project:Project";
const BUCKET: &str = "gcp:storage/bucket:Bucket";
const COMPONENT: &str = "cpg:x:Component";
const GROUP: &str = "gcp:cloudidentity/group:Group";
const MEMBER: &str = "cpg:google:GroupMembership";

fn secret(plaintext: &str) -> Value {
    json!({SIG: SECRET, "plaintext": plaintext})
}

/// Three shards (`org`, `ds1`, `ds2`), two used providers and an unused one, a secret
/// in a resource and in an output, a child of a component, a resource reference, and
/// references of every kind across shards.
fn export() -> Value {
    let root = prod("pulumi:pulumi:Stack", "cpg-prod");
    let gcp = prod("pulumi:providers:gcp", "default_7_38_0");
    let cpg = prod("pulumi:providers:cpg", "default_0_1_0");
    let azure = prod("pulumi:providers:azure-native", "default_2_21_2");
    let project = prod(PROJECT, "org-project");
    let bucket = prod(BUCKET, "ds1-bucket");
    let component = prod(COMPONENT, "ds1-group");
    let group = prod(&format!("{COMPONENT}${GROUP}"), "ds1-group-g");
    let member = prod(MEMBER, "ds2-member");
    json!({"version": 3, "deployment": {
        "manifest": {"time": "2026-01-01T00:00:00Z", "magic": "m", "version": "v3.96.2"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:salt"}},
        "metadata": {},
        "resources": [
            {"urn": root, "custom": false, "type": "pulumi:pulumi:Stack",
             "created": "2026-01-01T00:00:00Z",
             "outputs": {"org-bucket": "gs://org", "ds1-id": "b1", "ds1-key": secret("\"k\"")}},
            {"urn": gcp, "custom": true, "id": "p-gcp", "type": "pulumi:providers:gcp",
             "parent": root, "inputs": {"version": "7.38.0"}, "outputs": {"version": "7.38.0"}},
            {"urn": cpg, "custom": true, "id": "p-cpg", "type": "pulumi:providers:cpg",
             "parent": root, "inputs": {"version": "0.1.0"}, "outputs": {"version": "0.1.0"}},
            {"urn": azure, "custom": true, "id": "p-az", "type": "pulumi:providers:azure-native",
             "parent": root, "inputs": {}, "outputs": {}},
            {"urn": project, "custom": true, "id": "org-p", "type": PROJECT, "parent": root,
             "protect": true, "provider": format!("{gcp}::p-gcp"),
             "inputs": {"name": "org"}, "outputs": {"name": "org", "number": "1"}},
            {"urn": bucket, "custom": true, "id": "b1", "type": BUCKET, "parent": root,
             "provider": format!("{gcp}::p-gcp"), "deletedWith": project,
             "dependencies": [project],
             "propertyDependencies": {"project": [project], "name": []},
             "inputs": {"project": "org", "name": "b1", "hmac": secret("\"s3cr3t\"")},
             "outputs": {"project": "org", "name": "b1", "hmac": secret("\"s3cr3t\"")},
             "additionalSecretOutputs": ["hmac"]},
            {"urn": component, "custom": false, "type": COMPONENT, "parent": root},
            {"urn": group, "custom": true, "id": "groups/1", "type": GROUP, "parent": component,
             "provider": format!("{gcp}::p-gcp"),
             "dependencies": [bucket, project],
             "propertyDependencies": {"parent": [bucket], "other": [project, bucket]},
             "aliases": [prod(GROUP, "ds1-group-g")],
             "inputs": {"owner": {SIG: REF, "urn": project, "id": "org-p"}},
             "outputs": {"owner": {SIG: REF, "urn": project, "id": "org-p"}}},
            {"urn": member, "custom": true, "id": "m1", "type": MEMBER, "parent": root,
             "provider": format!("{cpg}::p-cpg"),
             "dependencies": [group], "propertyDependencies": {"group_key": [group]},
             "replaceWith": [group], "inputs": {"group_key": "groups/1"}, "outputs": {}},
        ],
    }})
}

fn resources(document: &Value) -> Vec<Value> {
    document["deployment"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn find<'a>(list: &'a [Value], urn: &str) -> &'a Value {
    list.iter()
        .find(|r| r["urn"] == json!(urn))
        .unwrap_or_else(|| panic!("{urn} missing from {list:#?}"))
}

/// `ds1-…` → `prod-ds1`, `ds2-…` → `prod-ds2`, everything else → `prod-org`.
fn by_prefix(name: &str) -> String {
    match name.split('-').next() {
        Some(ds @ ("ds1" | "ds2")) => format!("prod-{ds}"),
        _ => "prod-org".to_string(),
    }
}

fn shards() -> impl ShardOf {
    (
        |_: &str, name: &str| Some(by_prefix(name)),
        |export: &str| Some(by_prefix(export)),
    )
}

fn split_hand_built() -> Split {
    split(&export(), "cpg", &shards(), SplitOptions::default()).expect("split")
}

/// What `pulumi stack import` checks: every URN is of the stack, and every parent,
/// dependency, provider and deletedWith names a resource earlier in the document
/// (Pulumi's snapshot integrity check; `ordered: false` only asks for it in the document,
/// for an input that was not in order either).
fn assert_importable(document: &Value, stack: &str, ordered: bool) {
    let prefix = format!("urn:pulumi:{stack}::");
    let list = resources(document);
    assert_eq!(list[0]["type"], json!("pulumi:pulumi:Stack"), "{stack}");
    // Where each URN, and each provider reference `<urn>::<id>`, is in the document.
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in list.iter().enumerate() {
        let own = r["urn"].as_str().expect("urn");
        assert!(own.starts_with(&prefix), "{own} is not of {stack}");
        assert!(
            position.insert(own.to_string(), i).is_none(),
            "{own} twice in {stack}"
        );
        if let Some(id) = r["id"].as_str()
            && r["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("pulumi:providers:"))
        {
            position.insert(format!("{own}::{id}"), i);
        }
    }
    for (i, r) in list.iter().enumerate() {
        let own = r["urn"].as_str().unwrap_or("");
        let mut named: Vec<&str> = Vec::new();
        named.extend(r["parent"].as_str());
        named.extend(r["deletedWith"].as_str());
        named.extend(r["provider"].as_str());
        named.extend(
            r["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        named.extend(
            r["propertyDependencies"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_str),
        );
        for u in named {
            let at = position.get(u);
            assert!(at.is_some(), "{own} names {u}, not in {stack}");
            assert!(
                !ordered || at.is_some_and(|&j| j < i),
                "{own} names {u}, not before it in {stack}"
            );
        }
    }
}

#[test]
fn each_shard_gets_its_resources_a_root_and_copies_of_its_providers() {
    let split = split_hand_built();
    let stacks: Vec<&str> = split.shards.keys().map(String::as_str).collect();
    assert_eq!(stacks, ["prod-ds1", "prod-ds2", "prod-org"]);
    for (stack, shard) in &split.shards {
        assert_importable(&shard.document, stack, true);
        let doc = &shard.document;
        assert_eq!(doc["version"], json!(3));
        assert_eq!(doc["deployment"]["manifest"]["magic"], json!("m"));
        assert_eq!(
            doc["deployment"]["secrets_providers"],
            json!({"type": "passphrase", "state": {"salt": "v1:salt"}})
        );
        let root = &resources(doc)[0];
        assert_eq!(
            root["urn"],
            json!(urn(stack, "pulumi:pulumi:Stack", &format!("cpg-{stack}")))
        );
        assert_eq!(root["created"], json!("2026-01-01T00:00:00Z"));
    }

    let ds1 = resources(&split.shards["prod-ds1"].document);
    let urns: Vec<&str> = ds1.iter().filter_map(|r| r["urn"].as_str()).collect();
    assert_eq!(
        urns,
        [
            urn("prod-ds1", "pulumi:pulumi:Stack", "cpg-prod-ds1"),
            urn("prod-ds1", "pulumi:providers:gcp", "default_7_38_0"),
            urn("prod-ds1", BUCKET, "ds1-bucket"),
            urn("prod-ds1", COMPONENT, "ds1-group"),
            urn("prod-ds1", &format!("{COMPONENT}${GROUP}"), "ds1-group-g"),
        ]
    );
    assert_eq!(
        ds1[0]["outputs"],
        json!({"ds1-id": "b1", "ds1-key": secret("\"k\"")})
    );
    // The provider copy keeps its id and hangs off the shard's root.
    assert_eq!(ds1[1]["id"], json!("p-gcp"));
    assert_eq!(ds1[1]["parent"], ds1[0]["urn"]);

    let gcp_ref = format!(
        "{}::p-gcp",
        urn("prod-ds1", "pulumi:providers:gcp", "default_7_38_0")
    );
    let bucket = &ds1[2];
    assert_eq!(bucket["provider"], json!(gcp_ref));
    assert_eq!(bucket["id"], json!("b1"));
    assert_eq!(bucket["parent"], ds1[0]["urn"]);
    // Every reference to the organisation's project is gone; the secret stays as it was.
    assert_eq!(bucket["dependencies"], json!([]));
    assert_eq!(bucket["propertyDependencies"], json!({"name": []}));
    assert!(bucket.get("deletedWith").is_none());
    assert_eq!(bucket["inputs"]["hmac"], secret("\"s3cr3t\""));
    assert_eq!(bucket["outputs"]["hmac"], secret("\"s3cr3t\""));
    assert_eq!(bucket["additionalSecretOutputs"], json!(["hmac"]));

    let new_bucket = urn("prod-ds1", BUCKET, "ds1-bucket");
    let group = &ds1[4];
    assert_eq!(group["parent"], ds1[3]["urn"]);
    assert_eq!(group["dependencies"], json!([new_bucket]));
    assert_eq!(
        group["propertyDependencies"],
        json!({"parent": [new_bucket], "other": [new_bucket]})
    );
    assert_eq!(
        group["aliases"],
        json!([urn("prod-ds1", GROUP, "ds1-group-g")])
    );
    // A resource reference follows the resource to its own stack.
    assert_eq!(
        group["inputs"]["owner"],
        json!({SIG: REF, "urn": urn("prod-org", PROJECT, "org-project"), "id": "org-p"})
    );

    let ds2 = resources(&split.shards["prod-ds2"].document);
    assert_eq!(ds2.len(), 3);
    assert!(ds2[0].get("outputs").is_none());
    assert_eq!(
        ds2[1]["urn"],
        json!(urn("prod-ds2", "pulumi:providers:cpg", "default_0_1_0"))
    );
    assert_eq!(ds2[2]["dependencies"], json!([]));
    assert_eq!(ds2[2]["propertyDependencies"], json!({}));
    assert_eq!(ds2[2]["replaceWith"], json!([]));

    let org = resources(&split.shards["prod-org"].document);
    assert_eq!(org.len(), 3);
    assert_eq!(org[0]["outputs"], json!({"org-bucket": "gs://org"}));
    assert_eq!(org[2]["protect"], json!(true));
    assert_eq!(org[2]["outputs"], json!({"name": "org", "number": "1"}));

    assert_eq!(
        split.unused_providers,
        [prod("pulumi:providers:azure-native", "default_2_21_2")]
    );
}

#[test]
fn references_across_shards_are_dropped_and_reported_in_state_order() {
    let split = split_hand_built();
    let dropped = |urn: String, stack: &str, reference, target: String, target_stack: &str| {
        DroppedReference {
            urn,
            stack: stack.into(),
            reference,
            target,
            target_stack: target_stack.into(),
        }
    };
    let project = prod(PROJECT, "org-project");
    let bucket = prod(BUCKET, "ds1-bucket");
    let group = prod(&format!("{COMPONENT}${GROUP}"), "ds1-group-g");
    let member = prod(MEMBER, "ds2-member");
    assert_eq!(
        split.dropped,
        [
            dropped(
                bucket.clone(),
                "prod-ds1",
                Reference::DeletedWith,
                project.clone(),
                "prod-org"
            ),
            dropped(
                bucket.clone(),
                "prod-ds1",
                Reference::Dependency,
                project.clone(),
                "prod-org"
            ),
            dropped(
                bucket,
                "prod-ds1",
                Reference::PropertyDependency("project".into()),
                project.clone(),
                "prod-org"
            ),
            dropped(
                group.clone(),
                "prod-ds1",
                Reference::Dependency,
                project.clone(),
                "prod-org"
            ),
            dropped(
                group.clone(),
                "prod-ds1",
                Reference::PropertyDependency("other".into()),
                project,
                "prod-org"
            ),
            dropped(
                member.clone(),
                "prod-ds2",
                Reference::Dependency,
                group.clone(),
                "prod-ds1"
            ),
            dropped(
                member.clone(),
                "prod-ds2",
                Reference::ReplaceWith,
                group.clone(),
                "prod-ds1"
            ),
            dropped(
                member,
                "prod-ds2",
                Reference::PropertyDependency("group_key".into()),
                group,
                "prod-ds1"
            ),
        ]
    );
}

#[test]
fn the_summary_counts_each_stack_and_names_what_was_dropped() {
    let summary = split_hand_built().summary();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "prod-ds1: 3 resource(s), 1 provider(s) copied, 2 output(s)",
            "prod-ds2: 1 resource(s), 1 provider(s) copied, 0 output(s)",
            "prod-org: 1 resource(s), 1 provider(s) copied, 1 output(s)",
            "8 reference(s) to resources in other stacks dropped (a state cannot refer to another stack):",
        ]
    );
    assert_eq!(
        lines[4],
        format!(
            "  {} (prod-ds1): deletedWith on {} (prod-org)",
            prod(BUCKET, "ds1-bucket"),
            prod(PROJECT, "org-project")
        )
    );
    assert_eq!(
        lines[6],
        format!(
            "  {} (prod-ds1): property dependency (project) on {} (prod-org)",
            prod(BUCKET, "ds1-bucket"),
            prod(PROJECT, "org-project")
        )
    );
    assert_eq!(lines.len(), 13);
    assert_eq!(
        lines[12],
        format!(
            "left out {}: no resource uses it",
            prod("pulumi:providers:azure-native", "default_2_21_2")
        )
    );
}

#[test]
fn every_resource_and_output_lands_once_and_the_split_is_deterministic() {
    let input = resources(&export());
    let split = split_hand_built();
    let moved: usize = split.shards.values().map(|s| s.resources).sum();
    let outputs: usize = split.shards.values().map(|s| s.outputs).sum();
    // Neither the root nor the three providers move.
    assert_eq!(moved, input.len() - 4);
    assert_eq!(outputs, 3);
    let mut names: Vec<String> = split
        .shards
        .values()
        .flat_map(|s| resources(&s.document).into_iter().skip(1))
        .filter(|r| {
            !r["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("pulumi:providers:"))
        })
        .filter_map(|r| {
            r["urn"]
                .as_str()
                .map(|u| u.rsplit("::").next().unwrap_or(u).to_string())
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ds1-bucket",
            "ds1-group",
            "ds1-group-g",
            "ds2-member",
            "org-project"
        ]
    );
    let copied: Vec<(&str, Vec<String>)> = split
        .shards
        .iter()
        .map(|(k, s)| (k.as_str(), s.providers.clone()))
        .collect();
    let gcp = prod("pulumi:providers:gcp", "default_7_38_0");
    assert_eq!(
        copied,
        [
            ("prod-ds1", vec![gcp.clone()]),
            (
                "prod-ds2",
                vec![prod("pulumi:providers:cpg", "default_0_1_0")]
            ),
            ("prod-org", vec![gcp]),
        ]
    );

    let again = split_hand_built();
    assert_eq!(again, split);
    let bytes = |s: &Split| -> Vec<String> {
        s.shards
            .values()
            .map(|s| serde_json::to_string_pretty(&s.document).unwrap_or_default())
            .collect()
    };
    assert_eq!(bytes(&again), bytes(&split));
}

#[test]
fn the_project_is_told_by_the_root_stack() {
    assert_eq!(project_of(&export()).as_deref(), Some("cpg"));
    assert_eq!(project_of(&stack_export("small")).as_deref(), Some("cpg"));
    assert_eq!(project_of(&json!({"version": 3, "deployment": {}})), None);
}

#[test]
fn a_new_project_name_moves_every_urn_to_it() {
    let split = split(&export(), "cpg2", &shards(), SplitOptions::default()).expect("split");
    let org = resources(&split.shards["prod-org"].document);
    assert_eq!(
        org[0]["urn"],
        json!("urn:pulumi:prod-org::cpg2::pulumi:pulumi:Stack::cpg2-prod-org")
    );
    assert_eq!(
        org[2]["urn"],
        json!(format!("urn:pulumi:prod-org::cpg2::{PROJECT}::org-project"))
    );
    assert!(
        org[2]["provider"]
            .as_str()
            .is_some_and(|p| p.starts_with("urn:pulumi:prod-org::cpg2::pulumi:providers:gcp::"))
    );
}

/// The export with the value at `pointer` set (its parent object must exist).
fn with(mut export: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
    let slot = export
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{parent} is not an object"));
    slot.insert(key.to_string(), value);
    export
}

fn refused(export: &Value, shards: &dyn ShardOf) -> SplitError {
    split(export, "cpg", shards, SplitOptions::default()).expect_err("refused")
}

#[test]
fn unmapped_resources_and_outputs_are_named() {
    let shards = (
        |_: &str, name: &str| (!name.starts_with("ds2")).then(|| by_prefix(name)),
        |export: &str| (export != "ds1-id").then(|| by_prefix(export)),
    );
    let err = refused(&export(), &shards);
    assert_eq!(
        err,
        SplitError::Unmapped {
            resources: vec![prod(MEMBER, "ds2-member")],
            outputs: vec!["ds1-id".into()],
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "no stack holds 1 resource(s) and 1 output(s): {}, ds1-id",
            prod(MEMBER, "ds2-member")
        )
    );
}

#[test]
fn a_parent_in_another_shard_is_an_error_naming_both() {
    let shards = (
        |ty: &str, name: &str| {
            Some(if ty == GROUP {
                "prod-org".into()
            } else {
                by_prefix(name)
            })
        },
        |export: &str| Some(by_prefix(export)),
    );
    let err = refused(&export(), &shards);
    assert_eq!(
        err,
        SplitError::ParentInOtherStack(vec![CrossParent {
            urn: prod(&format!("{COMPONENT}${GROUP}"), "ds1-group-g"),
            stack: "prod-org".into(),
            field: "parent",
            target: prod(COMPONENT, "ds1-group"),
            target_stack: "prod-ds1".into(),
        }])
    );
}

#[test]
fn encrypted_secrets_are_refused_unless_allowed() {
    let export = with(
        export(),
        "/deployment/resources/5/outputs/hmac",
        json!({SIG: SECRET, "ciphertext": "v1:abc"}),
    );
    let err = refused(&export, &shards());
    assert_eq!(
        err,
        SplitError::Ciphertext {
            count: 1,
            urns: vec![prod(BUCKET, "ds1-bucket")],
        }
    );
    assert!(err.to_string().contains("--show-secrets"));
    let split = split(
        &export,
        "cpg",
        &shards(),
        SplitOptions::allowing_ciphertext(),
    )
    .expect("allowed");
    let ds1 = resources(&split.shards["prod-ds1"].document);
    assert_eq!(
        ds1[2]["outputs"]["hmac"],
        json!({SIG: SECRET, "ciphertext": "v1:abc"})
    );
}

#[test]
fn unfinished_states_and_malformed_documents_are_refused() {
    let pending = with(
        export(),
        "/deployment/pending_operations",
        json!([{"resource": {"urn": prod(BUCKET, "ds1-bucket")}, "type": "creating"}]),
    );
    assert_eq!(
        refused(&pending, &shards()),
        SplitError::PendingOperations(vec![prod(BUCKET, "ds1-bucket")])
    );

    let deleting = with(export(), "/deployment/resources/5/delete", json!(true));
    assert_eq!(
        refused(&deleting, &shards()),
        SplitError::MarkedForDeletion(vec![prod(BUCKET, "ds1-bucket")])
    );

    let twice = with(
        export(),
        "/deployment/resources/6/urn",
        json!(prod(BUCKET, "ds1-bucket")),
    );
    assert_eq!(
        refused(&twice, &shards()),
        SplitError::DuplicateUrn(DuplicateUrn {
            urn: prod(BUCKET, "ds1-bucket"),
            first: 5,
            second: 6,
        })
    );

    let snippets = with(export(), "/deployment/snippets", json!([{"id": "x"}]));
    assert_eq!(refused(&snippets, &shards()), SplitError::Snippets);

    let old = with(export(), "/version", json!(2));
    assert!(matches!(
        refused(&old, &shards()),
        SplitError::NotAnExport { path, .. } if path == "/version"
    ));
    let bad_urn = with(
        export(),
        "/deployment/resources/4/urn",
        json!("org-project"),
    );
    assert!(matches!(
        refused(&bad_urn, &shards()),
        SplitError::NotAnExport { path, .. } if path == "/deployment/resources/4/urn"
    ));

    let no_provider = with(
        export(),
        "/deployment/resources/5/provider",
        json!(format!(
            "{}::p-x",
            prod("pulumi:providers:gcp", "default_9")
        )),
    );
    assert!(matches!(
        refused(&no_provider, &shards()),
        SplitError::NotAnExport { path, .. } if path == "/deployment/resources/5/provider"
    ));

    assert_eq!(
        split(&export(), "my/project", &shards(), SplitOptions::default()),
        Err(SplitError::BadProjectName("my/project".into()))
    );

    let qualified = (
        |_: &str, _: &str| Some("org/cpg/prod-org".to_string()),
        |_: &str| Some("prod-org".to_string()),
    );
    assert_eq!(
        refused(&export(), &qualified),
        SplitError::BadStackName {
            what: prod(PROJECT, "org-project"),
            stack: "org/cpg/prod-org".into(),
        }
    );
}

#[test]
fn split_file_writes_one_export_per_stack_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("export.json");
    std::fs::write(&input, export().to_string()).expect("write export");
    let out = dir.path().join("shards");
    let split = split_file(&input, &out, None, &shards(), SplitOptions::default()).expect("split");
    for (stack, shard) in &split.shards {
        let text = std::fs::read_to_string(out.join(format!("{stack}.json"))).expect("written");
        let written: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(written, shard.document);
        assert!(text.ends_with("}\n"));
    }

    std::fs::write(out.join("prod-ds2.json"), "keep").expect("overwrite by hand");
    let err =
        split_file(&input, &out, None, &shards(), SplitOptions::default()).expect_err("refused");
    assert!(
        matches!(&err, SplitFileError::Exists(paths) if paths.len() == 3),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("prod-ds2.json"))
            .ok()
            .as_deref(),
        Some("keep")
    );

    std::fs::write(&input, "{\n\"version\": 3,\n oops}").expect("write");
    let err = split_file(
        &input,
        &dir.path().join("other"),
        None,
        &shards(),
        SplitOptions::default(),
    )
    .expect_err("not json");
    assert!(
        err.to_string().ends_with("export.json: not JSON (line 3)"),
        "{err}"
    );
}

/// The dataset of a reference resource or output: its name's first word when that is
/// one of the small config's datasets (`notebook-<dataset>-…` for outputs).
fn small_stack(name: &str) -> String {
    let name = name.strip_prefix("notebook-").unwrap_or(name);
    match name.split('-').next() {
        Some(ds @ ("common" | "fewgenomes" | "validation")) => format!("test-{ds}"),
        _ => "test-org".to_string(),
    }
}

fn small_shards() -> impl ShardOf {
    (
        |_: &str, name: &str| Some(small_stack(name)),
        |export: &str| Some(small_stack(export)),
    )
}

fn name_of(urn: &str) -> &str {
    urn.splitn(4, "::").nth(3).unwrap_or(urn)
}

#[test]
fn the_small_stack_splits_into_its_datasets_with_nothing_lost_or_added() {
    let export = stack_export("small");
    let split = split(&export, "cpg", &small_shards(), SplitOptions::default()).expect("split");
    let stacks: Vec<&str> = split.shards.keys().map(String::as_str).collect();
    assert_eq!(
        stacks,
        [
            "test-common",
            "test-fewgenomes",
            "test-org",
            "test-validation"
        ]
    );
    let input = resources(&export);
    let is_provider = |r: &Value| {
        r["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("pulumi:providers:"))
    };
    let root = "urn:pulumi:test::cpg::pulumi:pulumi:Stack::cpg-test";
    let stack_of: BTreeMap<&str, String> = input
        .iter()
        .filter_map(|r| r["urn"].as_str())
        .filter(|u| *u != root)
        .map(|u| (u, small_stack(name_of(u))))
        .collect();

    // Each resource once, in its dataset's stack, equal to the input once its URNs are
    // moved and its references to other stacks left out.
    let mut expected_dropped = 0;
    let mut moved = 0;
    for r in input
        .iter()
        .filter(|r| !is_provider(r) && r["urn"] != json!(root))
    {
        let old = r["urn"].as_str().unwrap_or("");
        let stack = &stack_of[old];
        let rename = |u: &str| -> Option<Value> {
            if u == root {
                return Some(json!(urn(
                    stack,
                    "pulumi:pulumi:Stack",
                    &format!("cpg-{stack}")
                )));
            }
            let here =
                stack_of.get(u).is_none_or(|s| s == stack) || u.contains("::pulumi:providers:");
            here.then(|| {
                json!(u.replacen("urn:pulumi:test::", &format!("urn:pulumi:{stack}::"), 1))
            })
        };
        let mut want = r.clone();
        want["urn"] = rename(old).unwrap_or_default();
        if let Some(parent) = r["parent"].as_str() {
            want["parent"] = rename(parent).unwrap_or_default();
        }
        let list = |v: &Value, dropped: &mut usize| -> Value {
            let all: Vec<&str> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let kept: Vec<Value> = all.iter().filter_map(|u| rename(u)).collect();
            *dropped += all.len() - kept.len();
            Value::Array(kept)
        };
        want["dependencies"] = list(&r["dependencies"], &mut expected_dropped);
        let mut pd = serde_json::Map::new();
        for (k, v) in r["propertyDependencies"].as_object().into_iter().flatten() {
            let kept = list(v, &mut expected_dropped);
            if kept.as_array().is_some_and(|a| !a.is_empty())
                || v.as_array().is_some_and(Vec::is_empty)
            {
                pd.insert(k.clone(), kept);
            }
        }
        want["propertyDependencies"] = Value::Object(pd);
        want["provider"] = json!(r["provider"].as_str().map(|p| p.replacen(
            "urn:pulumi:test::",
            &format!("urn:pulumi:{stack}::"),
            1
        )));
        let shard = resources(&split.shards[stack].document);
        let got = find(&shard, want["urn"].as_str().unwrap_or(""));
        assert_eq!(got, &want);
        moved += 1;
    }
    assert_eq!(moved, 931);
    assert_eq!(
        split.shards.values().map(|s| s.resources).sum::<usize>(),
        moved
    );
    assert_eq!(split.dropped.len(), expected_dropped);
    assert!(expected_dropped > 0);
    assert!(split.unused_providers.is_empty());

    // Every output once, in its dataset's stack.
    let outputs = export["deployment"]["resources"][0]["outputs"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut union = serde_json::Map::new();
    for (stack, shard) in &split.shards {
        let root = &resources(&shard.document)[0];
        for (k, v) in root["outputs"].as_object().into_iter().flatten() {
            assert_eq!(&small_stack(k), stack);
            assert!(union.insert(k.clone(), v.clone()).is_none(), "{k} twice");
        }
    }
    assert_eq!(union, outputs);

    // Each stack: importable, with exactly the providers its resources use, ids kept.
    for (stack, shard) in &split.shards {
        // The recorded stack lists resources in the order they were declared, not in
        // dependency order, and the split keeps the order it is given.
        assert_importable(&shard.document, stack, false);
        let list = resources(&shard.document);
        let used: BTreeSet<&str> = list.iter().filter_map(|r| r["provider"].as_str()).collect();
        let copies: BTreeSet<String> = list
            .iter()
            .filter(|r| is_provider(r))
            .map(|r| {
                format!(
                    "{}::{}",
                    r["urn"].as_str().unwrap_or(""),
                    r["id"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(used, copies.iter().map(String::as_str).collect());
        for copy in list.iter().filter(|r| is_provider(r)) {
            let original = find(
                &input,
                &copy["urn"].as_str().unwrap_or("").replacen(
                    &format!("urn:pulumi:{stack}::"),
                    "urn:pulumi:test::",
                    1,
                ),
            )
            .clone();
            assert_eq!(copy["id"], original["id"]);
            assert_eq!(copy["inputs"], original["inputs"]);
        }
    }

    let again = split_small();
    assert_eq!(again, split);
}

fn split_small() -> Split {
    split(
        &stack_export("small"),
        "cpg",
        &small_shards(),
        SplitOptions::default(),
    )
    .expect("split")
}

#[test]
fn a_migrated_stack_splits_with_the_cpg_provider_copied_to_each_dataset() {
    let migrated = cpg_infra_kinds::migrate::migrate(&stack_export("small"), "0.1.0")
        .expect("migrate")
        .document;
    let split = split(&migrated, "cpg", &small_shards(), SplitOptions::default()).expect("split");
    let cpg = "urn:pulumi:test::cpg::pulumi:providers:cpg::default_0_1_0".to_string();
    for (stack, shard) in &split.shards {
        assert_importable(&shard.document, stack, false);
        let uses_cpg = resources(&shard.document)
            .iter()
            .any(|r| r["type"].as_str().is_some_and(|t| t.starts_with("cpg:")));
        assert_eq!(shard.providers.contains(&cpg), uses_cpg, "{stack}");
    }
    assert!(split.shards.values().any(|s| s.providers.contains(&cpg)));
    // The dynamic provider no resource uses any more is left out, not copied.
    assert_eq!(
        split.unused_providers,
        ["urn:pulumi:test::cpg::pulumi:providers:pulumi-python::default"]
    );
    let moved: usize = split.shards.values().map(|s| s.resources).sum();
    assert_eq!(moved, 931);
}
