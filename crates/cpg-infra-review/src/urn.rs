//! Resource URNs as the Pulumi engine forms them, and the stack names they are
//! formed in.
//!
//! A URN is `urn:pulumi:<stack>::<project>::<qualified type>::<name>`; the
//! qualified type is the parent's qualified type, then `$`, then the resource's
//! type — except under the root stack resource (`pulumi:pulumi:Stack`) or without a
//! parent, where it is the type alone (Pulumi's `urn.New` and the deployment's
//! `generateURN`). A plan's resources without a parent option are registered under
//! the root stack, so their qualified type is their type token.
//!
//! ```
//! use cpg_infra_review::urn::StackName;
//!
//! let stack: StackName = "acme/datasets/production".parse().expect("valid");
//! assert_eq!(
//!     stack.urn("gcp:storage/bucket:Bucket", "b"),
//!     "urn:pulumi:production::datasets::gcp:storage/bucket:Bucket::b"
//! );
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use cpg_infra::graph::{Graph, ResourceId};

/// The type of the root stack resource, whose children's URNs do not name it.
pub const ROOT_STACK_TYPE: &str = "pulumi:pulumi:Stack";

/// The longest organisation, project or stack name Pulumi accepts.
const MAX_NAME: usize = 100;

/// A stack named as Pulumi's CLI names it: `<org>/<project>/<stack>` or
/// `<project>/<stack>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackName {
    /// The organisation, when given (URNs do not name it).
    pub organization: Option<String>,
    /// The project (`name` in `Pulumi.yaml`).
    pub project: String,
    /// The stack.
    pub stack: String,
}

/// Why a stack name cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StackNameError {
    /// Not two or three parts.
    #[error(
        "{given:?}: name the stack as <org>/<project>/<stack> or <project>/<stack> \
         (the URNs name the project)"
    )]
    Parts {
        /// The name given.
        given: String,
    },
    /// One part is empty, too long or has a character Pulumi refuses.
    #[error("{given:?}: the {part} name {value:?} {reason}")]
    Part {
        /// The name given.
        given: String,
        /// `organization`, `project` or `stack`.
        part: &'static str,
        /// The part.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl FromStr for StackName {
    type Err = StackNameError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = given.split('/').collect();
        let (organization, project, stack) = match parts.as_slice() {
            [project, stack] => (None, *project, *stack),
            [organization, project, stack] => (Some(*organization), *project, *stack),
            _ => {
                return Err(StackNameError::Parts {
                    given: given.to_owned(),
                });
            }
        };
        let check = |part: &'static str, value: &str| {
            let reason = if value.is_empty() {
                Some("is empty")
            } else if value.len() > MAX_NAME {
                Some("is longer than 100 characters")
            } else if !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                Some("may only contain letters, digits, hyphens, underscores and periods")
            } else {
                None
            };
            match reason {
                Some(reason) => Err(StackNameError::Part {
                    given: given.to_owned(),
                    part,
                    value: value.to_owned(),
                    reason,
                }),
                None => Ok(value.to_owned()),
            }
        };
        Ok(StackName {
            organization: organization.map(|o| check("organization", o)).transpose()?,
            project: check("project", project)?,
            stack: check("stack", stack)?,
        })
    }
}

impl fmt::Display for StackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(organization) = &self.organization {
            write!(f, "{organization}/")?;
        }
        write!(f, "{}/{}", self.project, self.stack)
    }
}

impl StackName {
    /// The URN of resource `name` of qualified type `qualified_type` in this stack.
    pub fn urn(&self, qualified_type: &str, name: &str) -> String {
        format!(
            "urn:pulumi:{}::{}::{qualified_type}::{name}",
            self.stack, self.project
        )
    }
}

/// Why a resource's URN cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrnError {
    /// A resource's parent is not in the plan.
    #[error("{resource}: its parent {parent} is not in the plan")]
    UnknownParent {
        /// The resource.
        resource: ResourceId,
        /// The parent named.
        parent: ResourceId,
    },
    /// Following parents leads back to the resource.
    #[error("{resource}: its parents form a cycle")]
    ParentCycle {
        /// The resource.
        resource: ResourceId,
    },
}

/// The qualified type of `id` in `graph`: its parents' types, outermost first, and
/// its own, joined by `$` (the root stack left out).
///
/// # Errors
///
/// When a parent is not in the graph, or the parents form a cycle.
pub fn qualified_type(graph: &Graph, id: &ResourceId) -> Result<String, UrnError> {
    let mut types = vec![id.type_token.to_string()];
    let mut current = id.clone();
    while let Some(parent) = graph.get(&current).and_then(|r| r.options.parent.clone()) {
        if *parent.type_token == *ROOT_STACK_TYPE {
            break;
        }
        if graph.get(&parent).is_none() {
            return Err(UrnError::UnknownParent {
                resource: current,
                parent,
            });
        }
        if types.len() > graph.len() {
            return Err(UrnError::ParentCycle {
                resource: id.clone(),
            });
        }
        types.push(parent.type_token.to_string());
        current = parent;
    }
    types.reverse();
    Ok(types.join("$"))
}

