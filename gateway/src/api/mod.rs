//! REST `/api/v1`: one table of endpoints drives both the router and the OpenAPI document, so the
//! document cannot drift from what is served.

pub mod auth;
pub mod config;
pub mod connector;
pub mod live;
mod openapi;
pub mod tasks;

use crate::app::AppState;
use axum::Router;
use axum::routing::{MethodRouter, delete, get, post, put};
pub use openapi::openapi;
use utoipa::openapi::OpenApi;

/// One endpoint: what the router serves and what the OpenAPI document says of it.
pub struct Endpoint {
    pub method: &'static str,
    /// Axum path syntax (`{id}`), which is also OpenAPI's.
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Roles that may call it (a system admin may call everything).
    pub roles: &'static str,
    pub has_body: bool,
}

const fn ep(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    roles: &'static str,
    has_body: bool,
) -> Endpoint {
    Endpoint {
        method,
        path,
        tag,
        summary,
        roles,
        has_body,
    }
}

const ADMIN: &str = "TenantAdmin";
const OWNER: &str = "TenantAdmin, ServiceOwner";
const READ: &str = "TenantAdmin, ServiceOwner, Supervisor";
const LIVE: &str = "TenantAdmin, ServiceOwner, Supervisor, Agent";
const SUPERVISE: &str = "TenantAdmin, Supervisor; Agent on themselves";

