//! The authenticated caller of a request, resolved to a Stratus tenant.

use crate::app::AppState;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use stratus_routing::ids::{TenantId, UserId};

/// Header a system or partner admin uses to act inside one tenant.
pub const TENANT_HEADER: &str = "stratus-tenant";

/// A verified caller and the tenant the request acts in.
#[derive(Clone, Debug)]
pub struct Auth {
    pub caller: Caller,
    pub tenant: TenantId,
}

impl Auth {
    /// 403 unless the caller holds one of `roles` (a system admin holds them all).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.caller.has(Role::SystemAdmin) || self.caller.any(roles) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "requires one of: {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    /// The caller as a Stratus user (agents acting on themselves).
    pub fn user(&self) -> Option<UserId> {
        self.caller.oid.parse().ok()
    }

    /// Agents may act on themselves; supervisors and admins on anyone in the tenant.
    pub fn require_self_or(&self, user: UserId, roles: &[Role]) -> Result<(), ApiError> {
        if self.user() == Some(user) && self.caller.has(Role::Agent) {
            return Ok(());
        }
        self.require(roles)
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthorized("expected a bearer token"))?;
        let caller = state
            .verifier
            .verify(token)
            .await
            .map_err(|e| ApiError::unauthorized(e.to_string()))?;
        let own = state.resolve_tenant(&caller.tid).await?;
        let chosen = parts
            .headers
            .get(TENANT_HEADER)
            .and_then(|v| v.to_str().ok());
        let tenant = match chosen {
            Some(t) if caller.any(&[Role::SystemAdmin, Role::PartnerAdmin]) => {
                let id: TenantId = t.parse().map_err(|_| {
                    ApiError::bad_request(format!("{TENANT_HEADER}: not a tenant id"))
                })?;
                if !caller.has(Role::SystemAdmin) {
                    // A partner admin acts only in the partner's own tenants; anything else is
                    // indistinguishable from a tenant that does not exist.
                    let tenants = state.store.list_tenants().await?;
                    let ours = tenants.iter().any(|x| {
                        x.id == id && x.partner.is_some_and(|p| p.to_string() == caller.tid)
                    });
                    if !ours {
                        return Err(ApiError::not_found(format!("tenant {id}")));
                    }
                }
                id
            }
            Some(_) => {
                return Err(ApiError::forbidden(format!(
                    "only system and partner admins may use {TENANT_HEADER}"
                )));
            }
            // A system admin outside any tenant sees no tenant's data (the nil id matches none).
            None if caller.has(Role::SystemAdmin) => own.unwrap_or_default(),
            None => own.ok_or_else(|| {
                ApiError::unauthorized("the token's tenant is unknown to Stratus")
            })?,
        };
        Ok(Auth { caller, tenant })
    }
}
