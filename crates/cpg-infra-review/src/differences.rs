//! What the first preview of a stack adopted from the reference changes: the resources
//! where the plan deliberately differs from what the reference builds (each with its
//! row of docs/differences.md), and the `cpg:` resources `migrate-state` moves off the
//! reference's Python dynamic providers.
//!
//! Each [`Fix`] is a predicate over a planned resource (its type token and the end of
//! its logical name, which carries the dataset in front), so the list is computed from
//! the plan of the config at hand. The parity tests allow exactly these differences
//! against the reference's recordings, so the two cannot drift apart.

use cpg_infra::graph::{Graph, ResourceId};
use cpg_infra_kinds::migrate::DYNAMIC_TYPE;
use cpg_infra_kinds::schema::Kind;
use serde_json::{Value, json};

/// How a resource of the plan differs from the reference's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The reference never declares it: the first `up` creates it.
    Created,
    /// The reference declares it with another value of one input: the first `up`
    /// updates it in place.
    ChangedInput {
        /// The input.
        input: &'static str,
        /// The value's distinctive part in the reference.
        reference: &'static str,
        /// The value's distinctive part in the plan.
        planned: &'static str,
    },
}

impl Change {
    /// The change in a few words, as `deploy differences` prints it.
    pub fn describe(&self) -> String {
        match self {
            Self::Created => "created".to_owned(),
            Self::ChangedInput {
                input,
                reference,
                planned,
            } => format!("changed input {input}: {reference} -> {planned}"),
        }
    }
}

/// A deliberate difference from the reference, as a predicate over planned resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, in a line.
    pub what: &'static str,
    /// The first column of its row in docs/differences.md.
    pub row: &'static str,
    /// The type token of the resources it affects.
    pub type_token: &'static str,
    /// How their logical names end (the dataset comes in front).
    pub name_suffix: &'static str,
    /// What the first preview shows for each.
    pub change: Change,
}

impl Fix {
    /// Whether `id` is a resource this fix affects.
    pub fn affects(&self, id: &ResourceId) -> bool {
        &*id.type_token == self.type_token
            && id
                .name
                .strip_suffix(self.name_suffix)
                .is_some_and(|dataset| !dataset.is_empty())
    }
}

/// Every deliberate difference a plan can show against the reference's plan of the
/// same config, GCP first.
pub const FIXES: [Fix; 5] = [
    Fix {
        what: "metamist's current machine account joins main-list under a key of its own",
        row: "metamist's machine accounts in `{ds}-main-list`",
        type_token: cpg_infra_kinds::GROUP_MEMBERSHIP,
        name_suffix: "-gcp-metamist-machine-account-in-main-list",
        change: Change::Created,
    },
    Fix {
        what: "images-dev-reader gets the test group",
        row: "`{ds}-images-dev-reader`",
        type_token: cpg_infra_kinds::GROUP_MEMBERSHIP,
        name_suffix: "-gcp-test-in-images-dev-reader-group-member",
        change: Change::Created,
    },
    Fix {
        what: "main-read reads main-web",
        row: "`main-read-main-web-bucket-viewer`",
        type_token: cpg_infra_gcp::tokens::BUCKET_IAM_MEMBER,
        name_suffix: "-gcp-main-read-main-web-bucket-viewer",
        change: Change::ChangedInput {
            input: "role",
            reference: "StorageViewerAndCreator",
            planned: "StorageObjectAndBucketViewer",
        },
    },
    Fix {
        what: "images-dev-reader gets the test group on Azure",
        row: "`{ds}-images-dev-reader`",
        type_token: cpg_infra_azure::tokens::GROUP_MEMBER,
        name_suffix: "-azure-test-in-images-dev-reader-group-member",
        change: Change::Created,
    },
    Fix {
        what: "main-read reads main-web on Azure",
        row: "`main-read-main-web-bucket-viewer`",
        type_token: cpg_infra_azure::tokens::ROLE_ASSIGNMENT,
        name_suffix: "-azure-main-read-main-web-bucket-viewer",
        // Storage Blob Data Contributor becomes Storage Blob Data Reader.
        change: Change::ChangedInput {
            input: "roleDefinitionId",
            reference: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
            planned: cpg_infra_azure::roles::BLOB_READER,
        },
    },
];

