//! One live call's flow: the default workflow (accept → announcement → queue → disconnect on
//! timeout) and the offers of its task, as a sans-IO machine. The call actor runs it and turns
//! its effects into call-control commands, messages to the queue and users, timers and records.

use crate::config::{AcwSettings, Distribution, ServiceConfig};
use crate::error::TransitionError;
use crate::ids::{OfferId, UserId};
use crate::offer::OfferResult;
use crate::port::{CallAction, CallEventKind, LegFailure, Prompt, RingMode};
use crate::queue::{EnqueueRefusal, EnqueueTask};
use crate::task::{Applied, OfferFailure, Outcome, Task, TaskInput, TaskState};
use crate::time::Instant;
use std::time::Duration;

mod resume;

/// Graph drops a call without a keep-alive for 45 minutes; send one every 15.
pub const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15 * 60);

/// Wrap-up ends at the latest this long after the user's ACW should have (the user's word is
/// awaited first; a user removed or rebuilt meanwhile never sends it).
pub const WRAP_UP_GRACE: Duration = Duration::from_secs(5);

/// What the end of a conversation tells the others, for calls and external tasks alike: the
/// user's task ended (with the ACW settings both sides use), the queue forgets it, and a wrap-up
/// gets its own deadline. Returns when the wrap-up ends, if there is one.
pub(crate) fn conversation_end_effects(
    now: Instant,
    offer: OfferId,
    user: UserId,
    acw: crate::config::AcwSettings,
    out: &mut Vec<CallEffect>,
) -> Option<Instant> {
    out.push(CallEffect::TaskEnded { offer, user, acw });
    out.push(CallEffect::LeaveQueue);
    if !acw.enabled {
        return None;
    }
    let until = now + acw.time.duration();
    out.push(CallEffect::ArmTimer {
        timer: CallTimer::WrapUp,
        at: until + WRAP_UP_GRACE,
    });
    Some(until)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CallTimer {
    Ring {
        offer: OfferId,
    },
    KeepAlive {
        epoch: u64,
    },
    /// Nothing heard from the platform after answering.
    Establish,
    /// The wrap-up's deadline (the flow checks it against the latest one it knows).
    WrapUp,
}

#[derive(Clone, PartialEq, Debug)]
pub enum CallInput {
    /// Answer the call (sent once, right after the actor starts).
    Start,
    Platform(CallEventKind),
    /// The queue secured a lease: ring the user.
    Offer {
        offer: OfferId,
        user: UserId,
        level: Option<u8>,
        ring_timeout: Duration,
        distribution: Distribution,
    },
    QueueRefused(EnqueueRefusal),
    QueueTimedOut,
    /// The user's wrap-up ended.
    WrapUpEnded,
    /// Cancelled through the API.
    Cancel,
    /// The platform refused a command for a ringing offer.
    RingFailed {
        offer: OfferId,
    },
    /// The runtime takes a ring back (its queue or user was rebuilt): cancelled, no RONA.
    WithdrawRing {
        offer: OfferId,
    },
    /// The platform acknowledged the ring request (Graph's 2xx: Graph sends no "ringing"
    /// state): the ring timer starts now, not when the offer was made.
    RingAcknowledged {
        offer: OfferId,
    },
    /// The service's settings changed: a waiting task sees them at once (max wait, ACW).
    Reconfigure(Box<ServiceConfig>),
    /// The user extended their wrap-up: it now ends at `until`.
    WrapUpExtended {
        until: Instant,
    },
    /// The platform refused or failed a command; `gone`: it says the call no longer exists.
    CommandFailed {
        action: CallAction,
        gone: bool,
    },
    Timer(CallTimer),
}

#[derive(Clone, PartialEq, Debug)]
pub enum CallEffect {
    Command(CallAction),
    Enqueue(EnqueueTask),
    /// The task is no longer the queue's: it left before being connected, or its conversation
    /// ended (the queue counts its live calls against the service's limit).
    LeaveQueue,
    /// Tell the queue and the user how an offer ended.
    OfferEnded {
        offer: OfferId,
        user: UserId,
        result: OfferResult,
    },
    /// The user's conversation ended; ACW follows as the service says when it ended.
    TaskEnded {
        offer: OfferId,
        user: UserId,
        acw: AcwSettings,
    },
    ArmTimer {
        timer: CallTimer,
        at: Instant,
    },
    /// Events and facts of the task.
    Task(Box<Applied>),
    /// The task is terminal: the actor may stop.
    Finished,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Answering,
    Welcome,
    Queued,
    Connected {
        offer: OfferId,
        user: UserId,
    },
    /// Wrap-up; it ends when the user says so, or at `until` at the latest.
    WrapUp {
        until: Instant,
    },
    /// Waiting for the platform to confirm the end after we hung up.
    Ending,
    Done,
}

#[derive(Clone, PartialEq, Debug)]
pub struct CallFlow {
    task: Task,
    service: ServiceConfig,
    phase: Phase,
    /// Ringing offers: (offer, user, ring mode).
    ringing: Vec<(OfferId, UserId, RingMode)>,
    /// Offers whose ring was answered on its own leg (Direct): the ring timer never cuts them.
    answered: Vec<OfferId>,
    /// Ring timeout of each offer not yet acknowledged by the platform.
    unacknowledged: Vec<(OfferId, Duration)>,
    keep_alive_epoch: u64,
}

impl CallFlow {
    pub fn new(task: Task, service: ServiceConfig) -> Self {
        CallFlow {
            task,
            service,
            phase: Phase::Answering,
            ringing: Vec::new(),
            answered: Vec::new(),
            unacknowledged: Vec::new(),
            keep_alive_epoch: 0,
        }
    }

    pub fn task(&self) -> &Task {
        &self.task
    }
    pub fn service(&self) -> &ServiceConfig {
        &self.service
    }
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Done
    }
    /// Users currently rung for this call.
    pub fn ringing(&self) -> impl Iterator<Item = (OfferId, UserId)> + '_ {
        self.ringing.iter().map(|(o, u, _)| (*o, *u))
    }

    /// An offer's ring is over: it needs no acknowledgement and no answered-leg guard.
    fn settled(&mut self, offer: OfferId) {
        self.answered.retain(|o| *o != offer);
        self.unacknowledged.retain(|(o, _)| *o != offer);
    }

    /// New service settings: later steps use them; a waiting task's maximum wait follows.
    fn reconfigure(&mut self, config: ServiceConfig) {
        if config.id != self.service.id {
            return;
        }
        if matches!(
            self.task.state(),
            TaskState::Queued { .. } | TaskState::Offered { .. }
        ) {
            self.task.set_max_wait(config.max_queue_time.duration());
        }
        self.service = config;
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

    fn enqueue(&mut self, now: Instant, out: &mut Vec<CallEffect>) -> Result<(), TransitionError> {
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
        Ok(())
    }

    /// Ends the flow on our side: the call is hung up and the task terminated with `outcome`.
    fn disconnect(
        &mut self,
        now: Instant,
        outcome: Outcome,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        self.withdraw_rings(now, OfferFailure::Withdrawn, true, out)?;
        if matches!(
            self.task.state(),
            TaskState::Queued { .. } | TaskState::Offered { .. }
        ) {
            out.push(CallEffect::LeaveQueue);
        }
        if !self.task.state().is_terminal() {
            self.apply(now, TaskInput::Disconnect { outcome }, out)?;
        }
        out.push(CallEffect::Command(CallAction::HangUp));
        self.phase = Phase::Ending;
        Ok(())
    }

    /// Ends every ringing offer with `cause`; `cancel` sends the platform a cancel for each.
    fn withdraw_rings(
        &mut self,
        now: Instant,
        cause: OfferFailure,
        cancel: bool,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        self.answered.clear();
        self.unacknowledged.clear();
        for (offer, user, _) in std::mem::take(&mut self.ringing) {
            if cancel {
                out.push(CallEffect::Command(CallAction::CancelRing { offer, user }));
            }
            if self.task.pending_offers().iter().any(|p| p.offer == offer) {
                self.apply(now, TaskInput::OfferFailed { offer, cause }, out)?;
            }
            out.push(CallEffect::OfferEnded {
                offer,
                user,
                result: OfferResult::Failed(cause),
            });
        }
        Ok(())
    }

    /// One ringing offer failed: the user is told, the task goes back to the queue (or times out).
    fn ring_failed(
        &mut self,
        now: Instant,
        offer: OfferId,
        cause: OfferFailure,
        cancel: bool,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        let Some(i) = self.ringing.iter().position(|(o, _, _)| *o == offer) else {
            return Ok(());
        };
        let (_, user, _) = self.ringing.remove(i);
        self.settled(offer);
        if cancel {
            out.push(CallEffect::Command(CallAction::CancelRing { offer, user }));
        }
        self.apply(now, TaskInput::OfferFailed { offer, cause }, out)?;
        out.push(CallEffect::OfferEnded {
            offer,
            user,
            result: OfferResult::Failed(cause),
        });
        if self.task.state().is_terminal() {
            // Max queue time passed while it rang. The queue may not have timed the task out
            // yet (its timer can come second in the same instant): it leaves the queue now.
            out.push(CallEffect::LeaveQueue);
            self.disconnect(now, Outcome::QueueTimeout, out)?;
        }
        Ok(())
    }

    /// Handles one input. An input the task's state does not allow is an error value; the flow is
    /// unchanged by the failing step (earlier effects of the same input stand).
    pub fn handle(
        &mut self,
        now: Instant,
        input: CallInput,
    ) -> Result<Vec<CallEffect>, TransitionError> {
        let (out, error) = self.handle_all(now, input);
        error.map_or(Ok(out), Err)
    }

    /// Like [`CallFlow::handle`], but the effects of the steps that succeeded are returned with
    /// the error: a runtime must still carry them out (a withdrawn ring, a finished task).
    pub fn handle_all(
        &mut self,
        now: Instant,
        input: CallInput,
    ) -> (Vec<CallEffect>, Option<TransitionError>) {
        let mut out = Vec::new();
        if self.phase == Phase::Done {
            return (out, None);
        }
        let result = self.step(now, input, &mut out);
        // Whatever ended the task, the flow is over once it is terminal.
        if self.task.state().is_terminal() {
            self.phase = Phase::Done;
            out.push(CallEffect::Finished);
        }
        (out, result.err())
    }

    fn step(
        &mut self,
        now: Instant,
        input: CallInput,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        match input {
            CallInput::Start => {
                let prefetch = self
                    .service
                    .welcome_prompt
                    .iter()
                    .map(|t| Prompt::from_setting(t))
                    .collect();
                out.push(CallEffect::Command(CallAction::Answer { prefetch }));
                out.push(CallEffect::ArmTimer {
                    timer: CallTimer::Establish,
                    at: now + Duration::from_secs(30),
                });
            }
            CallInput::Timer(CallTimer::Establish) => {
                if self.phase == Phase::Answering {
                    self.disconnect(now, Outcome::Error, out)?;
                }
            }
            CallInput::Platform(CallEventKind::Established) => {
                if self.phase != Phase::Answering {
                    return Ok(());
                }
                self.apply(now, TaskInput::AcceptBySystem, out)?;
                self.keep_alive_epoch += 1;
                out.push(CallEffect::ArmTimer {
                    timer: CallTimer::KeepAlive {
                        epoch: self.keep_alive_epoch,
                    },
                    at: now + KEEP_ALIVE_EVERY,
                });
                match self.service.welcome_prompt.as_deref() {
                    Some(setting) => {
                        self.phase = Phase::Welcome;
                        out.push(CallEffect::Command(CallAction::PlayPrompt {
                            prompt: Prompt::from_setting(setting),
                        }));
                    }
                    None => self.enqueue(now, out)?,
                }
            }
            CallInput::Platform(CallEventKind::PromptDone) => {
                if self.phase == Phase::Welcome {
                    self.enqueue(now, out)?;
                }
            }
            CallInput::QueueRefused(_) => {
                if self.phase == Phase::Queued {
                    self.apply(
                        now,
                        TaskInput::Disconnect {
                            outcome: Outcome::QueueFull,
                        },
                        out,
                    )?;
                    out.push(CallEffect::Command(CallAction::HangUp));
                    self.phase = Phase::Ending;
                }
            }
            CallInput::Offer {
                offer,
                user,
                level,
                ring_timeout,
                distribution,
            } => {
                let accepting = self.phase == Phase::Queued
                    && matches!(
                        self.task.state(),
                        TaskState::Queued { .. } | TaskState::Offered { .. }
                    );
                if !accepting {
                    // Too late (connected elsewhere, hung up): the lease is void.
                    out.push(CallEffect::OfferEnded {
                        offer,
                        user,
                        result: OfferResult::Failed(OfferFailure::Withdrawn),
                    });
                    return Ok(());
                }
                self.apply(now, TaskInput::Offer { offer, user, level }, out)?;
                let mode = if distribution == Distribution::Direct {
                    RingMode::Leg
                } else {
                    RingMode::Invite
                };
                self.ringing.push((offer, user, mode));
                // The ring timer starts when the platform acknowledges the request; until then
                // the user's lease deadline bounds the wait.
                self.unacknowledged.push((offer, ring_timeout));
                out.push(CallEffect::Command(CallAction::RingAgent {
                    offer,
                    user,
                    mode,
                }));
            }
            CallInput::RingAcknowledged { offer } => {
                if let Some(i) = self.unacknowledged.iter().position(|(o, _)| *o == offer) {
                    let (_, ring_timeout) = self.unacknowledged.remove(i);
                    out.push(CallEffect::ArmTimer {
                        timer: CallTimer::Ring { offer },
                        at: now + ring_timeout,
                    });
                }
            }
            CallInput::Timer(CallTimer::Ring { offer }) => {
                // An answered leg is being bridged: the timer never cuts it.
                if !self.answered.contains(&offer) {
                    self.ring_failed(now, offer, OfferFailure::NoAnswer, true, out)?;
                }
            }
            CallInput::Reconfigure(config) => self.reconfigure(*config),
            CallInput::WrapUpExtended { until } => {
                if let Phase::WrapUp { until: old } = self.phase
                    && until > old
                {
                    self.phase = Phase::WrapUp { until };
                    out.push(CallEffect::ArmTimer {
                        timer: CallTimer::WrapUp,
                        at: until + WRAP_UP_GRACE,
                    });
                }
            }
            CallInput::Timer(CallTimer::WrapUp) => {
                if let Phase::WrapUp { until } = self.phase
                    && now >= until + WRAP_UP_GRACE
                    && matches!(self.task.state(), TaskState::WrapUp { .. })
                {
                    self.apply(now, TaskInput::EndWrapUp, out)?;
                }
            }
            CallInput::RingFailed { offer } => {
                self.ring_failed(now, offer, OfferFailure::Unreachable, false, out)?;
            }
            CallInput::WithdrawRing { offer } => {
                self.ring_failed(now, offer, OfferFailure::Withdrawn, true, out)?;
            }
            // What a failed command means for the call: a call the platform no longer has is
            // over (its `terminated` may have been lost); a ring that failed is a ring failure;
            // an announcement that cannot be played is skipped, not waited for.
            CallInput::CommandFailed { gone: true, .. } => {
                let ended = CallEventKind::Terminated { code: 404 };
                self.step(now, CallInput::Platform(ended), out)?;
            }
            CallInput::CommandFailed { action, .. } => match action {
                CallAction::RingAgent { offer, .. } | CallAction::Bridge { offer, .. } => {
                    self.step(now, CallInput::RingFailed { offer }, out)?;
                }
                CallAction::PlayPrompt { .. } => {
                    self.step(now, CallInput::Platform(CallEventKind::PromptDone), out)?;
                }
                _ => {}
            },
            CallInput::Platform(CallEventKind::AgentFailed { user, cause }) => {
                if let Some(&(offer, _, _)) = self.ringing.iter().find(|(_, u, _)| *u == user) {
                    let cause = match cause {
                        LegFailure::Declined => OfferFailure::Declined,
                        LegFailure::Busy => OfferFailure::Busy,
                        LegFailure::NoAnswer => OfferFailure::NoAnswer,
                        LegFailure::Unreachable | LegFailure::Other(_) => OfferFailure::Unreachable,
                    };
                    self.ring_failed(now, offer, cause, false, out)?;
                }
            }
            CallInput::Platform(CallEventKind::LegEstablished { user }) => {
                if let Some(&(offer, _, RingMode::Leg)) =
                    self.ringing.iter().find(|(_, u, _)| *u == user)
                    && !self.answered.contains(&offer)
                {
                    self.answered.push(offer);
                    out.push(CallEffect::Command(CallAction::Bridge { offer, user }));
                }
            }
            CallInput::Platform(CallEventKind::AgentJoined { user }) => {
                self.joined(now, user, out)?
            }
            CallInput::Platform(CallEventKind::AgentLeft { user }) => {
                if let Phase::Connected { offer, user: u } = self.phase
                    && u == user
                {
                    self.conversation_ended(now, offer, user, out)?;
                    out.push(CallEffect::Command(CallAction::HangUp));
                }
            }
            CallInput::Platform(CallEventKind::Terminated { .. }) => self.terminated(now, out)?,
            CallInput::QueueTimedOut => {
                if matches!(
                    self.task.state(),
                    TaskState::Queued { .. } | TaskState::Offered { .. }
                ) {
                    self.withdraw_rings(now, OfferFailure::Withdrawn, true, out)?;
                    self.apply(now, TaskInput::QueueTimeout { to_ivr: false }, out)?;
                    out.push(CallEffect::Command(CallAction::HangUp));
                    self.phase = Phase::Ending;
                }
            }
            CallInput::WrapUpEnded => {
                if matches!(self.task.state(), TaskState::WrapUp { .. }) {
                    self.apply(now, TaskInput::EndWrapUp, out)?;
                }
            }
            CallInput::Cancel => {
                if let Phase::Connected { offer, user } = self.phase {
                    let acw = self.service.acw;
                    out.push(CallEffect::TaskEnded { offer, user, acw });
                    out.push(CallEffect::LeaveQueue);
                }
                if !self.task.state().is_terminal() {
                    self.withdraw_rings(now, OfferFailure::Withdrawn, true, out)?;
                    if matches!(
                        self.task.state(),
                        TaskState::Queued { .. } | TaskState::Offered { .. }
                    ) {
                        out.push(CallEffect::LeaveQueue);
                    }
                    self.apply(now, TaskInput::Cancel, out)?;
                    out.push(CallEffect::Command(CallAction::HangUp));
                    self.phase = Phase::Ending;
                }
            }
            CallInput::Timer(CallTimer::KeepAlive { epoch }) => {
                if epoch == self.keep_alive_epoch
                    && !matches!(
                        self.phase,
                        Phase::Ending | Phase::Done | Phase::WrapUp { .. }
                    )
                {
                    out.push(CallEffect::Command(CallAction::KeepAlive));
                    out.push(CallEffect::ArmTimer {
                        timer: CallTimer::KeepAlive { epoch },
                        at: now + KEEP_ALIVE_EVERY,
                    });
                }
            }
            CallInput::Platform(
                CallEventKind::Incoming { .. }
                | CallEventKind::Tone { .. }
                | CallEventKind::TransferAccepted
                | CallEventKind::TransferCompleted
                | CallEventKind::TransferFailed { .. },
            ) => {}
        }
        Ok(())
    }

    fn joined(
        &mut self,
        now: Instant,
        user: UserId,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        let Some(i) = self.ringing.iter().position(|(_, u, _)| *u == user) else {
            return Ok(()); // not rung by us (or already settled): nothing to do
        };
        if !matches!(self.phase, Phase::Queued) {
            // Someone else already won (same instant): remove this one again.
            let (offer, user, _) = self.ringing.remove(i);
            out.push(CallEffect::Command(CallAction::RemoveAgent { offer, user }));
            out.push(CallEffect::OfferEnded {
                offer,
                user,
                result: OfferResult::Failed(OfferFailure::LostRace),
            });
            return Ok(());
        }
        let (offer, user, _) = self.ringing.remove(i);
        self.answered.clear();
        self.unacknowledged.clear();
        self.apply(now, TaskInput::Accept { offer }, out)?;
        self.apply(now, TaskInput::Connect, out)?;
        self.phase = Phase::Connected { offer, user };
        out.push(CallEffect::OfferEnded {
            offer,
            user,
            result: OfferResult::Connected,
        });
        // Broadcast: the others lost the race; their invitations are cancelled.
        for (o, u, _) in std::mem::take(&mut self.ringing) {
            out.push(CallEffect::Command(CallAction::CancelRing {
                offer: o,
                user: u,
            }));
            out.push(CallEffect::OfferEnded {
                offer: o,
                user: u,
                result: OfferResult::Failed(OfferFailure::LostRace),
            });
        }
        Ok(())
    }

    fn conversation_ended(
        &mut self,
        now: Instant,
        offer: OfferId,
        user: UserId,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        // ACW as the service says now, when the conversation ends; the user gets the same
        // settings, so both agree whether there is a wrap-up and how long it lasts.
        let acw = self.service.acw;
        self.apply(now, TaskInput::EndConversation { acw: acw.enabled }, out)?;
        self.phase = match conversation_end_effects(now, offer, user, acw, out) {
            Some(until) => Phase::WrapUp { until },
            None => Phase::Ending,
        };
        Ok(())
    }

    fn terminated(
        &mut self,
        now: Instant,
        out: &mut Vec<CallEffect>,
    ) -> Result<(), TransitionError> {
        match self.phase {
            Phase::Connected { offer, user } => {
                self.conversation_ended(now, offer, user, out)?;
                if matches!(self.phase, Phase::WrapUp { .. }) {
                    return Ok(()); // the task ends with the user's wrap-up
                }
            }
            Phase::WrapUp { .. } => return Ok(()),
            Phase::Ending | Phase::Done => {}
            Phase::Answering | Phase::Welcome | Phase::Queued => {
                // The caller hung up: the call is gone, so no cancel commands are sent.
                let was_queued = matches!(
                    self.task.state(),
                    TaskState::Queued { .. } | TaskState::Offered { .. }
                );
                let rings = std::mem::take(&mut self.ringing);
                self.apply(now, TaskInput::CallerHangUp, out)?;
                for (offer, user, _) in rings {
                    out.push(CallEffect::OfferEnded {
                        offer,
                        user,
                        result: OfferResult::Failed(OfferFailure::Withdrawn),
                    });
                }
                if was_queued {
                    out.push(CallEffect::LeaveQueue);
                }
            }
        }
        Ok(())
    }
}
