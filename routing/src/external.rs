//! One external task's flow (modality ExternalTask, Chat or Email; no call): queued at once,
//! offered to users by the same lease protocol as calls, answered by the agent through the API.
//! Accept connects it, Decline or the ring timeout is the RONA path, Complete ends the work
//! (wrap-up follows when the service uses it), Cancel ends it at any time. Effects are the call
//! flow's, minus call-control commands: the agent's desktop shows the offer instead of a phone.

use crate::call::{CallEffect, CallTimer};
use crate::config::ServiceConfig;
use crate::error::TransitionError;
use crate::ids::{OfferId, UserId};
use crate::offer::OfferResult;
use crate::queue::{EnqueueRefusal, EnqueueTask};
use crate::task::{Applied, DataUpdate, OfferFailure, Outcome, Task, TaskInput, TaskState};
use crate::time::Instant;
use std::time::Duration;

/// The agent's answer to an offered task, or the end of the work on it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AgentAction {
    Accept,
    Decline,
    Complete,
}

#[derive(Clone, PartialEq, Debug)]
pub enum ExternalInput {
    /// Put the task into its service's queue.
    Start,
    /// The queue secured a lease: offer the task to the user.
    Offer {
        offer: OfferId,
        user: UserId,
        level: Option<u8>,
        ring_timeout: Duration,
    },
    Agent {
        user: UserId,
        action: AgentAction,
    },
    QueueRefused(EnqueueRefusal),
    QueueTimedOut,
    WrapUpEnded,
    Cancel,
    /// The user extended their wrap-up: it ends at `until`.
    WrapUpExtended {
        until: Instant,
    },
    /// The service's settings changed (max wait of a waiting task, ACW at the end).
    Reconfigure(Box<ServiceConfig>),
    /// The offer could not be shown to the user (`Unreachable`: their lease's safety net
    /// fired) or the runtime took it back (`Withdrawn`).
    OfferFailed {
        offer: OfferId,
        cause: OfferFailure,
    },
    Timer(CallTimer),
}

/// Why an agent's action was refused.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum ExternalError {
    #[error("the task is not offered to this user")]
    NotOffered,
    #[error("the task is not connected to this user")]
    NotConnected,
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    New,
    Queued,
    Connected { offer: OfferId, user: UserId },
    WrapUp { until: Instant },
    Done,
}

#[derive(Clone, PartialEq, Debug)]
pub struct ExternalFlow {
    task: Task,
    service: ServiceConfig,
    phase: Phase,
    offered: Vec<(OfferId, UserId)>,
}

impl ExternalFlow {
    pub fn new(task: Task, service: ServiceConfig) -> Self {
        ExternalFlow {
            task,
            service,
            phase: Phase::New,
            offered: Vec::new(),
        }
    }

    /// A task restored after a restart (see `Task::restore_waiting`): it waits in the queue.
    pub fn restored(task: Task, service: ServiceConfig) -> Self {
        let phase = match task.state() {
            TaskState::Queued { .. } | TaskState::Offered { .. } => Phase::Queued,
            _ => Phase::New,
        };
        ExternalFlow {
            task,
            service,
            phase,
            offered: Vec::new(),
        }
    }

