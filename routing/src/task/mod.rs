//! The task and its state machine (DESIGN §3.1). `Task::apply(now, input)` either moves the task
//! and returns the events and facts the move produced, or returns a [`TransitionError`] value.

mod outcome;
mod params;
mod restore;
mod update;

pub use outcome::{Outcome, OutcomeGroup, UserSessionOutcome};
pub use params::{ContextParameters, Customer, PreferredUser, PreferredUsers, SystemParameters};
pub use update::DataUpdate;

use crate::config::values::{ParameterId, ParameterValue};
use crate::error::TransitionError;
use crate::facts::{ServiceSessionFact, UserSessionFact};
use crate::ids::{OfferId, ServiceId, TaskId, TenantId, UserId};
use crate::model::{Direction, Modality, Priority};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where a transfer goes.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum TransferTarget {
    /// Another Stratus service: the task is kept, its state restarts.
    Service(ServiceId),
    /// A Teams user outside routing: the task leaves Stratus.
    User(String),
    /// A PSTN number: the task leaves Stratus.
    External(String),
}

/// Why an offer did not turn into a connected task.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum OfferFailure {
    /// Ring timeout: RONA.
    NoAnswer,
    Declined,
    Busy,
    Unreachable,
    /// Broadcast: somebody else answered first.
    LostRace,
    /// Withdrawn by the system (caller gone, task cancelled, transferred).
    Withdrawn,
}

impl OfferFailure {
    pub fn user_outcome(self) -> UserSessionOutcome {
        match self {
            OfferFailure::NoAnswer => UserSessionOutcome::Rona,
            OfferFailure::Declined => UserSessionOutcome::Declined,
            OfferFailure::Busy | OfferFailure::Unreachable => UserSessionOutcome::Failed,
            OfferFailure::LostRace => UserSessionOutcome::LostRace,
            OfferFailure::Withdrawn => UserSessionOutcome::Cancelled,
        }
    }
}

/// One outstanding offer of a task.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PendingOffer {
    pub offer: OfferId,
    pub user: UserId,
    pub at: Instant,
    pub level: Option<u8>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TaskState {
    Created,
    InIvr {
        after_queue: bool,
    },
    Queued {
        service: ServiceId,
    },
    Offered {
        service: ServiceId,
        offers: Vec<PendingOffer>,
    },
    Accepted {
        service: ServiceId,
        offer: PendingOffer,
    },
    Connected {
        service: ServiceId,
        offer: PendingOffer,
    },
    Held {
        service: ServiceId,
        offer: PendingOffer,
    },
    WrapUp {
        service: ServiceId,
        user: UserId,
    },
    Transferring {
        target: TransferTarget,
        by_user: Option<UserId>,
    },
    Terminated {
        outcome: Outcome,
    },
}

/// The state without its data: for events, errors and reporting.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TaskStateKind {
    Created,
    InIvr,
    Queued,
    Offered,
    Accepted,
    Connected,
    Held,
    WrapUp,
    Transferring,
    Terminated,
}

impl TaskState {
    pub fn kind(&self) -> TaskStateKind {
        match self {
            TaskState::Created => TaskStateKind::Created,
            TaskState::InIvr { .. } => TaskStateKind::InIvr,
            TaskState::Queued { .. } => TaskStateKind::Queued,
            TaskState::Offered { .. } => TaskStateKind::Offered,
            TaskState::Accepted { .. } => TaskStateKind::Accepted,
            TaskState::Connected { .. } => TaskStateKind::Connected,
            TaskState::Held { .. } => TaskStateKind::Held,
            TaskState::WrapUp { .. } => TaskStateKind::WrapUp,
            TaskState::Transferring { .. } => TaskStateKind::Transferring,
            TaskState::Terminated { .. } => TaskStateKind::Terminated,
        }
    }
    pub fn is_terminal(&self) -> bool {
        matches!(self, TaskState::Terminated { .. })
    }
}

