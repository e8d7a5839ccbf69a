//! A plan against what is deployed: the plan compared with the inputs a Pulumi
//! stack export (`pulumi stack export`) records — what an update would create,
//! change (update or replace, see [`crate::replace`]) and delete, as far as the
//! inputs tell, offline and without credentials.
//!
//! Each planned resource is found in the export by the URN the engine gives it (or
//! one of its aliases' URNs). Its inputs are compared with the recorded ones once
//! the values known only at deploy time are resolved from the export: another
//! resource's outputs (`id`, `name`, …) where the export holds that resource and the
//! update does not replace it. What cannot be resolved — data-source results, the
//! outputs of resources to be created or replaced — is *known after deploy*: not a
//! change, but listed, unless what is known of it already differs (a joined text
//! whose known parts the recorded value does not have). Secrets the export holds
//! encrypted are not compared either, and never shown.
//!
//! An export still holding the reference's Python dynamic resources is read as
//! `deploy migrate-state` would rewrite it (see [`cpg_infra_kinds::migrate`]), so
//! they compare as their `cpg:` types.

mod compare;
mod export;
mod render;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cpg_infra::graph::{
    Alias, AliasParent, Graph, Invoke, OutputRef, Resolver, Resource, ResourceId, Value,
};
use serde_json::{Map, Value as Json};

use crate::diff::{FieldChange, PlanDiff, ResourceChange};
use crate::replace::Action;
use crate::urn::{ROOT_STACK_TYPE, StackName, UrnError, qualified_type};
use compare::{Verdict, compare, known, same_if, settle, shown};
pub use export::{ExportError, StackExport};

/// Why an input was not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NotComparedBecause {
    /// The planned value depends on what only the update tells: a data source's
    /// result, an output of a resource created or replaced.
    AfterDeploy,
    /// The export holds the recorded value encrypted.
    Encrypted,
}

impl NotComparedBecause {
    /// `known after deploy` or `encrypted in the export`.
    pub fn describe(self) -> &'static str {
        match self {
            NotComparedBecause::AfterDeploy => "known after deploy",
            NotComparedBecause::Encrypted => "encrypted in the export",
        }
    }
}

/// A planned input (or stack export) the export cannot confirm or refute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotCompared {
    /// The resource (the root stack for a stack export).
    pub id: ResourceId,
    /// `inputs.<key>`, or the stack export's name.
    pub path: String,
    /// Why.
    pub because: NotComparedBecause,
}

/// The plan against a stack export.
#[derive(Debug, Clone, PartialEq)]
pub struct StateDiff {
    /// What changes, in the formats of a diff of two plans; access is not compared.
    pub diff: PlanDiff,
    /// What could not be compared, sorted.
    pub not_compared: Vec<NotCompared>,
    /// The export's file, stack and the number of dynamic resources read as `cpg:`.
    pub export: ExportSummary,
    /// Each added or changed resource's URN, and each removed one's.
    urns: BTreeMap<ResourceId, String>,
}

/// What the comparison says about the export it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// The export file.
    pub file: String,
    /// Its stack and project.
    pub stack: StackName,
    /// How many resources it records (the engine's own left out).
    pub resources: usize,
    /// How many Python dynamic resources were read as their `cpg:` types.
    pub moved: usize,
}

/// Outputs from the export: of the resources it holds that the update keeps.
struct RecordedOutputs<'a> {
    export: &'a StackExport,
    matched: &'a BTreeMap<ResourceId, usize>,
    replaced: &'a BTreeSet<ResourceId>,
}

impl Resolver for RecordedOutputs<'_> {
    fn output(&self, output: &OutputRef) -> Option<Value> {
        if self.replaced.contains(&output.resource) {
            return None;
        }
        let recorded = &self.export.resources[*self.matched.get(&output.resource)?];
        match output.property.as_str() {
            "id" => return recorded.provider_id.clone().map(Value::String),
            "urn" => return Some(Value::String(recorded.urn.clone())),
            _ => {}
        }
        let mut parts = output.property.split('.');
        let mut value = recorded.outputs.get(parts.next()?)?;
        for part in parts {
            value = value.get(part)?;
        }
        known(value)
    }

    fn invoke(&self, _invoke: &Invoke) -> Option<Value> {
        None
    }
}

