//! Tasks: create an external task, read one (live, or its history once ended), update its context,
//! customer and preferred users (the semantics of the Nimbus connector's `PUT /v1/tasks/{id}`),
//! cancel it, accept / decline / complete it as its agent, and read the routing explanations.

use super::auth::Auth;
use super::config::{Body, body, path_id};
use crate::app::AppState;
use crate::auth::Role;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stratus_actors::{NewTask, TaskAction, TaskUpdate};
use stratus_routing::decision::Decision;
use stratus_routing::ids::{ServiceId, TaskId, UserId};
use stratus_routing::model::{Direction, Modality, Priority};
use stratus_routing::task::{
    ContextParameters, Customer, Outcome, PreferredUsers, SystemParameters, TaskEvent,
    TaskStateKind,
};

/// Who may create, update and cancel tasks (connector actions: tenant admin, service owner).
const TASK_WRITERS: &[Role] = &[Role::TenantAdmin, Role::ServiceOwner];
/// Who may read tasks and their explanations.
const TASK_READERS: &[Role] = &[Role::TenantAdmin, Role::ServiceOwner, Role::Supervisor];

/// `POST /api/v1/tasks`: an external task (or chat / email) for a service.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    pub service: ServiceId,
    #[serde(default = "external")]
    pub modality: Modality,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Custom context parameters (id ≤ 64 chars, value ≤ 5120 chars).
    #[serde(default)]
    #[schema(inline)]
    pub context: ContextParameters,
    #[serde(default)]
    pub customer: Customer,
    /// At most 10, priority 1–99.
    #[serde(default)]
    pub preferred_users: PreferredUsers,
    /// The integrator's own reference, echoed in events.
    #[serde(default)]
    pub reference_id: Option<String>,
}

fn external() -> Modality {
    Modality::ExternalTask
}

/// `PUT /api/v1/tasks/{id}`: every field optional; context parameters are upserted.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    #[serde(default)]
    #[schema(inline)]
    pub context: Option<ContextParameters>,
    #[serde(default)]
    pub customer: Option<Customer>,
    #[serde(default)]
    pub preferred_users: Option<PreferredUsers>,
    #[serde(default)]
    pub priority: Option<Priority>,
}

/// A task as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    pub id: TaskId,
    pub modality: Modality,
    pub direction: Direction,
    /// Known while the task is live.
    pub priority: Option<Priority>,
    pub state: TaskStateKind,
    pub outcome: Option<Outcome>,
    pub service: Option<ServiceId>,
    pub service_chain: Vec<ServiceId>,
    pub ringing: Vec<UserId>,
    pub system: SystemParameters,
    #[schema(inline)]
    pub context: ContextParameters,
    pub customer: Customer,
    pub preferred_users: PreferredUsers,
    /// Sequence number of the task's last event.
    pub seq: u64,
    /// False once the task has ended: then only its events are known.
    pub live: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<TaskEvent>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: TaskId,
}

