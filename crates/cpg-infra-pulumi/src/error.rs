//! What stops a deployment.

use cpg_infra::graph::{EvaluateError, ResourceId};

/// Why the graph was not (completely) deployed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The engine's address cannot be reached.
    #[error("cannot reach the Pulumi {service} at {address}")]
    Connect {
        /// `resource monitor` or `engine`.
        service: &'static str,
        /// The address from the environment.
        address: String,
        /// The transport's error.
        #[source]
        source: tonic::transport::Error,
    },
    /// The engine accepted the connection but did not answer the first exchange
    /// in time: it is hung, or the address is not a Pulumi engine.
    #[error(
        "the Pulumi engine at {address} accepted the connection but did not answer within {} s",
        .waited.as_secs_f64()
    )]
    EngineSilent {
        /// The resource monitor's address.
        address: String,
        /// How long it was given.
        waited: std::time::Duration,
    },
    /// The engine answered a registration with an empty URN, which no later
    /// resource could refer to.
    #[error("{} {}: the engine answered the registration with an empty URN", .resource.type_token, .resource.name)]
    EmptyUrn {
        /// The resource.
        resource: ResourceId,
    },
    /// The engine stopped answering: its process ended or the connection broke.
    #[error("the Pulumi engine went away while {during}: {message}")]
    EngineGone {
        /// What was being done.
        during: String,
        /// The transport's message.
        message: String,
    },
    /// The engine refused a call that is not about one resource.
    #[error("the Pulumi engine refused {call}: {message}")]
    Engine {
        /// The call.
        call: &'static str,
        /// The engine's message.
        message: String,
    },
    /// The engine could not register a resource.
    #[error("{} {}: {message}", .resource.type_token, .resource.name)]
    Register {
        /// The resource.
        resource: ResourceId,
        /// The engine's message.
        message: String,
    },
    /// A data source call failed.
    #[error("data source {token} (for {} {}): {message}", .resource.type_token, .resource.name)]
    Invoke {
        /// The data source's token.
        token: String,
        /// The first resource that uses its result.
        resource: ResourceId,
        /// The engine's message, or the provider's check failures.
        message: String,
    },
    /// An input could not be computed from the outputs it uses.
    #[error("{} {}: cannot compute input {input:?}", .resource.type_token, .resource.name)]
    Evaluate {
        /// The resource.
        resource: ResourceId,
        /// The input.
        input: String,
        /// Why.
        #[source]
        source: EvaluateError,
    },
    /// In an update, a value uses an export of another stack (through a stack
    /// reference) that the referenced stack does not have.
    #[error(
        "{used_by} uses export {:?} of stack {:?} (stack reference {}), which that stack does not export",
        .missing.export, .missing.stack, .missing.reference
    )]
    MissingExport {
        /// What uses it: a resource's input, a data source's argument or a stack export.
        used_by: String,
        /// The resource whose input (or data source argument) uses it, when one does.
        resource: Option<ResourceId>,
        /// The export and the stack that lacks it.
        missing: Box<MissingExport>,
    },
    /// A stack export could not be computed.
    #[error("cannot compute stack export {name:?}")]
    Export {
        /// The export.
        name: String,
        /// Why.
        #[source]
        source: EvaluateError,
    },
    /// A resource refers to one the graph does not declare.
    #[error("{resource} refers to {missing}, which is not declared")]
    UnknownReference {
        /// The resource that refers.
        resource: ResourceId,
        /// What it refers to.
        missing: ResourceId,
    },
    /// Resources that wait for each other.
    #[error("resources wait for each other: {}", .resources.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Cycle {
        /// The resources on or behind the cycle, sorted.
        resources: Vec<ResourceId>,
    },
    /// A registration or call ended without an answer or an error (its task
    /// was cancelled or panicked).
    #[error("a registration ended abnormally: {message}")]
    Interrupted {
        /// What the runtime said.
        message: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl DeployError {
    /// The resource the error is about, when it is about one.
    pub fn resource(&self) -> Option<&ResourceId> {
        match self {
            DeployError::Register { resource, .. }
            | DeployError::Invoke { resource, .. }
            | DeployError::Evaluate { resource, .. }
            | DeployError::EmptyUrn { resource }
            | DeployError::UnknownReference { resource, .. } => Some(resource),
            DeployError::MissingExport { resource, .. } => resource.as_ref(),
            _ => None,
        }
    }
}

/// An export that a stack reference is asked for and the referenced stack does
/// not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingExport {
    /// The stack reference.
    pub reference: ResourceId,
    /// The referenced stack (the id it was read by).
    pub stack: String,
    /// The export.
    pub export: String,
}

/// An error and its causes, outermost first, joined by `: `.
pub fn chain(error: &dyn std::error::Error) -> String {
    cpg_infra::error_chain(error)
}
