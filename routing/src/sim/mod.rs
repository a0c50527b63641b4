//! A deterministic, single-threaded composition of the machines: calls, service queues and users
//! wired together exactly as the actors wire them, with a virtual clock. Used by scenario and
//! property tests and by the benches; it is also the reference for the actor runtime's wiring.

use crate::availability::{capacity_exclusion, participating, presence_ok};
use crate::call::{CallEffect, CallFlow, CallInput, CallTimer};
use crate::config::{
    DistributionPolicy, ResponsibilityProfile, ServiceConfig, TenantLimits, UserConfig,
};
use crate::decision::Decision;
use crate::ids::{OfferId, ServiceId, TaskId, TenantId, UserId};
use crate::model::{Direction, Modality, Presence};
use crate::offer::ReserveRequest;
use crate::port::{CallAction, CallEventKind};
use crate::queue::{QueueEffect, QueueInput, QueueTimer, ServiceQueue};
use crate::task::{SystemParameters, Task, TaskEvent};
use crate::time::Instant;
use crate::user::{UserEffect, UserInput, UserMachine, UserStatus, UserTimer};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

mod oracle;

#[derive(Clone, PartialEq, Debug)]
enum Msg {
    User(UserId, UserInput),
    Queue(ServiceId, QueueInput),
    Call(TaskId, CallInput),
}

/// Who sent a message, or where it goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Addr {
    /// The test, the platform or a timer.
    Ext,
    User(UserId),
    Queue(ServiceId),
    Call(TaskId),
}

fn dest(m: &Msg) -> Addr {
    match m {
        Msg::User(u, _) => Addr::User(*u),
        Msg::Queue(s, _) => Addr::Queue(*s),
        Msg::Call(t, _) => Addr::Call(*t),
    }
}

/// Messages between machines. FIFO by default (scenarios read in order); shuffled, it delivers
/// pending messages in a random order that keeps only what the runtime keeps: the order of the
/// messages one machine sends to another (one mailbox, one sender).
struct Bus {
    from: Addr,
    pending: VecDeque<(Addr, Msg)>,
    shuffle: Option<u64>,
}

