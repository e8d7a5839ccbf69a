//! Holding a plan against the schemas: every resource's type token exists, every
//! input is an input of that resource (nested object inputs too, where their value
//! is known), every required input is present, every invoke's token and arguments
//! exist, and every output a value refers to exists.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use cpg_infra::config::suggest::Suggestion;
use cpg_infra::graph::{Graph, Invoke, ResourceId, Value};

use crate::Schemas;
use crate::schema::{Properties, ProviderSchema};

/// What a problem is about: a resource (`type::name`), or a data-source call inside
/// one of its inputs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Subject {
    /// A declared resource.
    Resource(String),
    /// A stack export.
    Export(String),
    /// An invoke in an input of a resource.
    Invoke {
        /// The invoke's token.
        token: String,
        /// The resource (`type::name`) whose input holds it.
        within: String,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Resource(id) => f.write_str(id),
            Subject::Export(name) => write!(f, "export {name:?}"),
            Subject::Invoke { token, within } => write!(f, "{within}: invoke {token}"),
        }
    }
}

/// A token or property the pinned schemas do not have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaProblem {
    /// No schema for the token's package.
    #[error("{subject}: no provider schema for package {package:?}")]
    UnknownPackage {
        /// What it is about.
        subject: Subject,
        /// The token's package prefix.
        package: String,
    },
    /// A resource or invoke token the provider does not have.
    #[error("{subject}: {provider} {version} has no {kind} {token}{suggestion}")]
    UnknownToken {
        /// What it is about.
        subject: Subject,
        /// `resource` or `invoke`.
        kind: &'static str,
        /// The token.
        token: String,
        /// The provider.
        provider: String,
        /// Its version.
        version: String,
        /// The nearest token it has.
        suggestion: SuggestionText,
    },
    /// An input the resource, invoke or input type does not have.
    #[error("{subject}: input {path:?} is not an input of {owner}{suggestion}")]
    UnknownInput {
        /// What it is about.
        subject: Subject,
        /// The input's path (`privilegedAccess.gcpIamAccess.roleBindings[0].role`).
        path: String,
        /// The resource, invoke or input type it was checked against.
        owner: String,
        /// The nearest input it has.
        suggestion: SuggestionText,
    },
    /// A property of another resource's outputs, or of an invoke's result, that it
    /// does not have.
    #[error("{subject}: {target} has no output {property:?}{suggestion}")]
    UnknownOutput {
        /// What it is about.
        subject: Subject,
        /// The resource (`type::name`) or invoke token whose output is used.
        target: String,
        /// The property's first segment.
        property: String,
        /// The nearest output it has.
        suggestion: SuggestionText,
    },
    /// A required input that is absent (or null).
    #[error("{subject}: required input {path:?} is missing")]
    MissingRequired {
        /// What it is about.
        subject: Subject,
        /// The input's path.
        path: String,
    },
}

/// A "did you mean" suffix, comparable and sortable.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct SuggestionText(pub Option<String>);

impl fmt::Display for SuggestionText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Suggestion(self.0.clone()).fmt(f)
    }
}

fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a String>) -> SuggestionText {
    SuggestionText(Suggestion::closest(name, candidates.into_iter().map(String::as_str)).0)
}

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every problem, in the plan's order.
    pub problems: Vec<SchemaProblem>,
    /// Resources checked, per package prefix.
    pub checked: BTreeMap<String, usize>,
    /// Invoke calls checked.
    pub invokes_checked: usize,
    /// Resources left unchecked, per package prefix, with the reason.
    pub unchecked: BTreeMap<String, (usize, String)>,
}

impl Report {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (package, count) in &self.checked {
            writeln!(f, "checked: {count} {package} resources")?;
        }
        writeln!(f, "checked: {} invoke calls", self.invokes_checked)?;
        for (package, (count, reason)) in &self.unchecked {
            writeln!(f, "not checked: {count} {package} resources ({reason})")?;
        }
        for problem in &self.problems {
            writeln!(f, "problem: {problem}")?;
        }
        Ok(())
    }
}

