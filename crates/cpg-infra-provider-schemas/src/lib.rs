//! The pinned Pulumi providers' schemas as checked facts.
//!
//! Every type token and input name a plan uses must exist in the provider versions
//! the reference's stacks were made with (pulumi-gcp 7.38.0, azure-native 2.21.2,
//! azuread 5.46.0, as the cloud crates pin them); `cpg:` tokens are held against
//! this project's own provider schema, built by `cpg-infra-kinds` (what the provider
//! serves and commits as `crates/pulumi-resource-cpg/schema.json`). The checker is
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

use cpg_infra_azure::tokens::{
    AZURE_NATIVE_PACKAGE, AZURE_NATIVE_VERSION, AZUREAD_PACKAGE, AZUREAD_VERSION,
};
use cpg_infra_gcp::tokens as gcp;

pub use check::{Report, SchemaProblem, Subject};
pub use schema::{ProviderSchema, SchemaError};

/// A committed provider schema: the package its tokens start with, the version the
/// cloud crate pins, the file and its text.
struct Pinned {
    package: &'static str,
    version: &'static str,
    file: &'static str,
    text: &'static str,
}

impl Pinned {
    /// The committed schema, which must be of the pinned version.
    fn read(&self) -> Result<ProviderSchema, SchemaError> {
        let schema = ProviderSchema::from_compact(self.file, self.text)?;
        if schema.version != self.version {
            return Err(SchemaError::OtherVersion {
                file: self.file.to_owned(),
                pinned: self.version.to_owned(),
                found: schema.version,
            });
        }
        Ok(schema)
    }
}

/// The committed schemas of the pinned providers.
const PINNED: [Pinned; 3] = [
    Pinned {
        package: gcp::PACKAGE,
        version: gcp::VERSION,
        file: "provider-schemas/pulumi-gcp.json",
        text: include_str!("../../../provider-schemas/pulumi-gcp.json"),
    },
    Pinned {
        package: AZURE_NATIVE_PACKAGE,
        version: AZURE_NATIVE_VERSION,
        file: "provider-schemas/azure-native.json",
        text: include_str!("../../../provider-schemas/azure-native.json"),
    },
    Pinned {
        package: AZUREAD_PACKAGE,
        version: AZUREAD_VERSION,
        file: "provider-schemas/azuread.json",
        text: include_str!("../../../provider-schemas/azuread.json"),
    },
];

/// Where the `cpg:` schema comes from, for messages.
const CPG_SCHEMA: &str = "cpg-infra-kinds";

/// The schemas a plan is checked against, by token package prefix, and the packages
/// left unchecked with the reason.
#[derive(Debug, Clone)]
pub struct Schemas {
    providers: BTreeMap<String, ProviderSchema>,
    unchecked: BTreeMap<String, String>,
}

impl Schemas {
    /// The pinned provider schemas and this project's `cpg:` schema, with `dry-run:`
    /// left unchecked (it has no provider).
    pub fn pinned() -> Result<Self, SchemaError> {
        let mut schemas = Schemas {
            providers: BTreeMap::new(),
            unchecked: BTreeMap::from([(
                "dry-run".to_owned(),
                "the dry-run cloud has no provider".to_owned(),
            )]),
        };
        for pinned in &PINNED {
            schemas.insert(pinned.package, pinned.read()?);
        }
        schemas.insert(
            cpg_infra_kinds::PACKAGE,
            ProviderSchema::from_package_schema(
                CPG_SCHEMA,
                &cpg_infra_kinds::schema::schema_text(),
            )?,
        );
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
    fn a_schema_of_another_version_than_the_pinned_one_is_refused() {
        let bumped = Pinned {
            version: "7.39.0",
            ..PINNED[0]
        };
        let error = bumped.read().map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            error,
            Err(
                "provider-schemas/pulumi-gcp.json: the schema of version 7.38.0, but 7.39.0 is pinned"
                    .to_owned()
            )
        );
    }

    #[test]
    fn the_folder_lists_each_pinned_version() {
        let readme = include_str!("../../../provider-schemas/README.md");
        for pinned in &PINNED {
            let file = pinned.file.trim_start_matches("provider-schemas/");
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{file}` |")))
                .unwrap_or_else(|| panic!("provider-schemas/README.md has no row for {file}"));
            assert!(
                row.trim_end().ends_with(&format!("| {} |", pinned.version)),
                "provider-schemas/README.md: {row}"
            );
        }
    }

    #[test]
    fn committed_schemas_hold_every_listed_token() {
        let schemas = Schemas::pinned().expect("read");
        for (pinned, section) in PINNED.iter().zip(["pulumi-gcp", "azure-native", "azuread"]) {
            let schema = schemas.provider(pinned.package).expect("pinned");
            assert_eq!(schema.version, pinned.version);
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
