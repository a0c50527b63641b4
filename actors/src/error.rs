//! The one error type of the actor runtime, as the gateway maps it to HTTP statuses.

use stratus_routing::port::StoreError;

/// Why a request to the runtime failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorsError {
    #[error("unknown tenant")]
    UnknownTenant,
    #[error("unknown service")]
    UnknownService,
    #[error("unknown user")]
    UnknownUser,
    #[error("unknown task")]
    UnknownTask,
    #[error("unknown call")]
    UnknownCall,
    /// The action is not allowed in the current state (HTTP 409).
    #[error("rejected: {0}")]
    Rejected(String),
    /// Bad input (HTTP 422).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The runtime is shutting down or an actor did not answer.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl ActorsError {
    pub(crate) fn unavailable(what: impl std::fmt::Display) -> Self {
        ActorsError::Unavailable(what.to_string())
    }
}