impl Schemas {
    /// Checks every resource of `graph` (its type, inputs, required inputs, and the
    /// options that name inputs or outputs), every invoke inside their inputs, and
    /// every reference to an output, the stack's exports included.
    pub fn check(&self, graph: &Graph) -> Report {
        let mut report = Report::default();
        for resource in graph.resources() {
            let token: &str = &resource.id.type_token;
            let subject = Subject::Resource(resource.id.to_string());
            let package = package(token);
            for value in resource.inputs.values() {
                self.check_invokes(value, &resource.id.to_string(), &mut report);
                self.check_outputs(graph, value, &subject, &mut report);
            }
            if let Some(outputs) = self.outputs_of(token) {
                for name in &resource.options.additional_secret_outputs {
                    if !outputs.contains(name) {
                        report.problems.push(SchemaProblem::UnknownOutput {
                            subject: subject.clone(),
                            target: resource.id.to_string(),
                            property: name.clone(),
                            suggestion: suggest(name, outputs),
                        });
                    }
                }
            }
            if let Some(reason) = self.unchecked().get(package) {
                let entry = report
                    .unchecked
                    .entry(package.to_owned())
                    .or_insert((0, reason.clone()));
                entry.0 += 1;
                continue;
            }
            let Some(schema) = self.provider(package) else {
                report.problems.push(SchemaProblem::UnknownPackage {
                    subject,
                    package: package.to_owned(),
                });
                continue;
            };
            *report.checked.entry(package.to_owned()).or_default() += 1;
            let Some(properties) = schema.resources.get(token) else {
                report.problems.push(unknown_token(
                    subject,
                    "resource",
                    token,
                    schema,
                    schema.resources.keys(),
                ));
                continue;
            };
            // `ignoreChanges` and `replaceOnChanges` name inputs (`a.b[0]` by its first
            // segment), or every input with Pulumi's wildcard `*`.
            let options = &resource.options;
            for path in options
                .ignore_changes
                .iter()
                .chain(&options.replace_on_changes)
            {
                let first = path.split(['.', '[']).next().unwrap_or_default();
                if first != "*" && !properties.contains_key(first) {
                    report.problems.push(SchemaProblem::UnknownInput {
                        subject: subject.clone(),
                        path: path.clone(),
                        owner: token.to_owned(),
                        suggestion: suggest(first, properties.keys()),
                    });
                }
            }
            let inputs: BTreeMap<&str, &Value> = resource
                .inputs
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            check_properties(
                schema,
                &subject,
                "",
                token,
                properties,
                &inputs,
                &mut report,
            );
        }
        for (name, value) in graph.exports() {
            let subject = Subject::Export(name.clone());
            self.check_outputs(graph, value, &subject, &mut report);
        }
        report
    }

    /// The output names of a resource or invoke token, when its schema is known.
    fn outputs_of(&self, token: &str) -> Option<&BTreeSet<String>> {
        self.provider(package(token))?.outputs.get(token)
    }

    /// Every output reference and invoke result property in `value` names an output
    /// the resource or invoke has.
    fn check_outputs(&self, graph: &Graph, value: &Value, subject: &Subject, report: &mut Report) {
        let mut found = Vec::new();
        references(value, &mut found);
        for (target, token, property) in found {
            let token = match token {
                Some(token) => token,
                None => match graph.get(&target_id(&target)) {
                    Some(resource) => resource.id.type_token.to_string(),
                    None => continue,
                },
            };
            let Some(outputs) = self.outputs_of(&token) else {
                continue;
            };
            let first = property.split('.').next().unwrap_or_default();
            // Every resource has these; an empty property is the whole resource.
            if first.is_empty() || first == "id" || first == "urn" || outputs.contains(first) {
                continue;
            }
            report.problems.push(SchemaProblem::UnknownOutput {
                subject: subject.clone(),
                target,
                property: first.to_owned(),
                suggestion: suggest(first, outputs),
            });
        }
    }

    /// Every invoke in `value` (`within` a resource or export) calls a data source
    /// the schemas have, with arguments it takes.
    fn check_invokes(&self, value: &Value, within: &str, report: &mut Report) {
        if let Value::Invoke(invoke) = value
            && !self.check_invoke(invoke, within, report)
        {
            return;
        }
        for child in value.children() {
            self.check_invokes(child, within, report);
        }
    }