impl Bus {
    fn push_back(&mut self, m: Msg) {
        self.pending.push_back((self.from, m));
    }
    fn clear(&mut self) {
        self.pending.clear();
    }
    fn pop(&mut self) -> Option<Msg> {
        let Some(rng) = self.shuffle.as_mut() else {
            return self.pending.pop_front().map(|p| p.1);
        };
        // The head of each (sender, receiver) channel may go next.
        let mut heads: Vec<(Addr, Addr, usize)> = Vec::new();
        for (i, (from, m)) in self.pending.iter().enumerate() {
            let to = dest(m);
            if !heads.iter().any(|h| h.0 == *from && h.1 == to) {
                heads.push((*from, to, i));
            }
        }
        if heads.is_empty() {
            return None;
        }
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        let pick = heads
            .get((*rng % heads.len() as u64) as usize)
            .map(|h| h.2)?;
        self.pending.remove(pick).map(|p| p.1)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Timer {
    User(UserId, UserTimerKey),
    Queue(ServiceId, QueueTimerKey),
    Call(TaskId, CallTimerKey),
}

// Orderable mirrors of the machines' timers (the timer enums need not be `Ord`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum UserTimerKey {
    AcwEnd(u64),
    RonaReset(u64),
    Lease(OfferId),
    BidWindow(u64),
}
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum QueueTimerKey {
    Escalate(TaskId, u8),
    MaxWait(TaskId),
    HoldEnded(TaskId),
}
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum CallTimerKey {
    Ring(OfferId),
    KeepAlive(u64),
    Establish,
    WrapUp,
}

fn user_key(t: UserTimer) -> UserTimerKey {
    match t {
        UserTimer::AcwEnd { epoch } => UserTimerKey::AcwEnd(epoch),
        UserTimer::RonaReset { epoch } => UserTimerKey::RonaReset(epoch),
        UserTimer::Lease { offer } => UserTimerKey::Lease(offer),
        UserTimer::BidWindow { epoch } => UserTimerKey::BidWindow(epoch),
    }
}
fn user_timer(k: UserTimerKey) -> UserTimer {
    match k {
        UserTimerKey::AcwEnd(epoch) => UserTimer::AcwEnd { epoch },
        UserTimerKey::RonaReset(epoch) => UserTimer::RonaReset { epoch },
        UserTimerKey::Lease(offer) => UserTimer::Lease { offer },
        UserTimerKey::BidWindow(epoch) => UserTimer::BidWindow { epoch },
    }
}
fn queue_key(t: QueueTimer) -> QueueTimerKey {
    match t {
        QueueTimer::Escalate { task, level } => QueueTimerKey::Escalate(task, level),
        QueueTimer::MaxWait { task } => QueueTimerKey::MaxWait(task),
        QueueTimer::HoldEnded { task } => QueueTimerKey::HoldEnded(task),
    }
}
fn queue_timer(k: QueueTimerKey) -> QueueTimer {
    match k {
        QueueTimerKey::Escalate(task, level) => QueueTimer::Escalate { task, level },
        QueueTimerKey::MaxWait(task) => QueueTimer::MaxWait { task },
        QueueTimerKey::HoldEnded(task) => QueueTimer::HoldEnded { task },
    }
}
fn call_key(t: CallTimer) -> CallTimerKey {
    match t {
        CallTimer::Ring { offer } => CallTimerKey::Ring(offer),
        CallTimer::KeepAlive { epoch } => CallTimerKey::KeepAlive(epoch),
        CallTimer::Establish => CallTimerKey::Establish,
        CallTimer::WrapUp => CallTimerKey::WrapUp,
    }
}
fn call_timer(k: CallTimerKey) -> CallTimer {
    match k {
        CallTimerKey::Ring(offer) => CallTimer::Ring { offer },
        CallTimerKey::KeepAlive(epoch) => CallTimer::KeepAlive { epoch },
        CallTimerKey::Establish => CallTimer::Establish,
        CallTimerKey::WrapUp => CallTimer::WrapUp,
    }
}

/// What happened, in order: the observable output of the simulation.
#[derive(Clone, PartialEq, Debug)]
pub enum Trace {
    Command { task: TaskId, action: CallAction },
    Event(TaskEvent),
    Decision(Box<Decision>),
    Status { user: UserId, to: UserStatus },
}

/// A broken invariant, found while the simulation ran.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Violation(pub String);

/// The simulation.
pub struct Center {
    now: Instant,
    tenant: TenantId,
    limits: TenantLimits,
    bid_window: Duration,
    users: BTreeMap<UserId, UserMachine>,
    queues: BTreeMap<ServiceId, ServiceQueue>,
    calls: BTreeMap<TaskId, CallFlow>,
    finished: BTreeMap<TaskId, Task>,
    timers: BTreeSet<(Instant, u64, Timer)>,
    timer_seq: u64,
    bus: Bus,
    observed: oracle::Observed,
    pub trace: Vec<Trace>,
    pub violations: Vec<Violation>,
    /// Check the selectable and queue-order invariants at every lease request (tests).
    pub check: bool,
    /// Check the liveness invariant at every quiescent point (tests).
    pub liveness: bool,
    /// Acknowledge every ring request at once, as a platform that answers 2xx (tests may turn
    /// it off and acknowledge by hand).
    pub ack_rings: bool,
}

impl Center {
    pub fn new(tenant: TenantId, limits: TenantLimits, bid_window: Duration) -> Self {
        Center {
            now: Instant::from_secs(1_000),
            tenant,
            limits,
            bid_window,
            users: BTreeMap::new(),
            queues: BTreeMap::new(),
            calls: BTreeMap::new(),
            finished: BTreeMap::new(),
            timers: BTreeSet::new(),
            timer_seq: 0,
            bus: Bus {
                from: Addr::Ext,
                pending: VecDeque::new(),
                shuffle: None,
            },
            observed: oracle::Observed::default(),
            trace: Vec::new(),
            violations: Vec::new(),
            check: true,
            liveness: false,
            ack_rings: true,
        }
    }

    /// Delivers pending messages in a random order seeded by `seed` (per sender and receiver,
    /// order is kept, as in the runtime's mailboxes).
    pub fn shuffle_messages(&mut self, seed: u64) {
        self.bus.shuffle = Some(seed | 1);
    }

