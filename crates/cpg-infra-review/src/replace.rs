//! Update or replace: for each resource type, the inputs whose change makes the
//! provider replace the resource (delete and create it again) rather than update it
//! in place, and which of a plan difference's changes are replacements.
//!
//! The facts are `provider-schemas/replacements.json`, written by
//! `provider-schemas/replacements.py` from the pinned providers' published sources:
//! the Terraform schemas' `ForceNew` inputs for the bridged providers (pulumi-gcp,
//! pulumi-azuread), the inputs azure-native's schema marks `willReplaceOnChanges` (the
//! Azure id's path parameters and `location`), and the `cpg:` provider schema's
//! `replaceOnChanges` properties — the inputs its Diff reports as replaces.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::diff::{PlanDiff, ResourceChange};

/// The committed facts file, from the workspace root.
pub const FACTS_FILE: &str = "provider-schemas/replacements.json";

const PINNED: &str = include_str!("../../../provider-schemas/replacements.json");

/// Why the replacement facts cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FactsError {
    /// The file is not the facts format.
    #[error("{file}: not a replacement facts file")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// One resource type's replacement facts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Fact {
    /// The inputs (wire names) whose change replaces the resource.
    pub replace: BTreeSet<String>,
    /// Where the fact was read: the Terraform resource, or the rule applied.
    pub source: String,
}

#[derive(Debug, Deserialize)]
struct File {
    sources: BTreeMap<String, String>,
    resources: BTreeMap<String, Fact>,
}

/// The replacement facts of every resource type the plans use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacements {
    /// Per provider, where its facts come from.
    pub sources: BTreeMap<String, String>,
    /// Per type token, its facts.
    pub resources: BTreeMap<String, Fact>,
}

impl Replacements {
    /// Reads a facts file's text; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// When the text is not the facts format.
    pub fn parse(file: &str, text: &str) -> Result<Self, FactsError> {
        let parsed: File = serde_json::from_str(text).map_err(|source| FactsError::Format {
            file: file.to_owned(),
            source,
        })?;
        Ok(Replacements {
            sources: parsed.sources,
            resources: parsed.resources,
        })
    }

    /// The committed facts ([`FACTS_FILE`]), read once.
    ///
    /// # Errors
    ///
    /// When the committed file is not the facts format (a test reads it).
    pub fn pinned() -> Result<&'static Replacements, &'static FactsError> {
        static PARSED: OnceLock<Result<Replacements, FactsError>> = OnceLock::new();
        PARSED
            .get_or_init(|| Replacements::parse(FACTS_FILE, PINNED))
            .as_ref()
    }

    /// What changing `inputs` of a resource of type `token` does.
    pub fn action<'a>(&self, token: &str, inputs: impl IntoIterator<Item = &'a str>) -> Action {
        let Some(fact) = self.resources.get(token) else {
            return Action::Unknown;
        };
        let because: Vec<String> = inputs
            .into_iter()
            .filter(|input| fact.replace.contains(*input))
            .map(str::to_owned)
            .collect();
        if because.is_empty() {
            Action::Update
        } else {
            Action::Replace { because }
        }
    }
}

/// What a change does to a resource that both plans have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Updated in place.
    Update,
    /// Deleted and created again, because these inputs change.
    Replace {
        /// The changed inputs that force it, sorted.
        because: Vec<String>,
    },
    /// No facts for the type: it may be either.
    Unknown,
}

impl Action {
    /// `update`, `replace` or `unknown`, as the JSON and Markdown name it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Update => "update",
            Action::Replace { .. } => "replace",
            Action::Unknown => "unknown",
        }
    }
}

impl ResourceChange {
    /// The inputs (by key) among this change's fields.
    pub fn changed_inputs(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter_map(|f| f.path.strip_prefix("inputs."))
    }

    /// Whether the change updates or replaces the resource, by the committed facts
    /// ([`Action::Unknown`] when they cannot be read).
    pub fn action(&self) -> Action {
        match Replacements::pinned() {
            Ok(facts) => facts.action(&self.id.type_token, self.changed_inputs()),
            Err(_) => Action::Unknown,
        }
    }
}

impl PlanDiff {
    /// The changed resources that are replaced, each with the inputs that force it.
    pub fn replaced(&self) -> Vec<(&ResourceChange, Vec<String>)> {
        self.changed
            .iter()
            .filter_map(|change| match change.action() {
                Action::Replace { because } => Some((change, because)),
                Action::Update | Action::Unknown => None,
            })
            .collect()
    }

    /// How many changed resources are updated in place (or may be: no facts).
    pub fn updated_count(&self) -> usize {
        self.changed.len() - self.replaced().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_facts_read_and_name_their_sources() {
        let facts = Replacements::pinned().expect("the committed facts read");
        for provider in ["pulumi-gcp", "azure-native", "azuread", "cpg"] {
            assert!(facts.sources.contains_key(provider), "{provider}");
        }
        let bucket = &facts.resources["gcp:storage/bucket:Bucket"];
        assert!(bucket.replace.contains("location"), "{bucket:?}");
        assert!(!bucket.replace.contains("labels"), "{bucket:?}");
    }

    #[test]
    fn a_change_to_a_forcing_input_replaces_and_others_update() {
        let facts = Replacements::pinned().expect("facts");
        let token = "azure-native:storage:StorageAccount";
        assert_eq!(
            facts.action(token, ["tags", "location"]),
            Action::Replace {
                because: vec!["location".into()]
            }
        );
        assert_eq!(facts.action(token, ["tags"]), Action::Update);
        assert_eq!(facts.action("x:y:Z", ["tags"]), Action::Unknown);
        assert_eq!(
            facts
                .action("cpg:google:GroupMembership", ["member_key"])
                .name(),
            "replace"
        );
    }

    #[test]
    fn a_file_that_is_not_facts_is_an_error_naming_it() {
        let error = Replacements::parse("r.json", "{}").expect_err("not facts");
        assert_eq!(error.to_string(), "r.json: not a replacement facts file");
    }
}
