//! The user's own state machine: the single writer of one user's state and the only place a
//! lease is granted. No double offers by construction: a grant checks flags and capacity here.

use super::UserStatus;
use crate::availability::{Flag, FlagSet, UserAvailability, participating, presence_ok};
use crate::config::{
    AcwSettings, Capacity, Membership, ProfileKind, ResponsibilityProfile, UserConfig, UserSkill,
};
use crate::ids::{NotAvailableReasonId, OfferId, ServiceId, TaskId, UserId};
use crate::model::{Presence, PresenceClass};
use crate::offer::{Lease, OfferResult, RefuseReason, ReserveRequest};
use crate::task::OfferFailure;
use crate::time::Instant;
use std::sync::Arc;
use std::time::Duration;

pub(crate) mod restore;

/// Extra time a ringing lease lives past its ring deadline before the safety net frees it.
pub const LEASE_GRACE: Duration = Duration::from_secs(5);

/// Timers the user machine asks its runtime to arm. Each carries an epoch or offer id; a timer
/// that no longer matches the state is ignored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum UserTimer {
    AcwEnd { epoch: u64 },
    RonaReset { epoch: u64 },
    Lease { offer: OfferId },
    BidWindow { epoch: u64 },
}

#[derive(Clone, PartialEq, Debug)]
pub enum UserInput {
    Presence(Presence),
    /// Teams-based services: the per-service Active toggle.
    SetActive {
        service: ServiceId,
        active: bool,
    },
    /// Switch the responsibility profile (resolved by the caller).
    SetProfile(ResponsibilityProfile),
    SetNotAvailable(Option<NotAvailableReasonId>),
    UpdateConfig(UserConfig),
    Reserve(ReserveRequest),
    /// The queue withdraws a lease it asked for (task gone) or that lost a race.
    Release {
        offer: OfferId,
        cause: OfferFailure,
    },
    /// How a ringing offer ended, reported by the call.
    OfferEnded {
        offer: OfferId,
        result: OfferResult,
    },
    /// The conversation of a connected lease ended; `acw`: the service's ACW settings at that
    /// moment (the task follows the same ones).
    TaskEnded {
        offer: OfferId,
        acw: AcwSettings,
    },
    EndAcw,
    ExtendAcw,
    ResetRona,
    Timer(UserTimer),
}

#[derive(Clone, PartialEq, Debug)]
pub enum UserEffect {
    Granted {
        offer: OfferId,
        service: ServiceId,
        task: TaskId,
    },
    Refused {
        offer: OfferId,
        service: ServiceId,
        task: TaskId,
        reason: RefuseReason,
        /// The availability version the user judged on: the queue knows its view is older.
        version: u64,
    },
    /// The availability changed: every member service should see it. `free` users invite bids.
    Availability(UserAvailability),
    ArmTimer {
        timer: UserTimer,
        at: Instant,
    },
    /// The safety net freed a ringing lease nobody reported on.
    LeaseExpired {
        offer: OfferId,
        service: ServiceId,
        task: TaskId,
    },
    /// Wrap-up of `task` ended (timer, early end or supervisor): the task may terminate.
    WrapUpEnded {
        task: TaskId,
    },
    /// Wrap-up of `task` was extended: it ends at `until` (the task moves its deadline).
    WrapUpExtended {
        task: TaskId,
        until: Instant,
    },
    /// The status summary changed (reporting, live views).
    Status {
        from: UserStatus,
        to: UserStatus,
        since: Instant,
    },
}

#[derive(Clone, PartialEq, Eq, Debug)]
struct Acw {
    /// Tasks whose wrap-up this is (several when capacity allows parallel tasks).
    tasks: Vec<TaskId>,
    until: Instant,
    epoch: u64,
    early_end_allowed: bool,
    extension: Option<Duration>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Rona {
    until: Instant,
    epoch: u64,
    /// Persistent RONA (until reset) rather than the short cool-down.
    persistent: bool,
}

#[derive(Clone, PartialEq, Debug)]
struct BidWindow {
    epoch: u64,
    bids: Vec<ReserveRequest>,
}

/// Why an ACW command was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum AcwError {
    #[error("the user is not in wrap-up")]
    NotInWrapUp,
    #[error("the service does not allow ending wrap-up early")]
    EarlyEndNotAllowed,
    #[error("the service does not allow extending wrap-up")]
    ExtensionNotAllowed,
}