    pub fn now(&self) -> Instant {
        self.now
    }
    pub fn user(&self, id: UserId) -> Option<&UserMachine> {
        self.users.get(&id)
    }
    pub fn queue(&self, id: ServiceId) -> Option<&ServiceQueue> {
        self.queues.get(&id)
    }
    pub fn call(&self, task: TaskId) -> Option<&CallFlow> {
        self.calls.get(&task)
    }
    /// A task's final state once its call finished.
    pub fn finished(&self, task: TaskId) -> Option<&Task> {
        self.finished.get(&task)
    }
    pub fn live_calls(&self) -> impl Iterator<Item = &CallFlow> {
        self.calls.values()
    }
    pub fn users(&self) -> impl Iterator<Item = &UserMachine> {
        self.users.values()
    }

    pub fn add_service(&mut self, config: ServiceConfig, policy: Option<DistributionPolicy>) {
        let seed = (self.queues.len() as u64 + 1) << 40;
        self.queues.insert(
            config.id,
            ServiceQueue::new(config, policy, self.limits, seed),
        );
    }

    pub fn add_user(&mut self, config: UserConfig, profile: ResponsibilityProfile) {
        let id = config.id;
        let m = UserMachine::new(self.now, config, profile, self.bid_window);
        let a = m.availability();
        self.users.insert(id, m);
        for ms in a.memberships.iter() {
            self.bus
                .push_back(Msg::Queue(ms.service, QueueInput::Availability(a.clone())));
        }
        self.run();
    }

    /// Delivers a user input and runs everything it causes.
    pub fn user_input(&mut self, user: UserId, input: UserInput) {
        self.bus.push_back(Msg::User(user, input));
        self.run();
    }

    pub fn presence(&mut self, user: UserId, presence: Presence) {
        self.user_input(user, UserInput::Presence(presence));
    }

    /// A call arrives for `service`.
    pub fn incoming_call(&mut self, task: TaskId, service: ServiceId) {
        let priority = self
            .queues
            .get(&service)
            .map(|q| q.config().default_priority)
            .unwrap_or_default();
        self.incoming_call_with(task, service, priority);
    }

    /// A call with a given priority.
    pub fn incoming_call_with(
        &mut self,
        task: TaskId,
        service: ServiceId,
        priority: crate::model::Priority,
    ) {
        let system = SystemParameters {
            service: Some(service),
            ..SystemParameters::default()
        };
        let (mut t, ev) = Task::new(
            self.now,
            task,
            self.tenant,
            Modality::Call,
            Direction::Inbound,
            system,
        );
        t.priority = priority;
        self.trace.push(Trace::Event(ev));
        self.incoming(t, service);
    }

    /// A prepared task (preferred users, context…) arrives as a call for `service`.
    pub fn incoming(&mut self, task: Task, service: ServiceId) {
        let Some(config) = self.queues.get(&service).map(|q| q.config().clone()) else {
            return;
        };
        let id = task.id;
        self.calls.insert(id, CallFlow::new(task, config));
        self.bus.push_back(Msg::Call(id, CallInput::Start));
        self.run();
    }

    /// A platform event for a call (the caller hangs up, an agent joins…).
    pub fn platform(&mut self, task: TaskId, event: CallEventKind) {
        self.bus
            .push_back(Msg::Call(task, CallInput::Platform(event)));
        self.run();
    }

    /// A service's configuration changes (as the tenant supervisor passes it on).
    pub fn reconfigure(&mut self, config: ServiceConfig, policy: Option<DistributionPolicy>) {
        let input = QueueInput::Reconfigure {
            config: Box::new(config.clone()),
            policy,
        };
        self.bus.push_back(Msg::Queue(config.id, input));
        let calls: Vec<TaskId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.service().id == config.id)
            .map(|(t, _)| *t)
            .collect();
        for t in calls {
            let input = CallInput::Reconfigure(Box::new(config.clone()));
            self.bus.push_back(Msg::Call(t, input));
        }
        self.run();
    }

    pub fn queue_input(&mut self, service: ServiceId, input: QueueInput) {
        self.bus.push_back(Msg::Queue(service, input));
        self.run();
    }

