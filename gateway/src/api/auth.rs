//! The authenticated caller of a request, resolved to a Stratus tenant.

use crate::app::AppState;
use crate::auth::{AuthError, Caller, Role};
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use stratus_routing::config::{Role as MembershipRole, UserConfig};
use stratus_routing::ids::{ServiceId, TenantId, UserId};

/// Header a system or partner admin uses to act inside one tenant.
pub const TENANT_HEADER: &str = "stratus-tenant";

/// A verified caller and the tenant the request acts in.
#[derive(Clone, Debug)]
pub struct Auth {
    pub caller: Caller,
    pub tenant: TenantId,
    /// A system admin, or a partner admin inside one of the partner's tenants: acts as that
    /// tenant's admin.
    pub operator: bool,
}

impl Auth {
    /// 403 unless the caller holds one of `roles`. A system admin holds them all; a partner
    /// admin inside one of the partner's tenants holds the tenant-level ones.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        let tenant_level = roles
            .iter()
            .any(|r| !matches!(r, Role::SystemAdmin | Role::PartnerAdmin));
        if self.caller.has(Role::SystemAdmin)
            || self.caller.any(roles)
            || (self.operator && tenant_level)
        {
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

    /// Tenant admins may change any service; a service owner only the services they own (an
    /// Owner membership of the caller's user).
    pub fn require_owner_of(
        &self,
        users: &[UserConfig],
        service: ServiceId,
    ) -> Result<(), ApiError> {
        if self.operator || self.caller.has(Role::TenantAdmin) {
            return Ok(());
        }
        self.require(&[Role::ServiceOwner])?;
        let owns = self.user().is_some_and(|me| {
            users.iter().any(|u| {
                u.id == me
                    && u.membership(service)
                        .is_some_and(|m| m.role == MembershipRole::Owner)
            })
        });
        if owns {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "only an owner of service {service} may change it"
            )))
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Already authenticated before the body was read.
        if let Some(a) = parts.extensions.get::<Auth>() {
            return Ok(a.clone());
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthorized("expected a bearer token"))?;
        let caller = state.verifier.verify(token).await.map_err(|e| match e {
            // Our key source is down: not the caller's fault.
            AuthError::Keys => ApiError::unavailable(e.to_string()),
            other => ApiError::unauthorized(other.to_string()),
        })?;
        let own = state.resolve_tenant(&caller.tid).await?;
        let chosen = parts
            .headers
            .get(TENANT_HEADER)
            .and_then(|v| v.to_str().ok());
        let system = caller.has(Role::SystemAdmin);
        let partner = caller.has(Role::PartnerAdmin);
        let (tenant, operator) = match chosen {
            Some(t) if system || partner => {
                let id: TenantId = t.parse().map_err(|_| {
                    ApiError::bad_request(format!("{TENANT_HEADER}: not a tenant id"))
                })?;
                if !system {
                    // A partner admin acts only in the partner's own tenants; anything else is
                    // indistinguishable from a tenant that does not exist.
                    let tenants = state.store.list_tenants().await?;
                    let ours = tenants.iter().any(|x| {
                        x.id == id
                            && x.partner
                                .is_some_and(|p| p.to_string().eq_ignore_ascii_case(&caller.tid))
                    });
                    if !ours {
                        return Err(ApiError::not_found(format!("tenant {id}")));
                    }
                }
                (id, true)
            }
            Some(_) => {
                return Err(ApiError::forbidden(format!(
                    "only system and partner admins may use {TENANT_HEADER}"
                )));
            }
            // An operator outside any tenant sees no tenant's data (the nil id matches none).
            None if system || partner => (own.unwrap_or_default(), system),
            None => (
                own.ok_or_else(|| {
                    ApiError::unauthorized("the token's tenant is unknown to Stratus")
                })?,
                false,
            ),
        };
        Ok(Auth {
            caller,
            tenant,
            operator,
        })
    }
}