/// The URN an alias of a resource named, in `stack`.
fn alias_urn(stack: &StackName, qualified: &str, id: &ResourceId, alias: &Alias) -> String {
    let name = alias.name.as_deref().unwrap_or(&id.name);
    let type_token = alias.type_token.as_deref().unwrap_or(&id.type_token);
    let parents = match alias.parent {
        AliasParent::Inherit => qualified.rsplit_once('$').map(|(p, _)| p),
        AliasParent::NoParent => None,
    };
    match parents {
        Some(p) => stack.urn(&format!("{p}${type_token}"), name),
        None => stack.urn(type_token, name),
    }
}

/// One pass over the matched resources: the inputs that differ, by resource, and
/// what could not be compared.
struct Pass {
    changed: Vec<ResourceChange>,
    not_compared: Vec<NotCompared>,
}

/// The recorded inputs a plan that does not set them leaves as they are: the
/// provider's defaults (`__defaults` and the inputs it names) and nulls.
fn defaulted(inputs: &Map<String, Json>) -> BTreeSet<&str> {
    let mut keys: BTreeSet<&str> = inputs
        .get("__defaults")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    keys.insert("__defaults");
    keys.extend(
        inputs
            .iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k.as_str()),
    );
    keys
}

fn compare_inputs(plan: &Graph, resolver: &RecordedOutputs<'_>) -> Pass {
    let mut pass = Pass {
        changed: Vec::new(),
        not_compared: Vec::new(),
    };
    for (id, index) in resolver.matched {
        let (Some(resource), recorded) = (plan.get(id), &resolver.export.resources[*index]) else {
            continue;
        };
        let mut fields = Vec::new();
        for (key, value) in &resource.inputs {
            let planned = settle(value, resolver);
            let verdict = match recorded.inputs.get(key) {
                None | Some(Json::Null) => same_if(planned == Value::Null),
                Some(json) => compare(&planned, json),
            };
            match verdict {
                Verdict::Same => {}
                Verdict::Differs => fields.push(FieldChange {
                    path: format!("inputs.{key}"),
                    before: recorded.inputs.get(key).filter(|j| !j.is_null()).map(shown),
                    after: Some(planned),
                }),
                Verdict::Unknown(because) => pass.not_compared.push(NotCompared {
                    id: id.clone(),
                    path: format!("inputs.{key}"),
                    because,
                }),
            }
        }
        let left_as_they_are = defaulted(&recorded.inputs);
        for (key, json) in &recorded.inputs {
            if !resource.inputs.contains_key(key) && !left_as_they_are.contains(key.as_str()) {
                fields.push(FieldChange {
                    path: format!("inputs.{key}"),
                    before: Some(shown(json)),
                    after: None,
                });
            }
        }
        if !fields.is_empty() {
            fields.sort_by(|a, b| a.path.cmp(&b.path));
            pass.changed.push(ResourceChange {
                id: id.clone(),
                fields,
            });
        }
    }
    pass
}

