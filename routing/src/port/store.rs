//! The persistence port, in domain verbs. `stratus-store` implements it for SQLite and
//! PostgreSQL; actors and the gateway see only this trait.

use super::BoxFuture;
use crate::config::{
    DistributionPolicy, NotAvailableReason, ResponsibilityProfile, ServiceConfig, Skill,
    SkillCategory, Tenant, UserConfig,
};
use crate::facts::{ServiceSessionFact, UserSessionFact, UserStateInterval};
use crate::ids::{CallId, ServiceId, TaskId, TenantId, UserId};
use crate::model::{Direction, Modality, Priority};
use crate::task::{
    ContextParameters, Customer, PreferredUsers, SystemParameters, TaskEvent, TaskStateKind,
};
use crate::time::Instant;

/// Everything routing needs to run one tenant.
#[derive(Clone, PartialEq, Debug)]
pub struct TenantSnapshot {
    pub tenant: Tenant,
    pub services: Vec<ServiceConfig>,
    pub users: Vec<UserConfig>,
    pub skill_categories: Vec<SkillCategory>,
    pub skills: Vec<Skill>,
    pub profiles: Vec<ResponsibilityProfile>,
    pub policies: Vec<DistributionPolicy>,
    pub not_available_reasons: Vec<NotAvailableReason>,
}

/// What survives a restart of a live task: enough to re-queue a waiting task.
#[derive(Clone, PartialEq, Debug)]
pub struct LiveTaskSnapshot {
    pub tenant: TenantId,
    pub task: TaskId,
    pub call: Option<CallId>,
    pub service: Option<ServiceId>,
    pub modality: Modality,
    pub direction: Direction,
    pub priority: Priority,
    pub state: TaskStateKind,
    pub created_at: Instant,
    pub queued_at: Option<Instant>,
    pub connected_user: Option<UserId>,
    pub system: SystemParameters,
    pub context: ContextParameters,
    pub preferred: PreferredUsers,
    pub customer: Customer,
    /// Sequence number of the task's last event.
    pub seq: u64,
}

/// What the actors emit for persistence. Fire and forget: the sink must never block routing.
#[derive(Clone, PartialEq, Debug)]
pub enum Record {
    TaskEvent(TaskEvent),
    ServiceSession(ServiceSessionFact),
    UserSession(UserSessionFact),
    UserState(UserStateInterval),
    LiveTask(Box<LiveTaskSnapshot>),
    LiveTaskEnded { tenant: TenantId, task: TaskId },
}

/// Where actors drop records. Implementations queue them (bounded, counted) and return at once.
pub trait EventSink: Send + Sync + 'static {
    fn emit(&self, record: Record);
}

#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("conflict: {0}")]
    Conflict(String),
    /// A constraint of the data model was violated (bad reference, duplicate key…).
    #[error("constraint violated: {0}")]
    Constraint(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

/// Durable state in domain verbs. Every call is scoped by tenant.
pub trait Store: Send + Sync + 'static {
    fn list_tenants(&self) -> BoxFuture<'_, Result<Vec<Tenant>, StoreError>>;
    fn save_tenant(&self, tenant: Tenant) -> BoxFuture<'_, Result<(), StoreError>>;
    fn load_tenant(&self, tenant: TenantId) -> BoxFuture<'_, Result<TenantSnapshot, StoreError>>;

    fn save_service(&self, service: ServiceConfig) -> BoxFuture<'_, Result<(), StoreError>>;
    fn delete_service(
        &self,
        tenant: TenantId,
        service: ServiceId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn save_user(&self, user: UserConfig) -> BoxFuture<'_, Result<(), StoreError>>;
    fn delete_user(&self, tenant: TenantId, user: UserId) -> BoxFuture<'_, Result<(), StoreError>>;
    fn save_skill_category(&self, c: SkillCategory) -> BoxFuture<'_, Result<(), StoreError>>;
    fn save_skill(&self, s: Skill) -> BoxFuture<'_, Result<(), StoreError>>;
    fn save_profile(&self, p: ResponsibilityProfile) -> BoxFuture<'_, Result<(), StoreError>>;
    fn save_policy(&self, p: DistributionPolicy) -> BoxFuture<'_, Result<(), StoreError>>;
    fn save_not_available_reason(
        &self,
        r: NotAvailableReason,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    fn snapshot_live_task(&self, t: LiveTaskSnapshot) -> BoxFuture<'_, Result<(), StoreError>>;
    fn remove_live_task(
        &self,
        tenant: TenantId,
        task: TaskId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn load_live_tasks(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<LiveTaskSnapshot>, StoreError>>;

    fn append_events(&self, events: Vec<TaskEvent>) -> BoxFuture<'_, Result<(), StoreError>>;
    fn task_events(
        &self,
        tenant: TenantId,
        task: TaskId,
    ) -> BoxFuture<'_, Result<Vec<TaskEvent>, StoreError>>;
    fn record_service_sessions(
        &self,
        facts: Vec<ServiceSessionFact>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn record_user_sessions(
        &self,
        facts: Vec<UserSessionFact>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn record_user_states(
        &self,
        facts: Vec<UserStateInterval>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn service_sessions(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> BoxFuture<'_, Result<Vec<ServiceSessionFact>, StoreError>>;
    fn user_sessions(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> BoxFuture<'_, Result<Vec<UserSessionFact>, StoreError>>;

    /// Retention: forget stored context data of tasks that ended before `before`.
    fn purge_context(&self, before: Instant) -> BoxFuture<'_, Result<u64, StoreError>>;
}
