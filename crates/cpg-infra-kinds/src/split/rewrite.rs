//! Rewriting a resource for the stack it goes to: its URN, and every URN it names.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::state::{Entry, Kind, RESOURCE_REF_SIG, each_object_mut, is_sig, moved, str_list};
use super::{CrossParent, DroppedReference, ROOT_TYPE, Reference, Shard};

/// What the rewriting of one resource needs to know about the whole export.
pub(super) struct Context<'a> {
    pub(super) resources: &'a [Value],
    pub(super) entries: &'a [Entry<'a>],
    pub(super) index: &'a HashMap<&'a str, usize>,
    pub(super) stack_of: &'a [Option<String>],
    pub(super) used: &'a [BTreeSet<&'a str>],
    pub(super) project: &'a str,
}

/// Where a URN the resource names is, seen from one stack.
enum Target {
    /// In this stack, under this URN.
    Here(String),
    /// In another stack.
    Elsewhere(String),
}

impl Context<'_> {
    fn locate(&self, urn: &str, stack: &str, root_urn: &str) -> Target {
        let Some(&i) = self.index.get(urn) else {
            // Not in the export (the export was already inconsistent): only renamed.
            return Target::Here(moved(urn, stack, self.project));
        };
        match self.entries[i].kind {
            Kind::Root => Target::Here(root_urn.to_string()),
            Kind::Provider if self.used[i].contains(stack) => {
                Target::Here(moved(urn, stack, self.project))
            }
            Kind::Provider => Target::Elsewhere(
                self.used[i]
                    .iter()
                    .next()
                    .map_or("(none)".to_string(), ToString::to_string),
            ),
            Kind::Resource => match self.stack_of[i].as_deref() {
                Some(s) if s == stack => Target::Here(moved(urn, stack, self.project)),
                Some(s) => Target::Elsewhere(s.to_string()),
                None => Target::Here(moved(urn, stack, self.project)),
            },
        }
    }

    /// The URN's new form wherever it goes (for resource references, which may cross).
    fn anywhere(&self, urn: &str, stack: &str, root_urn: &str) -> String {
        let Some(&i) = self.index.get(urn) else {
            return moved(urn, stack, self.project);
        };
        match (self.entries[i].kind, self.stack_of[i].as_deref()) {
            (Kind::Root, _) => root_urn.to_string(),
            (Kind::Resource, Some(s)) => moved(urn, s, self.project),
            _ => moved(urn, stack, self.project),
        }
    }

    /// The document of one stack: its root with `outputs`, then its resources and the
    /// providers they use, in state order, each rewritten to the stack.
    pub(super) fn shard(
        &self,
        skeleton: &Value,
        stack: &str,
        outputs: Map<String, Value>,
        dropped: &mut Vec<DroppedReference>,
        cross: &mut Vec<CrossParent>,
    ) -> Shard {
        let project = self.project;
        let root_urn = format!("urn:pulumi:{stack}::{project}::{ROOT_TYPE}::{project}-{stack}");
        let root = self
            .entries
            .iter()
            .position(|e| matches!(e.kind, Kind::Root));
        let mut root_resource = root.map_or_else(
            || json!({"custom": false, "type": ROOT_TYPE}),
            |i| self.resources[i].clone(),
        );
        let output_count = outputs.len();
        if let Some(obj) = root_resource.as_object_mut() {
            obj.insert("urn".into(), json!(root_urn));
            obj.remove("parent");
            if outputs.is_empty() {
                obj.remove("outputs");
            } else {
                obj.insert("outputs".into(), Value::Object(outputs));
            }
        }
        let mut list = vec![root_resource];
        let mut resources = 0;
        let mut providers = Vec::new();
        for (i, r) in self.resources.iter().enumerate() {
            let entry = &self.entries[i];
            match entry.kind {
                Kind::Provider if self.used[i].contains(stack) => {
                    providers.push(entry.urn.to_string());
                }
                Kind::Resource if self.stack_of[i].as_deref() == Some(stack) => resources += 1,
                _ => continue,
            }
            let mut copy = r.clone();
            self.rewrite(&mut copy, entry.urn, stack, &root_urn, dropped, cross);
            list.push(copy);
        }
        let mut document = skeleton.clone();
        if let Some(d) = document
            .get_mut("deployment")
            .and_then(Value::as_object_mut)
        {
            d.insert("resources".into(), Value::Array(list));
        }
        Shard {
            document,
            resources,
            providers,
            outputs: output_count,
        }
    }

    fn rewrite(
        &self,
        resource: &mut Value,
        urn: &str,
        stack: &str,
        root_urn: &str,
        dropped: &mut Vec<DroppedReference>,
        cross: &mut Vec<CrossParent>,
    ) {
        let Some(obj) = resource.as_object_mut() else {
            return;
        };
        obj.insert("urn".into(), json!(moved(urn, stack, self.project)));
        let mut record = |reference: Reference, target: &str, target_stack: String| {
            dropped.push(DroppedReference {
                urn: urn.to_string(),
                stack: stack.to_string(),
                reference,
                target: target.to_string(),
                target_stack,
            });
        };
        for field in ["parent", "viewOf"] {
            let Some(target) = obj.get(field).and_then(Value::as_str).map(String::from) else {
                continue;
            };
            match self.locate(&target, stack, root_urn) {
                Target::Here(new) => {
                    obj.insert(field.into(), json!(new));
                }
                Target::Elsewhere(target_stack) => cross.push(CrossParent {
                    urn: urn.to_string(),
                    stack: stack.to_string(),
                    field,
                    target,
                    target_stack,
                }),
            }
        }
        if let Some(target) = obj
            .get("deletedWith")
            .and_then(Value::as_str)
            .map(String::from)
        {
            match self.locate(&target, stack, root_urn) {
                Target::Here(new) => {
                    obj.insert("deletedWith".into(), json!(new));
                }
                Target::Elsewhere(s) => {
                    obj.remove("deletedWith");
                    record(Reference::DeletedWith, &target, s);
                }
            }
        }
        let mut keep = |list: Vec<&str>, reference: &Reference| -> Vec<Value> {
            let mut kept = Vec::with_capacity(list.len());
            for target in list {
                match self.locate(target, stack, root_urn) {
                    Target::Here(new) => kept.push(json!(new)),
                    Target::Elsewhere(s) => record(reference.clone(), target, s),
                }
            }
            kept
        };
        for (field, reference) in [
            ("dependencies", Reference::Dependency),
            ("replaceWith", Reference::ReplaceWith),
        ] {
            if obj.get(field).is_some_and(Value::is_array) {
                let kept = keep(str_list(obj.get(field)), &reference);
                obj.insert(field.into(), Value::Array(kept));
            }
        }
        if let Some(Value::Object(by_input)) = obj.get("propertyDependencies") {
            let mut rewritten = Map::new();
            for (key, list) in by_input {
                let before = str_list(Some(list));
                let had = before.len();
                let kept = keep(before, &Reference::PropertyDependency(key.clone()));
                // An input all of whose dependencies went elsewhere is left out, as
                // `pulumi state move` leaves it out.
                if kept.len() == had || !kept.is_empty() {
                    rewritten.insert(key.clone(), Value::Array(kept));
                }
            }
            obj.insert("propertyDependencies".into(), Value::Object(rewritten));
        }
        if let Some(p) = obj.get("provider").and_then(Value::as_str)
            && let Some((provider, id)) = p.rsplit_once("::")
        {
            let new = format!("{}::{id}", moved(provider, stack, self.project));
            obj.insert("provider".into(), json!(new));
        }
        if let Some(Value::Array(aliases)) = obj.get_mut("aliases") {
            for alias in aliases.iter_mut() {
                if let Some(a) = alias.as_str() {
                    *alias = json!(moved(a, stack, self.project));
                }
            }
        }
        for key in ["inputs", "outputs"] {
            if let Some(props) = obj.get_mut(key) {
                each_object_mut(props, &mut |map| {
                    if is_sig(map, RESOURCE_REF_SIG)
                        && let Some(target) = map.get("urn").and_then(Value::as_str)
                    {
                        let new = self.anywhere(target, stack, root_urn);
                        map.insert("urn".into(), json!(new));
                    }
                });
            }
        }
    }
}