impl StateDiff {
    /// What an update of `export`'s stack to `plan` would do, as far as the
    /// recorded inputs tell.
    ///
    /// # Errors
    ///
    /// When a planned resource's parent is not in the plan (its URN cannot be
    /// formed).
    pub fn between(export: &StackExport, plan: &Graph) -> Result<StateDiff, UrnError> {
        let stack = &export.stack;
        let mut by_urn: HashMap<&str, usize> = HashMap::new();
        for (i, r) in export.resources.iter().enumerate() {
            if !r.skipped {
                by_urn.insert(r.urn.as_str(), i);
            }
        }
        let mut matched: BTreeMap<ResourceId, usize> = BTreeMap::new();
        let mut urns: BTreeMap<ResourceId, String> = BTreeMap::new();
        let mut used: BTreeSet<usize> = BTreeSet::new();
        let mut added = Vec::new();
        for resource in plan.resources() {
            let qualified = qualified_type(plan, &resource.id)?;
            let urn = stack.urn(&qualified, &resource.id.name);
            let found = std::iter::once(urn.clone())
                .chain(
                    resource
                        .options
                        .aliases
                        .iter()
                        .map(|a| alias_urn(stack, &qualified, &resource.id, a)),
                )
                .find_map(|u| by_urn.get(u.as_str()).copied());
            if let Some(index) = found {
                used.insert(index);
            }
            // A resource read rather than managed (the `id` option) is never created
            // or changed by an update.
            if resource.options.id.is_some() {
                continue;
            }
            urns.insert(resource.id.clone(), urn);
            match found {
                Some(index) => {
                    matched.insert(resource.id.clone(), index);
                }
                None => added.push(resource.clone()),
            }
        }
        // The outputs of a replaced resource are known only after the update:
        // compare again without them until no more replacements appear.
        let mut replaced: BTreeSet<ResourceId> = BTreeSet::new();
        let pass = loop {
            let resolver = RecordedOutputs {
                export,
                matched: &matched,
                replaced: &replaced,
            };
            let pass = compare_inputs(plan, &resolver);
            let now: BTreeSet<ResourceId> = pass
                .changed
                .iter()
                .filter(|c| matches!(c.action(), Action::Replace { .. }))
                .map(|c| c.id.clone())
                .collect();
            if now.is_subset(&replaced) {
                break pass;
            }
            replaced.extend(now);
        };
        let resolver = RecordedOutputs {
            export,
            matched: &matched,
            replaced: &replaced,
        };
        let mut not_compared = pass.not_compared;
        let root = ResourceId::new(
            ROOT_STACK_TYPE,
            format!("{}-{}", stack.project, stack.stack),
        );
        let mut exports = Vec::new();
        let names: BTreeSet<&String> = plan.exports().keys().chain(export.exports.keys()).collect();
        for name in names {
            let planned = plan.exports().get(name).map(|v| settle(v, &resolver));
            let recorded = export.exports.get(name).filter(|j| !j.is_null());
            let verdict = match (&planned, recorded) {
                (Some(p), Some(r)) => compare(p, r),
                (None, None) => Verdict::Same,
                _ => Verdict::Differs,
            };
            match verdict {
                Verdict::Same => {}
                Verdict::Differs => exports.push(FieldChange {
                    path: name.clone(),
                    before: recorded.map(shown),
                    after: planned,
                }),
                Verdict::Unknown(because) => not_compared.push(NotCompared {
                    id: root.clone(),
                    path: name.clone(),
                    because,
                }),
            }
        }
        let mut removed = Vec::new();
        for (i, recorded) in export.resources.iter().enumerate() {
            if used.contains(&i) || recorded.skipped || recorded.engine {
                continue;
            }
            let mut resource = Resource::new(&*recorded.id.type_token, &*recorded.id.name);
            resource.inputs = recorded
                .inputs
                .iter()
                .filter(|(k, _)| !k.starts_with("__"))
                .map(|(k, v)| (k.clone(), shown(v)))
                .collect();
            urns.insert(resource.id.clone(), recorded.urn.clone());
            removed.push(resource);
        }
        let mut holders = BTreeMap::new();
        for change in &pass.changed {
            let recorded = &export.resources[matched[&change.id]];
            let mut before = Resource::new(&*recorded.id.type_token, &*recorded.id.name);
            before.inputs = recorded
                .inputs
                .iter()
                .map(|(k, v)| (k.clone(), shown(v)))
                .collect();
            if let Some(holder) = crate::risk::holder_of(&before) {
                holders.insert(change.id.clone(), holder);
            }
        }
        added.sort_by(|a, b| a.id.cmp(&b.id));
        removed.sort_by(|a, b| a.id.cmp(&b.id));
        let mut changed = pass.changed;
        changed.sort_by(|a, b| a.id.cmp(&b.id));
        not_compared.sort();
        let resources = export
            .resources
            .iter()
            .filter(|r| !r.skipped && !r.engine)
            .count();
        Ok(StateDiff {
            diff: PlanDiff {
                added,
                removed,
                changed,
                exports,
                access_gained: Vec::new(),
                access_lost: Vec::new(),
                holders,
                without_access: true,
            },
            not_compared,
            export: ExportSummary {
                file: export.file.clone(),
                stack: export.stack.clone(),
                resources,
                moved: export.moved,
            },
            urns,
        })
    }

