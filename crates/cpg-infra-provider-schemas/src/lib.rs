//! The pinned Pulumi providers' schemas as checked facts.
//!
//! Every type token and input name a plan uses must exist in the provider versions
//! the reference's stacks were made with (pulumi-gcp 7.38.0, azure-native 2.21.2,
//! azuread 5.46.0); `cpg:` tokens are held against this project's own provider
//! schema (`crates/pulumi-resource-cpg/schema.json`) once it exists. The checker is
//! cloud-agnostic: a token's package prefix picks its schema.
//!
//! ```
//! use cpg_infra::graph::{Graph, Resource};
//! use cpg_infra_provider_schemas::Schemas;
//!
//! let schemas = Schemas::pinned().expect("the committed schemas read");
//! let mut graph = Graph::new();
//! graph
//!     .declare(Resource::new("gcp:storage/bucket:Bucket", "b").input("locaton", "australia-southeast1"))
//!     .expect("declared");
//! let report = schemas.check(&graph);
//! let shown: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
//! assert_eq!(shown, [
//!     "gcp:storage/bucket:Bucket::b: input \"locaton\" is not an input of gcp:storage/bucket:Bucket — did you mean \"location\"?",
//!     "gcp:storage/bucket:Bucket::b: required input \"location\" is missing",
//! ]);
//! ```

mod check;
pub mod schema;

use std::collections::BTreeMap;
use std::path::Path;

pub use check::{Report, SchemaProblem, Subject};
pub use schema::{ProviderSchema, SchemaError};

/// The committed schemas: (token package prefix, file name, text).
const PINNED: [(&str, &str, &str); 3] = [
    (
        "gcp",
        "provider-schemas/pulumi-gcp.json",
        include_str!("../../../provider-schemas/pulumi-gcp.json"),
    ),
    (
        "azure-native",
        "provider-schemas/azure-native.json",
        include_str!("../../../provider-schemas/azure-native.json"),
    ),
    (
        "azuread",
        "provider-schemas/azuread.json",
        include_str!("../../../provider-schemas/azuread.json"),
    ),
];

/// Where this project's own provider writes its package schema, from the workspace
/// root.
pub const CPG_SCHEMA: &str = "crates/pulumi-resource-cpg/schema.json";

/// The schemas a plan is checked against, by token package prefix, and the packages
/// left unchecked with the reason.
#[derive(Debug, Clone)]
pub struct Schemas {
    providers: BTreeMap<String, ProviderSchema>,
    unchecked: BTreeMap<String, String>,
}

impl Schemas {
    /// The pinned provider schemas, this project's `cpg:` schema when
    /// [`CPG_SCHEMA`] exists in the workspace, and `dry-run:` left unchecked (it has
    /// no provider).
    pub fn pinned() -> Result<Self, SchemaError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Self::pinned_with_cpg(&root.join(CPG_SCHEMA))
    }

    /// The pinned provider schemas, with the `cpg:` schema read from `cpg_schema`
    /// when that file exists.
    pub fn pinned_with_cpg(cpg_schema: &Path) -> Result<Self, SchemaError> {
        let mut schemas = Schemas {
            providers: BTreeMap::new(),
            unchecked: BTreeMap::from([(
                "dry-run".to_owned(),
                "the dry-run cloud has no provider".to_owned(),
            )]),
        };
        for (prefix, file, text) in PINNED {
            schemas.insert(prefix, ProviderSchema::from_compact(file, text)?);
        }
        match std::fs::read_to_string(cpg_schema) {
            Ok(text) => {
                let file = cpg_schema.display().to_string();
                schemas.insert("cpg", ProviderSchema::from_package_schema(&file, &text)?);
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                schemas
                    .unchecked
                    .insert("cpg".to_owned(), format!("{CPG_SCHEMA} does not exist yet"));
            }
            Err(source) => {
                return Err(SchemaError::Unreadable {
                    file: cpg_schema.display().to_string(),
                    source,
                });
            }
        }
        Ok(schemas)
    }

    /// Uses `schema` for tokens starting `{prefix}:`.
    pub fn insert(&mut self, prefix: &str, schema: ProviderSchema) {
        self.unchecked.remove(prefix);
        self.providers.insert(prefix.to_owned(), schema);
    }

    /// The schema for tokens starting `{prefix}:`.
    pub fn provider(&self, prefix: &str) -> Option<&ProviderSchema> {
        self.providers.get(prefix)
    }

    /// Packages whose tokens are not checked, with the reason.
    pub fn unchecked(&self) -> &BTreeMap<String, String> {
        &self.unchecked
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The tokens `provider-schemas/uses.txt` lists for a provider section.
    fn listed(section: &str) -> BTreeSet<String> {
        let text = include_str!("../../../provider-schemas/uses.txt");
        let mut current = None;
        let mut tokens = BTreeSet::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = Some(name.to_owned());
            } else if current.as_deref() == Some(section) {
                tokens.insert(line.to_owned());
            }
        }
        tokens
    }

    #[test]
    fn committed_schemas_hold_every_listed_token() {
        let schemas = Schemas::pinned().expect("read");
        for (prefix, section, version) in [
            ("gcp", "pulumi-gcp", "7.38.0"),
            ("azure-native", "azure-native", "2.21.2"),
            ("azuread", "azuread", "5.46.0"),
        ] {
            let schema = schemas.provider(prefix).expect("pinned");
            assert_eq!(schema.version, version);
            let held: BTreeSet<String> = schema
                .resources
                .keys()
                .chain(schema.invokes.keys())
                .cloned()
                .collect();
            assert_eq!(
                held,
                listed(section),
                "{section}: regenerate with extract.py"
            );
            // Every input type a property names is in the file.
            let properties = schema
                .resources
                .values()
                .chain(schema.invokes.values())
                .chain(schema.types.values())
                .flat_map(|p| p.values());
            for property in properties {
                for kind in [&property.object, &property.list, &property.map]
                    .into_iter()
                    .flatten()
                {
                    assert!(schema.types.contains_key(kind), "{section}: {kind}");
                }
            }
        }
    }
}