pub async fn create_task(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<CreateTask>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    auth.require(TASK_WRITERS)?;
    let c = body(b)?;
    let users = super::config::snapshot(&state, auth.tenant).await?.users;
    auth.require_owner_of(&users, c.service)?;
    check_preferred(&users, &c.preferred_users)?;
    if c.modality == Modality::Call {
        return Err(ApiError::invalid(
            "modality",
            "calls arrive through Microsoft Graph; create Chat, Email or ExternalTask tasks",
        ));
    }
    let new = NewTask {
        service: c.service,
        modality: c.modality,
        priority: c.priority,
        context: c.context,
        customer: c.customer,
        preferred: c.preferred_users,
        system: SystemParameters {
            service: Some(c.service),
            reference_id: c.reference_id,
            ..SystemParameters::default()
        },
    };
    let id = state.node.create_task(auth.tenant, new).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// The caller may change the live task `id` (an owner of its service, or a tenant admin);
/// returns the tenant's users.
async fn require_task_owner(
    state: &AppState,
    auth: &Auth,
    id: TaskId,
) -> Result<Vec<stratus_routing::config::UserConfig>, ApiError> {
    let live = match state.node.task(auth.tenant, id).await {
        Ok(l) => l,
        // A task that has ended can no longer change; one never seen does not exist.
        Err(stratus_actors::ActorsError::UnknownTask)
            if !state.store.task_events(auth.tenant, id).await?.is_empty() =>
        {
            return Err(ApiError::conflict(format!("task {id} has ended")));
        }
        Err(e) => return Err(e.into()),
    };
    let users = super::config::snapshot(state, auth.tenant).await?.users;
    match live.service {
        Some(service) => auth.require_owner_of(&users, service)?,
        // Checked for the state the task is in: while its service is not known yet (being
        // answered, in IVR) only a tenant admin may act on it.
        None => auth.require(&[Role::TenantAdmin])?,
    }
    Ok(users)
}

/// Preferred users must be users of the tenant.
fn check_preferred(
    users: &[stratus_routing::config::UserConfig],
    preferred: &PreferredUsers,
) -> Result<(), ApiError> {
    for (i, p) in preferred.iter().enumerate() {
        if !users.iter().any(|u| u.id == p.user) {
            return Err(ApiError::invalid(
                format!("preferred_users[{i}].user"),
                format!("user {} does not exist", p.user),
            ));
        }
    }
    Ok(())
}

pub async fn get_task(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, ApiError> {
    let id: TaskId = path_id("task", &id)?;
    // An agent sees the live task offered to or handled by them (caller context on the offer).
    let agent_only = auth.require(TASK_READERS).is_err();
    if agent_only {
        auth.require(&[Role::Agent])?;
    }
    match state.node.task(auth.tenant, id).await {
        Ok(live) => {
            if agent_only && !is_agents_task(&live, auth.user()) {
                return Err(ApiError::forbidden(
                    "an agent sees only the tasks offered to them",
                ));
            }
            let t = live.task;
            Ok(Json(TaskView {
                id: t.id,
                modality: t.modality,
                direction: t.direction,
                priority: Some(t.priority),
                state: t.state().kind(),
                outcome: t.outcome(),
                service: live.service,
                service_chain: t.service_chain.clone(),
                ringing: live.ringing,
                system: t.system.clone(),
                context: t.context.clone(),
                customer: t.customer.clone(),
                preferred_users: t.preferred.clone(),
                seq: t.seq(),
                live: true,
                events: Vec::new(),
            }))
        }
        Err(stratus_actors::ActorsError::UnknownTask) if !agent_only => {
            ended_task(&state, &auth, id).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The agent is rung for the task, or holds it.
fn is_agents_task(live: &stratus_actors::TaskLive, me: Option<UserId>) -> bool {
    me.is_some_and(|me| live.ringing.contains(&me) || live.task.assigned_user() == Some(me))
}

/// An ended task: rebuilt from its event log (scoped to the caller's tenant).
async fn ended_task(state: &AppState, auth: &Auth, id: TaskId) -> Result<Json<TaskView>, ApiError> {
    let events = state.store.task_events(auth.tenant, id).await?;
    let Some(last) = events.last() else {
        return Err(ApiError::not_found(format!("task {id}")));
    };
    let sessions = state.store.service_sessions(auth.tenant, Some(id)).await?;
    let mut chain: Vec<ServiceId> = Vec::new();
    for s in events.iter().filter_map(|e| e.service) {
        if chain.last() != Some(&s) {
            chain.push(s);
        }
    }
    Ok(Json(TaskView {
        id,
        modality: sessions.first().map_or(Modality::Call, |s| s.modality),
        direction: sessions.first().map_or(Direction::None, |s| s.direction),
        priority: None,
        state: last.to,
        outcome: events.iter().rev().find_map(|e| e.outcome),
        service: last.service,
        service_chain: chain,
        ringing: Vec::new(),
        system: SystemParameters::default(),
        context: ContextParameters::new(),
        customer: Customer::default(),
        preferred_users: PreferredUsers::default(),
        seq: last.seq,
        live: false,
        events,
    }))
}

pub async fn update_task(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    b: Body<UpdateTask>,
) -> Result<StatusCode, ApiError> {
    auth.require(TASK_WRITERS)?;
    let id: TaskId = path_id("task", &id)?;
    let u = body(b)?;
    let users = require_task_owner(&state, &auth, id).await?;
    if let Some(p) = &u.preferred_users {
        check_preferred(&users, p)?;
    }
    let update = TaskUpdate {
        context: u.context,
        customer: u.customer,
        preferred: u.preferred_users,
        priority: u.priority,
    };
    state.node.update_task(auth.tenant, id, update).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn cancel_task(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(TASK_WRITERS)?;
    let id: TaskId = path_id("task", &id)?;
    require_task_owner(&state, &auth, id).await?;
    state.node.cancel_task(auth.tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn act(
    state: AppState,
    auth: Auth,
    id: String,
    action: TaskAction,
) -> Result<StatusCode, ApiError> {
    let id: TaskId = path_id("task", &id)?;
    let user = auth.user().ok_or_else(|| {
        ApiError::forbidden("only an agent (a token whose oid is a Stratus user) acts on offers")
    })?;
    auth.require(&[Role::Agent])?;
    state
        .node
        .task_action(auth.tenant, id, user, action)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn accept_task(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    act(state, auth, id, TaskAction::Accept).await
}

pub async fn decline_task(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    act(state, auth, id, TaskAction::Decline).await
}

pub async fn complete_task(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    act(state, auth, id, TaskAction::Complete).await
}

/// `GET /api/v1/tasks/{id}/decisions`: who was considered for each offer and why each one was
/// passed over.
pub async fn decisions(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<Decision>>, ApiError> {
    auth.require(TASK_READERS)?;
    let id: TaskId = path_id("task", &id)?;
    Ok(Json(state.node.decisions(auth.tenant, id).await?))
}

/// `GET /api/v1/tasks/{id}/events`: the task's event log from the store.
pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<TaskEvent>>, ApiError> {
    auth.require(TASK_READERS)?;
    let id: TaskId = path_id("task", &id)?;
    let events = state.store.task_events(auth.tenant, id).await?;
    if events.is_empty() {
        return Err(ApiError::not_found(format!("task {id}")));
    }
    Ok(Json(events))
}