/// Every `/api/v1` endpoint except the OpenAPI document itself.
pub const ENDPOINTS: &[Endpoint] = &[
    ep(
        "GET",
        "/api/v1/tenants",
        "tenants",
        "List tenants (system and partner admins)",
        "SystemAdmin, PartnerAdmin",
        false,
    ),
    ep(
        "POST",
        "/api/v1/tenants",
        "tenants",
        "Create a tenant bound to a Microsoft 365 tenant",
        "SystemAdmin",
        true,
    ),
    ep(
        "GET",
        "/api/v1/tenant",
        "tenants",
        "The caller's tenant",
        READ,
        false,
    ),
    ep(
        "GET",
        "/api/v1/services",
        "services",
        "List services",
        READ,
        false,
    ),
    ep(
        "POST",
        "/api/v1/services",
        "services",
        "Create a service (every setting of a queue)",
        ADMIN,
        true,
    ),
    ep(
        "GET",
        "/api/v1/services/{id}",
        "services",
        "Get a service",
        READ,
        false,
    ),
    ep(
        "PUT",
        "/api/v1/services/{id}",
        "services",
        "Replace a service's settings",
        OWNER,
        true,
    ),
    ep(
        "DELETE",
        "/api/v1/services/{id}",
        "services",
        "Delete a service without members",
        ADMIN,
        false,
    ),
    ep(
        "GET",
        "/api/v1/services/{id}/live",
        "live",
        "Live state: waiting tasks, users by status, longest wait",
        LIVE,
        false,
    ),
    ep(
        "POST",
        "/api/v1/services/{id}/pickup",
        "live",
        "Pickup services: the calling agent takes a waiting task (body: optional task id)",
        "Agent",
        true,
    ),
    ep("GET", "/api/v1/users", "users", "List users", READ, false),
    ep(
        "POST",
        "/api/v1/users",
        "users",
        "Create a user (Teams object id, memberships, skills, capacity)",
        ADMIN,
        true,
    ),
    ep(
        "GET",
        "/api/v1/users/{id}",
        "users",
        "Get a user",
        "TenantAdmin, ServiceOwner, Supervisor; Agent on themselves",
        false,
    ),
    ep(
        "PUT",
        "/api/v1/users/{id}",
        "users",
        "Replace a user",
        ADMIN,
        true,
    ),
    ep(
        "DELETE",
        "/api/v1/users/{id}",
        "users",
        "Delete a user",
        ADMIN,
        false,
    ),
    ep(
        "PUT",
        "/api/v1/users/{id}/memberships",
        "users",
        "Replace a user's service memberships",
        OWNER,
        true,
    ),
    ep(
        "GET",
        "/api/v1/users/{id}/live",
        "live",
        "Live state of a user: status, presence, tasks, ACW, RONA",
        "TenantAdmin, ServiceOwner, Supervisor; Agent on themselves",
        false,
    ),
    ep(
        "PUT",
        "/api/v1/users/{id}/duty",
        "supervision",
        "Switch a user's responsibility profile (On Duty, Off Duty, custom)",
        SUPERVISE,
        true,
    ),
    ep(
        "PUT",
        "/api/v1/users/{id}/active",
        "supervision",
        "Toggle a user's Active state in a Teams-based service",
        SUPERVISE,
        true,
    ),
    ep(
        "PUT",
        "/api/v1/users/{id}/not-available",
        "supervision",
        "Set or clear a user's Not-Available reason",
        SUPERVISE,
        true,
    ),
    ep(
        "POST",
        "/api/v1/users/{id}/acw/end",
        "supervision",
        "End a user's after-call work early",
        SUPERVISE,
        false,
    ),
    ep(
        "POST",
        "/api/v1/users/{id}/acw/extend",
        "supervision",
        "Extend a user's after-call work",
        SUPERVISE,
        false,
    ),
    ep(
        "POST",
        "/api/v1/users/{id}/rona/reset",
        "supervision",
        "Reset a user's persistent RONA",
        SUPERVISE,
        false,
    ),
    ep(
        "GET",
        "/api/v1/skill-categories",
        "skills",
        "List skill categories",
        READ,
        false,
    ),
    ep(
        "POST",
        "/api/v1/skill-categories",
        "skills",
        "Create or replace a skill category",
        ADMIN,
        true,
    ),
    ep(
        "DELETE",
        "/api/v1/skill-categories/{id}",
        "skills",
        "Delete a skill category no skill uses",
        ADMIN,
        false,
    ),
    ep(
        "GET",
        "/api/v1/skills",
        "skills",
        "List skills",
        READ,
        false,
    ),
    ep(
        "POST",
        "/api/v1/skills",
        "skills",
        "Create or replace a skill",
        ADMIN,
        true,
    ),
    ep(
        "DELETE",
        "/api/v1/skills/{id}",
        "skills",
        "Delete a skill no user, policy or profile uses",
        ADMIN,
        false,
    ),
    ep(
        "GET",
        "/api/v1/profiles",
        "skills",
        "List responsibility profiles",
        READ,
        false,
    ),
    ep(
        "POST",
        "/api/v1/profiles",
        "skills",
        "Create or replace a custom responsibility profile",
        ADMIN,
        true,
    ),
    ep(
        "DELETE",
        "/api/v1/profiles/{id}",
        "skills",
        "Delete a custom profile no user holds",
        ADMIN,
        false,
    ),
    ep(
        "GET",
        "/api/v1/policies",
        "skills",
        "List distribution policies",
        READ,
        false,
    ),
    ep(
        "POST",
        "/api/v1/policies",
        "skills",
        "Create or replace a distribution policy",
        ADMIN,
        true,
    ),
    ep(
        "DELETE",
        "/api/v1/policies/{id}",
        "skills",
        "Delete a distribution policy no service uses",
        ADMIN,
        false,
    ),
    ep(
        "GET",
        "/api/v1/not-available-reasons",
        "users",
        "List Not-Available reasons",
        LIVE,
        false,
    ),
    ep(
        "POST",
        "/api/v1/not-available-reasons",
        "users",
        "Create or replace a Not-Available reason",
        ADMIN,
        true,
    ),
    ep(
        "DELETE",
        "/api/v1/not-available-reasons/{id}",
        "users",
        "Delete a Not-Available reason no user holds",
        ADMIN,
        false,
    ),
    ep(
        "POST",
        "/api/v1/tasks",
        "tasks",
        "Create an external task (or chat, email) in a service",
        OWNER,
        true,
    ),
    ep(
        "GET",
        "/api/v1/tasks/{id}",
        "tasks",
        "Get a task: live state, or its events once ended",
        "TenantAdmin, ServiceOwner, Supervisor; Agent on the tasks offered to them",
        false,
    ),
    ep(
        "PUT",
        "/api/v1/tasks/{id}",
        "tasks",
        "Update a task's context parameters, customer, preferred users, priority",
        OWNER,
        true,
    ),
    ep(
        "DELETE",
        "/api/v1/tasks/{id}",
        "tasks",
        "Cancel a task",
        OWNER,
        false,
    ),
    ep(
        "GET",
        "/api/v1/tasks/{id}/decisions",
        "tasks",
        "Routing explanations: candidates, exclusions with reasons, scores",
        READ,
        false,
    ),
    ep(
        "GET",
        "/api/v1/tasks/{id}/events",
        "tasks",
        "The task's event log",
        READ,
        false,
    ),
    ep(
        "POST",
        "/api/v1/tasks/{id}/accept",
        "tasks",
        "Accept an offered task (the offered agent)",
        "Agent",
        false,
    ),
    ep(
        "POST",
        "/api/v1/tasks/{id}/decline",
        "tasks",
        "Decline an offered task (the offered agent)",
        "Agent",
        false,
    ),
    ep(
        "POST",
        "/api/v1/tasks/{id}/complete",
        "tasks",
        "Complete an accepted task (the agent)",
        "Agent",
        false,
    ),
];

