//! Live state of services and users, and the actions supervisors (and agents on themselves) take
//! on a user: duty, a service's Active toggle, a Not-Available reason, ending or extending ACW,
//! resetting RONA.

use super::auth::Auth;
use super::config::{Body, body, path_id};
use crate::app::AppState;
use crate::auth::Role;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stratus_actors::UserCommand;
use stratus_routing::ids::{NotAvailableReasonId, ProfileId, ServiceId, TaskId, UserId};
use stratus_routing::model::{Presence, Priority};
use stratus_routing::user::UserStatus;

const LIVE_READERS: &[Role] = &[
    Role::TenantAdmin,
    Role::ServiceOwner,
    Role::Supervisor,
    Role::Agent,
];
/// Who changes other users' duty and ACW (the product's User Supervisor).
const USER_SUPERVISORS: &[Role] = &[Role::TenantAdmin, Role::Supervisor];

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WaitingTaskView {
    pub task: TaskId,
    pub priority: Priority,
    pub waiting_seconds: f64,
    /// The distribution-policy level the task has reached.
    pub level: Option<u8>,
    pub offers: u32,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceLiveView {
    pub service: ServiceId,
    pub waiting: Vec<WaitingTaskView>,
    pub longest_wait_seconds: f64,
    /// Users of the service by status (Idle, Ringing, Connected, WrapUp, Rona, …).
    pub users_by_status: Vec<StatusCount>,
    /// Users who could take a task of this service now.
    pub selectable: u32,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatusCount {
    pub status: UserStatus,
    pub users: u32,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LeaseView {
    pub task: TaskId,
    pub service: ServiceId,
    pub ringing: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UserLiveView {
    pub user: UserId,
    pub status: UserStatus,
    pub presence: Presence,
    pub active_profile: ProfileId,
    pub tasks: Vec<LeaseView>,
    pub acw_seconds_left: Option<f64>,
    pub rona_seconds_left: Option<f64>,
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

pub async fn service_live(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<ServiceLiveView>, ApiError> {
    auth.require(LIVE_READERS)?;
    let id: ServiceId = path_id("service", &id)?;
    let l = state.node.service_live(auth.tenant, id).await?;
    Ok(Json(ServiceLiveView {
        service: l.service,
        waiting: l
            .waiting
            .into_iter()
            .map(|w| WaitingTaskView {
                task: w.task,
                priority: w.priority,
                waiting_seconds: secs(w.waiting_ms),
                level: w.level,
                offers: w.offers,
            })
            .collect(),
        longest_wait_seconds: secs(l.longest_wait_ms),
        users_by_status: l
            .users_by_status
            .into_iter()
            .map(|(status, users)| StatusCount { status, users })
            .collect(),
        selectable: l.selectable,
    }))
}

pub async fn user_live(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<UserLiveView>, ApiError> {
    let id: UserId = path_id("user", &id)?;
    auth.require_self_or(
        id,
        &[Role::TenantAdmin, Role::ServiceOwner, Role::Supervisor],
    )?;
    let l = state.node.user_live(auth.tenant, id).await?;
    let now_ms = state.node.now().as_millis();
    let left = |until: Option<u64>| until.map(|u| secs(u.saturating_sub(now_ms)));
    Ok(Json(UserLiveView {
        user: l.user,
        status: l.status,
        presence: l.presence,
        active_profile: l.active_profile,
        tasks: l
            .leases
            .into_iter()
            .map(|(task, service, ringing)| LeaseView {
                task,
                service,
                ringing,
            })
            .collect(),
        acw_seconds_left: left(l.acw_until_ms),
        rona_seconds_left: left(l.rona_until_ms),
    }))
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDuty {
    /// A responsibility profile: the built-in On Duty / Off Duty or a custom one.
    pub profile: ProfileId,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetActive {
    pub service: ServiceId,
    pub active: bool,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetNotAvailable {
    /// `null` clears the reason.
    pub reason: Option<NotAvailableReasonId>,
}

/// The user a supervisor action targets, once the caller may act on them.
fn target(auth: &Auth, id: &str) -> Result<UserId, ApiError> {
    let id: UserId = path_id("user", id)?;
    auth.require_self_or(id, USER_SUPERVISORS)?;
    Ok(id)
}

async fn command(
    state: &AppState,
    auth: &Auth,
    user: UserId,
    cmd: UserCommand,
) -> Result<StatusCode, ApiError> {
    state.node.user_command(auth.tenant, user, cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn set_duty(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    b: Body<SetDuty>,
) -> Result<StatusCode, ApiError> {
    let user = target(&auth, &id)?;
    let d = body(b)?;
    command(&state, &auth, user, UserCommand::SetProfile(d.profile)).await
}

pub async fn set_active(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    b: Body<SetActive>,
) -> Result<StatusCode, ApiError> {
    let user = target(&auth, &id)?;
    let a = body(b)?;
    command(
        &state,
        &auth,
        user,
        UserCommand::SetActive {
            service: a.service,
            active: a.active,
        },
    )
    .await
}

pub async fn set_not_available(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    b: Body<SetNotAvailable>,
) -> Result<StatusCode, ApiError> {
    let user = target(&auth, &id)?;
    let n = body(b)?;
    command(&state, &auth, user, UserCommand::SetNotAvailable(n.reason)).await
}

pub async fn end_acw(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = target(&auth, &id)?;
    command(&state, &auth, user, UserCommand::EndAcw).await
}

pub async fn extend_acw(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = target(&auth, &id)?;
    command(&state, &auth, user, UserCommand::ExtendAcw).await
}

pub async fn reset_rona(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = target(&auth, &id)?;
    command(&state, &auth, user, UserCommand::ResetRona).await
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pickup {
    /// The waiting task to take; absent: the best one for the agent.
    #[serde(default)]
    pub task: Option<TaskId>,
}

/// Pickup services: the calling agent takes a waiting task. Accepted at once; the task then
/// rings the agent like any offer (or nothing happens if the agent cannot take it now).
pub async fn pickup(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    b: Body<Pickup>,
) -> Result<StatusCode, ApiError> {
    let service: ServiceId = path_id("service", &id)?;
    auth.require(&[Role::Agent])?;
    let user = auth.user().ok_or_else(|| {
        ApiError::forbidden("only an agent (a token whose oid is a Stratus user) picks up tasks")
    })?;
    let p = body(b)?;
    state.node.pickup(auth.tenant, service, user, p.task)?;
    Ok(StatusCode::ACCEPTED)
}
