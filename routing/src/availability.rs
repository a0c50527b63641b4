//! The selectable predicate (DESIGN §3.2): what a service sees of a user, and why a user is not
//! selectable for a task.

use crate::config::{Assignment, Capacity, Membership, Role, ServiceConfig, UserSkill};
use crate::ids::{ServiceId, UserId};
use crate::model::{Modality, PresenceClass};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// A blocking status flag.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Flag {
    Ringing,
    Connected,
    WrapUp,
    Rona,
    NotAvailableReason,
}

/// The user's state as its services see it. Published by the user machine on every change;
/// `version` grows monotonically, so a service can drop a stale copy.
#[derive(Clone, PartialEq, Debug)]
pub struct UserAvailability {
    pub user: UserId,
    pub version: u64,
    pub presence: PresenceClass,
    /// Counts the presence updates the user accepted: a queue holding a user back until their
    /// presence changes compares it.
    pub presence_changes: u64,
    pub offline: bool,
    /// The active profile is of the On Duty type (skill-based services).
    pub on_duty: bool,
    pub memberships: Arc<[Membership]>,
    /// Skills active under the current profile, sorted by skill id.
    pub skills: Arc<[UserSkill]>,
    /// Changes whenever `skills` changes: a lease request computed on old skills is refused.
    pub skills_version: u64,
    pub flags: FlagSet,
    /// Tasks held per modality (index: `Modality::index`).
    pub load: [u8; 4],
    pub capacity: Capacity,
    /// When the user last became idle (end of their last task, ACW included).
    pub idle_since: Instant,
    pub tasks_handled: u32,
    pub talk_time: Duration,
}

impl UserAvailability {
    pub fn membership(&self, service: ServiceId) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.service == service)
    }
    pub fn capacity_left(&self, m: Modality) -> bool {
        self.load[m.index()] < self.capacity.of(m)
    }
}

/// A small set of [`Flag`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct FlagSet(u8);

impl FlagSet {
    fn bit(f: Flag) -> u8 {
        match f {
            Flag::Ringing => 1,
            Flag::Connected => 2,
            Flag::WrapUp => 4,
            Flag::Rona => 8,
            Flag::NotAvailableReason => 16,
        }
    }
    pub fn with(mut self, f: Flag, on: bool) -> Self {
        if on {
            self.0 |= Self::bit(f);
        } else {
            self.0 &= !Self::bit(f);
        }
        self
    }
    pub fn has(self, f: Flag) -> bool {
        self.0 & Self::bit(f) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The flag to report first when several block a user.
    pub fn first(self) -> Option<Flag> {
        [
            Flag::Ringing,
            Flag::WrapUp,
            Flag::Rona,
            Flag::NotAvailableReason,
            Flag::Connected,
        ]
        .into_iter()
        .find(|f| self.has(*f))
    }
}

/// Why a user is not a candidate for a task. Serves explanations and metrics.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Exclusion {
    /// Presence forbids it (offline, DND, in a call, or Busy/Away without the service's opt-in).
    Presence(PresenceClass),
    /// Not participating: inactive in a Teams-based service, off duty or not an agent.
    Duty,
    Flag(Flag),
    /// No capacity left for the task's modality.
    Capacity,
    /// The active profile's skills do not satisfy the task's current policy level.
    SkillLevel,
    /// A configured limit (tenant or service) forbids it.
    Limit,
    /// A lease request to this user is already pending.
    PendingOffer,
    /// Teams said Busy when this task rang the user: held back for this task until their
    /// presence changes or the hold ends (30 s).
    SkippedForTask,
    /// The user refused a lease on a newer state than the queue's view: wait for that state.
    AwaitingUpdate,
}

impl Exclusion {
    pub fn label(self) -> &'static str {
        match self {
            Exclusion::Presence(_) => "presence",
            Exclusion::Duty => "duty",
            Exclusion::Flag(_) => "flag",
            Exclusion::Capacity => "capacity",
            Exclusion::SkillLevel => "skill_level",
            Exclusion::Limit => "limit",
            Exclusion::PendingOffer => "pending_offer",
            Exclusion::SkippedForTask => "skipped_for_task",
            Exclusion::AwaitingUpdate => "awaiting_update",
        }
    }
}

/// Presence check with the service's Busy/Away opt-ins.
pub fn presence_ok(p: PresenceClass, busy_selectable: bool, away_selectable: bool) -> bool {
    match p {
        PresenceClass::Available => true,
        PresenceClass::Busy => busy_selectable,
        PresenceClass::Away => away_selectable,
        PresenceClass::Never => false,
    }
}

/// Whether the user takes part in the service's distribution at all.
pub fn participating(
    assignment: Assignment,
    membership: Option<&Membership>,
    on_duty: bool,
) -> bool {
    match (assignment, membership) {
        (_, None) | (Assignment::None, _) => false,
        (Assignment::TeamsBased, Some(m)) => m.active,
        (Assignment::SkillBased, Some(m)) => on_duty && matches!(m.role, Role::Agent | Role::Owner),
    }
}

/// The task-independent part of the selectable predicate for one service: presence, duty and
/// blocking flags (Connected is a capacity matter, see [`capacity_exclusion`]).
pub fn base_exclusion(a: &UserAvailability, service: &ServiceConfig) -> Option<Exclusion> {
    if !presence_ok(a.presence, service.busy_selectable, service.away_selectable) {
        return Some(Exclusion::Presence(a.presence));
    }
    if !participating(service.assignment, a.membership(service.id), a.on_duty) {
        return Some(Exclusion::Duty);
    }
    a.flags
        .with(Flag::Connected, false)
        .first()
        .map(Exclusion::Flag)
}

/// Connected blocks only when the modality's capacity is used up (a capacity above 1 allows more).
pub fn capacity_exclusion(a: &UserAvailability, modality: Modality) -> Option<Exclusion> {
    if a.capacity_left(modality) {
        None
    } else if a.flags.has(Flag::Connected) {
        Some(Exclusion::Flag(Flag::Connected))
    } else {
        Some(Exclusion::Capacity)
    }
}

/// The cross-modality rule: a connected call blocks every other modality unless the service
/// enables multitasking (then the user's capacity of each modality is the only bound).
pub fn blocked_by_a_call(a: &UserAvailability, modality: Modality, multitasking: bool) -> bool {
    modality != Modality::Call && !multitasking && a.load[Modality::Call.index()] > 0
}

/// Presence, duty, flags and capacity for one service and modality. Skill level, pending offers
/// and per-task skips are the queue's part of the predicate.
pub fn service_exclusion(
    a: &UserAvailability,
    service: &ServiceConfig,
    modality: Modality,
) -> Option<Exclusion> {
    base_exclusion(a, service).or_else(|| capacity_exclusion(a, modality))
}