#[derive(Clone, PartialEq, Debug)]
pub struct UserMachine {
    config: UserConfig,
    memberships: Arc<[Membership]>,
    profile: ResponsibilityProfile,
    skills: Arc<[UserSkill]>,
    skills_version: u64,
    presence: Presence,
    presence_changes: u64,
    nar: Option<NotAvailableReasonId>,
    leases: Vec<Lease>,
    acw: Option<Acw>,
    rona: Option<Rona>,
    window: Option<BidWindow>,
    bid_window: Duration,
    idle_since: Instant,
    tasks_handled: u32,
    talk_time: Duration,
    version: u64,
    epoch: u64,
    status: UserStatus,
    status_since: Instant,
    was_free: bool,
}

impl UserMachine {
    /// A user starts offline and idle. `bid_window` is the agent-pull window (zero: first come).
    pub fn new(
        now: Instant,
        config: UserConfig,
        profile: ResponsibilityProfile,
        bid_window: Duration,
    ) -> Self {
        let memberships: Arc<[Membership]> = config.memberships.clone().into();
        let mut m = UserMachine {
            skills: Arc::from(Vec::new()),
            skills_version: 0,
            memberships,
            config,
            profile,
            presence: Presence::default(),
            presence_changes: 0,
            nar: None,
            leases: Vec::new(),
            acw: None,
            rona: None,
            window: None,
            bid_window,
            idle_since: now,
            tasks_handled: 0,
            talk_time: Duration::ZERO,
            version: 0,
            epoch: 0,
            status: UserStatus::Offline,
            status_since: now,
            was_free: false,
        };
        m.recompute_skills();
        m
    }

    pub fn id(&self) -> UserId {
        self.config.id
    }
    pub fn config(&self) -> &UserConfig {
        &self.config
    }
    pub fn leases(&self) -> &[Lease] {
        &self.leases
    }
    pub fn status(&self) -> UserStatus {
        self.status
    }
    pub fn presence(&self) -> Presence {
        self.presence
    }
    pub fn profile(&self) -> &ResponsibilityProfile {
        &self.profile
    }
    pub fn acw_until(&self) -> Option<Instant> {
        self.acw.as_ref().map(|a| a.until)
    }
    pub fn rona_until(&self) -> Option<Instant> {
        self.rona.map(|r| r.until)
    }
    pub fn not_available_reason(&self) -> Option<NotAvailableReasonId> {
        self.nar
    }
    /// An agent-pull bid window is open: the user is about to grant the best bid.
    pub fn bid_window_open(&self) -> bool {
        self.window.is_some()
    }
    /// Whether the RONA shown is persistent (not the cool-down after one ring).
    pub fn rona_is_persistent(&self) -> bool {
        self.rona.is_some_and(|r| r.persistent)
    }

    fn recompute_skills(&mut self) {
        let mut skills: Vec<UserSkill> = match &self.profile.kind {
            ProfileKind::OnDuty => self.config.skills.clone(),
            ProfileKind::OffDuty => Vec::new(),
            ProfileKind::Custom { skills } => skills.clone(),
        };
        skills.sort_by_key(|s| s.skill);
        skills.dedup_by_key(|s| s.skill);
        self.skills = skills.into();
        self.skills_version += 1;
    }

    fn flags(&self) -> FlagSet {
        FlagSet::default()
            .with(Flag::Ringing, self.leases.iter().any(|l| l.ringing))
            .with(Flag::Connected, self.leases.iter().any(|l| !l.ringing))
            .with(Flag::WrapUp, self.acw.is_some())
            .with(Flag::Rona, self.rona.is_some())
            .with(Flag::NotAvailableReason, self.nar.is_some())
    }

