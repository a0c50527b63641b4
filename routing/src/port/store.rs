//! The persistence port, in domain verbs. `stratus-store` implements it for SQLite and
//! PostgreSQL; actors and the gateway see only this trait.

use super::BoxFuture;
use crate::config::values::{ParameterId, ParameterValue};
use crate::config::{
    DistributionPolicy, NotAvailableReason, OrgUnit, ResponsibilityProfile, ServiceConfig, Skill,
    SkillCategory, Tenant, UserConfig,
};
use crate::facts::{ServiceSessionFact, UserSessionFact, UserStateInterval};
use crate::ids::{
    CallId, Guid, NotAvailableReasonId, OrgUnitId, PartnerId, PolicyId, ProfileId, ServiceId,
    SkillCategoryId, SkillId, TaskId, TenantId, UserId, WorkflowId,
};
use crate::model::{Direction, Modality, Priority};
use crate::task::{
    ContextParameters, Customer, Outcome, OutcomeGroup, PreferredUsers, SystemParameters,
    TaskEvent, TaskEventKind, TaskStateKind,
};
use crate::time::Instant;
use serde::{Deserialize, Serialize};

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
    /// Index of the service session the task is in (0 for its first service, +1 per transfer).
    pub session_index: u32,
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

/// A partner (reseller) owning tenants. Partners sit above tenants, so they carry no tenant.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
}

/// A workflow. The workflow engine owns the definition's schema; the store keeps it as JSON text.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Workflow {
    pub id: WorkflowId,
    pub tenant: TenantId,
    pub name: String,
    /// The service the workflow is attached to, if any.
    pub service: Option<ServiceId>,
    pub definition: String,
}

/// Named opening hours. The weekly schedule and holidays are JSON text owned by the workflow
/// engine.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OpeningHours {
    pub id: Guid,
    pub tenant: TenantId,
    pub name: String,
    /// IANA time zone name, e.g. `Europe/Zurich`.
    pub time_zone: String,
    pub schedule: String,
}

/// A tenant's custom context parameter (`CustomContextParameters.<ID>`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ParameterDefinition {
    pub tenant: TenantId,
    pub id: ParameterId,
    pub description: String,
    pub default_value: ParameterValue,
}

/// A webhook subscription to task events.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TriggerSubscription {
    pub id: Guid,
    pub tenant: TenantId,
    pub url: String,
    pub events: Vec<TaskEventKind>,
    /// Shared secret for signing deliveries.
    pub secret: Option<String>,
    pub active: bool,
}

/// One webhook delivery in the durable outbox.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Assigned by the store, increasing.
    pub id: u64,
    pub tenant: TenantId,
    pub subscription: Guid,
    pub payload: String,
    pub created_at: Instant,
    pub attempts: u32,
    pub next_attempt_at: Instant,
    pub delivered_at: Option<Instant>,
    pub last_error: Option<String>,
}

/// An outcome as stored for reporting (ids 1–7 documented, ours from 8).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StoredOutcome {
    pub id: u8,
    pub name: String,
    pub group: OutcomeGroup,
    pub means_handled: bool,
}

/// An outcome group as stored for reporting (ids 1–7).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StoredOutcomeGroup {
    pub id: u8,
    pub name: String,
}

/// A task's whole life across services (unified session), derived from its service sessions.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct UnifiedSession {
    pub tenant: TenantId,
    pub task: TaskId,
    pub modality: Modality,
    pub direction: Direction,
    pub first_service: ServiceId,
    pub last_service: ServiceId,
    pub started_at: Instant,
    pub ended_at: Instant,
    /// The outcome of the last service session.
    pub outcome: Outcome,
    pub service_sessions: u32,
}

/// Administration verbs beyond what routing needs: the other configuration entities, deletes,
/// and the webhook outbox. Every call is scoped by tenant (partners excepted).
pub trait AdminStore: Store {
    fn save_partner(&self, p: Partner) -> BoxFuture<'_, Result<(), StoreError>>;
    fn list_partners(&self) -> BoxFuture<'_, Result<Vec<Partner>, StoreError>>;

    fn save_org_unit(&self, u: OrgUnit) -> BoxFuture<'_, Result<(), StoreError>>;
    fn list_org_units(&self, tenant: TenantId) -> BoxFuture<'_, Result<Vec<OrgUnit>, StoreError>>;
    fn delete_org_unit(
        &self,
        tenant: TenantId,
        id: OrgUnitId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    fn save_workflow(&self, w: Workflow) -> BoxFuture<'_, Result<(), StoreError>>;
    fn list_workflows(&self, tenant: TenantId) -> BoxFuture<'_, Result<Vec<Workflow>, StoreError>>;
    fn delete_workflow(
        &self,
        tenant: TenantId,
        id: WorkflowId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    fn save_opening_hours(&self, h: OpeningHours) -> BoxFuture<'_, Result<(), StoreError>>;
    fn list_opening_hours(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<OpeningHours>, StoreError>>;
    fn delete_opening_hours(
        &self,
        tenant: TenantId,
        id: Guid,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    fn save_parameter(&self, p: ParameterDefinition) -> BoxFuture<'_, Result<(), StoreError>>;
    fn list_parameters(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<ParameterDefinition>, StoreError>>;
    fn delete_parameter(
        &self,
        tenant: TenantId,
        id: ParameterId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    fn save_trigger_subscription(
        &self,
        s: TriggerSubscription,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn list_trigger_subscriptions(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<TriggerSubscription>, StoreError>>;
    fn delete_trigger_subscription(
        &self,
        tenant: TenantId,
        id: Guid,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    fn delete_skill_category(
        &self,
        tenant: TenantId,
        id: SkillCategoryId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn delete_skill(&self, tenant: TenantId, id: SkillId) -> BoxFuture<'_, Result<(), StoreError>>;
    fn delete_profile(
        &self,
        tenant: TenantId,
        id: ProfileId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn delete_policy(
        &self,
        tenant: TenantId,
        id: PolicyId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    fn delete_not_available_reason(
        &self,
        tenant: TenantId,
        id: NotAvailableReasonId,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Queues a webhook delivery durably; returns its id.
    fn enqueue_webhook(
        &self,
        tenant: TenantId,
        subscription: Guid,
        payload: String,
        now: Instant,
    ) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Undelivered deliveries whose next attempt is due at `now`, oldest first.
    fn due_webhooks(
        &self,
        tenant: TenantId,
        now: Instant,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<WebhookDelivery>, StoreError>>;
    fn webhook_delivered(
        &self,
        tenant: TenantId,
        id: u64,
        at: Instant,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Counts a failed attempt and schedules the next one.
    fn webhook_failed(
        &self,
        tenant: TenantId,
        id: u64,
        error: String,
        retry_at: Instant,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// Reporting reads (the OData side). Every call is scoped by tenant.
pub trait ReportingStore: Store {
    fn outcome_groups(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<StoredOutcomeGroup>, StoreError>>;
    fn outcomes(&self, tenant: TenantId) -> BoxFuture<'_, Result<Vec<StoredOutcome>, StoreError>>;
    /// User state intervals overlapping `[from, to)`, of one user or all.
    fn user_states(
        &self,
        tenant: TenantId,
        user: Option<UserId>,
        from: Instant,
        to: Instant,
    ) -> BoxFuture<'_, Result<Vec<UserStateInterval>, StoreError>>;
    fn unified_sessions(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> BoxFuture<'_, Result<Vec<UnifiedSession>, StoreError>>;
}