    pub fn task(&self) -> &Task {
        &self.task
    }
    pub fn service(&self) -> &ServiceConfig {
        &self.service
    }
    /// Users the task is currently offered to.
    pub fn offered(&self) -> impl Iterator<Item = (OfferId, UserId)> + '_ {
        self.offered.iter().copied()
    }

    /// Changes the task's data (context, customer, preferred users, priority).
    pub fn update_task(
        &mut self,
        now: Instant,
        update: DataUpdate,
    ) -> Result<Vec<CallEffect>, TransitionError> {
        let applied = self.task.update_data(now, update)?;
        if applied == Applied::default() {
            return Ok(Vec::new());
        }
        Ok(vec![CallEffect::Task(Box::new(applied))])
    }

    fn apply(
        &mut self,
        now: Instant,
        input: TaskInput,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        let applied = self.task.apply(now, input)?;
        if applied != Applied::default() {
            out.push(CallEffect::Task(Box::new(applied)));
        }
        Ok(())
    }

    fn waiting(&self) -> bool {
        matches!(
            self.task.state(),
            TaskState::Queued { .. } | TaskState::Offered { .. }
        )
    }

    /// Handles one input; on an error the flow is unchanged by the failing step.
    pub fn handle(
        &mut self,
        now: Instant,
        input: ExternalInput,
    ) -> Result<Vec<CallEffect>, ExternalError> {
        let (out, error) = self.handle_all(now, input);
        error.map_or(Ok(out), Err)
    }

    /// Like [`ExternalFlow::handle`], with the effects of the steps that succeeded kept.
    pub fn handle_all(
        &mut self,
        now: Instant,
        input: ExternalInput,
    ) -> (Vec<CallEffect>, Option<ExternalError>) {
        let mut out = Vec::new();
        if self.phase == Phase::Done {
            return (out, None);
        }
        let result = self.step(now, input, &mut out);
        if self.task.state().is_terminal() {
            self.phase = Phase::Done;
            out.push(CallEffect::Finished);
        }
        (out, result.err())
    }

    fn step(
        &mut self,
        now: Instant,
        input: ExternalInput,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), ExternalError> {
        match input {
            ExternalInput::Start => {
                if self.phase != Phase::New {
                    return Ok(());
                }
                let input = TaskInput::Enqueue {
                    service: self.service.id,
                    max_wait: self.service.max_queue_time.duration(),
                    sla: self.service.sla.duration(),
                };
                self.apply(now, input, out)?;
                self.phase = Phase::Queued;
                out.push(CallEffect::Enqueue(EnqueueTask {
                    task: self.task.id,
                    modality: self.task.modality,
                    priority: self.task.priority,
                    preferred: self.task.preferred.clone(),
                    enqueued_at: now,
                }));
            }
            ExternalInput::Offer {
                offer,
                user,
                level,
                ring_timeout,
            } => {
                if self.phase != Phase::Queued || !self.waiting() {
                    out.push(CallEffect::OfferEnded {
                        offer,
                        user,
                        result: OfferResult::Failed(OfferFailure::Withdrawn),
                    });
                    return Ok(());
                }
                self.apply(now, TaskInput::Offer { offer, user, level }, out)?;
                self.offered.push((offer, user));
                out.push(CallEffect::ArmTimer {
                    timer: CallTimer::Ring { offer },
                    at: now + ring_timeout,
                });
            }
            ExternalInput::Timer(CallTimer::Ring { offer }) => {
                self.offer_failed(now, offer, OfferFailure::NoAnswer, out)?
            }
            ExternalInput::Timer(CallTimer::WrapUp) => {
                if let Phase::WrapUp { until } = self.phase
                    && now >= until + crate::call::WRAP_UP_GRACE
                    && matches!(self.task.state(), TaskState::WrapUp { .. })
                {
                    self.apply(now, TaskInput::EndWrapUp, out)?;
                }
            }
            ExternalInput::Timer(_) => {}
            ExternalInput::WrapUpExtended { until } => {
                if let Phase::WrapUp { until: old } = self.phase
                    && until > old
                {
                    self.phase = Phase::WrapUp { until };
                    out.push(CallEffect::ArmTimer {
                        timer: CallTimer::WrapUp,
                        at: until + crate::call::WRAP_UP_GRACE,
                    });
                }
            }
            ExternalInput::Reconfigure(config) => {
                if config.id == self.service.id {
                    if self.waiting() {
                        self.task.set_max_wait(config.max_queue_time.duration());
                    }
                    self.service = *config;
                }
            }
            ExternalInput::OfferFailed { offer, cause } => {
                self.offer_failed(now, offer, cause, out)?
            }
            ExternalInput::Agent { user, action } => match action {
                AgentAction::Decline => {
                    let offer = self.offer_of(user).ok_or(ExternalError::NotOffered)?;
                    self.offer_failed(now, offer, OfferFailure::Declined, out)?;
                }
                AgentAction::Accept => {
                    let offer = self.offer_of(user).ok_or(ExternalError::NotOffered)?;
                    self.apply(now, TaskInput::Accept { offer }, out)?;
                    self.apply(now, TaskInput::Connect, out)?;
                    self.offered.retain(|(o, _)| *o != offer);
                    self.phase = Phase::Connected { offer, user };
                    out.push(CallEffect::OfferEnded {
                        offer,
                        user,
                        result: OfferResult::Connected,
                    });
                    for (o, u) in std::mem::take(&mut self.offered) {
                        out.push(CallEffect::OfferEnded {
                            offer: o,
                            user: u,
                            result: OfferResult::Failed(OfferFailure::LostRace),
                        });
                    }
                }
                AgentAction::Complete => {
                    let Phase::Connected { offer, user: u } = self.phase else {
                        return Err(ExternalError::NotConnected);
                    };
                    if u != user {
                        return Err(ExternalError::NotConnected);
                    }
                    // ACW as the service says when the conversation ends (the user gets the same).
                    let acw = self.service.acw;
                    self.apply(now, TaskInput::EndConversation { acw: acw.enabled }, out)?;
                    self.phase =
                        match crate::call::conversation_end_effects(now, offer, user, acw, out) {
                            Some(until) => Phase::WrapUp { until },
                            None => Phase::Done,
                        };
                }
            },
            ExternalInput::QueueRefused(_) => {
                if self.phase == Phase::Queued {
                    self.apply(
                        now,
                        TaskInput::Disconnect {
                            outcome: Outcome::QueueFull,
                        },
                        out,
                    )?;
                }
            }
            ExternalInput::QueueTimedOut => {
                if self.waiting() {
                    self.withdraw(now, out)?;
                    self.apply(now, TaskInput::QueueTimeout { to_ivr: false }, out)?;
                }
            }
            ExternalInput::WrapUpEnded => {
                if matches!(self.task.state(), TaskState::WrapUp { .. }) {
                    self.apply(now, TaskInput::EndWrapUp, out)?;
                }
            }
            ExternalInput::Cancel => {
                if let Phase::Connected { offer, user } = self.phase {
                    let acw = self.service.acw;
                    out.push(CallEffect::TaskEnded { offer, user, acw });
                    out.push(CallEffect::LeaveQueue);
                }
                if !self.task.state().is_terminal() {
                    let waiting = self.waiting();
                    self.withdraw(now, out)?;
                    if waiting {
                        out.push(CallEffect::LeaveQueue);
                    }
                    self.apply(now, TaskInput::Cancel, out)?;
                }
            }
        }
        Ok(())
    }

    fn offer_of(&self, user: UserId) -> Option<OfferId> {
        self.offered
            .iter()
            .find(|(_, u)| *u == user)
            .map(|(o, _)| *o)
    }

    /// Ends every open offer as withdrawn.
    fn withdraw(&mut self, now: Instant, out: &mut Vec<CallEffect>) -> Result<(), TransitionError> {
        for (offer, user) in std::mem::take(&mut self.offered) {
            if self.task.pending_offers().iter().any(|p| p.offer == offer) {
                self.apply(
                    now,
                    TaskInput::OfferFailed {
                        offer,
                        cause: OfferFailure::Withdrawn,
                    },
                    out,
                )?;
            }
            out.push(CallEffect::OfferEnded {
                offer,
                user,
                result: OfferResult::Failed(OfferFailure::Withdrawn),
            });
        }
        Ok(())
    }

    fn offer_failed(
        &mut self,
        now: Instant,
        offer: OfferId,
        cause: OfferFailure,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        let Some(i) = self.offered.iter().position(|(o, _)| *o == offer) else {
            return Ok(()); // a stale timer or a settled offer
        };
        let (_, user) = self.offered.remove(i);
        self.apply(now, TaskInput::OfferFailed { offer, cause }, out)?;
        out.push(CallEffect::OfferEnded {
            offer,
            user,
            result: OfferResult::Failed(cause),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AcwSettings;
    use crate::ids::{ServiceId, TaskId, TenantId};
    use crate::model::{Direction, Modality};
    use crate::task::{TaskEventKind, TaskStateKind};

    const U1: UserId = UserId::from_u128(1);
    const U2: UserId = UserId::from_u128(2);

    fn flow(acw: bool) -> ExternalFlow {
        let service = ServiceConfig {
            id: ServiceId::from_u128(5),
            acw: AcwSettings {
                enabled: acw,
                ..AcwSettings::default()
            },
            ..ServiceConfig::default()
        };
        let (task, _) = Task::new(
            Instant::ZERO,
            TaskId::from_u128(7),
            TenantId::from_u128(1),
            Modality::ExternalTask,
            Direction::Inbound,
            Default::default(),
        );
        ExternalFlow::new(task, service)
    }

    fn offer(f: &mut ExternalFlow, o: u64, user: UserId) -> Vec<CallEffect> {
        f.handle(
            Instant::from_secs(1),
            ExternalInput::Offer {
                offer: OfferId(o),
                user,
                level: None,
                ring_timeout: Duration::from_secs(20),
            },
        )
        .unwrap()
    }

    fn events(effects: &[CallEffect]) -> Vec<TaskEventKind> {
        effects
            .iter()
            .filter_map(|e| match e {
                CallEffect::Task(a) => Some(a.events.iter().map(|e| e.kind)),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn ended(effects: &[CallEffect]) -> Vec<(OfferId, OfferResult)> {
        effects
            .iter()
            .filter_map(|e| match e {
                CallEffect::OfferEnded { offer, result, .. } => Some((*offer, *result)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn start_enqueues_and_accept_connects() {
        let mut f = flow(false);
        let out = f.handle(Instant::ZERO, ExternalInput::Start).unwrap();
        assert!(out.iter().any(|e| matches!(e, CallEffect::Enqueue(_))));
        let out = offer(&mut f, 1, U1);
        assert_eq!(events(&out), [TaskEventKind::Offered]);
        assert!(out.iter().any(|e| matches!(
            e,
            CallEffect::ArmTimer { timer: CallTimer::Ring { offer }, .. } if *offer == OfferId(1)
        )));
        let out = f
            .handle(
                Instant::from_secs(2),
                ExternalInput::Agent {
                    user: U1,
                    action: AgentAction::Accept,
                },
            )
            .unwrap();
        assert_eq!(
            events(&out),
            [TaskEventKind::Accepted, TaskEventKind::Connected]
        );
        assert_eq!(ended(&out), [(OfferId(1), OfferResult::Connected)]);
        let out = f
            .handle(
                Instant::from_secs(3),
                ExternalInput::Agent {
                    user: U1,
                    action: AgentAction::Complete,
                },
            )
            .unwrap();
        assert_eq!(events(&out), [TaskEventKind::Terminated]);
        assert!(matches!(out.last(), Some(CallEffect::Finished)));
    }

    #[test]
    fn decline_and_ring_timeout_return_the_task_to_the_queue() {
        let mut f = flow(false);
        f.handle(Instant::ZERO, ExternalInput::Start).unwrap();
        offer(&mut f, 1, U1);
        let out = f
            .handle(
                Instant::from_secs(2),
                ExternalInput::Agent {
                    user: U1,
                    action: AgentAction::Decline,
                },
            )
            .unwrap();
        assert_eq!(events(&out), [TaskEventKind::Declined]);
        assert_eq!(f.task().state().kind(), TaskStateKind::Queued);
        offer(&mut f, 2, U2);
        let out = f
            .handle(
                Instant::from_secs(30),
                ExternalInput::Timer(CallTimer::Ring { offer: OfferId(2) }),
            )
            .unwrap();
        assert_eq!(events(&out), [TaskEventKind::Rona]);
        assert_eq!(
            ended(&out),
            [(OfferId(2), OfferResult::Failed(OfferFailure::NoAnswer))]
        );
        // A stale ring timer changes nothing.
        let out = f
            .handle(
                Instant::from_secs(31),
                ExternalInput::Timer(CallTimer::Ring { offer: OfferId(1) }),
            )
            .unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn only_the_offered_user_may_answer_and_only_the_connected_one_complete() {
        let mut f = flow(false);
        f.handle(Instant::ZERO, ExternalInput::Start).unwrap();
        offer(&mut f, 1, U1);
        let accept = |user| ExternalInput::Agent {
            user,
            action: AgentAction::Accept,
        };
        assert_eq!(
            f.handle(Instant::from_secs(2), accept(U2)),
            Err(ExternalError::NotOffered)
        );
        let complete = ExternalInput::Agent {
            user: U1,
            action: AgentAction::Complete,
        };
        assert_eq!(
            f.handle(Instant::from_secs(2), complete),
            Err(ExternalError::NotConnected)
        );
        f.handle(Instant::from_secs(2), accept(U1)).unwrap();
        let complete = ExternalInput::Agent {
            user: U2,
            action: AgentAction::Complete,
        };
        assert_eq!(
            f.handle(Instant::from_secs(3), complete),
            Err(ExternalError::NotConnected)
        );
    }

    #[test]
    fn complete_with_wrap_up_ends_when_wrap_up_ends() {
        let mut f = flow(true);
        f.handle(Instant::ZERO, ExternalInput::Start).unwrap();
        offer(&mut f, 1, U1);
        for action in [AgentAction::Accept, AgentAction::Complete] {
            f.handle(
                Instant::from_secs(2),
                ExternalInput::Agent { user: U1, action },
            )
            .unwrap();
        }
        assert_eq!(f.task().state().kind(), TaskStateKind::WrapUp);
        let out = f
            .handle(Instant::from_secs(20), ExternalInput::WrapUpEnded)
            .unwrap();
        assert_eq!(events(&out), [TaskEventKind::Terminated]);
    }

    #[test]
    fn cancel_withdraws_open_offers_and_leaves_the_queue() {
        let mut f = flow(false);
        f.handle(Instant::ZERO, ExternalInput::Start).unwrap();
        offer(&mut f, 1, U1);
        let out = f
            .handle(Instant::from_secs(2), ExternalInput::Cancel)
            .unwrap();
        assert_eq!(
            ended(&out),
            [(OfferId(1), OfferResult::Failed(OfferFailure::Withdrawn))]
        );
        assert!(out.iter().any(|e| matches!(e, CallEffect::LeaveQueue)));
        assert_eq!(f.task().outcome(), Some(Outcome::Cancelled));
        assert!(matches!(out.last(), Some(CallEffect::Finished)));
    }
}