    /// Whether the update would change nothing the inputs tell.
    pub fn is_empty(&self) -> bool {
        self.diff.is_empty()
    }

    /// The URNs of everything the update would create, change or delete, sorted:
    /// for `pulumi preview --target`.
    pub fn targets(&self) -> Vec<String> {
        let ids = self
            .diff
            .added
            .iter()
            .map(|r| &r.id)
            .chain(self.diff.changed.iter().map(|c| &c.id))
            .chain(self.diff.removed.iter().map(|r| &r.id));
        let urns: BTreeSet<&String> = ids.filter_map(|id| self.urns.get(id)).collect();
        urns.into_iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::compare::{SECRET_SIG, SIG_KEY};
    use super::*;
    use crate::test_support::{bucket, graph};
    use serde_json::json;

    const BUCKET: &str = "gcp:storage/bucket:Bucket";
    const MEMBER: &str = "gcp:storage/bucketIAMMember:BucketIAMMember";

    fn member(bucket: &Resource, role: Value) -> Resource {
        Resource::new(MEMBER, format!("{}-member", bucket.id.name))
            .input("bucket", Value::output(&bucket.id, "name"))
            .input("role", role)
            .input("member", "group:g@example.org")
    }

    fn recorded(ty: &str, name: &str, inputs: Json, outputs: Json) -> Json {
        json!({
            "urn": format!("urn:pulumi:prod::datasets::{ty}::{name}"),
            "type": ty, "custom": true, "id": format!("{name}-id"),
            "inputs": inputs, "outputs": outputs,
            "provider": "urn:pulumi:prod::datasets::pulumi:providers:gcp::default_7_38_0::x",
        })
    }

    fn export(resources: Vec<Json>, exports: Json) -> StackExport {
        let mut all = vec![
            json!({"urn": "urn:pulumi:prod::datasets::pulumi:pulumi:Stack::datasets-prod",
                   "type": "pulumi:pulumi:Stack", "custom": false, "outputs": exports}),
            json!({"urn": "urn:pulumi:prod::datasets::pulumi:providers:gcp::default_7_38_0",
                   "type": "pulumi:providers:gcp", "custom": true, "id": "x"}),
        ];
        all.extend(resources);
        let document = json!({"version": 3, "deployment": {"resources": all}});
        StackExport::read("export.json", &document).expect("an export")
    }

    /// The export an update of `plan` would leave: inputs as planned (outputs of
    /// others resolved as `name` = input), outputs = inputs.
    fn deployed(location: &str, role: &str) -> StackExport {
        let bucket = json!({"name": "cpg-a", "location": location, "__defaults": ["forceDestroy"], "forceDestroy": false});
        let member = json!({"bucket": "cpg-a", "role": role, "member": "group:g@example.org"});
        export(
            vec![
                recorded(BUCKET, "a", bucket.clone(), bucket),
                recorded(MEMBER, "a-member", member.clone(), member),
            ],
            json!({"bucket": "cpg-a"}),
        )
    }

    fn planned(location: &str, role: Value) -> Graph {
        let a = bucket("a", location);
        let mut graph = graph(vec![a.clone(), member(&a, role)]);
        graph
            .export("bucket", Value::output(&a.id, "name"))
            .expect("export");
        graph
    }

    #[test]
    fn the_plan_an_export_was_made_from_changes_nothing() {
        let state = deployed("australia-southeast1", "roles/storage.admin");
        assert_eq!(state.stack.to_string(), "datasets/prod");
        let plan = planned("australia-southeast1", Value::from("roles/storage.admin"));
        let diff = StateDiff::between(&state, &plan).expect("diff");
        assert!(diff.is_empty(), "{}", diff.to_text(false));
        assert!(diff.not_compared.is_empty(), "{:?}", diff.not_compared);
        assert!(diff.targets().is_empty());
        assert_eq!(
            diff.to_text(false),
            "compared with export.json (stack datasets/prod, 2 resources)\n\n\
             resources: 0 to add, 0 to change, 0 to replace, 0 to destroy\n"
        );
    }

    #[test]
    fn a_changed_location_replaces_and_its_dependents_read_outputs_after_deploy() {
        let state = deployed("australia-southeast1", "roles/storage.admin");
        let plan = planned("us-central1", Value::from("roles/storage.admin"));
        let diff = StateDiff::between(&state, &plan).expect("diff");
        assert_eq!(
            diff.diff.counts(),
            "0 to add, 0 to change, 1 to replace, 0 to destroy"
        );
        let at_risk = diff.diff.data_at_risk();
        assert_eq!(at_risk.len(), 1);
        assert_eq!(at_risk[0].holder(), "bucket cpg-a");
        // The replaced bucket's name is only known after the update.
        assert_eq!(
            diff.not_compared,
            [
                NotCompared {
                    id: ResourceId::new(MEMBER, "a-member"),
                    path: "inputs.bucket".into(),
                    because: NotComparedBecause::AfterDeploy,
                },
                NotCompared {
                    id: ResourceId::new(ROOT_STACK_TYPE, "datasets-prod"),
                    path: "bucket".into(),
                    because: NotComparedBecause::AfterDeploy,
                },
            ]
        );
        assert_eq!(
            diff.targets(),
            ["urn:pulumi:prod::datasets::gcp:storage/bucket:Bucket::a"]
        );
        let text = diff.to_text(false);
        assert!(
            text.contains("-/+ gcp:storage/bucket:Bucket::a (replace: location)\n    inputs.location: australia-southeast1 → us-central1\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "not compared: 2 inputs of 2 resources\n\
                 ? gcp:storage/bucketIAMMember:BucketIAMMember::a-member: inputs.bucket (known after deploy)\n\
                 ? pulumi:pulumi:Stack::datasets-prod: bucket (known after deploy)\n"
            ),
            "{text}"
        );
        assert!(!text.contains("access:"), "{text}");
        let json = diff.to_json();
        assert_eq!(json["summary"]["replace"], 1);
        assert_eq!(json["summary"]["not_compared"], 2);
        assert_eq!(json["state"]["stack"], "prod");
        assert!(json.get("access_gained").is_none());
        let markdown = diff.to_markdown();
        assert!(
            markdown.starts_with(
                "### Infrastructure: 0 to add, 0 to change, 1 to replace, 0 to destroy\n\n\
                 Compared with `export.json` (stack `datasets/prod`, 2 resources).\n\n"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("<summary>Not compared (2 inputs of 2 resources)</summary>"),
            "{markdown}"
        );
        assert!(!markdown.contains("#### Access"), "{markdown}");
    }

    #[test]
    fn data_source_results_are_known_after_deploy_unless_the_known_text_differs() {
        let state = deployed("x", "organizations/123/roles/Reader");
        let role = |suffix: &str| {
            Value::concat([
                Value::Invoke(Invoke {
                    token: "gcp:organizations/getOrganization:getOrganization".into(),
                    args: BTreeMap::new(),
                    property: "id".into(),
                }),
                Value::from(suffix),
            ])
        };
        let same = StateDiff::between(&state, &planned("x", role("/roles/Reader"))).expect("diff");
        assert!(same.is_empty(), "{}", same.to_text(false));
        assert_eq!(same.not_compared.len(), 1);
        assert_eq!(same.not_compared[0].path, "inputs.role");
        let other = StateDiff::between(&state, &planned("x", role("/roles/Writer"))).expect("diff");
        assert_eq!(other.diff.changed.len(), 1);
        assert_eq!(other.diff.changed[0].fields[0].path, "inputs.role");
        assert!(other.not_compared.is_empty());
    }

    #[test]
    fn encrypted_secrets_are_not_compared_and_plaintext_ones_never_shown() {
        let encrypted = json!({SIG_KEY: SECRET_SIG, "ciphertext": "v1:abc"});
        let plain = |text: &str| json!({SIG_KEY: SECRET_SIG, "plaintext": json!(text).to_string()});
        let resource = |key: Json| {
            export(
                vec![recorded(
                    "gcp:secretmanager/secretVersion:SecretVersion",
                    "s",
                    json!({"secretData": key}),
                    json!({}),
                )],
                json!({}),
            )
        };
        let plan = graph(vec![
            Resource::new("gcp:secretmanager/secretVersion:SecretVersion", "s")
                .input("secretData", Value::from("new key").secret()),
        ]);
        let diff = StateDiff::between(&resource(encrypted), &plan).expect("diff");
        assert!(diff.is_empty());
        assert_eq!(diff.not_compared[0].because, NotComparedBecause::Encrypted);
        assert!(diff.to_text(false).contains("(encrypted in the export)"));
        let same = StateDiff::between(&resource(plain("new key")), &plan).expect("diff");
        assert!(same.is_empty() && same.not_compared.is_empty());
        let changed = StateDiff::between(&resource(plain("old key")), &plan).expect("diff");
        assert_eq!(changed.diff.changed.len(), 1);
        for text in [
            changed.to_text(false),
            changed.to_markdown(),
            changed.to_json().to_string(),
        ] {
            assert!(
                !text.contains("old key") && !text.contains("new key"),
                "{text}"
            );
        }
    }

    #[test]
    fn what_the_export_has_and_the_plan_not_is_deleted_and_the_engines_own_is_not() {
        let state = deployed("x", "r");
        let plan = graph(vec![bucket("a", "x"), bucket("b", "x")]);
        let diff = StateDiff::between(&state, &plan).expect("diff");
        assert_eq!(
            diff.diff.counts(),
            "1 to add, 0 to change, 0 to replace, 1 to destroy"
        );
        assert_eq!(&*diff.diff.added[0].id.name, "b");
        assert_eq!(&*diff.diff.removed[0].id.name, "a-member");
        assert_eq!(
            diff.diff.exports.len(),
            1,
            "the export is no longer planned"
        );
        assert_eq!(
            diff.targets(),
            [
                "urn:pulumi:prod::datasets::gcp:storage/bucket:Bucket::b",
                "urn:pulumi:prod::datasets::gcp:storage/bucketIAMMember:BucketIAMMember::a-member",
            ]
        );
    }

    #[test]
    fn an_input_the_export_has_beyond_the_providers_defaults_is_a_change() {
        let state = deployed("x", "r");
        let plan = planned("x", Value::from("r"));
        let mut with_labels = state.clone();
        with_labels.resources[2]
            .inputs
            .insert("labels".into(), json!({"a": "b"}));
        let diff = StateDiff::between(&with_labels, &plan).expect("diff");
        assert_eq!(diff.diff.changed.len(), 1);
        let field = &diff.diff.changed[0].fields[0];
        assert_eq!(
            (field.path.as_str(), &field.after),
            ("inputs.labels", &None)
        );
    }

    #[test]
    fn a_resource_found_under_an_alias_is_the_same_resource() {
        let state = deployed("x", "r");
        let renamed = Resource::new(BUCKET, "renamed")
            .input("name", "cpg-a")
            .input("location", "x")
            .options(cpg_infra::graph::ResourceOptions {
                aliases: vec![Alias {
                    name: Some("a".into()),
                    ..Alias::default()
                }],
                ..cpg_infra::graph::ResourceOptions::default()
            });
        let plan = graph(vec![renamed.clone(), member(&renamed, Value::from("r"))]);
        let diff = StateDiff::between(&state, &plan).expect("diff");
        // The member is new under its new name; the bucket is the one recorded.
        assert_eq!(
            diff.diff.counts(),
            "1 to add, 0 to change, 0 to replace, 1 to destroy"
        );
        assert_eq!(&*diff.diff.added[0].id.name, "renamed-member");
        assert_eq!(&*diff.diff.removed[0].id.name, "a-member");
    }

    #[test]
    fn a_document_that_is_not_an_export_is_refused_naming_where() {
        let error = StackExport::read("e.json", &json!({"version": 2})).expect_err("v2");
        assert_eq!(
            error.to_string(),
            "e.json: /version: version 2 is not supported (3 is)"
        );
        let error = StackExport::read(
            "e.json",
            &json!({"version": 3, "deployment": {"resources": [{"urn": "x", "type": "t"}]}}),
        )
        .expect_err("bad urn");
        assert!(
            error
                .to_string()
                .starts_with("e.json: /deployment/resources/0/urn: not a URN"),
            "{error}"
        );
        let error = StackExport::read(
            "e.json",
            &json!({"version": 3, "deployment": {"resources": []}}),
        )
        .expect_err("empty");
        assert!(
            error.to_string().contains("no resource names the stack"),
            "{error}"
        );
    }
}