    /// Checks one invoke; whether its arguments are to be checked in turn (not
    /// when its package is unchecked or unknown, or its token unknown).
    fn check_invoke(&self, invoke: &Invoke, within: &str, report: &mut Report) -> bool {
        report.invokes_checked += 1;
        let subject = Subject::Invoke {
            token: invoke.token.clone(),
            within: within.to_owned(),
        };
        let package = package(&invoke.token);
        if self.unchecked().contains_key(package) {
            return false;
        }
        let Some(schema) = self.provider(package) else {
            report.problems.push(SchemaProblem::UnknownPackage {
                subject,
                package: package.to_owned(),
            });
            return false;
        };
        let Some(properties) = schema.invokes.get(&invoke.token) else {
            report.problems.push(unknown_token(
                subject,
                "invoke",
                &invoke.token,
                schema,
                schema.invokes.keys(),
            ));
            return false;
        };
        let args: BTreeMap<&str, &Value> =
            invoke.args.iter().map(|(k, v)| (k.as_str(), v)).collect();
        check_properties(
            schema,
            &subject,
            "",
            &invoke.token,
            properties,
            &args,
            report,
        );
        true
    }
}

/// Every output reference in `value`: (target as text, the invoke's token for an
/// invoke result, property).
fn references(value: &Value, found: &mut Vec<(String, Option<String>, String)>) {
    for value in value.walk() {
        match value {
            Value::Output(output) => {
                found.push((output.resource.to_string(), None, output.property.clone()));
            }
            Value::Invoke(invoke) => found.push((
                invoke.token.clone(),
                Some(invoke.token.clone()),
                invoke.property.clone(),
            )),
            _ => {}
        }
    }
}

/// A resource id from its `type::name` text.
fn target_id(text: &str) -> ResourceId {
    let (token, name) = text.split_once("::").unwrap_or((text, ""));
    ResourceId::new(token, name)
}

/// The package prefix of a token: `gcp` in `gcp:storage/bucket:Bucket`.
fn package(token: &str) -> &str {
    token.split(':').next().unwrap_or(token)
}

fn unknown_token<'a>(
    subject: Subject,
    kind: &'static str,
    token: &str,
    schema: &ProviderSchema,
    known: impl IntoIterator<Item = &'a String>,
) -> SchemaProblem {
    SchemaProblem::UnknownToken {
        subject,
        kind,
        token: token.to_owned(),
        provider: schema.provider.clone(),
        version: schema.version.clone(),
        suggestion: suggest(token, known),
    }
}

/// Checks `values` against `properties` of `owner`; recurses into known object
/// values whose input type the schema has.
fn check_properties(
    schema: &ProviderSchema,
    subject: &Subject,
    prefix: &str,
    owner: &str,
    properties: &Properties,
    values: &BTreeMap<&str, &Value>,
    report: &mut Report,
) {
    let at = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for (name, value) in values {
        let Some(property) = properties.get(*name) else {
            report.problems.push(SchemaProblem::UnknownInput {
                subject: subject.clone(),
                path: at(name),
                owner: owner.to_owned(),
                suggestion: suggest(name, properties.keys()),
            });
            continue;
        };
        let value = plain(value);
        if let (Some(kind), Value::Map(entries)) = (&property.object, value) {
            nested(schema, subject, &at(name), kind, entries, report);
        }
        if let (Some(kind), Value::List(items)) = (&property.list, value) {
            for (i, item) in items.iter().enumerate() {
                if let Value::Map(entries) = plain(item) {
                    nested(
                        schema,
                        subject,
                        &format!("{}[{i}]", at(name)),
                        kind,
                        entries,
                        report,
                    );
                }
            }
        }
        if let (Some(kind), Value::Map(entries)) = (&property.map, value) {
            for (key, item) in entries {
                if let Value::Map(inner) = plain(item) {
                    nested(
                        schema,
                        subject,
                        &format!("{}.{key}", at(name)),
                        kind,
                        inner,
                        report,
                    );
                }
            }
        }
    }
    let present: BTreeSet<&str> = values
        .iter()
        .filter(|(_, v)| !matches!(plain(v), Value::Null))
        .map(|(k, _)| *k)
        .collect();
    for (name, property) in properties {
        if property.required && !present.contains(name.as_str()) {
            report.problems.push(SchemaProblem::MissingRequired {
                subject: subject.clone(),
                path: at(name),
            });
        }
    }
}

fn nested(
    schema: &ProviderSchema,
    subject: &Subject,
    path: &str,
    kind: &str,
    entries: &BTreeMap<String, Value>,
    report: &mut Report,
) {
    // An input type the extraction could not follow is left unchecked.
    let Some(properties) = schema.types.get(kind) else {
        return;
    };
    let values: BTreeMap<&str, &Value> = entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
    check_properties(schema, subject, path, kind, properties, &values, report);
}