    pub fn call_input(&mut self, task: TaskId, input: CallInput) {
        self.bus.push_back(Msg::Call(task, input));
        self.run();
    }

    /// Moves the clock to `to`, firing every timer due on the way, in order.
    pub fn advance_to(&mut self, to: Instant) {
        while let Some(&(at, seq, timer)) = self.timers.first() {
            if at > to {
                break;
            }
            self.timers.remove(&(at, seq, timer));
            self.now = self.now.max(at);
            let msg = match timer {
                Timer::User(u, k) => Msg::User(u, UserInput::Timer(user_timer(k))),
                Timer::Queue(s, k) => Msg::Queue(s, QueueInput::Timer(queue_timer(k))),
                Timer::Call(t, k) => Msg::Call(t, CallInput::Timer(call_timer(k))),
            };
            self.bus.from = dest(&msg);
            self.bus.push_back(msg);
            self.run();
        }
        self.now = self.now.max(to);
    }

    pub fn advance(&mut self, d: Duration) {
        let to = self.now + d;
        self.advance_to(to);
    }

    /// The earliest pending timer.
    pub fn next_timer(&self) -> Option<Instant> {
        self.timers.first().map(|t| t.0)
    }

    fn arm(&mut self, at: Instant, t: Timer) {
        self.timer_seq += 1;
        self.timers.insert((at, self.timer_seq, t));
    }

    /// Commands sent for one task, in order.
    pub fn commands(&self, task: TaskId) -> Vec<CallAction> {
        self.trace
            .iter()
            .filter_map(|t| match t {
                Trace::Command { task: k, action } if *k == task => Some(action.clone()),
                _ => None,
            })
            .collect()
    }

    /// Events of one task, in order.
    pub fn events(&self, task: TaskId) -> Vec<&TaskEvent> {
        self.trace
            .iter()
            .filter_map(|t| match t {
                Trace::Event(e) if e.task == task => Some(e),
                _ => None,
            })
            .collect()
    }

    fn run(&mut self) {
        let mut budget = 1_000_000u32; // a runaway message loop is a bug, not a hang
        while let Some(msg) = self.bus.pop() {
            budget -= 1;
            if budget == 0 {
                self.violations
                    .push(Violation("message loop did not settle".into()));
                self.bus.clear();
                return;
            }
            self.bus.from = dest(&msg);
            match msg {
                Msg::User(u, input) => self.deliver_user(u, input),
                Msg::Queue(s, input) => self.deliver_queue(s, input),
                Msg::Call(t, input) => self.deliver_call(t, input),
            }
        }
        self.bus.from = Addr::Ext;
        // Quiescent: no message in flight and no timer due (a timer due now is one in flight).
        let due = self.timers.first().is_some_and(|t| t.0 <= self.now);
        if self.liveness && !due {
            self.check_liveness();
        }
    }