/// The URN of every resource of `graph` in `stack`, by resource.
///
/// # Errors
///
/// The first resource whose URN cannot be formed (see [`qualified_type`]).
pub fn urns(graph: &Graph, stack: &StackName) -> Result<BTreeMap<ResourceId, String>, UrnError> {
    graph
        .resources()
        .iter()
        .map(|r| {
            let qualified = qualified_type(graph, &r.id)?;
            Ok((r.id.clone(), stack.urn(&qualified, &r.id.name)))
        })
        .collect()
}

/// A URN's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrnParts<'a> {
    /// The stack.
    pub stack: &'a str,
    /// The project.
    pub project: &'a str,
    /// The qualified type (parents' types and the type, joined by `$`).
    pub qualified_type: &'a str,
    /// The logical name (which may itself contain `::`).
    pub name: &'a str,
}

impl<'a> UrnParts<'a> {
    /// `urn:pulumi:<stack>::<project>::<qualified type>::<name>` split in its parts;
    /// `None` when it is not a URN.
    pub fn parse(urn: &'a str) -> Option<Self> {
        let rest = urn.strip_prefix("urn:pulumi:")?;
        let mut parts = rest.splitn(4, "::");
        Some(UrnParts {
            stack: parts.next()?,
            project: parts.next()?,
            qualified_type: parts.next()?,
            name: parts.next()?,
        })
    }

    /// The resource's own type: the last part of the qualified type.
    pub fn type_token(&self) -> &'a str {
        self.qualified_type
            .rsplit('$')
            .next()
            .unwrap_or(self.qualified_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpg_infra::graph::{Resource, ResourceOptions};

    #[test]
    fn stack_names_of_two_and_three_parts_read() {
        let three: StackName = "acme/datasets/production".parse().expect("three");
        assert_eq!(three.organization.as_deref(), Some("acme"));
        assert_eq!((&*three.project, &*three.stack), ("datasets", "production"));
        assert_eq!(three.to_string(), "acme/datasets/production");
        let two: StackName = "datasets/dev.1".parse().expect("two");
        assert_eq!(two.organization, None);
        assert_eq!(two.to_string(), "datasets/dev.1");
    }

    #[test]
    fn a_bad_stack_name_says_what_is_wrong() {
        let error = |s: &str| s.parse::<StackName>().expect_err(s).to_string();
        assert_eq!(
            error("production"),
            "\"production\": name the stack as <org>/<project>/<stack> or <project>/<stack> \
             (the URNs name the project)"
        );
        assert!(error("a/b/c/d").contains("<org>/<project>/<stack>"));
        assert_eq!(
            error("acme//prod"),
            "\"acme//prod\": the project name \"\" is empty"
        );
        assert_eq!(
            error("acme/data sets/prod"),
            "\"acme/data sets/prod\": the project name \"data sets\" may only contain \
             letters, digits, hyphens, underscores and periods"
        );
        assert!(error(&format!("p/{}", "s".repeat(101))).contains("longer than 100"));
        assert!(error("a:b/p/s").contains("the organization name \"a:b\""));
    }

    #[test]
    fn urns_name_the_parents_types_but_not_the_root_stack() {
        let mut graph = Graph::new();
        let component = Resource::new("cpg:x:Component", "c");
        let child = Resource::new("gcp:storage/bucket:Bucket", "b").options(ResourceOptions {
            parent: Some(component.id.clone()),
            ..ResourceOptions::default()
        });
        let grandchild = Resource::new("t:m:M", "g").options(ResourceOptions {
            parent: Some(child.id.clone()),
            ..ResourceOptions::default()
        });
        let under_root = Resource::new("t:m:M", "r").options(ResourceOptions {
            parent: Some(ResourceId::new(ROOT_STACK_TYPE, "p-s")),
            ..ResourceOptions::default()
        });
        for r in [&component, &child, &grandchild, &under_root] {
            graph.declare(r.clone()).expect("declare");
        }
        let stack: StackName = "o/p/s".parse().expect("stack");
        let urns = urns(&graph, &stack).expect("urns");
        assert_eq!(urns[&component.id], "urn:pulumi:s::p::cpg:x:Component::c");
        assert_eq!(
            urns[&child.id],
            "urn:pulumi:s::p::cpg:x:Component$gcp:storage/bucket:Bucket::b"
        );
        assert_eq!(
            urns[&grandchild.id],
            "urn:pulumi:s::p::cpg:x:Component$gcp:storage/bucket:Bucket$t:m:M::g"
        );
        assert_eq!(urns[&under_root.id], "urn:pulumi:s::p::t:m:M::r");
        let parts = UrnParts::parse(&urns[&grandchild.id]).expect("parts");
        assert_eq!(parts.type_token(), "t:m:M");
        assert_eq!((parts.stack, parts.project, parts.name), ("s", "p", "g"));
        assert_eq!(UrnParts::parse("urn:x"), None);
    }

    #[test]
    fn a_parent_outside_the_plan_is_an_error_naming_both() {
        let mut graph = Graph::new();
        let orphan = Resource::new("t:m:M", "a").options(ResourceOptions {
            parent: Some(ResourceId::new("t:m:P", "gone")),
            ..ResourceOptions::default()
        });
        graph.declare(orphan.clone()).expect("declare");
        let error = qualified_type(&graph, &orphan.id).expect_err("no parent");
        assert_eq!(
            error.to_string(),
            "t:m:M::a: its parent t:m:P::gone is not in the plan"
        );
    }
}