    fn load(&self) -> [u8; 4] {
        let mut load = [0u8; 4];
        for l in &self.leases {
            load[l.modality.index()] = load[l.modality.index()].saturating_add(1);
        }
        load
    }

    /// The current view for services.
    pub fn availability(&self) -> UserAvailability {
        UserAvailability {
            user: self.config.id,
            version: self.version,
            presence: self.presence.class(),
            presence_changes: self.presence_changes,
            offline: self.presence.is_offline(),
            on_duty: self.profile.is_on_duty_type(),
            memberships: self.memberships.clone(),
            skills: self.skills.clone(),
            skills_version: self.skills_version,
            flags: self.flags(),
            load: self.load(),
            capacity: self.config.capacity,
            idle_since: self.idle_since,
            tasks_handled: self.tasks_handled,
            talk_time: self.talk_time,
        }
    }

    /// Free = could take some task of some service right now (no blocking flag, presence not
    /// "never", some capacity left).
    fn is_free(&self) -> bool {
        let flags = self.flags();
        let capacity = self.config.capacity;
        let load = self.load();
        self.presence.class() != PresenceClass::Never
            && flags.with(Flag::Connected, false).is_empty()
            && crate::model::Modality::ALL
                .iter()
                .any(|m| load[m.index()] < capacity.of(*m))
    }

    fn compute_status(&self) -> UserStatus {
        let flags = self.flags();
        if self.presence.is_offline() {
            UserStatus::Offline
        } else if flags.has(Flag::Ringing) {
            UserStatus::Ringing
        } else if flags.has(Flag::Connected) {
            UserStatus::Connected
        } else if flags.has(Flag::WrapUp) {
            UserStatus::WrapUp
        } else if flags.has(Flag::Rona) {
            UserStatus::Rona
        } else if flags.has(Flag::NotAvailableReason) {
            UserStatus::NotAvailableReason
        } else if self.presence.class() == PresenceClass::Never {
            UserStatus::NotAvailable
        } else {
            UserStatus::Idle
        }
    }

    fn next_epoch(&mut self) -> u64 {
        self.epoch += 1;
        self.epoch
    }

    /// Publishes the new availability and status; opens a bid window when the user became free.
    fn changed(&mut self, now: Instant, out: &mut Vec<UserEffect>) {
        self.version += 1;
        let status = self.compute_status();
        if status != self.status {
            out.push(UserEffect::Status {
                from: self.status,
                to: status,
                since: self.status_since,
            });
            self.status = status;
            self.status_since = now;
        }
        let free = self.is_free();
        if free && !self.was_free && !self.bid_window.is_zero() && self.window.is_none() {
            let epoch = self.next_epoch();
            self.window = Some(BidWindow {
                epoch,
                bids: Vec::new(),
            });
            out.push(UserEffect::ArmTimer {
                timer: UserTimer::BidWindow { epoch },
                at: now + self.bid_window,
            });
        }
        self.was_free = free;
        out.push(UserEffect::Availability(self.availability()));
    }