/// A planned resource that differs from the reference's on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The resource.
    pub resource: ResourceId,
    /// The fix that makes it differ.
    pub fix: &'static Fix,
}

/// A `cpg:` resource of the plan that the reference declares as a Python dynamic
/// resource: `deploy migrate-state` moves it to its `cpg:` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The resource, under this project's token.
    pub resource: ResourceId,
    /// The reference's dynamic provider class, e.g. `cpg_infra.plugin.HailBatchUserProvider`.
    pub reference_provider: &'static str,
}

/// What the first preview of a stack adopted from the reference changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Differences {
    /// The resources that differ on purpose, in plan order.
    pub fixed: Vec<Difference>,
    /// The `cpg:` resources `migrate-state` moves (those the reference declares), in
    /// plan order.
    pub moved: Vec<Moved>,
}

impl Differences {
    /// Reads them off a plan.
    pub fn of(graph: &Graph) -> Self {
        let mut differences = Self::default();
        for resource in graph.resources() {
            let fix = FIXES.iter().find(|fix| fix.affects(&resource.id));
            if let Some(fix) = fix {
                differences.fixed.push(Difference {
                    resource: resource.id.clone(),
                    fix,
                });
            }
            if fix.is_some_and(|fix| fix.change == Change::Created) {
                continue;
            }
            if let Some(kind) = Kind::from_token(&resource.id.type_token) {
                differences.moved.push(Moved {
                    resource: resource.id.clone(),
                    reference_provider: kind.spec().reference_provider,
                });
            }
        }
        differences
    }

    /// The report as text, one line per resource.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{} resources differ from the reference on purpose (docs/differences.md):\n",
            self.fixed.len()
        );
        for difference in &self.fixed {
            text.push_str(&format!(
                "  {}: {}\n    row: {}\n",
                difference.resource,
                difference.fix.change.describe(),
                difference.fix.row
            ));
        }
        text.push_str(&format!(
            "{} resources move from {DYNAMIC_TYPE} to cpg: types (deploy migrate-state):\n",
            self.moved.len()
        ));
        for moved in &self.moved {
            text.push_str(&format!(
                "  {}: from {DYNAMIC_TYPE} ({})\n",
                moved.resource, moved.reference_provider
            ));
        }
        text
    }

    /// The report as JSON: `differences` (resource, type, name, change, input,
    /// reference, planned, row, what) and `moved` (resource, from, provider, to).
    pub fn to_json(&self) -> Value {
        let fixed: Vec<Value> = self
            .fixed
            .iter()
            .map(|d| {
                let mut entry = json!({
                    "resource": d.resource.to_string(),
                    "type": &*d.resource.type_token,
                    "name": &*d.resource.name,
                    "row": d.fix.row,
                    "what": d.fix.what,
                });
                match d.fix.change {
                    Change::Created => entry["change"] = json!("created"),
                    Change::ChangedInput {
                        input,
                        reference,
                        planned,
                    } => {
                        entry["change"] = json!("changed input");
                        entry["input"] = json!(input);
                        entry["reference"] = json!(reference);
                        entry["planned"] = json!(planned);
                    }
                }
                entry
            })
            .collect();
        let moved: Vec<Value> = self
            .moved
            .iter()
            .map(|m| {
                json!({
                    "resource": m.resource.to_string(),
                    "from": DYNAMIC_TYPE,
                    "provider": m.reference_provider,
                    "to": &*m.resource.type_token,
                })
            })
            .collect();
        json!({ "differences": fixed, "moved": moved })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fix_has_its_row_in_the_differences_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/differences.md");
        let table = std::fs::read_to_string(path).expect("docs/differences.md");
        for fix in &FIXES {
            assert!(
                table.contains(&format!("\n| {} |", fix.row)),
                "no row {:?} in docs/differences.md",
                fix.row
            );
        }
    }

    #[test]
    fn a_fix_needs_a_dataset_before_its_suffix() {
        let fix = &FIXES[0];
        assert!(fix.affects(&ResourceId::new(
            fix.type_token,
            format!("cardiac{}", fix.name_suffix)
        )));
        assert!(!fix.affects(&ResourceId::new(fix.type_token, fix.name_suffix)));
        assert!(!fix.affects(&ResourceId::new(
            cpg_infra_kinds::HAIL_USER,
            format!("cardiac{}", fix.name_suffix)
        )));
    }
}
