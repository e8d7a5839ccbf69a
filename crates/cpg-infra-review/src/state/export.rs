//! Reading a `pulumi stack export` document: each resource's URN, type, id, inputs
//! and outputs, and the stack's outputs.

use cpg_infra::graph::ResourceId;
use cpg_infra_kinds::migrate::{DYNAMIC_TYPE, MigrateError, migrate};
use serde_json::{Map, Value as Json};

use crate::urn::{ROOT_STACK_TYPE, StackName, UrnParts};

/// Why a stack export cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The document is not a `pulumi stack export` this understands.
    #[error("{file}: {path}: {reason}")]
    NotAnExport {
        /// The export file.
        file: String,
        /// Where in the document (a JSON pointer).
        path: String,
        /// What was expected.
        reason: String,
    },
    /// Its Python dynamic resources cannot be read as their `cpg:` types.
    #[error("{file}: the Python dynamic resources cannot be read as cpg: resources")]
    Migrate {
        /// The export file.
        file: String,
        /// Why.
        #[source]
        source: MigrateError,
    },
}

/// One resource of a stack export.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Recorded {
    pub(super) urn: String,
    pub(super) id: ResourceId,
    pub(super) provider_id: Option<String>,
    pub(super) inputs: Map<String, Json>,
    pub(super) outputs: Map<String, Json>,
    /// Pending deletion or read (`external`): neither planned nor deleted.
    pub(super) skipped: bool,
    /// The engine's own (the root stack, default providers): not planned, and
    /// not deleted for not being planned.
    pub(super) engine: bool,
}

/// A `pulumi stack export` document, read for comparing.
#[derive(Debug, Clone, PartialEq)]
pub struct StackExport {
    /// The file it was read from, for messages.
    pub file: String,
    /// The stack and project its URNs name.
    pub stack: StackName,
    /// How many Python dynamic resources were read as their `cpg:` types.
    pub moved: usize,
    pub(super) resources: Vec<Recorded>,
    pub(super) exports: Map<String, Json>,
}

fn not_export(file: &str, path: &str, reason: &str) -> ExportError {
    ExportError::NotAnExport {
        file: file.to_owned(),
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

impl StackExport {
    /// Reads an export document (version 3); `file` names it in errors.
    ///
    /// # Errors
    ///
    /// When it is not an export, has no resource to name the stack, or has Python
    /// dynamic resources whose kind cannot be told.
    pub fn read(file: &str, document: &Json) -> Result<StackExport, ExportError> {
        let has_dynamic = document
            .pointer("/deployment/resources")
            .and_then(Json::as_array)
            .is_some_and(|list| list.iter().any(|r| r["type"] == DYNAMIC_TYPE));
        let (document, moved) = if has_dynamic {
            let migration =
                migrate(document, cpg_infra_kinds::PROVIDER_VERSION).map_err(|source| {
                    ExportError::Migrate {
                        file: file.to_owned(),
                        source,
                    }
                })?;
            (migration.document, migration.moved.len())
        } else {
            (document.clone(), 0)
        };
        match document.get("version").and_then(Json::as_u64) {
            Some(3) => {}
            Some(v) => {
                return Err(not_export(
                    file,
                    "/version",
                    &format!("version {v} is not supported (3 is)"),
                ));
            }
            None => {
                return Err(not_export(
                    file,
                    "/version",
                    "missing: not a `pulumi stack export` document",
                ));
            }
        }
        let list = document
            .pointer("/deployment/resources")
            .and_then(Json::as_array)
            .ok_or_else(|| not_export(file, "/deployment/resources", "missing or not a list"))?;
        let mut resources = Vec::with_capacity(list.len());
        let mut stack = None;
        let mut exports = Map::new();
        for (i, r) in list.iter().enumerate() {
            let (Some(urn), Some(ty)) = (r["urn"].as_str(), r["type"].as_str()) else {
                return Err(not_export(
                    file,
                    &format!("/deployment/resources/{i}"),
                    "a resource needs a urn and a type",
                ));
            };
            let parts = UrnParts::parse(urn).ok_or_else(|| {
                not_export(
                    file,
                    &format!("/deployment/resources/{i}/urn"),
                    "not a URN (urn:pulumi:<stack>::<project>::<type>::<name>)",
                )
            })?;
            let object = |key: &str| r[key].as_object().cloned().unwrap_or_default();
            let root = ty == ROOT_STACK_TYPE;
            if root || stack.is_none() {
                stack = Some(StackName {
                    organization: None,
                    project: parts.project.to_owned(),
                    stack: parts.stack.to_owned(),
                });
            }
            if root {
                exports = object("outputs");
            }
            let flag = |key: &str| r[key].as_bool() == Some(true);
            let default_provider =
                ty.starts_with("pulumi:providers:") && parts.name.starts_with("default");
            resources.push(Recorded {
                urn: urn.to_owned(),
                id: ResourceId::new(ty, parts.name),
                provider_id: r["id"].as_str().map(str::to_owned),
                inputs: object("inputs"),
                outputs: object("outputs"),
                skipped: flag("delete") || flag("external"),
                engine: root || default_provider,
            });
        }
        let stack = stack.ok_or_else(|| {
            not_export(
                file,
                "/deployment/resources",
                "empty: no resource names the stack",
            )
        })?;
        Ok(StackExport {
            file: file.to_owned(),
            stack,
            moved,
            resources,
            exports,
        })
    }
}
