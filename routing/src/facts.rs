//! Reporting facts produced by the state machines (stored by `store`, served as OData later).

use crate::ids::{OfferId, ServiceId, TaskId, TenantId, UserId};
use crate::model::{Direction, Modality};
use crate::task::{Outcome, UserSessionOutcome};
use crate::time::Instant;
use serde::{Deserialize, Serialize};

/// One stay of a task in one service.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ServiceSessionFact {
    pub tenant: TenantId,
    pub task: TaskId,
    pub service: ServiceId,
    /// 0 for the first service of the task, +1 per transfer.
    pub session_index: u32,
    pub modality: Modality,
    pub direction: Direction,
    pub started_at: Instant,
    pub ended_at: Instant,
    pub outcome: Outcome,
    pub ivr_ms: u64,
    pub queue_ms: u64,
    pub connected_ms: u64,
    pub hold_ms: u64,
    pub hold_count: u32,
    pub acw_ms: u64,
    /// Queue time below the service's SLA time.
    pub under_sla: bool,
    /// The distribution-policy level at which the connected user was selected.
    pub policy_level: Option<u8>,
    pub user: Option<UserId>,
}

/// One offer of a task to one user, from ringing to its end.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct UserSessionFact {
    pub tenant: TenantId,
    pub task: TaskId,
    pub service: ServiceId,
    pub user: UserId,
    pub offer: OfferId,
    pub offered_at: Instant,
    pub ended_at: Instant,
    pub outcome: UserSessionOutcome,
    pub policy_level: Option<u8>,
    pub connected_ms: u64,
}

/// What routing made of a user at a time: one interval of a user's state (User States facts).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct UserStateInterval {
    pub tenant: TenantId,
    pub user: UserId,
    pub started_at: Instant,
    pub ended_at: Instant,
    pub state: crate::user::UserStatus,
}