fn handler(method: &str, path: &str) -> Option<MethodRouter<AppState>> {
    use config as c;
    use live as l;
    use tasks as t;
    Some(match (method, path) {
        ("GET", "/api/v1/tenants") => get(c::list_tenants),
        ("POST", "/api/v1/tenants") => post(c::create_tenant),
        ("GET", "/api/v1/tenant") => get(c::get_tenant),
        ("GET", "/api/v1/services") => get(c::list_services),
        ("POST", "/api/v1/services") => post(c::create_service),
        ("GET", "/api/v1/services/{id}") => get(c::get_service),
        ("PUT", "/api/v1/services/{id}") => put(c::update_service),
        ("DELETE", "/api/v1/services/{id}") => delete(c::delete_service),
        ("GET", "/api/v1/services/{id}/live") => get(l::service_live),
        ("POST", "/api/v1/services/{id}/pickup") => post(l::pickup),
        ("GET", "/api/v1/users") => get(c::list_users),
        ("POST", "/api/v1/users") => post(c::create_user),
        ("GET", "/api/v1/users/{id}") => get(c::get_user),
        ("PUT", "/api/v1/users/{id}") => put(c::update_user),
        ("DELETE", "/api/v1/users/{id}") => delete(c::delete_user),
        ("PUT", "/api/v1/users/{id}/memberships") => put(c::put_memberships),
        ("GET", "/api/v1/users/{id}/live") => get(l::user_live),
        ("PUT", "/api/v1/users/{id}/duty") => put(l::set_duty),
        ("PUT", "/api/v1/users/{id}/active") => put(l::set_active),
        ("PUT", "/api/v1/users/{id}/not-available") => put(l::set_not_available),
        ("POST", "/api/v1/users/{id}/acw/end") => post(l::end_acw),
        ("POST", "/api/v1/users/{id}/acw/extend") => post(l::extend_acw),
        ("POST", "/api/v1/users/{id}/rona/reset") => post(l::reset_rona),
        ("GET", "/api/v1/skill-categories") => get(c::list_skill_categories),
        ("POST", "/api/v1/skill-categories") => post(c::save_skill_category),
        ("DELETE", "/api/v1/skill-categories/{id}") => delete(c::delete_skill_category),
        ("GET", "/api/v1/skills") => get(c::list_skills),
        ("POST", "/api/v1/skills") => post(c::save_skill),
        ("DELETE", "/api/v1/skills/{id}") => delete(c::delete_skill),
        ("GET", "/api/v1/profiles") => get(c::list_profiles),
        ("POST", "/api/v1/profiles") => post(c::save_profile),
        ("DELETE", "/api/v1/profiles/{id}") => delete(c::delete_profile),
        ("GET", "/api/v1/policies") => get(c::list_policies),
        ("POST", "/api/v1/policies") => post(c::save_policy),
        ("DELETE", "/api/v1/policies/{id}") => delete(c::delete_policy),
        ("GET", "/api/v1/not-available-reasons") => get(c::list_reasons),
        ("POST", "/api/v1/not-available-reasons") => post(c::save_reason),
        ("DELETE", "/api/v1/not-available-reasons/{id}") => delete(c::delete_reason),
        ("POST", "/api/v1/tasks") => post(t::create_task),
        ("GET", "/api/v1/tasks/{id}") => get(t::get_task),
        ("PUT", "/api/v1/tasks/{id}") => put(t::update_task),
        ("DELETE", "/api/v1/tasks/{id}") => delete(t::cancel_task),
        ("GET", "/api/v1/tasks/{id}/decisions") => get(t::decisions),
        ("GET", "/api/v1/tasks/{id}/events") => get(t::events),
        ("POST", "/api/v1/tasks/{id}/accept") => post(t::accept_task),
        ("POST", "/api/v1/tasks/{id}/decline") => post(t::decline_task),
        ("POST", "/api/v1/tasks/{id}/complete") => post(t::complete_task),
        _ => return None,
    })
}