    /// Handles one input. Never panics; inputs that no longer match the state are ignored.
    pub fn handle(&mut self, now: Instant, input: UserInput) -> Vec<UserEffect> {
        let mut out = Vec::new();
        match input {
            UserInput::Presence(p) => {
                if p.sequence != 0 && p.sequence <= self.presence.sequence {
                    return out; // stale or duplicate presence update
                }
                let went_offline = p.is_offline() && !self.presence.is_offline();
                self.presence = p;
                self.presence_changes += 1;
                if went_offline {
                    self.rona = None; // Offline resets persistent RONA
                }
                self.changed(now, &mut out);
            }
            UserInput::SetActive { service, active } => {
                let mut ms: Vec<Membership> = self.memberships.to_vec();
                if let Some(m) = ms.iter_mut().find(|m| m.service == service) {
                    m.active = active;
                    self.config.memberships = ms.clone();
                    self.memberships = ms.into();
                    self.changed(now, &mut out);
                }
            }
            UserInput::SetProfile(profile) => {
                let off_duty = !profile.is_on_duty_type();
                self.profile = profile;
                self.config.active_profile = self.profile.id;
                if off_duty {
                    self.rona = None; // switching to Off Duty resets persistent RONA
                }
                self.recompute_skills();
                self.changed(now, &mut out);
            }
            UserInput::SetNotAvailable(reason) => {
                self.nar = reason;
                self.changed(now, &mut out);
            }
            UserInput::UpdateConfig(config) => {
                self.memberships = config.memberships.clone().into();
                self.config = config;
                self.recompute_skills();
                self.changed(now, &mut out);
            }
            UserInput::Reserve(req) => self.reserve(now, req, &mut out),
            UserInput::Release { offer, cause } => {
                // A request still waiting in the bid window is simply dropped.
                if let Some(w) = self.window.as_mut() {
                    w.bids.retain(|b| b.offer != offer);
                }
                if let Some(i) = self
                    .leases
                    .iter()
                    .position(|l| l.offer == offer && l.ringing)
                {
                    let lease = self.leases.remove(i);
                    self.after_failed_offer(now, &lease, cause, &mut out);
                    self.changed(now, &mut out);
                }
            }
            UserInput::OfferEnded { offer, result } => {
                let Some(i) = self
                    .leases
                    .iter()
                    .position(|l| l.offer == offer && l.ringing)
                else {
                    return out;
                };
                match result {
                    OfferResult::Connected => {
                        if let Some(l) = self.leases.get_mut(i) {
                            l.ringing = false;
                            l.connected_at = Some(now);
                        }
                    }
                    OfferResult::Failed(cause) => {
                        let lease = self.leases.remove(i);
                        self.after_failed_offer(now, &lease, cause, &mut out);
                    }
                }
                self.changed(now, &mut out);
            }
            UserInput::TaskEnded { offer, acw } => {
                let Some(i) = self.leases.iter().position(|l| l.offer == offer) else {
                    return out;
                };
                let lease = self.leases.remove(i);
                if let Some(at) = lease.connected_at {
                    self.talk_time += now.since(at);
                    self.tasks_handled = self.tasks_handled.saturating_add(1);
                }
                if acw.enabled && lease.connected_at.is_some() {
                    let epoch = self.next_epoch();
                    let until = now + acw.time.duration();
                    // A second task ending during wrap-up joins it with a fresh counter.
                    let mut tasks = self.acw.take().map(|a| a.tasks).unwrap_or_default();
                    tasks.push(lease.task);
                    self.acw = Some(Acw {
                        tasks,
                        until,
                        epoch,
                        early_end_allowed: acw.early_end_allowed,
                        extension: acw.extension.map(|e| e.duration()),
                    });
                    out.push(UserEffect::ArmTimer {
                        timer: UserTimer::AcwEnd { epoch },
                        at: until,
                    });
                } else if self.leases.is_empty() {
                    self.idle_since = now;
                }
                self.changed(now, &mut out);
            }
            UserInput::EndAcw => {
                // Supervisors and the user alike; the service's early-end rule is checked by
                // `end_acw` for users. A supervisor override ends it unconditionally.
                if self.acw.is_some() {
                    self.finish_acw(now, &mut out);
                }
            }
            UserInput::ExtendAcw => {
                if let Some(acw) = self.acw.as_mut()
                    && let Some(ext) = acw.extension
                {
                    self.epoch += 1;
                    let epoch = self.epoch;
                    let until = now + ext; // a fresh counter, not added to the remaining time
                    acw.until = until;
                    acw.epoch = epoch;
                    for task in &acw.tasks {
                        out.push(UserEffect::WrapUpExtended { task: *task, until });
                    }
                    out.push(UserEffect::ArmTimer {
                        timer: UserTimer::AcwEnd { epoch },
                        at: until,
                    });
                    self.changed(now, &mut out);
                }
            }
            UserInput::ResetRona => {
                if self.rona.take().is_some() {
                    self.changed(now, &mut out);
                }
            }
            UserInput::Timer(t) => self.timer(now, t, &mut out),
        }
        out
    }