/// Everything that can happen to a task.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TaskInput {
    /// The workflow's Accept activity ran.
    AcceptBySystem,
    /// The workflow put the task into a service queue.
    Enqueue {
        service: ServiceId,
        max_wait: Duration,
        sla: Duration,
    },
    /// The queue secured a lease and the task rings `user`.
    Offer {
        offer: OfferId,
        user: UserId,
        level: Option<u8>,
    },
    /// An offer ended without a connection.
    OfferFailed {
        offer: OfferId,
        cause: OfferFailure,
    },
    /// The user answered (joined the call / accepted the task).
    Accept {
        offer: OfferId,
    },
    /// Media connected between caller and user.
    Connect,
    Hold,
    Resume,
    /// The conversation ended; `acw` tells whether wrap-up follows.
    EndConversation {
        acw: bool,
    },
    EndWrapUp,
    /// Max queue time reached. `to_ivr`: the workflow continues ("timeout" exit).
    QueueTimeout {
        to_ivr: bool,
    },
    Transfer {
        target: TransferTarget,
    },
    TransferSucceeded,
    TransferFailed,
    CallerHangUp,
    /// The workflow ended the task (Disconnect, voice message, no-agent exit…).
    Disconnect {
        outcome: Outcome,
    },
    /// Cancelled through the API or a Cancel Task activity.
    Cancel,
    UpdateParameter {
        id: ParameterId,
        value: ParameterValue,
    },
}

/// Event names of DESIGN §8 (and the webhook `event` field).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TaskEventKind {
    Created,
    AcceptedBySystem,
    InIvr,
    Queued,
    Offered,
    Declined,
    Rona,
    Accepted,
    Connected,
    Held,
    Resumed,
    Transferred,
    WrapUp,
    Terminated,
    ParameterUpdated,
}

/// One transition (or data change) of one task, numbered per task.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskEvent {
    pub seq: u64,
    pub at: Instant,
    pub tenant: TenantId,
    pub task: TaskId,
    pub kind: TaskEventKind,
    pub from: TaskStateKind,
    pub to: TaskStateKind,
    pub service: Option<ServiceId>,
    pub user: Option<UserId>,
    pub offer: Option<OfferId>,
    pub outcome: Option<Outcome>,
    pub parameter: Option<(ParameterId, ParameterValue)>,
}

/// What one `apply` produced: events to publish, facts to store.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Applied {
    pub events: Vec<TaskEvent>,
    pub service_sessions: Vec<ServiceSessionFact>,
    pub user_sessions: Vec<UserSessionFact>,
}

/// Per-service-session accumulators for reporting.
#[derive(Clone, PartialEq, Eq, Debug)]
struct SessionClock {
    service: Option<ServiceId>,
    index: u32,
    started_at: Instant,
    entered_state_at: Instant,
    ivr: Duration,
    queue: Duration,
    connected: Duration,
    hold: Duration,
    hold_count: u32,
    acw: Duration,
    queued_once: bool,
    queued_at: Option<Instant>,
    max_wait: Duration,
    sla: Duration,
    level: Option<u8>,
    user: Option<UserId>,
}

impl SessionClock {
    fn new(now: Instant, index: u32) -> Self {
        SessionClock {
            service: None,
            index,
            started_at: now,
            entered_state_at: now,
            ivr: Duration::ZERO,
            queue: Duration::ZERO,
            connected: Duration::ZERO,
            hold: Duration::ZERO,
            hold_count: 0,
            acw: Duration::ZERO,
            queued_once: false,
            queued_at: None,
            max_wait: Duration::MAX,
            sla: Duration::from_secs(20),
            level: None,
            user: None,
        }
    }
}

/// A task: identity, data and state.
#[derive(Clone, PartialEq, Debug)]
pub struct Task {
    pub id: TaskId,
    pub tenant: TenantId,
    pub modality: Modality,
    pub direction: Direction,
    pub priority: Priority,
    pub created_at: Instant,
    pub system: SystemParameters,
    pub context: ContextParameters,
    pub preferred: PreferredUsers,
    pub customer: Customer,
    /// Services the task went through, in order (a transfer appends).
    pub service_chain: Vec<ServiceId>,
    state: TaskState,
    outcome: Option<Outcome>,
    seq: u64,
    clock: SessionClock,
}

impl Task {
    /// Creates a task and its `Created` event.
    pub fn new(
        now: Instant,
        id: TaskId,
        tenant: TenantId,
        modality: Modality,
        direction: Direction,
        system: SystemParameters,
    ) -> (Task, TaskEvent) {
        let mut t = Task {
            id,
            tenant,
            modality,
            direction,
            priority: Priority::Normal,
            created_at: now,
            system,
            context: ContextParameters::new(),
            preferred: PreferredUsers::default(),
            customer: Customer::default(),
            service_chain: Vec::new(),
            state: TaskState::Created,
            outcome: None,
            seq: 0,
            clock: SessionClock::new(now, 0),
        };
        let ev = t.event(
            now,
            TaskEventKind::Created,
            TaskStateKind::Created,
            None,
            None,
        );
        (t, ev)
    }

