//! Configuration endpoints: tenants, services, users (with memberships), skills, profiles,
//! distribution policies and Not-Available reasons. Every write is validated, scoped to the
//! caller's tenant, stored, and handed to the running actors.

use super::auth::Auth;
use crate::app::AppState;
use crate::auth::Role;
use crate::error::{ApiError, json_rejection};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use stratus_routing::config::*;
use stratus_routing::ids::*;
use stratus_routing::port::TenantSnapshot;

const READERS: &[Role] = &[Role::TenantAdmin, Role::ServiceOwner, Role::Supervisor];
const ADMINS: &[Role] = &[Role::TenantAdmin];
const OWNERS: &[Role] = &[Role::TenantAdmin, Role::ServiceOwner];

pub(crate) type Body<T> = Result<Json<T>, JsonRejection>;

pub(crate) fn body<T>(b: Body<T>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(json_rejection)
}

pub(crate) fn path_id<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} id {raw:?} is not a GUID")))
}

fn fresh_guid() -> Guid {
    Guid(uuid::Uuid::new_v4().as_u128())
}

pub(crate) async fn snapshot(
    state: &AppState,
    tenant: TenantId,
) -> Result<TenantSnapshot, ApiError> {
    Ok(state.store.load_tenant(tenant).await?)
}

// ---------- tenants ----------

