//! Typed errors of the routing core.

use crate::ids::{OfferId, ServiceId, TaskId, UserId};
use crate::task::{TaskInput, TaskStateKind};

/// A configuration value out of its documented range. `field` names the field as the REST API
/// and config files spell it, so the message can be shown to the admin as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    pub field: String,
    pub problem: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Prefixes the field path (`acw.seconds` inside `services[2]` …).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

/// A task input that the task's current state does not allow. A value, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task {task}: {input:?} is not allowed in state {state:?}")]
pub struct TransitionError {
    pub task: TaskId,
    pub state: TaskStateKind,
    pub input: TaskInput,
}

/// Errors of the service queue's inputs that refer to things it does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("task {0} is not in service {1}'s queue")]
    UnknownTask(TaskId, ServiceId),
    #[error("task {0} is already queued")]
    AlreadyQueued(TaskId),
    #[error("offer {0} is unknown to the queue")]
    UnknownOffer(OfferId),
    #[error("user {0} is not a member of service {1}")]
    NotAMember(UserId, ServiceId),
}