    /// The user's own "end wrap-up" button: only when the service allows an early end.
    pub fn end_acw(&mut self, now: Instant) -> Result<Vec<UserEffect>, AcwError> {
        let acw = self.acw.as_ref().ok_or(AcwError::NotInWrapUp)?;
        if !acw.early_end_allowed {
            return Err(AcwError::EarlyEndNotAllowed);
        }
        let mut out = Vec::new();
        self.finish_acw(now, &mut out);
        Ok(out)
    }

    /// The user's own "extend wrap-up" button.
    pub fn extend_acw(&mut self, now: Instant) -> Result<Vec<UserEffect>, AcwError> {
        let acw = self.acw.as_ref().ok_or(AcwError::NotInWrapUp)?;
        if acw.extension.is_none() {
            return Err(AcwError::ExtensionNotAllowed);
        }
        Ok(self.handle(now, UserInput::ExtendAcw))
    }

    fn finish_acw(&mut self, now: Instant, out: &mut Vec<UserEffect>) {
        if let Some(acw) = self.acw.take() {
            for task in acw.tasks {
                out.push(UserEffect::WrapUpEnded { task });
            }
        }
        if self.leases.is_empty() {
            self.idle_since = now;
        }
        self.changed(now, out);
    }

    /// What a failed ring costs the user (DESIGN §3.2). A missed ring: persistent RONA when the
    /// service uses it, else the cool-down (Broadcast: nothing, it would flag the whole batch).
    /// A decline: persistent RONA, else the cool-down, so a one-agent service never loops
    /// decline → ring. Unreachable: the cool-down. Busy in Teams, a lost race or a withdrawal:
    /// nothing (the queue holds a busy user back for that task only).
    fn after_failed_offer(
        &mut self,
        now: Instant,
        lease: &Lease,
        cause: OfferFailure,
        out: &mut Vec<UserEffect>,
    ) {
        let t = lease.terms;
        let persistent = t.persistent_rona.filter(|_| t.applies_rona);
        let hold = match cause {
            OfferFailure::NoAnswer if t.applies_rona => persistent.or(Some(t.rona_cooldown)),
            OfferFailure::Declined => persistent.or(Some(t.rona_cooldown)),
            OfferFailure::Unreachable => Some(t.rona_cooldown),
            _ => None,
        };
        let Some(hold) = hold.filter(|d| !d.is_zero()) else {
            return;
        };
        let until = now + hold;
        if self.rona.is_some_and(|r| r.until >= until) {
            return; // never shorten a RONA already running
        }
        let epoch = self.next_epoch();
        self.rona = Some(Rona {
            until,
            epoch,
            persistent: persistent.is_some() && cause != OfferFailure::Unreachable,
        });
        out.push(UserEffect::ArmTimer {
            timer: UserTimer::RonaReset { epoch },
            at: until,
        });
    }

    fn timer(&mut self, now: Instant, t: UserTimer, out: &mut Vec<UserEffect>) {
        match t {
            UserTimer::AcwEnd { epoch } => {
                if self.acw.as_ref().is_some_and(|a| a.epoch == epoch) {
                    self.finish_acw(now, out);
                }
            }
            UserTimer::RonaReset { epoch } => {
                if self.rona.is_some_and(|r| r.epoch == epoch) {
                    self.rona = None;
                    self.changed(now, out);
                }
            }
            UserTimer::Lease { offer } => {
                if let Some(i) = self
                    .leases
                    .iter()
                    .position(|l| l.offer == offer && l.ringing && l.deadline <= now)
                {
                    let lease = self.leases.remove(i);
                    out.push(UserEffect::LeaseExpired {
                        offer,
                        service: lease.service,
                        task: lease.task,
                    });
                    self.changed(now, out);
                }
            }
            UserTimer::BidWindow { epoch } => {
                let Some(window) = self.window.take_if(|w| w.epoch == epoch) else {
                    return;
                };
                let mut bids = window.bids;
                // Best score first; grant it if still possible, refuse the others.
                bids.sort_by_key(|b| std::cmp::Reverse(b.score));
                let mut granted = false;
                for req in bids {
                    if !granted {
                        let before = out.len();
                        self.try_grant(now, req, out);
                        granted = out[before..]
                            .iter()
                            .any(|e| matches!(e, UserEffect::Granted { .. }));
                    } else {
                        out.push(UserEffect::Refused {
                            offer: req.offer,
                            service: req.service,
                            task: req.task,
                            reason: RefuseReason::LostToBetterTask,
                            version: self.version,
                        });
                    }
                }
                if !granted {
                    // Nobody won: publish once more so services see the user is still free.
                    self.changed(now, out);
                }
            }
        }
    }