    fn deliver_user(&mut self, u: UserId, input: UserInput) {
        let oracle = match (&input, self.check) {
            (UserInput::Reserve(req), true) => Some((*req, self.oracle_selectable(u, req))),
            _ => None,
        };
        let Some(m) = self.users.get_mut(&u) else {
            return;
        };
        let effects = m.handle(self.now, input);
        if let Some((req, verdict)) = oracle {
            let granted = effects
                .iter()
                .any(|e| matches!(e, UserEffect::Granted { offer, .. } if *offer == req.offer));
            if granted && let Err(why) = verdict {
                self.violations.push(Violation(format!(
                    "user {u} granted task {} while not selectable: {why}",
                    req.task
                )));
            }
        }
        if let Some(m) = self.users.get(&u) {
            let cap = m.capacity();
            let mut load = [0u8; 4];
            for l in m.leases() {
                load[l.modality.index()] += 1;
            }
            if Modality::ALL
                .iter()
                .any(|md| load[md.index()] > cap.of(*md))
                || m.leases().iter().filter(|l| l.ringing).count() > 1
            {
                self.violations.push(Violation(format!(
                    "user {u} holds {:?} leases beyond capacity",
                    m.leases()
                )));
            }
        }
        for e in effects {
            match e {
                UserEffect::Granted { offer, service, .. } => self
                    .bus
                    .push_back(Msg::Queue(service, QueueInput::Granted { offer })),
                UserEffect::Refused {
                    offer,
                    service,
                    reason,
                    version,
                    ..
                } => self.bus.push_back(Msg::Queue(
                    service,
                    QueueInput::Refused {
                        offer,
                        reason,
                        version,
                    },
                )),
                UserEffect::Availability(a) => {
                    for ms in a.memberships.iter() {
                        self.bus
                            .push_back(Msg::Queue(ms.service, QueueInput::Availability(a.clone())));
                    }
                }
                UserEffect::ArmTimer { timer, at } => self.arm(at, Timer::User(u, user_key(timer))),
                UserEffect::LeaseExpired { offer, task, .. } => {
                    self.bus
                        .push_back(Msg::Call(task, CallInput::RingFailed { offer }));
                }
                UserEffect::WrapUpEnded { task } => {
                    self.bus.push_back(Msg::Call(task, CallInput::WrapUpEnded))
                }
                UserEffect::WrapUpExtended { task, until } => self
                    .bus
                    .push_back(Msg::Call(task, CallInput::WrapUpExtended { until })),
                UserEffect::Status { to, .. } => self.trace.push(Trace::Status { user: u, to }),
            }
        }
    }

    /// An independent statement of the selectable predicate (DESIGN §3.2) and queue order.
    fn oracle_selectable(&self, u: UserId, req: &ReserveRequest) -> Result<(), String> {
        let m = self.users.get(&u).ok_or("unknown user")?;
        let q = self.queues.get(&req.service).ok_or("unknown service")?;
        let c = q.config();
        let a = m.availability();
        if !presence_ok(a.presence, c.busy_selectable, c.away_selectable) {
            return Err(format!("presence {:?}", a.presence));
        }
        if !participating(c.assignment, a.membership(c.id), a.on_duty) {
            return Err("not participating".into());
        }
        for f in [
            crate::availability::Flag::Ringing,
            crate::availability::Flag::WrapUp,
            crate::availability::Flag::Rona,
            crate::availability::Flag::NotAvailableReason,
        ] {
            if a.flags.has(f) {
                return Err(format!("flag {f:?}"));
            }
        }
        if let Some(e) = capacity_exclusion(&a, req.modality) {
            return Err(format!("{e:?}"));
        }
        // A request may cross the task's removal in flight; the queue's Release frees the lease.
        let Some(view) = q.task_view(req.task) else {
            return Ok(());
        };
        if let Some(policy) = q.policy() {
            let level = policy.first_matching_level(&a.skills);
            if level.is_none_or(|l| Some(l) > view.level) {
                return Err(format!(
                    "skill level {level:?} above task level {:?}",
                    view.level
                ));
            }
        }
        Ok(())
    }

    /// Queue order: no task ahead of `task` in the same queue starves while `user` is given to it.
    fn check_order(&mut self, service: ServiceId, task: TaskId, user: UserId) {
        let Some(q) = self.queues.get(&service) else {
            return;
        };
        if q.policy().is_some() {
            return; // skills may legitimately make a later task the only fit
        }
        let Some(view) = q.task_view(task) else {
            return;
        };
        let now = self.now;
        let held = |rings: &[crate::queue::TaskRing]| {
            rings
                .iter()
                .any(|r| r.user == user && r.busy_until.is_some_and(|b| now < b))
        };
        for other in q.waiting() {
            if other == task {
                break;
            }
            let Some(o) = q.task_view(other) else {
                continue;
            };
            let preferred_elsewhere = self
                .calls
                .get(&task)
                .is_some_and(|c| !c.task().preferred.is_empty());
            if o.offers == 0
                && !o.expired
                && !held(o.rings)
                && !preferred_elsewhere
                && o.priority >= view.priority
            {
                self.violations.push(Violation(format!(
                    "task {task} offered to {user} while {other} (waiting since {:?}) waits with no offer",
                    o.enqueued_at
                )));
            }
        }
    }

