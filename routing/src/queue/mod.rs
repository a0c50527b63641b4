//! The service queue (DESIGN §3.3): ordered waiting tasks, policy levels widening over time, an
//! availability view of the members, and offers as leases asked of the users' own machines.

mod members;
mod select;

use crate::availability::UserAvailability;
use crate::config::values::MaxQueueTime;
use crate::config::{Assignment, Distribution, DistributionPolicy, ServiceConfig, TenantLimits};
use crate::decision::{Decision, Verdict};
use crate::ids::{OfferId, ServiceId, TaskId, UserId};
use crate::model::{Modality, Priority};
use crate::offer::{LeaseTerms, OfferResult, RefuseReason, ReserveRequest, Score};
use crate::task::{OfferFailure, PreferredUsers};
use crate::time::Instant;
use members::Members;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

/// Slack between the call's ring timer and the lease deadline the user is given.
const RING_SLACK: Duration = Duration::from_secs(2);

/// How long a task holds back a user whom Teams reported busy, unless their presence changes.
pub const BUSY_HOLD: Duration = Duration::from_secs(30);

/// A task entering the queue.
#[derive(Clone, PartialEq, Debug)]
pub struct EnqueueTask {
    pub task: TaskId,
    pub modality: Modality,
    pub priority: Priority,
    pub preferred: PreferredUsers,
    /// When the task entered the queue (a restored task keeps its original time).
    pub enqueued_at: Instant,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum QueueTimer {
    /// The task's policy level widens to `level`.
    Escalate { task: TaskId, level: u8 },
    /// The task reached its maximum queue time.
    MaxWait { task: TaskId },
    /// A busy user's hold for this task ends: look for candidates again.
    HoldEnded { task: TaskId },
}

#[derive(Clone, PartialEq, Debug)]
pub enum QueueInput {
    Enqueue(EnqueueTask),
    /// The task left (caller hung up, transferred, cancelled): withdraw what is pending.
    Remove {
        task: TaskId,
    },
    UpdateTask {
        task: TaskId,
        priority: Option<Priority>,
        preferred: Option<PreferredUsers>,
    },
    /// A member's fresh availability (also the agent-pull invitation when the user is free).
    Availability(UserAvailability),
    MemberRemoved {
        user: UserId,
    },
    Granted {
        offer: OfferId,
    },
    Refused {
        offer: OfferId,
        reason: RefuseReason,
        /// The user's availability version when it refused (0: unknown).
        version: u64,
    },
    /// How a ringing offer ended (from the call, or the user's safety net).
    OfferEnded {
        offer: OfferId,
        result: OfferResult,
    },
    /// Pickup: a user takes a task (`None`: the best one for them).
    Pickup {
        user: UserId,
        task: Option<TaskId>,
    },
    Timer(QueueTimer),
    Reconfigure {
        config: Box<ServiceConfig>,
        policy: Option<DistributionPolicy>,
    },
}

/// Why a task was not accepted into the queue.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EnqueueRefusal {
    QueueFull,
    AlreadyQueued,
}

