//! The flow a task actor runs: a call's (`CallFlow`) or an external task's (`ExternalFlow`). Both
//! speak the call flow's effects; inputs from queues, users and timers arrive as `CallInput`.

use crate::api::TaskAction;
use crate::error::ActorsError;
use stratus_routing::call::{CallEffect, CallFlow, CallInput};
use stratus_routing::config::ServiceConfig;
use stratus_routing::external::{AgentAction, ExternalError, ExternalFlow, ExternalInput};
use stratus_routing::ids::{OfferId, UserId};
use stratus_routing::task::{DataUpdate, OfferFailure, Task};
use stratus_routing::time::Instant;

pub(crate) enum Flow {
    Call(CallFlow),
    External(ExternalFlow),
}

impl Flow {
    pub fn task(&self) -> &Task {
        match self {
            Flow::Call(f) => f.task(),
            Flow::External(f) => f.task(),
        }
    }

    pub fn service(&self) -> &ServiceConfig {
        match self {
            Flow::Call(f) => f.service(),
            Flow::External(f) => f.service(),
        }
    }

    /// Open offers: users rung (calls) or shown the task (external).
    pub fn offers(&self) -> Vec<(OfferId, UserId)> {
        match self {
            Flow::Call(f) => f.ringing().collect(),
            Flow::External(f) => f.offered().collect(),
        }
    }

    /// One input from the queue, a user or a timer: the effects to carry out, and why part of
    /// it was refused, if it was (the effects of the steps before stand).
    pub fn handle(&mut self, now: Instant, input: CallInput) -> (Vec<CallEffect>, Option<String>) {
        match self {
            Flow::Call(f) => {
                let (out, e) = f.handle_all(now, input);
                (out, e.map(|e| e.to_string()))
            }
            Flow::External(f) => {
                let input = match input {
                    CallInput::Start => ExternalInput::Start,
                    CallInput::Offer {
                        offer,
                        user,
                        level,
                        ring_timeout,
                        ..
                    } => ExternalInput::Offer {
                        offer,
                        user,
                        level,
                        ring_timeout,
                    },
                    CallInput::QueueRefused(r) => ExternalInput::QueueRefused(r),
                    CallInput::QueueTimedOut => ExternalInput::QueueTimedOut,
                    CallInput::WrapUpEnded => ExternalInput::WrapUpEnded,
                    CallInput::Cancel => ExternalInput::Cancel,
                    CallInput::RingFailed { offer } => ExternalInput::OfferFailed {
                        offer,
                        cause: OfferFailure::Unreachable,
                    },
                    CallInput::WithdrawRing { offer } => ExternalInput::OfferFailed {
                        offer,
                        cause: OfferFailure::Withdrawn,
                    },
                    CallInput::Timer(t) => ExternalInput::Timer(t),
                    CallInput::Reconfigure(c) => ExternalInput::Reconfigure(c),
                    CallInput::WrapUpExtended { until } => ExternalInput::WrapUpExtended { until },
                    // No call, no call commands.
                    CallInput::Platform(_)
                    | CallInput::CommandFailed { .. }
                    | CallInput::RingAcknowledged { .. } => {
                        return (Vec::new(), None);
                    }
                };
                let (out, e) = f.handle_all(now, input);
                (out, e.map(|e| e.to_string()))
            }
        }
    }

    /// The agent's action on an external task.
    pub fn action(
        &mut self,
        now: Instant,
        user: UserId,
        action: TaskAction,
    ) -> Result<Vec<CallEffect>, ActorsError> {
        let Flow::External(f) = self else {
            return Err(ActorsError::Rejected(
                "a call is answered in Teams, not through the API".into(),
            ));
        };
        let action = match action {
            TaskAction::Accept => AgentAction::Accept,
            TaskAction::Decline => AgentAction::Decline,
            TaskAction::Complete => AgentAction::Complete,
        };
        f.handle(now, ExternalInput::Agent { user, action })
            .map_err(|e| match e {
                ExternalError::NotOffered | ExternalError::NotConnected => {
                    ActorsError::Rejected(e.to_string())
                }
                ExternalError::Transition(t) => ActorsError::Rejected(t.to_string()),
            })
    }

    pub fn update(
        &mut self,
        now: Instant,
        update: DataUpdate,
    ) -> Result<Vec<CallEffect>, ActorsError> {
        let r = match self {
            Flow::Call(f) => f.update_task(now, update),
            Flow::External(f) => f.update_task(now, update),
        };
        r.map_err(|e| ActorsError::Rejected(e.to_string()))
    }
}