    fn deliver_queue(&mut self, s: ServiceId, input: QueueInput) {
        let Some(q) = self.queues.get_mut(&s) else {
            return;
        };
        let effects = q.handle(self.now, input);
        for e in effects {
            match e {
                QueueEffect::Reserve { user, request } => {
                    if self.check {
                        self.check_order(s, request.task, user);
                    }
                    self.bus
                        .push_back(Msg::User(user, UserInput::Reserve(request)));
                }
                QueueEffect::Offer {
                    task,
                    offer,
                    user,
                    level,
                    ring_timeout,
                    distribution,
                } => {
                    self.bus.push_back(Msg::Call(
                        task,
                        CallInput::Offer {
                            offer,
                            user,
                            level,
                            ring_timeout,
                            distribution,
                        },
                    ));
                }
                QueueEffect::Release {
                    user, offer, cause, ..
                } => self
                    .bus
                    .push_back(Msg::User(user, UserInput::Release { offer, cause })),
                QueueEffect::ArmTimer { timer, at } => {
                    self.arm(at, Timer::Queue(s, queue_key(timer)))
                }
                QueueEffect::TimedOut { task } => self
                    .bus
                    .push_back(Msg::Call(task, CallInput::QueueTimedOut)),
                QueueEffect::Refused { task, reason } => self
                    .bus
                    .push_back(Msg::Call(task, CallInput::QueueRefused(reason))),
                QueueEffect::Decision(d) => self.trace.push(Trace::Decision(d)),
                // Timers of a task gone are dropped, as the runtime cancels them.
                QueueEffect::TaskGone { task } => self.timers.retain(|(_, _, t)| {
                    !matches!(t, Timer::Queue(q, k) if *q == s && queue_timer(*k).task() == task)
                }),
            }
        }
    }

    fn deliver_call(&mut self, t: TaskId, input: CallInput) {
        let Some(c) = self.calls.get_mut(&t) else {
            // The call is gone: a late offer is void.
            if let CallInput::Offer { offer, user, .. } = input {
                let result =
                    crate::offer::OfferResult::Failed(crate::task::OfferFailure::Withdrawn);
                self.bus
                    .push_back(Msg::User(user, UserInput::OfferEnded { offer, result }));
            }
            return;
        };
        let service = c.service().id;
        let effects = match c.handle(self.now, input) {
            Ok(e) => e,
            Err(e) => {
                self.violations
                    .push(Violation(format!("call flow error: {e}")));
                return;
            }
        };
        for e in effects {
            match e {
                CallEffect::Command(action) => {
                    // The platform acknowledges a ring request at once (the runtime feeds the
                    // acknowledgement when the command returns).
                    if let (CallAction::RingAgent { offer, .. }, true) = (&action, self.ack_rings) {
                        self.bus
                            .push_back(Msg::Call(t, CallInput::RingAcknowledged { offer: *offer }));
                    }
                    self.trace.push(Trace::Command { task: t, action })
                }
                CallEffect::Enqueue(e) => self
                    .bus
                    .push_back(Msg::Queue(service, QueueInput::Enqueue(e))),
                CallEffect::LeaveQueue => self
                    .bus
                    .push_back(Msg::Queue(service, QueueInput::Remove { task: t })),
                CallEffect::OfferEnded {
                    offer,
                    user,
                    result,
                } => {
                    if result == crate::offer::OfferResult::Failed(crate::task::OfferFailure::Busy)
                    {
                        self.observed.on_busy(t, user, self.now);
                    }
                    self.bus.push_back(Msg::Queue(
                        service,
                        QueueInput::OfferEnded { offer, result },
                    ));
                    self.bus
                        .push_back(Msg::User(user, UserInput::OfferEnded { offer, result }));
                }
                CallEffect::TaskEnded { offer, user, acw } => self
                    .bus
                    .push_back(Msg::User(user, UserInput::TaskEnded { offer, acw })),
                CallEffect::ArmTimer { timer, at } => self.arm(at, Timer::Call(t, call_key(timer))),
                CallEffect::Task(applied) => {
                    for ev in applied.events {
                        self.trace.push(Trace::Event(ev));
                    }
                }
                CallEffect::Finished => {
                    if let Some(c) = self.calls.remove(&t) {
                        self.finished.insert(t, c.task().clone());
                    }
                }
            }
        }
    }
}