#[derive(Clone, PartialEq, Debug)]
pub enum QueueEffect {
    /// Ask the user's machine for a lease.
    Reserve {
        user: UserId,
        request: ReserveRequest,
    },
    /// A lease was granted: the call should ring the user.
    Offer {
        task: TaskId,
        offer: OfferId,
        user: UserId,
        level: Option<u8>,
        ring_timeout: Duration,
        distribution: Distribution,
    },
    /// Tell the user a lease it may hold is void.
    Release {
        user: UserId,
        offer: OfferId,
        task: TaskId,
        cause: OfferFailure,
    },
    ArmTimer {
        timer: QueueTimer,
        at: Instant,
    },
    /// The task waited its maximum time: the workflow takes over.
    TimedOut {
        task: TaskId,
    },
    Refused {
        task: TaskId,
        reason: EnqueueRefusal,
    },
    /// The task left the queue: every timer armed for it is void (the runtime may cancel them).
    TaskGone {
        task: TaskId,
    },
    Decision(Box<Decision>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    Requested,
    Ringing,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct OfferState {
    task: TaskId,
    user: UserId,
    stage: Stage,
    level: Option<u8>,
}

#[derive(Clone, PartialEq, Debug)]
pub(crate) struct QueuedTask {
    pub task: TaskId,
    pub modality: Modality,
    pub priority: Priority,
    pub preferred: PreferredUsers,
    pub enqueued_at: Instant,
    pub seq: u64,
    /// Users this task rang without success, with how often (nobody is excluded for it).
    pub rings: Vec<TaskRing>,
    pub offers: Vec<OfferId>,
    /// Current policy level (1-based) for skill-based services.
    pub level: Option<u8>,
    /// Max queue time passed while an offer was ringing: no new offers.
    pub expired: bool,
}

/// What one task's rings of one user came to. Candidates rung fewer times go first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TaskRing {
    pub user: UserId,
    /// Rings of this task that reached the user and failed (missed, declined, busy, unreachable).
    pub count: u32,
    /// Teams said busy: the user is held back for this task until then, or until their presence
    /// changes (`busy_presence` is their presence-change count at the time).
    pub busy_until: Option<Instant>,
    pub busy_presence: u64,
}

impl QueueTimer {
    /// The task every queue timer is about.
    pub fn task(self) -> TaskId {
        match self {
            QueueTimer::Escalate { task, .. }
            | QueueTimer::MaxWait { task }
            | QueueTimer::HoldEnded { task } => task,
        }
    }
}

impl QueuedTask {
    pub(crate) fn rings_of(&self, user: UserId) -> u32 {
        self.rings
            .iter()
            .find(|r| r.user == user)
            .map_or(0, |r| r.count)
    }

    /// Held back after Teams said busy, and neither the hold ended nor the presence changed.
    pub(crate) fn held_back(&self, a: &UserAvailability, now: Instant) -> bool {
        self.rings.iter().any(|r| {
            r.user == a.user
                && r.busy_until.is_some_and(|until| now < until)
                && r.busy_presence == a.presence_changes
        })
    }

    fn count_ring(&mut self, user: UserId, busy: Option<(Instant, u64)>) {
        let i = match self.rings.iter().position(|r| r.user == user) {
            Some(i) => i,
            None => {
                self.rings.push(TaskRing {
                    user,
                    count: 0,
                    busy_until: None,
                    busy_presence: 0,
                });
                self.rings.len() - 1
            }
        };
        if let Some(r) = self.rings.get_mut(i) {
            r.count = r.count.saturating_add(1);
            r.busy_until = busy.map(|b| b.0);
            r.busy_presence = busy.map_or(0, |b| b.1);
        }
    }
}

/// A read-only view of one waiting task.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TaskView<'a> {
    pub priority: Priority,
    pub enqueued_at: Instant,
    pub level: Option<u8>,
    pub offers: usize,
    pub rings: &'a [TaskRing],
    pub expired: bool,
}

type WaitKey = (Reverse<Priority>, Instant, u64, TaskId);

/// Waiting tasks in queue order: Strict first, then priority, then longest waiting.
fn wait_key(t: &QueuedTask) -> WaitKey {
    (Reverse(t.priority), t.enqueued_at, t.seq, t.task)
}

#[derive(Clone, PartialEq, Debug)]
pub struct ServiceQueue {
    config: ServiceConfig,
    policy: Option<DistributionPolicy>,
    limits: TenantLimits,
    members: Members,
    order: BTreeSet<WaitKey>,
    tasks: HashMap<TaskId, QueuedTask>,
    offers: HashMap<OfferId, OfferState>,
    /// Calls of this service connected to a user: with the waiting ones (ringing included) they
    /// count against the per-service limit of concurrent calls.
    connected: HashSet<TaskId>,
    next_offer: u64,
    next_seq: u64,
    rr_cursor: u32,
    rng: u64,
}

