//! The offer lease between a service queue and a user: the request, its answer and the score
//! that decides between services competing for the same user (agent pull).

use crate::config::{AcwSettings, Assignment};
use crate::ids::{OfferId, ServiceId, TaskId, UserId};
use crate::model::{Modality, Priority};
use crate::task::OfferFailure;
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::time::Duration;

/// How good a task is for a user, across services. Documented order: Strict first, then higher
/// priority, then longer waiting (earlier `waiting_since`), then the lower task id (a total order,
/// so every node decides the same way).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Score {
    pub priority: Priority,
    pub waiting_since: Instant,
    pub task: TaskId,
}

impl Ord for Score {
    /// Greater is better.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.waiting_since.cmp(&self.waiting_since))
            .then_with(|| other.task.cmp(&self.task))
    }
}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What the user needs to know about the service to judge and run the lease.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LeaseTerms {
    pub assignment: Assignment,
    pub busy_selectable: bool,
    pub away_selectable: bool,
    /// Broadcast offers never cause RONA.
    pub applies_rona: bool,
    /// `Some(reset)` when the service uses persistent RONA.
    pub persistent_rona: Option<Duration>,
    /// Without persistent RONA: the cool-down after a missed, declined or unreachable ring.
    pub rona_cooldown: Duration,
    pub acw: AcwSettings,
    /// The service lets a connected call coexist with other modalities.
    pub multitasking: bool,
}

/// A queue asks a user for a lease.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ReserveRequest {
    pub offer: OfferId,
    pub service: ServiceId,
    pub task: TaskId,
    pub modality: Modality,
    pub score: Score,
    /// When the ring ends at the latest; the user's safety net frees the lease after it.
    pub ring_deadline: Instant,
    /// The skills version the queue judged on; a newer one means the decision is stale.
    pub skills_version: u64,
    pub terms: LeaseTerms,
}

/// Why a user refused a lease.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum RefuseReason {
    NotSelectable(crate::availability::Exclusion),
    /// Another service's task scored better in the same bid window.
    LostToBetterTask,
    /// The queue decided on an outdated view of the user's skills.
    Stale,
    /// An offer with this id is already held.
    Duplicate,
}

/// How an offer ended, as the call (or the safety net) reports it to queue and user.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OfferResult {
    /// The user answered; the task is theirs.
    Connected,
    Failed(OfferFailure),
}

/// A granted lease as the user holds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Lease {
    pub offer: OfferId,
    pub service: ServiceId,
    pub task: TaskId,
    pub user: UserId,
    pub modality: Modality,
    pub ringing: bool,
    /// Safety net: when a ringing lease frees itself if nobody reports on it.
    pub deadline: Instant,
    pub terms: LeaseTerms,
    pub connected_at: Option<Instant>,
}