/// The `/api/v1` router. Endpoints sharing a path are merged into one method router.
pub fn router(state: AppState) -> Router<AppState> {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for e in ENDPOINTS {
        // Every table row has a handler (tested); a row without one is skipped, not a panic.
        let Some(h) = handler(e.method, e.path) else {
            tracing::error!(
                method = e.method,
                path = e.path,
                "endpoint without a handler"
            );
            continue;
        };
        match by_path.iter_mut().find(|(p, _)| *p == e.path) {
            Some((_, existing)) => {
                let merged = std::mem::take(existing).merge(h);
                *existing = merged;
            }
            None => by_path.push((e.path, h)),
        }
    }
    let mut r = Router::new().route("/api/v1/openapi.json", get(openapi_json));
    for (path, h) in by_path {
        r = r.route(path, h);
    }
    r.layer(axum::middleware::from_fn_with_state(
        state,
        authenticated_body,
    ))
}

/// A request with a body is authenticated before a byte of it is read (an anonymous client
/// must not make the server buffer anything); the caller is kept for the handler's [`Auth`].
/// Then text with a NUL character is refused at the door: PostgreSQL cannot store it, so it
/// would otherwise be accepted here and lost later.
async fn authenticated_body(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    let empty = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() == b"0");
    let has_body = !empty
        && (parts
            .headers
            .contains_key(axum::http::header::CONTENT_LENGTH)
            || parts
                .headers
                .contains_key(axum::http::header::TRANSFER_ENCODING));
    if !has_body {
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    }
    match auth::Auth::from_request_parts(&mut parts, &state).await {
        Ok(a) => {
            parts.extensions.insert(a);
        }
        Err(e) => return e.into_response(),
    }
    let limit = state.config.server.max_body_bytes;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => return body_failure(&e, limit).into_response(),
    };
    let nul = bytes.contains(&0) || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"));
    if nul {
        return crate::error::ApiError::bad_request("text may not contain NUL characters")
            .into_response();
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// Why a body could not be read: too slow (408), too large (413), or cut off (400).
fn body_failure(e: &axum::Error, limit: usize) -> crate::error::ApiError {
    use axum::http::StatusCode;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return crate::error::ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body arrived too slowly",
            );
        }
        if c.is::<http_body_util::LengthLimitError>() {
            return crate::error::ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("request bodies are limited to {limit} bytes"),
            );
        }
        cause = c.source();
    }
    crate::error::ApiError::bad_request("the request body could not be read")
}

async fn openapi_json() -> axum::Json<OpenApi> {
    axum::Json(openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_handler_and_no_row_repeats() {
        for (i, e) in ENDPOINTS.iter().enumerate() {
            assert!(
                handler(e.method, e.path).is_some(),
                "{} {}",
                e.method,
                e.path
            );
            assert!(
                !ENDPOINTS[..i]
                    .iter()
                    .any(|o| o.method == e.method && o.path == e.path),
                "{} {} listed twice",
                e.method,
                e.path
            );
        }
    }
}