impl ServiceQueue {
    /// `offer_seed` makes offer ids unique across restarts (the runtime passes e.g. its clock).
    pub fn new(
        config: ServiceConfig,
        policy: Option<DistributionPolicy>,
        limits: TenantLimits,
        offer_seed: u64,
    ) -> Self {
        ServiceQueue {
            config,
            policy,
            limits,
            members: Members::default(),
            order: BTreeSet::new(),
            tasks: HashMap::new(),
            offers: HashMap::new(),
            connected: HashSet::new(),
            next_offer: offer_seed,
            next_seq: 0,
            rr_cursor: 0,
            rng: offer_seed | 1,
        }
    }

    pub fn id(&self) -> ServiceId {
        self.config.id
    }
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }
    /// Waiting tasks in queue order.
    pub fn waiting(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.order.iter().map(|k| k.3)
    }
    pub fn len(&self) -> usize {
        self.tasks.len()
    }
    /// Calls of this service connected to a user (counted against the concurrent-call limit).
    pub fn connected_calls(&self) -> usize {
        self.connected.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
    pub fn contains(&self, task: TaskId) -> bool {
        self.tasks.contains_key(&task)
    }
    pub fn enqueued_at(&self, task: TaskId) -> Option<Instant> {
        self.tasks.get(&task).map(|t| t.enqueued_at)
    }
    /// The members' availability as this queue sees it.
    pub fn member_views(&self) -> impl Iterator<Item = &UserAvailability> + '_ {
        self.members.by_id.values().map(|m| &m.avail)
    }
    /// Members the queue could offer a task to right now (selectable, no pending offer).
    pub fn selectable_members(&self) -> usize {
        self.members.idle_len()
    }
    /// What the queue holds about one waiting task (for invariant checks and live views).
    pub fn task_view(&self, task: TaskId) -> Option<TaskView<'_>> {
        self.tasks.get(&task).map(|t| TaskView {
            priority: t.priority,
            enqueued_at: t.enqueued_at,
            level: t.level,
            offers: t.offers.len(),
            rings: &t.rings,
            expired: t.expired,
        })
    }

    /// The policy used by this queue, if skill-based.
    pub fn policy(&self) -> Option<&DistributionPolicy> {
        self.policy.as_ref().filter(|_| self.skill_based())
    }

    /// Outstanding offers of a task.
    pub fn offers_of(&self, task: TaskId) -> Vec<(OfferId, UserId)> {
        self.tasks
            .get(&task)
            .map(|t| {
                t.offers
                    .iter()
                    .filter_map(|o| self.offers.get(o).map(|s| (*o, s.user)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn skill_based(&self) -> bool {
        self.config.assignment == Assignment::SkillBased && self.policy.is_some()
    }

    fn terms(&self) -> LeaseTerms {
        LeaseTerms {
            assignment: self.config.assignment,
            busy_selectable: self.config.busy_selectable,
            away_selectable: self.config.away_selectable,
            applies_rona: self.config.distribution.applies_rona(),
            persistent_rona: self
                .config
                .persistent_rona
                .then(|| self.config.rona_reset.duration()),
            rona_cooldown: self.config.rona_cooldown.duration(),
            acw: self.config.acw,
            multitasking: self.config.multitasking,
        }
    }

    /// The policy level after waiting `waited`, and when the next level starts.
    fn level_at(&self, enqueued_at: Instant, now: Instant) -> (Option<u8>, Option<(u8, Instant)>) {
        let Some(policy) = self.policy.as_ref().filter(|_| self.skill_based()) else {
            return (None, None);
        };
        let mut at = enqueued_at;
        let n = policy.levels.len();
        for (i, lvl) in policy.levels.iter().enumerate() {
            if i + 1 == n {
                return (Some(n as u8), None);
            }
            at = at + lvl.escalate_after.duration();
            if now < at {
                return (Some(i as u8 + 1), Some((i as u8 + 2, at)));
            }
        }
        (Some(n.max(1) as u8), None)
    }

    fn want(&self, t: &QueuedTask) -> usize {
        if t.expired {
            return 0;
        }
        let max = match self.config.distribution {
            Distribution::Broadcast { batch } => usize::from(batch.max(1)),
            Distribution::Direct | Distribution::DirectConference => 1,
            Distribution::Pickup => 0,
        };
        max.saturating_sub(t.offers.len())
    }

    /// Handles one input and returns the effects to run, in order.
    pub fn handle(&mut self, now: Instant, input: QueueInput) -> Vec<QueueEffect> {
        let mut out = Vec::new();
        match input {
            QueueInput::Enqueue(e) => self.enqueue(now, e, &mut out),
            QueueInput::Remove { task } => {
                self.connected.remove(&task);
                self.remove_task(task, OfferFailure::Withdrawn, &mut out);
                self.dispatch(now, &mut out);
            }
            QueueInput::UpdateTask {
                task,
                priority,
                preferred,
            } => {
                if let Some(t) = self.tasks.get(&task) {
                    let old = wait_key(t);
                    self.order.remove(&old);
                    if let Some(t) = self.tasks.get_mut(&task) {
                        if let Some(p) = priority {
                            t.priority = p;
                        }
                        if let Some(p) = preferred {
                            t.preferred = p;
                        }
                        let k = wait_key(t);
                        self.order.insert(k);
                    }
                    self.dispatch(now, &mut out);
                }
            }
            QueueInput::Availability(a) => {
                if self.members.update(a, &self.config, self.policy.as_ref()) {
                    self.dispatch(now, &mut out);
                }
            }
            QueueInput::MemberRemoved { user } => {
                self.members.remove(user);
            }
            QueueInput::Granted { offer } => self.granted(now, offer, &mut out),
            QueueInput::Refused {
                offer,
                reason: _,
                version,
            } => {
                if let Some(st) = self.offers.remove(&offer) {
                    self.members.set_pending(st.user, None);
                    // A refusal is a race, never a verdict on the user for this task: the
                    // member waits for the state the user judged on, then is a candidate again.
                    self.members.await_update(st.user, version);
                    if let Some(t) = self.tasks.get_mut(&st.task) {
                        t.offers.retain(|o| *o != offer);
                    }
                    self.dispatch(now, &mut out);
                }
            }
            QueueInput::OfferEnded { offer, result } => {
                self.offer_ended(now, offer, result, &mut out)
            }
            QueueInput::Pickup { user, task } => self.pickup(now, user, task, &mut out),
            QueueInput::Timer(QueueTimer::Escalate { task, level }) => {
                let (cur, next) = match self.tasks.get(&task) {
                    Some(t) => self.level_at(t.enqueued_at, now),
                    None => return out,
                };
                if let Some(t) = self.tasks.get_mut(&task)
                    && cur.is_some_and(|c| c >= level)
                {
                    t.level = cur;
                }
                if let Some((l, at)) = next {
                    out.push(QueueEffect::ArmTimer {
                        timer: QueueTimer::Escalate { task, level: l },
                        at,
                    });
                }
                self.dispatch(now, &mut out);
            }
            QueueInput::Timer(QueueTimer::MaxWait { task }) => self.max_wait(now, task, &mut out),
            QueueInput::Timer(QueueTimer::HoldEnded { task }) => {
                if self.tasks.contains_key(&task) {
                    self.dispatch(now, &mut out);
                }
            }
            QueueInput::Reconfigure { config, policy } => {
                let old_max = self.config.max_queue_time;
                self.config = *config;
                self.policy = policy;
                self.members.rebuild(&self.config, self.policy.as_ref());
                self.retime(now, old_max, &mut out);
                self.dispatch(now, &mut out);
            }
        }
        out
    }

    /// After a reconfiguration, waiting tasks follow the new settings at once: the maximum wait
    /// (a task already past it times out now), the policy level and its next escalation.
    fn retime(&mut self, now: Instant, old_max: MaxQueueTime, out: &mut Vec<QueueEffect>) {
        let max = self.config.max_queue_time;
        let tasks: Vec<(TaskId, Instant)> = self
            .tasks
            .values()
            .map(|t| (t.task, t.enqueued_at))
            .collect();
        for (task, enqueued_at) in tasks {
            let (level, next) = self.level_at(enqueued_at, now);
            if let Some(t) = self.tasks.get_mut(&task) {
                t.level = level;
            }
            if let Some((l, at)) = next {
                out.push(QueueEffect::ArmTimer {
                    timer: QueueTimer::Escalate { task, level: l },
                    at,
                });
            }
            if max == old_max {
                continue;
            }
            let deadline = enqueued_at + max.duration();
            if now >= deadline {
                self.max_wait(now, task, out);
            } else {
                out.push(QueueEffect::ArmTimer {
                    timer: QueueTimer::MaxWait { task },
                    at: deadline,
                });
            }
        }
    }

    fn enqueue(&mut self, now: Instant, e: EnqueueTask, out: &mut Vec<QueueEffect>) {
        if self.tasks.contains_key(&e.task) {
            out.push(QueueEffect::Refused {
                task: e.task,
                reason: EnqueueRefusal::AlreadyQueued,
            });
            return;
        }
        // Waiting tasks against the queue's capacity; calls (waiting, ringing and connected)
        // against the service's limit of concurrent calls.
        let calls = self
            .tasks
            .values()
            .filter(|t| t.modality == Modality::Call)
            .count()
            + self.connected.len();
        let full = self.tasks.len() >= self.config.queue_capacity as usize
            || (e.modality == Modality::Call
                && calls >= self.limits.max_concurrent_calls_per_service as usize);
        if full {
            out.push(QueueEffect::Refused {
                task: e.task,
                reason: EnqueueRefusal::QueueFull,
            });
            return;
        }
        let (level, next) = self.level_at(e.enqueued_at, now);
        self.next_seq += 1;
        let t = QueuedTask {
            task: e.task,
            modality: e.modality,
            priority: e.priority,
            preferred: e.preferred,
            enqueued_at: e.enqueued_at,
            seq: self.next_seq,
            rings: Vec::new(),
            offers: Vec::new(),
            level,
            expired: false,
        };
        self.order.insert(wait_key(&t));
        self.tasks.insert(e.task, t);
        out.push(QueueEffect::ArmTimer {
            timer: QueueTimer::MaxWait { task: e.task },
            at: e.enqueued_at + self.config.max_queue_time.duration(),
        });
        if let Some((l, at)) = next {
            out.push(QueueEffect::ArmTimer {
                timer: QueueTimer::Escalate {
                    task: e.task,
                    level: l,
                },
                at,
            });
        }
        self.dispatch(now, out);
    }

    /// Drops a task and withdraws the leases still only requested; ringing ones belong to the call.
    fn remove_task(&mut self, task: TaskId, cause: OfferFailure, out: &mut Vec<QueueEffect>) {
        let Some(t) = self.tasks.remove(&task) else {
            return;
        };
        self.order.remove(&wait_key(&t));
        out.push(QueueEffect::TaskGone { task });
        for o in t.offers {
            if let Some(st) = self.offers.remove(&o) {
                self.members.set_pending(st.user, None);
                if st.stage == Stage::Requested {
                    out.push(QueueEffect::Release {
                        user: st.user,
                        offer: o,
                        task,
                        cause,
                    });
                }
            }
        }
    }

    fn granted(&mut self, now: Instant, offer: OfferId, out: &mut Vec<QueueEffect>) {
        let Some(st) = self.offers.get_mut(&offer) else {
            return;
        };
        if st.stage != Stage::Requested {
            return;
        }
        st.stage = Stage::Ringing;
        let st = *st;
        let _ = now;
        out.push(QueueEffect::Offer {
            task: st.task,
            offer,
            user: st.user,
            level: st.level,
            ring_timeout: self.config.ring_timeout.duration(),
            distribution: self.config.distribution,
        });
    }

    fn offer_ended(
        &mut self,
        now: Instant,
        offer: OfferId,
        result: OfferResult,
        out: &mut Vec<QueueEffect>,
    ) {
        let Some(st) = self.offers.remove(&offer) else {
            return;
        };
        self.members.set_pending(st.user, None);
        match result {
            OfferResult::Connected => {
                // The task is the user's: it leaves the queue. Other ringing offers are the call's
                // to cancel; only merely requested ones are released here.
                if let Some(t) = self.tasks.get_mut(&st.task) {
                    t.offers.retain(|o| *o != offer);
                    if t.modality == Modality::Call {
                        self.connected.insert(st.task);
                    }
                }
                self.remove_task(st.task, OfferFailure::LostRace, out);
            }
            OfferResult::Failed(cause) => {
                let mut timed_out = false;
                let busy = (cause == OfferFailure::Busy).then(|| {
                    let seen = self.members.by_id.get(&st.user);
                    (
                        now + BUSY_HOLD,
                        seen.map_or(0, |m| m.avail.presence_changes),
                    )
                });
                if let Some(t) = self.tasks.get_mut(&st.task) {
                    t.offers.retain(|o| *o != offer);
                    if matches!(
                        cause,
                        OfferFailure::NoAnswer
                            | OfferFailure::Declined
                            | OfferFailure::Busy
                            | OfferFailure::Unreachable
                    ) {
                        t.count_ring(st.user, busy);
                    }
                    timed_out = t.expired && t.offers.is_empty();
                }
                if let (Some((at, _)), false) = (busy, timed_out) {
                    out.push(QueueEffect::ArmTimer {
                        timer: QueueTimer::HoldEnded { task: st.task },
                        at,
                    });
                }
                if timed_out {
                    self.remove_task(st.task, OfferFailure::Withdrawn, out);
                    out.push(QueueEffect::TimedOut { task: st.task });
                }
            }
        }
        self.dispatch(now, out);
    }

    fn max_wait(&mut self, now: Instant, task: TaskId, out: &mut Vec<QueueEffect>) {
        let Some(t) = self.tasks.get(&task) else {
            return;
        };
        if now < t.enqueued_at + self.config.max_queue_time.duration() {
            return; // stale timer of an earlier enqueue
        }
        let ringing = t.offers.iter().any(|o| {
            self.offers
                .get(o)
                .is_some_and(|s| s.stage == Stage::Ringing)
        });
        if ringing {
            // Never cut a ringing offer: the task times out if this ring fails.
            let requested: Vec<OfferId> = t
                .offers
                .iter()
                .copied()
                .filter(|o| {
                    self.offers
                        .get(o)
                        .is_some_and(|s| s.stage == Stage::Requested)
                })
                .collect();
            for o in requested {
                if let Some(st) = self.offers.remove(&o) {
                    self.members.set_pending(st.user, None);
                    out.push(QueueEffect::Release {
                        user: st.user,
                        offer: o,
                        task,
                        cause: OfferFailure::Withdrawn,
                    });
                }
            }
            if let Some(t) = self.tasks.get_mut(&task) {
                t.offers.retain(|o| self.offers.contains_key(o));
                t.expired = true;
            }
        } else {
            self.remove_task(task, OfferFailure::Withdrawn, out);
            out.push(QueueEffect::TimedOut { task });
        }
    }

    fn pickup(
        &mut self,
        now: Instant,
        user: UserId,
        task: Option<TaskId>,
        out: &mut Vec<QueueEffect>,
    ) {
        let Some(m) = self.members.by_id.get(&user) else {
            return;
        };
        if m.bucket().is_some() {
            return;
        }
        // A task already being offered is not offered to a second agent.
        let free = |t: &TaskId| self.tasks.get(t).is_some_and(|q| q.offers.is_empty());
        let chosen = match task {
            Some(t) => free(&t).then_some(t),
            None => self.order.iter().map(|k| k.3).find(free),
        };
        if let Some(t) = chosen {
            let level = self.tasks.get(&t).and_then(|q| q.level);
            self.request(now, t, user, level, out);
        }
    }

    /// Asks `user` for a lease on `task`.
    fn request(
        &mut self,
        now: Instant,
        task: TaskId,
        user: UserId,
        level: Option<u8>,
        out: &mut Vec<QueueEffect>,
    ) -> Option<OfferId> {
        let t = self.tasks.get(&task)?;
        let m = self.members.by_id.get(&user)?;
        self.next_offer = self.next_offer.wrapping_add(1);
        let offer = OfferId(self.next_offer);
        let request = ReserveRequest {
            offer,
            service: self.config.id,
            task,
            modality: t.modality,
            score: Score {
                priority: t.priority,
                waiting_since: t.enqueued_at,
                task,
            },
            ring_deadline: now + self.config.ring_timeout.duration() + RING_SLACK,
            skills_version: m.avail.skills_version,
            terms: self.terms(),
        };
        let member_level = m.level;
        self.offers.insert(
            offer,
            OfferState {
                task,
                user,
                stage: Stage::Requested,
                level: member_level.or(level),
            },
        );
        if let Some(t) = self.tasks.get_mut(&task) {
            t.offers.push(offer);
        }
        self.members.set_pending(user, Some(offer));
        if let Some(order) = self.members.by_id.get(&user).map(|m| m.order) {
            self.rr_cursor = order;
        }
        out.push(QueueEffect::Reserve { user, request });
        Some(offer)
    }

    /// Offers waiting tasks, in queue order, to the best selectable users.
    fn dispatch(&mut self, now: Instant, out: &mut Vec<QueueEffect>) {
        if self.members.idle_len() == 0 || self.tasks.is_empty() {
            return;
        }
        let order: Vec<TaskId> = self.order.iter().map(|k| k.3).collect();
        let skill_based = self.skill_based();
        for task in order {
            if self.members.idle_len() == 0 {
                break;
            }
            let Some(t) = self.tasks.get(&task) else {
                continue;
            };
            let want = self.want(t);
            if want == 0 {
                continue;
            }
            let picker = select::Picker {
                algorithm: self.config.algorithm,
                skill_based,
                multitasking: self.config.multitasking,
                rr_cursor: self.rr_cursor,
                rng: &mut self.rng,
            };
            let sel = select::select(&self.members, t, picker, want, now);
            if sel.chosen.is_empty() {
                continue;
            }
            let task_level = t.level;
            let mut decision = Decision {
                at: now,
                service: self.config.id,
                task,
                distribution: self.config.distribution,
                algorithm: self.config.algorithm,
                task_level,
                considered: sel.considered,
                more_considered: sel.more_considered,
                not_selectable: self.members.excluded_counts(),
            };
            if let (true, Some(level)) = (skill_based, task_level) {
                let (above, _) = self.members.above_level(level, 0);
                if above > 0 {
                    decision
                        .not_selectable
                        .push((crate::availability::Exclusion::SkillLevel, above));
                }
            }
            for (user, score) in sel.chosen {
                if let Some(offer) = self.request(now, task, user, task_level, out) {
                    decision.considered.insert(
                        0,
                        crate::decision::Candidate {
                            user,
                            verdict: Verdict::Chosen { offer, score },
                        },
                    );
                }
            }
            out.push(QueueEffect::Decision(Box::new(decision)));
        }
    }
}