    pub fn state(&self) -> &TaskState {
        &self.state
    }
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }
    /// Sequence number of the last event.
    /// Index of the service session the task is in (0, then +1 per transfer).
    pub fn session_index(&self) -> u32 {
        self.clock.index
    }
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// The service currently holding the task.
    pub fn service(&self) -> Option<ServiceId> {
        self.clock.service
    }
    /// When the task entered the queue of its current service session.
    /// The user who holds the task: accepted it, talks, is on hold with it, or wraps it up.
    pub fn assigned_user(&self) -> Option<UserId> {
        match &self.state {
            TaskState::Accepted { offer, .. }
            | TaskState::Connected { offer, .. }
            | TaskState::Held { offer, .. } => Some(offer.user),
            TaskState::WrapUp { user, .. } => Some(*user),
            _ => None,
        }
    }

    pub fn queued_at(&self) -> Option<Instant> {
        self.clock.queued_at
    }
    /// The deadline after which the task may no longer wait (none before it is queued).
    /// The service changed its maximum queue time while the task waits: it applies at once.
    pub fn set_max_wait(&mut self, max_wait: Duration) {
        if self.clock.queued_at.is_some() {
            self.clock.max_wait = max_wait;
        }
    }

    pub fn queue_deadline(&self) -> Option<Instant> {
        self.clock.queued_at.map(|q| q + self.clock.max_wait)
    }

    fn event(
        &mut self,
        now: Instant,
        kind: TaskEventKind,
        from: TaskStateKind,
        user: Option<UserId>,
        offer: Option<OfferId>,
    ) -> TaskEvent {
        self.seq += 1;
        TaskEvent {
            seq: self.seq,
            at: now,
            tenant: self.tenant,
            task: self.id,
            kind,
            from,
            to: self.state.kind(),
            service: self.clock.service,
            user,
            offer,
            outcome: self.outcome,
            parameter: None,
        }
    }

    /// Adds the time spent in the current state to the session accumulators.
    fn account(&mut self, now: Instant) {
        let spent = now.since(self.clock.entered_state_at);
        match &self.state {
            TaskState::InIvr { .. } => self.clock.ivr += spent,
            TaskState::Queued { .. } | TaskState::Offered { .. } => self.clock.queue += spent,
            TaskState::Accepted { .. } | TaskState::Connected { .. } => {
                self.clock.connected += spent
            }
            TaskState::Held { .. } => self.clock.hold += spent,
            TaskState::WrapUp { .. } => self.clock.acw += spent,
            TaskState::Created | TaskState::Transferring { .. } | TaskState::Terminated { .. } => {}
        }
        self.clock.entered_state_at = now;
    }

    fn user_fact(
        &self,
        now: Instant,
        o: &PendingOffer,
        service: ServiceId,
        outcome: UserSessionOutcome,
        connected: Duration,
    ) -> UserSessionFact {
        UserSessionFact {
            tenant: self.tenant,
            task: self.id,
            service,
            user: o.user,
            offer: o.offer,
            offered_at: o.at,
            ended_at: now,
            outcome,
            policy_level: o.level,
            connected_ms: connected.as_millis() as u64,
        }
    }

    fn close_session(&mut self, now: Instant, outcome: Outcome) -> Option<ServiceSessionFact> {
        let service = self.clock.service?;
        let c = &self.clock;
        Some(ServiceSessionFact {
            tenant: self.tenant,
            task: self.id,
            service,
            session_index: c.index,
            modality: self.modality,
            direction: self.direction,
            started_at: c.started_at,
            ended_at: now,
            outcome,
            ivr_ms: c.ivr.as_millis() as u64,
            queue_ms: c.queue.as_millis() as u64,
            connected_ms: c.connected.as_millis() as u64,
            hold_ms: c.hold.as_millis() as u64,
            hold_count: c.hold_count,
            acw_ms: c.acw.as_millis() as u64,
            under_sla: c.queued_at.is_some() && c.queue < c.sla,
            policy_level: c.level,
            user: c.user,
        })
    }

    fn terminate(&mut self, now: Instant, outcome: Outcome, out: &mut Applied) {
        self.outcome = Some(outcome);
        let from = self.state.kind();
        self.state = TaskState::Terminated { outcome };
        if let Some(f) = self.close_session(now, outcome) {
            out.service_sessions.push(f);
        }
        let user = self.clock.user;
        let ev = self.event(now, TaskEventKind::Terminated, from, user, None);
        out.events.push(ev);
    }

    /// The outcome of a caller hang-up in the current state.
    fn hangup_outcome(&self) -> Outcome {
        match &self.state {
            TaskState::Created => Outcome::CustomerHangupBeforeAccept,
            TaskState::InIvr { after_queue: true } => Outcome::CustomerHangupInIvrAfterQueue,
            TaskState::InIvr { after_queue: false } => Outcome::CustomerHangupInIvr,
            TaskState::Queued { .. } | TaskState::Offered { .. } => Outcome::CustomerHangupInQueue,
            TaskState::Transferring {
                by_user: Some(_), ..
            } => Outcome::UserInternalTransferFailed,
            TaskState::Transferring { by_user: None, .. } => Outcome::CustomerHangupInIvr,
            TaskState::Accepted { .. }
            | TaskState::Connected { .. }
            | TaskState::Held { .. }
            | TaskState::WrapUp { .. }
            | TaskState::Terminated { .. } => Outcome::UserAccepted,
        }
    }

    /// Applies one input. On error the task is unchanged.
    pub fn apply(&mut self, now: Instant, input: TaskInput) -> Result<Applied, TransitionError> {
        let mut out = Applied::default();
        let from = self.state.kind();
        let err = |s: &Self, input: TaskInput| TransitionError {
            task: s.id,
            state: s.state.kind(),
            input,
        };
        match (&mut self.state, input) {
            (TaskState::Terminated { .. }, input) => return Err(err(self, input)),

            (_, TaskInput::UpdateParameter { id, value }) => {
                self.context.insert(id.clone(), value.clone());
                let mut ev = self.event(now, TaskEventKind::ParameterUpdated, from, None, None);
                ev.parameter = Some((id, value));
                out.events.push(ev);
            }

            (TaskState::Created, TaskInput::AcceptBySystem) => {
                self.account(now);
                self.state = TaskState::InIvr { after_queue: false };
                let ev = self.event(now, TaskEventKind::AcceptedBySystem, from, None, None);
                out.events.push(ev);
            }

            (
                TaskState::Created | TaskState::InIvr { .. },
                TaskInput::Enqueue {
                    service,
                    max_wait,
                    sla,
                },
            ) => {
                if self.clock.queued_once && self.clock.service == Some(service) {
                    // One queue per service session (product rule).
                    return Err(err(
                        self,
                        TaskInput::Enqueue {
                            service,
                            max_wait,
                            sla,
                        },
                    ));
                }
                self.account(now);
                if self.clock.service.is_none() {
                    self.clock.service = Some(service);
                    self.clock.started_at = now;
                    self.service_chain.push(service);
                    self.system.service = Some(service);
                }
                self.clock.queued_once = true;
                self.clock.queued_at = Some(now);
                self.clock.max_wait = max_wait;
                self.clock.sla = sla;
                self.state = TaskState::Queued { service };
                let ev = self.event(now, TaskEventKind::Queued, from, None, None);
                out.events.push(ev);
            }

            (TaskState::Queued { service }, TaskInput::Offer { offer, user, level }) => {
                let service = *service;
                self.account(now);
                let p = PendingOffer {
                    offer,
                    user,
                    at: now,
                    level,
                };
                self.state = TaskState::Offered {
                    service,
                    offers: vec![p],
                };
                let ev = self.event(now, TaskEventKind::Offered, from, Some(user), Some(offer));
                out.events.push(ev);
            }
            (TaskState::Offered { offers, .. }, TaskInput::Offer { offer, user, level }) => {
                if offers.iter().any(|o| o.offer == offer || o.user == user) {
                    return Err(err(self, TaskInput::Offer { offer, user, level }));
                }
                offers.push(PendingOffer {
                    offer,
                    user,
                    at: now,
                    level,
                });
                let ev = self.event(now, TaskEventKind::Offered, from, Some(user), Some(offer));
                out.events.push(ev);
            }

            (TaskState::Offered { service, offers }, TaskInput::OfferFailed { offer, cause }) => {
                let service = *service;
                let Some(pos) = offers.iter().position(|o| o.offer == offer) else {
                    return Err(err(self, TaskInput::OfferFailed { offer, cause }));
                };
                let failed = offers.remove(pos);
                let still_ringing = !offers.is_empty();
                out.user_sessions.push(self.user_fact(
                    now,
                    &failed,
                    service,
                    cause.user_outcome(),
                    Duration::ZERO,
                ));
                if !still_ringing {
                    self.account(now);
                    self.state = TaskState::Queued { service };
                }
                let kind = match cause {
                    OfferFailure::NoAnswer => TaskEventKind::Rona,
                    _ => TaskEventKind::Declined,
                };
                let ev = self.event(now, kind, from, Some(failed.user), Some(offer));
                out.events.push(ev);
                if !still_ringing && self.queue_deadline().is_some_and(|d| now >= d) {
                    self.terminate(now, Outcome::QueueTimeout, &mut out);
                }
            }

            (TaskState::Offered { service, offers }, TaskInput::Accept { offer }) => {
                let service = *service;
                let Some(winner) = offers.iter().copied().find(|o| o.offer == offer) else {
                    return Err(err(self, TaskInput::Accept { offer }));
                };
                let losers: Vec<PendingOffer> = offers
                    .iter()
                    .copied()
                    .filter(|o| o.offer != offer)
                    .collect();
                for l in &losers {
                    out.user_sessions.push(self.user_fact(
                        now,
                        l,
                        service,
                        UserSessionOutcome::LostRace,
                        Duration::ZERO,
                    ));
                }
                self.account(now);
                self.clock.level = winner.level;
                self.clock.user = Some(winner.user);
                self.state = TaskState::Accepted {
                    service,
                    offer: winner,
                };
                let ev = self.event(
                    now,
                    TaskEventKind::Accepted,
                    from,
                    Some(winner.user),
                    Some(offer),
                );
                out.events.push(ev);
            }

            (TaskState::Accepted { service, offer }, TaskInput::Connect) => {
                let (service, offer) = (*service, *offer);
                self.account(now);
                self.state = TaskState::Connected { service, offer };
                let ev = self.event(
                    now,
                    TaskEventKind::Connected,
                    from,
                    Some(offer.user),
                    Some(offer.offer),
                );
                out.events.push(ev);
            }

            (TaskState::Connected { service, offer }, TaskInput::Hold) => {
                let (service, offer) = (*service, *offer);
                self.account(now);
                self.clock.hold_count += 1;
                self.state = TaskState::Held { service, offer };
                let ev = self.event(now, TaskEventKind::Held, from, Some(offer.user), None);
                out.events.push(ev);
            }
            (TaskState::Held { service, offer }, TaskInput::Resume) => {
                let (service, offer) = (*service, *offer);
                self.account(now);
                self.state = TaskState::Connected { service, offer };
                let ev = self.event(now, TaskEventKind::Resumed, from, Some(offer.user), None);
                out.events.push(ev);
            }

            (
                TaskState::Accepted { service, offer }
                | TaskState::Connected { service, offer }
                | TaskState::Held { service, offer },
                TaskInput::EndConversation { acw },
            ) => {
                let (service, offer) = (*service, *offer);
                self.account(now);
                let connected = self.clock.connected + self.clock.hold;
                out.user_sessions.push(self.user_fact(
                    now,
                    &offer,
                    service,
                    UserSessionOutcome::Accepted,
                    connected,
                ));
                if acw {
                    self.state = TaskState::WrapUp {
                        service,
                        user: offer.user,
                    };
                    let ev = self.event(
                        now,
                        TaskEventKind::WrapUp,
                        from,
                        Some(offer.user),
                        Some(offer.offer),
                    );
                    out.events.push(ev);
                } else {
                    self.terminate(now, Outcome::UserAccepted, &mut out);
                }
            }
            (TaskState::WrapUp { .. }, TaskInput::EndWrapUp) => {
                self.account(now);
                self.terminate(now, Outcome::UserAccepted, &mut out);
            }

            (
                TaskState::Queued { .. } | TaskState::Offered { .. },
                TaskInput::QueueTimeout { to_ivr },
            ) => {
                self.withdraw_offers(now, &mut out);
                self.account(now);
                if to_ivr {
                    self.state = TaskState::InIvr { after_queue: true };
                    let ev = self.event(now, TaskEventKind::InIvr, from, None, None);
                    out.events.push(ev);
                } else {
                    self.terminate(now, Outcome::QueueTimeout, &mut out);
                }
            }

            (
                TaskState::InIvr { .. }
                | TaskState::Queued { .. }
                | TaskState::Offered { .. }
                | TaskState::Connected { .. }
                | TaskState::Held { .. },
                TaskInput::Transfer { target },
            ) => {
                let by_user = match &self.state {
                    TaskState::Connected { offer, .. } | TaskState::Held { offer, .. } => {
                        Some(offer.user)
                    }
                    _ => None,
                };
                self.withdraw_offers(now, &mut out);
                self.account(now);
                self.state = TaskState::Transferring { target, by_user };
                let ev = self.event(now, TaskEventKind::Transferred, from, by_user, None);
                out.events.push(ev);
            }
            (TaskState::Transferring { target, by_user }, TaskInput::TransferSucceeded) => {
                let (target, by_user) = (target.clone(), *by_user);
                self.account(now);
                let leaving_outcome = match (&target, by_user) {
                    (TransferTarget::Service(_), Some(_)) => Outcome::UserInternalTransferSuccess,
                    (_, Some(_)) => Outcome::UserExternalTransferSuccess,
                    (_, None) => Outcome::SystemTransfer,
                };
                match target {
                    TransferTarget::Service(next) => {
                        if let Some(f) = self.close_session(now, leaving_outcome) {
                            out.service_sessions.push(f);
                        }
                        let index = self.clock.index + 1;
                        self.clock = SessionClock::new(now, index);
                        self.clock.service = Some(next);
                        self.service_chain.push(next);
                        self.system.service = Some(next);
                        self.state = TaskState::Created;
                        let ev = self.event(now, TaskEventKind::Created, from, None, None);
                        out.events.push(ev);
                    }
                    TransferTarget::User(_) | TransferTarget::External(_) => {
                        self.terminate(now, leaving_outcome, &mut out);
                    }
                }
            }
            (TaskState::Transferring { by_user, .. }, TaskInput::TransferFailed) => {
                let by_user = *by_user;
                self.account(now);
                match by_user {
                    // The user's transfer failed: the session ends so (the caller stays with the user's
                    // call in Teams; Stratus treats the service session as done).
                    Some(_) => self.terminate(now, Outcome::UserInternalTransferFailed, &mut out),
                    None => {
                        self.state = TaskState::InIvr {
                            after_queue: self.clock.queued_once,
                        };
                        let ev = self.event(now, TaskEventKind::InIvr, from, None, None);
                        out.events.push(ev);
                    }
                }
            }

            (_, TaskInput::CallerHangUp) => {
                let outcome = self.hangup_outcome();
                if let TaskState::WrapUp { .. } = self.state {
                    // The caller is long gone in wrap-up; nothing changes.
                    return Ok(out);
                }
                let connected_offer = match &self.state {
                    TaskState::Accepted { offer, service }
                    | TaskState::Connected { offer, service }
                    | TaskState::Held { offer, service } => Some((*offer, *service)),
                    _ => None,
                };
                self.withdraw_offers(now, &mut out);
                self.account(now);
                if let Some((offer, service)) = connected_offer {
                    let connected = self.clock.connected + self.clock.hold;
                    out.user_sessions.push(self.user_fact(
                        now,
                        &offer,
                        service,
                        UserSessionOutcome::Accepted,
                        connected,
                    ));
                }
                self.terminate(now, outcome, &mut out);
            }

            (TaskState::WrapUp { .. }, TaskInput::Disconnect { .. }) => {
                // The bot ends the call after the conversation; the task waits for wrap-up.
                return Ok(out);
            }
            (_, TaskInput::Disconnect { outcome }) => {
                self.withdraw_offers(now, &mut out);
                self.account(now);
                self.terminate(now, outcome, &mut out);
            }
            (_, TaskInput::Cancel) => {
                let outcome = match self.state {
                    TaskState::Accepted { .. }
                    | TaskState::Connected { .. }
                    | TaskState::Held { .. }
                    | TaskState::WrapUp { .. } => Outcome::Abandoned,
                    _ => Outcome::Cancelled,
                };
                self.withdraw_offers(now, &mut out);
                self.account(now);
                self.terminate(now, outcome, &mut out);
            }

            (_, input) => return Err(err(self, input)),
        }
        Ok(out)
    }

    /// Offers still ringing when the task leaves the queue end as Cancelled user sessions.
    fn withdraw_offers(&mut self, now: Instant, out: &mut Applied) {
        if let TaskState::Offered { service, offers } = &self.state {
            let service = *service;
            let facts: Vec<UserSessionFact> = offers
                .iter()
                .map(|o| {
                    self.user_fact(
                        now,
                        o,
                        service,
                        UserSessionOutcome::Cancelled,
                        Duration::ZERO,
                    )
                })
                .collect();
            out.user_sessions.extend(facts);
        }
    }

    /// Pending offers while the task rings.
    pub fn pending_offers(&self) -> &[PendingOffer] {
        match &self.state {
            TaskState::Offered { offers, .. } => offers,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests;