pub async fn list_tenants(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<Tenant>>, ApiError> {
    auth.require(&[Role::SystemAdmin, Role::PartnerAdmin])?;
    let all = state.store.list_tenants().await?;
    let visible = all
        .into_iter()
        .filter(|t| {
            auth.caller.has(Role::SystemAdmin)
                || t.partner
                    .is_some_and(|p| p.to_string().eq_ignore_ascii_case(&auth.caller.tid))
        })
        .collect();
    Ok(Json(visible))
}

pub async fn create_tenant(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<Tenant>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    auth.require(&[Role::SystemAdmin])?;
    let mut t = body(b)?;
    if t.id == TenantId::default() {
        t.id = TenantId(fresh_guid());
    }
    if t.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    if t.m365_tenant.0 == stratus_routing::ids::Guid::default() {
        return Err(ApiError::invalid(
            "m365_tenant",
            "the nil GUID is no Microsoft 365 tenant",
        ));
    }
    let existing = state.store.list_tenants().await?;
    if existing.iter().any(|e| e.id == t.id) {
        return Err(ApiError::conflict(format!("tenant {} exists", t.id)));
    }
    // A token's `tid` names a tenant by either id: an id one tenant uses that another already
    // uses in the other role would let the new tenant's tokens act in the old one (or the reverse).
    if existing
        .iter()
        .any(|e| e.m365_tenant == t.m365_tenant || e.id.0 == t.m365_tenant.0)
    {
        return Err(ApiError::conflict(format!(
            "Microsoft 365 tenant {} is bound to (or is the id of) another tenant",
            t.m365_tenant
        )));
    }
    if existing.iter().any(|e| e.m365_tenant.0 == t.id.0) {
        return Err(ApiError::conflict(format!(
            "tenant id {} is another tenant's Microsoft 365 tenant",
            t.id
        )));
    }
    state.store.save_tenant(t.clone()).await?;
    state.tenant_changed(t.id).await;
    Ok((StatusCode::CREATED, Json(t)))
}

pub async fn get_tenant(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Tenant>, ApiError> {
    auth.require(READERS)?;
    Ok(Json(snapshot(&state, auth.tenant).await?.tenant))
}

// ---------- services ----------

pub async fn list_services(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ServiceConfig>>, ApiError> {
    auth.require(READERS)?;
    Ok(Json(snapshot(&state, auth.tenant).await?.services))
}

pub async fn get_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<ServiceConfig>, ApiError> {
    auth.require(READERS)?;
    let id: ServiceId = path_id("service", &id)?;
    let snap = snapshot(&state, auth.tenant).await?;
    snap.services
        .into_iter()
        .find(|s| s.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("service {id}")))
}

fn check_service(snap: &TenantSnapshot, s: &ServiceConfig) -> Result<(), ApiError> {
    s.validate(&snap.tenant.limits)?;
    if let Some(p) = s.policy
        && !snap.policies.iter().any(|x| x.id == p)
    {
        return Err(ApiError::invalid(
            "policy",
            format!("distribution policy {p} does not exist"),
        ));
    }
    if let Some(app) = &s.app_instance_id
        && snap
            .services
            .iter()
            .any(|o| o.id != s.id && o.app_instance_id.as_deref() == Some(app))
    {
        return Err(ApiError::conflict(format!(
            "app_instance_id {app} is used by another service"
        )));
    }
    Ok(())
}

pub async fn create_service(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<ServiceConfig>,
) -> Result<(StatusCode, Json<ServiceConfig>), ApiError> {
    auth.require(ADMINS)?;
    let mut s = body(b)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if s.id == ServiceId::default() {
        s.id = ServiceId(fresh_guid());
    } else if snap.services.iter().any(|x| x.id == s.id) {
        return Err(ApiError::conflict(format!("service {} exists", s.id)));
    }
    s.tenant = auth.tenant;
    check_service(&snap, &s)?;
    state.store.save_service(s.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok((StatusCode::CREATED, Json(s)))
}

pub async fn update_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    b: Body<ServiceConfig>,
) -> Result<Json<ServiceConfig>, ApiError> {
    auth.require(OWNERS)?;
    let id: ServiceId = path_id("service", &id)?;
    let mut s = body(b)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.services.iter().any(|x| x.id == id) {
        return Err(ApiError::not_found(format!("service {id}")));
    }
    auth.require_owner_of(&snap.users, id)?;
    s.id = id;
    s.tenant = auth.tenant;
    check_service(&snap, &s)?;
    state.store.save_service(s.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(Json(s))
}

pub async fn delete_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(ADMINS)?;
    let id: ServiceId = path_id("service", &id)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.services.iter().any(|x| x.id == id) {
        return Err(ApiError::not_found(format!("service {id}")));
    }
    if snap.users.iter().any(|u| u.membership(id).is_some()) {
        return Err(ApiError::conflict(
            "the service still has members; remove them first",
        ));
    }
    state.store.delete_service(auth.tenant, id).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- users ----------

pub async fn list_users(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<UserConfig>>, ApiError> {
    auth.require(READERS)?;
    Ok(Json(snapshot(&state, auth.tenant).await?.users))
}

pub async fn get_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<UserConfig>, ApiError> {
    let id: UserId = path_id("user", &id)?;
    auth.require_self_or(id, READERS)?;
    let snap = snapshot(&state, auth.tenant).await?;
    snap.users
        .into_iter()
        .find(|u| u.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("user {id}")))
}

fn check_user(snap: &TenantSnapshot, u: &UserConfig) -> Result<(), ApiError> {
    u.validate(&snap.tenant.limits)?;
    for (i, m) in u.memberships.iter().enumerate() {
        if !snap.services.iter().any(|s| s.id == m.service) {
            return Err(ApiError::invalid(
                format!("memberships[{i}].service"),
                format!("service {} does not exist", m.service),
            ));
        }
        let members = snap
            .users
            .iter()
            .filter(|o| o.id != u.id && o.membership(m.service).is_some())
            .count() as u32;
        if members + 1 > snap.tenant.limits.max_users_per_service {
            return Err(ApiError::conflict(format!(
                "service {} already has {members} users (limit {})",
                m.service, snap.tenant.limits.max_users_per_service
            )));
        }
    }
    let builtin = [
        ResponsibilityProfile::ON_DUTY,
        ResponsibilityProfile::OFF_DUTY,
    ];
    if !builtin.contains(&u.active_profile)
        && !snap.profiles.iter().any(|p| p.id == u.active_profile)
    {
        return Err(ApiError::invalid(
            "active_profile",
            format!("profile {} does not exist", u.active_profile),
        ));
    }
    for (i, s) in u.skills.iter().enumerate() {
        if !snap.skills.iter().any(|k| k.id == s.skill) {
            return Err(ApiError::invalid(
                format!("skills[{i}].skill"),
                format!("skill {} does not exist", s.skill),
            ));
        }
        if u.skills[..i].iter().any(|o| o.skill == s.skill) {
            return Err(ApiError::invalid(
                format!("skills[{i}].skill"),
                format!("skill {} is listed twice", s.skill),
            ));
        }
    }
    for (i, p) in u.profiles.iter().enumerate() {
        if !builtin.contains(p) && !snap.profiles.iter().any(|x| x.id == *p) {
            return Err(ApiError::invalid(
                format!("profiles[{i}]"),
                format!("profile {p} does not exist"),
            ));
        }
    }
    for (i, r) in u.not_available_reasons.iter().enumerate() {
        if !snap.not_available_reasons.iter().any(|x| x.id == *r) {
            return Err(ApiError::invalid(
                format!("not_available_reasons[{i}]"),
                format!("Not-Available reason {r} does not exist"),
            ));
        }
    }
    for (i, m) in u.memberships.iter().enumerate() {
        if u.memberships[..i].iter().any(|o| o.service == m.service) {
            return Err(ApiError::invalid(
                format!("memberships[{i}].service"),
                format!("service {} is listed twice", m.service),
            ));
        }
    }
    Ok(())
}

pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<UserConfig>,
) -> Result<(StatusCode, Json<UserConfig>), ApiError> {
    auth.require(ADMINS)?;
    let mut u = body(b)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if u.id == UserId::default() {
        return Err(ApiError::invalid(
            "id",
            "the user's Teams object id is required",
        ));
    }
    if snap.users.iter().any(|x| x.id == u.id) {
        return Err(ApiError::conflict(format!("user {} exists", u.id)));
    }
    u.tenant = auth.tenant;
    check_user(&snap, &u)?;
    state.store.save_user(u.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok((StatusCode::CREATED, Json(u)))
}

pub async fn update_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    b: Body<UserConfig>,
) -> Result<Json<UserConfig>, ApiError> {
    auth.require(ADMINS)?;
    let id: UserId = path_id("user", &id)?;
    let mut u = body(b)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.users.iter().any(|x| x.id == id) {
        return Err(ApiError::not_found(format!("user {id}")));
    }
    u.id = id;
    u.tenant = auth.tenant;
    check_user(&snap, &u)?;
    state.store.save_user(u.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(Json(u))
}

pub async fn put_memberships(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    b: Body<Vec<Membership>>,
) -> Result<Json<UserConfig>, ApiError> {
    auth.require(OWNERS)?;
    let id: UserId = path_id("user", &id)?;
    let memberships = body(b)?;
    let snap = snapshot(&state, auth.tenant).await?;
    let mut u = snap
        .users
        .iter()
        .find(|x| x.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("user {id}")))?;
    // Every service whose membership list changes must be one the caller may change.
    let touched = u
        .memberships
        .iter()
        .chain(memberships.iter())
        .filter(|m| u.memberships.contains(m) != memberships.contains(m))
        .map(|m| m.service);
    for service in touched {
        auth.require_owner_of(&snap.users, service)?;
    }
    u.memberships = memberships;
    check_user(&snap, &u)?;
    state.store.save_user(u.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(Json(u))
}

pub async fn delete_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(ADMINS)?;
    let id: UserId = path_id("user", &id)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.users.iter().any(|x| x.id == id) {
        return Err(ApiError::not_found(format!("user {id}")));
    }
    state.store.delete_user(auth.tenant, id).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- skills, profiles, policies, reasons ----------

pub async fn list_skill_categories(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<SkillCategory>>, ApiError> {
    auth.require(READERS)?;
    Ok(Json(snapshot(&state, auth.tenant).await?.skill_categories))
}

pub async fn save_skill_category(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<SkillCategory>,
) -> Result<(StatusCode, Json<SkillCategory>), ApiError> {
    auth.require(ADMINS)?;
    let mut c = body(b)?;
    if c.id == SkillCategoryId::default() {
        c.id = SkillCategoryId(fresh_guid());
    }
    c.tenant = auth.tenant;
    c.validate()?;
    state.store.save_skill_category(c.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok((StatusCode::CREATED, Json(c)))
}

pub async fn list_skills(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<Skill>>, ApiError> {
    auth.require(READERS)?;
    Ok(Json(snapshot(&state, auth.tenant).await?.skills))
}

pub async fn save_skill(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<Skill>,
) -> Result<(StatusCode, Json<Skill>), ApiError> {
    auth.require(ADMINS)?;
    let mut s = body(b)?;
    if s.id == SkillId::default() {
        s.id = SkillId(fresh_guid());
    }
    s.tenant = auth.tenant;
    if s.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.skill_categories.iter().any(|c| c.id == s.category) {
        return Err(ApiError::invalid(
            "category",
            format!("skill category {} does not exist", s.category),
        ));
    }
    state.store.save_skill(s.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok((StatusCode::CREATED, Json(s)))
}

pub async fn list_profiles(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<ResponsibilityProfile>>, ApiError> {
    auth.require(READERS)?;
    Ok(Json(snapshot(&state, auth.tenant).await?.profiles))
}

pub async fn save_profile(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<ResponsibilityProfile>,
) -> Result<(StatusCode, Json<ResponsibilityProfile>), ApiError> {
    auth.require(ADMINS)?;
    let mut p = body(b)?;
    if p.id == ProfileId::default() {
        p.id = ProfileId(fresh_guid());
    }
    if [
        ResponsibilityProfile::ON_DUTY,
        ResponsibilityProfile::OFF_DUTY,
    ]
    .contains(&p.id)
    {
        return Err(ApiError::conflict(
            "the built-in On Duty and Off Duty profiles cannot be changed",
        ));
    }
    p.tenant = auth.tenant;
    if p.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let snap = snapshot(&state, auth.tenant).await?;
    if let ProfileKind::Custom { skills } = &p.kind {
        for (i, s) in skills.iter().enumerate() {
            if !snap.skills.iter().any(|k| k.id == s.skill) {
                return Err(ApiError::invalid(
                    format!("kind.Custom.skills[{i}].skill"),
                    format!("skill {} does not exist", s.skill),
                ));
            }
        }
    }
    state.store.save_profile(p.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok((StatusCode::CREATED, Json(p)))
}

pub async fn list_policies(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<DistributionPolicy>>, ApiError> {
    auth.require(READERS)?;
    Ok(Json(snapshot(&state, auth.tenant).await?.policies))
}

pub async fn save_policy(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<DistributionPolicy>,
) -> Result<(StatusCode, Json<DistributionPolicy>), ApiError> {
    auth.require(ADMINS)?;
    let mut p = body(b)?;
    if p.id == PolicyId::default() {
        p.id = PolicyId(fresh_guid());
    }
    p.tenant = auth.tenant;
    p.validate()?;
    let snap = snapshot(&state, auth.tenant).await?;
    for (i, l) in p.levels.iter().enumerate() {
        for (j, r) in l.requirements.iter().enumerate() {
            if !snap.skills.iter().any(|k| k.id == r.skill) {
                return Err(ApiError::invalid(
                    format!("levels[{i}].requirements[{j}].skill"),
                    format!("skill {} does not exist", r.skill),
                ));
            }
        }
    }
    state.store.save_policy(p.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok((StatusCode::CREATED, Json(p)))
}

pub async fn list_reasons(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<NotAvailableReason>>, ApiError> {
    auth.require(&[
        Role::TenantAdmin,
        Role::ServiceOwner,
        Role::Supervisor,
        Role::Agent,
    ])?;
    Ok(Json(
        snapshot(&state, auth.tenant).await?.not_available_reasons,
    ))
}

pub async fn save_reason(
    State(state): State<AppState>,
    auth: Auth,
    b: Body<NotAvailableReason>,
) -> Result<(StatusCode, Json<NotAvailableReason>), ApiError> {
    auth.require(ADMINS)?;
    let mut r = body(b)?;
    if r.id == NotAvailableReasonId::default() {
        r.id = NotAvailableReasonId(fresh_guid());
    }
    r.tenant = auth.tenant;
    if r.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    state.store.save_not_available_reason(r.clone()).await?;
    state.tenant_changed(auth.tenant).await;
    Ok((StatusCode::CREATED, Json(r)))
}

// ---------- deletes: refused while something still refers to the entity ----------

fn in_use(what: &str, by: &str) -> ApiError {
    ApiError::conflict(format!(
        "the {what} is still used by {by}; change that first"
    ))
}

pub async fn delete_skill_category(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(ADMINS)?;
    let id: SkillCategoryId = path_id("skill category", &id)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.skill_categories.iter().any(|c| c.id == id) {
        return Err(ApiError::not_found(format!("skill category {id}")));
    }
    if snap.skills.iter().any(|s| s.category == id) {
        return Err(in_use("skill category", "a skill"));
    }
    state.store.delete_skill_category(auth.tenant, id).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_skill(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(ADMINS)?;
    let id: SkillId = path_id("skill", &id)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.skills.iter().any(|s| s.id == id) {
        return Err(ApiError::not_found(format!("skill {id}")));
    }
    if snap
        .users
        .iter()
        .any(|u| u.skills.iter().any(|s| s.skill == id))
    {
        return Err(in_use("skill", "a user"));
    }
    if snap.policies.iter().any(|p| {
        p.levels
            .iter()
            .any(|l| l.requirements.iter().any(|r| r.skill == id))
    }) {
        return Err(in_use("skill", "a distribution policy"));
    }
    if snap.profiles.iter().any(|p| matches!(&p.kind, ProfileKind::Custom { skills } if skills.iter().any(|s| s.skill == id))) {
        return Err(in_use("skill", "a responsibility profile"));
    }
    state.store.delete_skill(auth.tenant, id).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_profile(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(ADMINS)?;
    let id: ProfileId = path_id("profile", &id)?;
    if [
        ResponsibilityProfile::ON_DUTY,
        ResponsibilityProfile::OFF_DUTY,
    ]
    .contains(&id)
    {
        return Err(ApiError::conflict(
            "the built-in On Duty and Off Duty profiles cannot be deleted",
        ));
    }
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.profiles.iter().any(|p| p.id == id) {
        return Err(ApiError::not_found(format!("profile {id}")));
    }
    if snap
        .users
        .iter()
        .any(|u| u.active_profile == id || u.profiles.contains(&id))
    {
        return Err(in_use("profile", "a user"));
    }
    state.store.delete_profile(auth.tenant, id).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(ADMINS)?;
    let id: PolicyId = path_id("policy", &id)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.policies.iter().any(|p| p.id == id) {
        return Err(ApiError::not_found(format!("distribution policy {id}")));
    }
    if snap.services.iter().any(|s| s.policy == Some(id)) {
        return Err(in_use("distribution policy", "a service"));
    }
    state.store.delete_policy(auth.tenant, id).await?;
    state.tenant_changed(auth.tenant).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_reason(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(ADMINS)?;
    let id: NotAvailableReasonId = path_id("Not-Available reason", &id)?;
    let snap = snapshot(&state, auth.tenant).await?;
    if !snap.not_available_reasons.iter().any(|r| r.id == id) {
        return Err(ApiError::not_found(format!("Not-Available reason {id}")));
    }
    if snap
        .users
        .iter()
        .any(|u| u.not_available_reasons.contains(&id))
    {
        return Err(in_use("Not-Available reason", "a user"));
    }
    state
        .store
        .delete_not_available_reason(auth.tenant, id)
        .await?;
    state.tenant_changed(auth.tenant).await;
    Ok(StatusCode::NO_CONTENT)
}