/// A value without its secret wrapping.
fn plain(value: &Value) -> &Value {
    match value {
        Value::Secret(inner) => plain(inner),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use cpg_infra::graph::{Graph, Invoke, Resource};

    use super::*;

    fn schemas() -> Schemas {
        Schemas::pinned().expect("the committed schemas read")
    }

    fn entitlement(token: &str) -> Resource {
        let binding = Value::map([
            ("role", Value::from("roles/storage.objectViewer")),
            ("conditionExpression", Value::from("true")),
        ]);
        Resource::new(token, "ds-gcp-temporary-bucket-access-main-read")
            .input("entitlementId", "pam-ds-read")
            .input("location", "global")
            .input("maxRequestDuration", "604800s")
            .input("parent", "projects/1")
            .input(
                "eligibleUsers",
                Value::List(vec![Value::map([(
                    "principals",
                    Value::strings(vec!["group:g@example.org".to_owned()]),
                )])]),
            )
            .input(
                "privilegedAccess",
                Value::map([(
                    "gcpIamAccess",
                    Value::map([
                        ("resource", Value::from("//x")),
                        (
                            "resourceType",
                            Value::from("cloudresourcemanager.googleapis.com/Project"),
                        ),
                        ("roleBindings", Value::List(vec![binding])),
                    ]),
                )]),
            )
            .input(
                "requesterJustificationConfig",
                Value::map([("unstructured", Value::map::<&str>([]))]),
            )
    }

    fn check(resource: Resource) -> Vec<String> {
        let mut graph = Graph::new();
        graph.declare(resource).expect("declared");
        schemas()
            .check(&graph)
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_entitlement_token_is_checked() {
        assert_eq!(
            check(entitlement(
                "gcp:privilegedaccessmanager/entitlement:entitlement"
            )),
            Vec::<String>::new()
        );
        // The token as the plan once declared it: the provider has no such resource.
        assert_eq!(
            check(entitlement(
                "gcp:privilegedaccessmanager/entitlement:Entitlement"
            )),
            [
                "gcp:privilegedaccessmanager/entitlement:Entitlement::ds-gcp-temporary-bucket-access-main-read: pulumi-gcp 7.38.0 has no resource gcp:privilegedaccessmanager/entitlement:Entitlement — did you mean \"gcp:privilegedaccessmanager/entitlement:entitlement\"?"
            ]
        );
    }

    #[test]
    fn nested_inputs_are_checked() {
        let mut resource = entitlement("gcp:privilegedaccessmanager/entitlement:entitlement");
        resource.inputs.insert(
            "privilegedAccess".into(),
            Value::map([(
                "gcpIamAccess",
                Value::map([
                    ("resource", Value::from("//x")),
                    (
                        "roleBindings",
                        Value::List(vec![Value::map([("rolle", Value::from("r"))])]),
                    ),
                ]),
            )]),
        );
        assert_eq!(
            check(resource),
            [
                "gcp:privilegedaccessmanager/entitlement:entitlement::ds-gcp-temporary-bucket-access-main-read: input \"privilegedAccess.gcpIamAccess.roleBindings[0].rolle\" is not an input of privilegedaccessmanager:EntitlementPrivilegedAccessGcpIamAccessRoleBindingArgs — did you mean \"role\"?",
                "gcp:privilegedaccessmanager/entitlement:entitlement::ds-gcp-temporary-bucket-access-main-read: required input \"privilegedAccess.gcpIamAccess.roleBindings[0].role\" is missing",
                "gcp:privilegedaccessmanager/entitlement:entitlement::ds-gcp-temporary-bucket-access-main-read: required input \"privilegedAccess.gcpIamAccess.resourceType\" is missing",
            ]
        );
    }

    #[test]
    fn invokes_and_their_arguments_are_checked() {
        let organisation = |token: &str, arg: &str| {
            Value::Invoke(Invoke {
                token: token.to_owned(),
                args: BTreeMap::from([(arg.to_owned(), Value::from("example.org"))]),
                property: "orgId".to_owned(),
            })
        };
        let project = |org_id: Value| {
            Resource::new("gcp:organizations/project:Project", "p")
                .input("name", "p")
                .input("orgId", org_id)
        };
        assert_eq!(
            check(project(organisation(
                "gcp:organizations/getOrganization:getOrganization",
                "domain"
            ))),
            Vec::<String>::new()
        );
        assert_eq!(
            check(project(organisation(
                "gcp:organizations/getOrganization:getOrganization",
                "domian"
            ))),
            [
                "gcp:organizations/project:Project::p: invoke gcp:organizations/getOrganization:getOrganization: input \"domian\" is not an input of gcp:organizations/getOrganization:getOrganization — did you mean \"domain\"?"
            ]
        );
        assert_eq!(
            check(project(organisation(
                "gcp:organizations/getOrganisation:getOrganisation",
                "domain"
            ))),
            [
                "gcp:organizations/project:Project::p: invoke gcp:organizations/getOrganisation:getOrganisation: pulumi-gcp 7.38.0 has no invoke gcp:organizations/getOrganisation:getOrganisation — did you mean \"gcp:organizations/getOrganization:getOrganization\"?"
            ]
        );
    }

    #[test]
    fn output_references_name_outputs_the_resource_has() {
        let mut graph = Graph::new();
        let project = graph
            .declare(Resource::new("gcp:organizations/project:Project", "p").input("name", "p"))
            .expect("declared");
        let reference = |property: &str| {
            Value::Output(cpg_infra::graph::OutputRef {
                resource: project.clone(),
                property: property.to_owned(),
            })
        };
        graph
            .declare(
                Resource::new("gcp:storage/bucket:Bucket", "b")
                    .input("location", "australia-southeast1")
                    .input("project", reference("projectId")),
            )
            .expect("declared");
        graph
            .declare(
                Resource::new("gcp:storage/bucket:Bucket", "c")
                    .input("location", "australia-southeast1")
                    .input("project", reference("project_id")),
            )
            .expect("declared");
        graph
            .export("project", reference("number.x"))
            .expect("exported");
        let shown: Vec<String> = schemas()
            .check(&graph)
            .problems
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "gcp:storage/bucket:Bucket::c: gcp:organizations/project:Project::p has no output \"project_id\" — did you mean \"projectId\"?"
            ]
        );
    }

    #[test]
    fn ignored_changes_name_inputs() {
        let mut group = Resource::new("gcp:cloudidentity/group:Group", "g")
            .input("parent", "customers/C0")
            .input(
                "groupKey",
                Value::map([("id", Value::from("g@example.org"))]),
            )
            .input("labels", Value::map::<&str>([]));
        group.options.ignore_changes =
            vec!["initialGroupConfig".into(), "initial_group_config".into()];
        assert_eq!(
            check(group),
            [
                "gcp:cloudidentity/group:Group::g: input \"initial_group_config\" is not an input of gcp:cloudidentity/group:Group — did you mean \"initialGroupConfig\"?"
            ]
        );
    }

    #[test]
    fn packages_without_a_schema_are_reported_or_explained() {
        let mut graph = Graph::new();
        graph
            .declare(Resource::new("aws:s3/bucket:Bucket", "b"))
            .expect("declared");
        graph
            .declare(Resource::new("dry-run:storage:Bucket", "b"))
            .expect("declared");
        let report = schemas().check(&graph);
        assert_eq!(
            report.problems,
            [SchemaProblem::UnknownPackage {
                subject: Subject::Resource("aws:s3/bucket:Bucket::b".into()),
                package: "aws".into(),
            }]
        );
        assert_eq!(
            report.unchecked.get("dry-run"),
            Some(&(1, "the dry-run cloud has no provider".to_owned()))
        );
    }

    #[test]
    fn cpg_tokens_are_checked_against_the_kinds_schema() {
        let present = Schemas::pinned().expect("read");
        assert!(!present.unchecked().contains_key("cpg"));
        let mut graph = Graph::new();
        graph
            .declare(Resource::new("cpg:google:GroupMembership", "m").input("member_keys", "x"))
            .expect("declared");
        let shown: Vec<String> = present
            .check(&graph)
            .problems
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "cpg:google:GroupMembership::m: input \"member_keys\" is not an input of cpg:google:GroupMembership — did you mean \"member_key\"?",
                "cpg:google:GroupMembership::m: required input \"group_key\" is missing",
                "cpg:google:GroupMembership::m: required input \"member_key\" is missing",
            ]
        );
    }
}
