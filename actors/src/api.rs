//! Request and answer types of the runtime's public API (what the gateway sends and reads).

use stratus_routing::ids::{NotAvailableReasonId, ProfileId, ServiceId, TaskId, UserId};
use stratus_routing::model::{Modality, Presence, Priority};
use stratus_routing::task::{ContextParameters, Customer, PreferredUsers, SystemParameters, Task};
use stratus_routing::user::UserStatus;

/// Supervisor or agent actions on a user.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum UserCommand {
    SetProfile(ProfileId),
    /// Teams-based services: the per-service Active toggle.
    SetActive {
        service: ServiceId,
        active: bool,
    },
    SetNotAvailable(Option<NotAvailableReasonId>),
    /// End wrap-up early (only where the service allows it).
    EndAcw,
    /// Extend wrap-up (a fresh counter, where the service allows it).
    ExtendAcw,
    /// Clear a persistent RONA.
    ResetRona,
}

/// An agent's answer to an external task offered to them, or its completion.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TaskAction {
    Accept,
    Decline,
    Complete,
}

/// An external task (no call): queued in `service` and offered like a call.
#[derive(Clone, PartialEq, Debug)]
pub struct NewTask {
    pub service: ServiceId,
    /// `ExternalTask`, `Chat` or `Email`; `Call` is refused (calls come from the platform).
    pub modality: Modality,
    /// `None`: the service's default priority.
    pub priority: Option<Priority>,
    pub context: ContextParameters,
    pub customer: Customer,
    pub preferred: PreferredUsers,
    pub system: SystemParameters,
}

/// Nimbus connector `PUT /v1/tasks/{id}`: each `Some` field replaces (context: upserts) the task's.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct TaskUpdate {
    pub context: Option<ContextParameters>,
    pub customer: Option<Customer>,
    pub preferred: Option<PreferredUsers>,
    pub priority: Option<Priority>,
}

/// One waiting task of a service, as a live view shows it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WaitingTask {
    pub task: TaskId,
    pub priority: Priority,
    pub waiting_ms: u64,
    pub level: Option<u8>,
    pub offers: u32,
}

/// A service's live state.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServiceLive {
    pub service: ServiceId,
    /// In queue order.
    pub waiting: Vec<WaitingTask>,
    pub longest_wait_ms: u64,
    pub users_by_status: Vec<(UserStatus, u32)>,
    /// Members the queue could offer a task to right now.
    pub selectable: u32,
}

/// A user's live state.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UserLive {
    pub user: UserId,
    pub status: UserStatus,
    pub presence: Presence,
    pub active_profile: ProfileId,
    /// (task, service, ringing)
    pub leases: Vec<(TaskId, ServiceId, bool)>,
    pub acw_until_ms: Option<u64>,
    pub rona_until_ms: Option<u64>,
}

/// A live task and where it is.
#[derive(Clone, PartialEq, Debug)]
pub struct TaskLive {
    pub task: Task,
    pub service: Option<ServiceId>,
    /// Users currently rung (or offered the task).
    pub ringing: Vec<UserId>,
}

/// Node-wide live counters (cheap to read: atomics).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct NodeStats {
    pub waiting: u64,
    pub ringing: u64,
    pub connected: u64,
    pub wrap_up: u64,
    /// Terminated after being connected.
    pub handled: u64,
    pub rona: u64,
    /// The caller hung up before being connected.
    pub abandoned: u64,
}