    fn reserve(&mut self, now: Instant, req: ReserveRequest, out: &mut Vec<UserEffect>) {
        if let Some(window) = self.window.as_mut() {
            if window
                .bids
                .iter()
                .any(|b| b.offer == req.offer && b.service == req.service)
            {
                return;
            }
            window.bids.push(req);
            return;
        }
        self.try_grant(now, req, out);
    }

    /// The only place a lease is granted.
    fn try_grant(&mut self, now: Instant, req: ReserveRequest, out: &mut Vec<UserEffect>) {
        let version = self.version;
        let refuse = |out: &mut Vec<UserEffect>, reason| {
            out.push(UserEffect::Refused {
                offer: req.offer,
                service: req.service,
                task: req.task,
                reason,
                version,
            });
        };
        if self
            .leases
            .iter()
            .any(|l| l.offer == req.offer && l.service == req.service)
        {
            return refuse(out, RefuseReason::Duplicate);
        }
        if let Some(ex) = self.exclusion_for(&req) {
            return refuse(out, RefuseReason::NotSelectable(ex));
        }
        if req.skills_version != self.skills_version {
            return refuse(out, RefuseReason::Stale);
        }
        let lease = Lease {
            offer: req.offer,
            service: req.service,
            task: req.task,
            user: self.config.id,
            modality: req.modality,
            ringing: true,
            deadline: req.ring_deadline + LEASE_GRACE,
            terms: req.terms,
            connected_at: None,
        };
        self.leases.push(lease);
        out.push(UserEffect::Granted {
            offer: req.offer,
            service: req.service,
            task: req.task,
        });
        out.push(UserEffect::ArmTimer {
            timer: UserTimer::Lease { offer: req.offer },
            at: lease.deadline,
        });
        self.changed(now, out);
    }

    /// The selectable predicate as the user can check it: presence with the service's opt-ins,
    /// participation, flags and capacity.
    pub fn exclusion_for(&self, req: &ReserveRequest) -> Option<crate::availability::Exclusion> {
        use crate::availability::Exclusion;
        let t = req.terms;
        let class = self.presence.class();
        if !presence_ok(class, t.busy_selectable, t.away_selectable) {
            return Some(Exclusion::Presence(class));
        }
        let membership = self.memberships.iter().find(|m| m.service == req.service);
        if !participating(t.assignment, membership, self.profile.is_on_duty_type()) {
            return Some(Exclusion::Duty);
        }
        let flags = self.flags();
        if let Some(f) = flags.with(Flag::Connected, false).first() {
            return Some(Exclusion::Flag(f));
        }
        // A connected call blocks other modalities unless the service allows multitasking.
        let calls = self.load()[crate::model::Modality::Call.index()];
        if req.modality != crate::model::Modality::Call && !t.multitasking && calls > 0 {
            return Some(Exclusion::Flag(Flag::Connected));
        }
        if self.load()[req.modality.index()] >= self.config.capacity.of(req.modality) {
            return Some(if flags.has(Flag::Connected) {
                Exclusion::Flag(Flag::Connected)
            } else {
                Exclusion::Capacity
            });
        }
        None
    }

    /// Capacity as configured.
    pub fn capacity(&self) -> Capacity {
        self.config.capacity
    }
}
