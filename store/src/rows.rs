//! One struct per table row, shared by both back ends: built from a domain value before a write
//! (`of`), decoded by sqlx after a read and turned back into the domain value (`into_domain`).

use crate::codec::distribution_name;
use crate::codec::{instant, int, ms, narrow, opt_text, parse, parse_opt, tag, text, uint, untag};
use crate::error::corrupt;
use sqlx::types::Json;
use std::collections::HashMap;
use stratus_routing::config::values::{ParameterId, ParameterValue};
use stratus_routing::config::{
    Capacity, DistributionPolicy, Membership, NotAvailableReason, OrgUnit, PolicyLevel,
    ProfileKind, ResponsibilityProfile, ServiceConfig, Skill, SkillCategory, SkillLevel, Tenant,
    TenantLimits, UserConfig, UserSkill,
};
use stratus_routing::facts::{ServiceSessionFact, UserSessionFact, UserStateInterval};
use stratus_routing::ids::{NotAvailableReasonId, OfferId, ProfileId};
use stratus_routing::port::{
    LiveTaskSnapshot, OpeningHours, ParameterDefinition, Partner, StoreError, StoredOutcome,
    StoredOutcomeGroup, TriggerSubscription, UnifiedSession, WebhookDelivery, Workflow,
};
use stratus_routing::task::{
    ContextParameters, Customer, Outcome, OutcomeGroup, PreferredUsers, SystemParameters,
    TaskEvent, TaskEventKind,
};

#[derive(sqlx::FromRow)]
pub(crate) struct PartnerRow {
    pub id: String,
    pub name: String,
}

impl PartnerRow {
    pub fn of(p: &Partner) -> Self {
        PartnerRow {
            id: text(p.id),
            name: p.name.clone(),
        }
    }
    pub fn into_domain(self) -> Result<Partner, StoreError> {
        Ok(Partner {
            id: parse("partner id", &self.id)?,
            name: self.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    pub id: String,
    pub partner_id: Option<String>,
    pub name: String,
    pub m365_tenant_id: String,
    pub limits: Json<TenantLimits>,
}

impl TenantRow {
    pub fn of(t: &Tenant) -> Self {
        TenantRow {
            id: text(t.id),
            partner_id: opt_text(t.partner),
            name: t.name.clone(),
            m365_tenant_id: text(t.m365_tenant),
            limits: Json(t.limits),
        }
    }
    pub fn into_domain(self) -> Result<Tenant, StoreError> {
        Ok(Tenant {
            id: parse("tenant id", &self.id)?,
            partner: parse_opt("partner id", self.partner_id.as_deref())?,
            name: self.name,
            m365_tenant: parse("m365 tenant id", &self.m365_tenant_id)?,
            limits: self.limits.0,
        })
    }
}

/// The outcome groups every tenant's reporting tables start with: `(id, name)`.
pub(crate) fn outcome_group_seed() -> Vec<(i64, &'static str)> {
    OutcomeGroup::ALL
        .iter()
        .map(|g| (i64::from(g.id()), g.name()))
        .collect()
}

/// The outcomes every tenant's reporting tables start with: `(id, name, group id, handled)`.
pub(crate) fn outcome_seed() -> Vec<(i64, &'static str, i64, bool)> {
    Outcome::ALL
        .iter()
        .map(|o| {
            (
                i64::from(o.id()),
                o.name(),
                i64::from(o.group().id()),
                o.means_handled(),
            )
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutcomeGroupRow {
    pub id: i64,
    pub name: String,
}

impl OutcomeGroupRow {
    pub fn into_domain(self) -> Result<StoredOutcomeGroup, StoreError> {
        Ok(StoredOutcomeGroup {
            id: narrow("outcome group id", self.id)?,
            name: self.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutcomeRow {
    pub id: i64,
    pub name: String,
    pub group_id: i64,
    pub means_handled: bool,
}

impl OutcomeRow {
    pub fn into_domain(self) -> Result<StoredOutcome, StoreError> {
        let group_id: u8 = narrow("outcome group id", self.group_id)?;
        let group = OutcomeGroup::ALL
            .into_iter()
            .find(|g| g.id() == group_id)
            .ok_or_else(|| corrupt("outcome group id", group_id))?;
        Ok(StoredOutcome {
            id: narrow("outcome id", self.id)?,
            name: self.name,
            group,
            means_handled: self.means_handled,
        })
    }
}

fn outcome(v: i64) -> Result<Outcome, StoreError> {
    let id: u8 = narrow("outcome id", v)?;
    Outcome::from_id(id).ok_or_else(|| corrupt("outcome id", id))
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrgUnitRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

impl OrgUnitRow {
    pub fn of(u: &OrgUnit) -> Self {
        OrgUnitRow {
            tenant_id: text(u.tenant),
            id: text(u.id),
            name: u.name.clone(),
            parent_id: opt_text(u.parent),
        }
    }
    pub fn into_domain(self) -> Result<OrgUnit, StoreError> {
        Ok(OrgUnit {
            id: parse("org unit id", &self.id)?,
            tenant: parse("tenant id", &self.tenant_id)?,
            name: self.name,
            parent: parse_opt("org unit id", self.parent_id.as_deref())?,
        })
    }
}

/// The columns of a service row; routing loads the whole configuration from `settings`.
pub(crate) struct ServiceRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub app_instance_id: Option<String>,
    pub upn: Option<String>,
    pub pstn_number: Option<String>,
    pub assignment: String,
    pub distribution: &'static str,
    pub algorithm: String,
    pub policy_id: Option<String>,
    pub ring_timeout_secs: i64,
    pub sla_secs: i64,
    pub max_queue_secs: i64,
    pub queue_capacity: i64,
    pub acw_enabled: bool,
    pub acw_secs: i64,
    pub settings: Json<ServiceConfig>,
}

impl ServiceRow {
    pub fn of(s: &ServiceConfig) -> Result<Self, StoreError> {
        Ok(ServiceRow {
            tenant_id: text(s.tenant),
            id: text(s.id),
            name: s.name.clone(),
            display_name: s.display_name.clone(),
            app_instance_id: s.app_instance_id.clone(),
            upn: s.upn.clone(),
            pstn_number: s.pstn_number.clone(),
            assignment: tag(&s.assignment)?,
            distribution: distribution_name(s.distribution),
            algorithm: tag(&s.algorithm)?,
            policy_id: opt_text(s.policy),
            ring_timeout_secs: i64::from(s.ring_timeout.secs()),
            sla_secs: i64::from(s.sla.secs()),
            max_queue_secs: i64::from(s.max_queue_time.secs()),
            queue_capacity: i64::from(s.queue_capacity),
            acw_enabled: s.acw.enabled,
            acw_secs: i64::from(s.acw.time.secs()),
            settings: Json(s.clone()),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub tenant_id: String,
    pub id: String,
    pub upn: String,
    pub display_name: String,
    pub active_profile_id: String,
    pub profiles: Json<Vec<ProfileId>>,
    pub not_available_reasons: Json<Vec<NotAvailableReasonId>>,
    pub capacity: Json<Capacity>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    pub user_id: String,
    pub service_id: String,
    pub role: String,
    pub active: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserSkillRow {
    pub user_id: String,
    pub skill_id: String,
    pub level: i64,
}

impl UserRow {
    pub fn of(u: &UserConfig) -> Self {
        UserRow {
            tenant_id: text(u.tenant),
            id: text(u.id),
            upn: u.upn.clone(),
            display_name: u.display_name.clone(),
            active_profile_id: text(u.active_profile),
            profiles: Json(u.profiles.clone()),
            not_available_reasons: Json(u.not_available_reasons.clone()),
            capacity: Json(u.capacity),
        }
    }
}

/// `(service id, role tag, active)` per membership, in the user's order.
pub(crate) fn membership_rows(u: &UserConfig) -> Result<Vec<(String, String, bool)>, StoreError> {
    u.memberships
        .iter()
        .map(|m| Ok((text(m.service), tag(&m.role)?, m.active)))
        .collect()
}

/// Builds users from their rows and their child rows (memberships and skills are separate tables
/// so deleting a service or a skill cascades to them).
pub(crate) fn assemble_users(
    users: Vec<UserRow>,
    memberships: Vec<MembershipRow>,
    skills: Vec<UserSkillRow>,
) -> Result<Vec<UserConfig>, StoreError> {
    let mut by_user: HashMap<String, (Vec<Membership>, Vec<UserSkill>)> = HashMap::new();
    for m in memberships {
        let membership = Membership {
            service: parse("service id", &m.service_id)?,
            role: untag("membership role", &m.role)?,
            active: m.active,
        };
        by_user.entry(m.user_id).or_default().0.push(membership);
    }
    for s in skills {
        let skill = UserSkill {
            skill: parse("skill id", &s.skill_id)?,
            level: narrow("level", s.level)?,
        };
        by_user.entry(s.user_id).or_default().1.push(skill);
    }
    users
        .into_iter()
        .map(|u| {
            let (memberships, skills) = by_user.remove(&u.id).unwrap_or_default();
            Ok(UserConfig {
                id: parse("user id", &u.id)?,
                tenant: parse("tenant id", &u.tenant_id)?,
                upn: u.upn,
                display_name: u.display_name,
                memberships,
                skills,
                profiles: u.profiles.0,
                active_profile: parse("profile id", &u.active_profile_id)?,
                not_available_reasons: u.not_available_reasons.0,
                capacity: u.capacity.0,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct SkillCategoryRow {
    pub id: String,
    pub name: String,
    pub levelled: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SkillLevelRow {
    pub category_id: String,
    pub value: i64,
    pub name: String,
}

pub(crate) fn assemble_categories(
    tenant: stratus_routing::ids::TenantId,
    categories: Vec<SkillCategoryRow>,
    levels: Vec<SkillLevelRow>,
) -> Result<Vec<SkillCategory>, StoreError> {
    let mut by_category: HashMap<String, Vec<SkillLevel>> = HashMap::new();
    for l in levels {
        let level = SkillLevel {
            value: narrow("skill level", l.value)?,
            name: l.name,
        };
        by_category.entry(l.category_id).or_default().push(level);
    }
    categories
        .into_iter()
        .map(|c| {
            Ok(SkillCategory {
                levels: by_category.remove(&c.id).unwrap_or_default(),
                id: parse("skill category id", &c.id)?,
                tenant,
                name: c.name,
                levelled: c.levelled,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct SkillRow {
    pub tenant_id: String,
    pub id: String,
    pub category_id: String,
    pub name: String,
}

impl SkillRow {
    pub fn of(s: &Skill) -> Self {
        SkillRow {
            tenant_id: text(s.tenant),
            id: text(s.id),
            category_id: text(s.category),
            name: s.name.clone(),
        }
    }
    pub fn into_domain(self) -> Result<Skill, StoreError> {
        Ok(Skill {
            id: parse("skill id", &self.id)?,
            tenant: parse("tenant id", &self.tenant_id)?,
            category: parse("skill category id", &self.category_id)?,
            name: self.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProfileRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub kind: String,
    pub definition: Json<ProfileKind>,
}

impl ProfileRow {
    pub fn of(p: &ResponsibilityProfile) -> Self {
        let kind = match p.kind {
            ProfileKind::OnDuty => "OnDuty",
            ProfileKind::OffDuty => "OffDuty",
            ProfileKind::Custom { .. } => "Custom",
        };
        ProfileRow {
            tenant_id: text(p.tenant),
            id: text(p.id),
            name: p.name.clone(),
            kind: kind.to_owned(),
            definition: Json(p.kind.clone()),
        }
    }
    pub fn into_domain(self) -> Result<ResponsibilityProfile, StoreError> {
        Ok(ResponsibilityProfile {
            id: parse("profile id", &self.id)?,
            tenant: parse("tenant id", &self.tenant_id)?,
            name: self.name,
            kind: self.definition.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub levels: Json<Vec<PolicyLevel>>,
}

impl PolicyRow {
    pub fn of(p: &DistributionPolicy) -> Self {
        PolicyRow {
            tenant_id: text(p.tenant),
            id: text(p.id),
            name: p.name.clone(),
            levels: Json(p.levels.clone()),
        }
    }
    pub fn into_domain(self) -> Result<DistributionPolicy, StoreError> {
        Ok(DistributionPolicy {
            id: parse("policy id", &self.id)?,
            tenant: parse("tenant id", &self.tenant_id)?,
            name: self.name,
            levels: self.levels.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct NotAvailableReasonRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
}

impl NotAvailableReasonRow {
    pub fn of(r: &NotAvailableReason) -> Self {
        NotAvailableReasonRow {
            tenant_id: text(r.tenant),
            id: text(r.id),
            name: r.name.clone(),
        }
    }
    pub fn into_domain(self) -> Result<NotAvailableReason, StoreError> {
        Ok(NotAvailableReason {
            id: parse("not-available reason id", &self.id)?,
            tenant: parse("tenant id", &self.tenant_id)?,
            name: self.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WorkflowRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub service_id: Option<String>,
    pub definition: String,
}

impl WorkflowRow {
    pub fn of(w: &Workflow) -> Self {
        WorkflowRow {
            tenant_id: text(w.tenant),
            id: text(w.id),
            name: w.name.clone(),
            service_id: opt_text(w.service),
            definition: w.definition.clone(),
        }
    }
    pub fn into_domain(self) -> Result<Workflow, StoreError> {
        Ok(Workflow {
            id: parse("workflow id", &self.id)?,
            tenant: parse("tenant id", &self.tenant_id)?,
            name: self.name,
            service: parse_opt("service id", self.service_id.as_deref())?,
            definition: self.definition,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OpeningHoursRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub schedule: String,
}

impl OpeningHoursRow {
    pub fn of(h: &OpeningHours) -> Self {
        OpeningHoursRow {
            tenant_id: text(h.tenant),
            id: text(h.id),
            name: h.name.clone(),
            time_zone: h.time_zone.clone(),
            schedule: h.schedule.clone(),
        }
    }
    pub fn into_domain(self) -> Result<OpeningHours, StoreError> {
        Ok(OpeningHours {
            id: parse("opening hours id", &self.id)?,
            tenant: parse("tenant id", &self.tenant_id)?,
            name: self.name,
            time_zone: self.time_zone,
            schedule: self.schedule,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ParameterRow {
    pub tenant_id: String,
    pub id: String,
    pub description: String,
    pub default_value: String,
}

impl ParameterRow {
    pub fn of(p: &ParameterDefinition) -> Self {
        ParameterRow {
            tenant_id: text(p.tenant),
            id: p.id.as_str().to_owned(),
            description: p.description.clone(),
            default_value: p.default_value.as_str().to_owned(),
        }
    }
    pub fn into_domain(self) -> Result<ParameterDefinition, StoreError> {
        Ok(ParameterDefinition {
            tenant: parse("tenant id", &self.tenant_id)?,
            id: ParameterId::new(self.id).map_err(|e| corrupt("parameter id", e))?,
            description: self.description,
            default_value: ParameterValue::new(self.default_value)
                .map_err(|e| corrupt("parameter value", e))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TriggerRow {
    pub tenant_id: String,
    pub id: String,
    pub url: String,
    pub events: Json<Vec<TaskEventKind>>,
    pub secret: Option<String>,
    pub active: bool,
}

impl TriggerRow {
    pub fn of(s: &TriggerSubscription) -> Self {
        TriggerRow {
            tenant_id: text(s.tenant),
            id: text(s.id),
            url: s.url.clone(),
            events: Json(s.events.clone()),
            secret: s.secret.clone(),
            active: s.active,
        }
    }
    pub fn into_domain(self) -> Result<TriggerSubscription, StoreError> {
        Ok(TriggerSubscription {
            id: parse("trigger subscription id", &self.id)?,
            tenant: parse("tenant id", &self.tenant_id)?,
            url: self.url,
            events: self.events.0,
            secret: self.secret,
            active: self.active,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    pub id: i64,
    pub tenant_id: String,
    pub subscription_id: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

impl OutboxRow {
    pub fn into_domain(self) -> Result<WebhookDelivery, StoreError> {
        Ok(WebhookDelivery {
            id: uint(self.id),
            tenant: parse("tenant id", &self.tenant_id)?,
            subscription: parse("trigger subscription id", &self.subscription_id)?,
            payload: self.payload,
            created_at: instant(self.created_at),
            attempts: narrow("attempts", self.attempts)?,
            next_attempt_at: instant(self.next_attempt_at),
            delivered_at: self.delivered_at.map(instant),
            last_error: self.last_error,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LiveTaskRow {
    pub tenant_id: String,
    pub task_id: String,
    pub call_id: Option<String>,
    pub service_id: Option<String>,
    pub modality: String,
    pub direction: String,
    pub priority: String,
    pub state: String,
    pub created_at: i64,
    pub queued_at: Option<i64>,
    pub connected_user_id: Option<String>,
    pub seq: i64,
    pub system: Json<SystemParameters>,
    pub context: Json<ContextParameters>,
    pub preferred: Json<PreferredUsers>,
    pub customer: Json<Customer>,
    /// Read only: computed from the stored service sessions (see `LIST_LIVE_TASKS`).
    #[sqlx(default)]
    pub next_session: i64,
}

impl LiveTaskRow {
    pub fn of(t: &LiveTaskSnapshot) -> Result<Self, StoreError> {
        Ok(LiveTaskRow {
            tenant_id: text(t.tenant),
            task_id: text(t.task),
            call_id: t.call.as_ref().map(|c| c.as_str().to_owned()),
            service_id: opt_text(t.service),
            modality: tag(&t.modality)?,
            direction: tag(&t.direction)?,
            priority: tag(&t.priority)?,
            state: tag(&t.state)?,
            created_at: ms(t.created_at),
            queued_at: t.queued_at.map(ms),
            connected_user_id: opt_text(t.connected_user),
            seq: int(t.seq),
            system: Json(t.system.clone()),
            context: Json(t.context.clone()),
            preferred: Json(t.preferred.clone()),
            customer: Json(t.customer.clone()),
            next_session: i64::from(t.session_index),
        })
    }
    pub fn into_domain(self) -> Result<LiveTaskSnapshot, StoreError> {
        Ok(LiveTaskSnapshot {
            tenant: parse("tenant id", &self.tenant_id)?,
            task: parse("task id", &self.task_id)?,
            call: self.call_id.map(stratus_routing::ids::CallId::new),
            service: parse_opt("service id", self.service_id.as_deref())?,
            modality: untag("modality", &self.modality)?,
            direction: untag("direction", &self.direction)?,
            priority: untag("priority", &self.priority)?,
            state: untag("task state", &self.state)?,
            created_at: instant(self.created_at),
            queued_at: self.queued_at.map(instant),
            connected_user: parse_opt("user id", self.connected_user_id.as_deref())?,
            system: self.system.0,
            context: self.context.0,
            preferred: self.preferred.0,
            customer: self.customer.0,
            seq: uint(self.seq),
            session_index: u32::try_from(self.next_session).unwrap_or(0),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TaskEventRow {
    pub tenant_id: String,
    pub task_id: String,
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub from_state: String,
    pub to_state: String,
    pub service_id: Option<String>,
    pub user_id: Option<String>,
    pub offer_id: Option<i64>,
    pub outcome_id: Option<i64>,
    pub parameter_id: Option<String>,
    pub parameter_value: Option<String>,
}

impl TaskEventRow {
    pub fn of(e: &TaskEvent) -> Result<Self, StoreError> {
        Ok(TaskEventRow {
            tenant_id: text(e.tenant),
            task_id: text(e.task),
            seq: int(e.seq),
            at: ms(e.at),
            kind: tag(&e.kind)?,
            from_state: tag(&e.from)?,
            to_state: tag(&e.to)?,
            service_id: opt_text(e.service),
            user_id: opt_text(e.user),
            offer_id: e.offer.map(|o| int(o.0)),
            outcome_id: e.outcome.map(|o| i64::from(o.id())),
            parameter_id: e.parameter.as_ref().map(|(id, _)| id.as_str().to_owned()),
            parameter_value: e.parameter.as_ref().map(|(_, v)| v.as_str().to_owned()),
        })
    }
    pub fn into_domain(self) -> Result<TaskEvent, StoreError> {
        // A purged value leaves the parameter id behind; the event then carries no parameter.
        let parameter = match (self.parameter_id, self.parameter_value) {
            (Some(id), Some(v)) => Some((
                ParameterId::new(id).map_err(|e| corrupt("parameter id", e))?,
                ParameterValue::new(v).map_err(|e| corrupt("parameter value", e))?,
            )),
            _ => None,
        };
        Ok(TaskEvent {
            seq: uint(self.seq),
            at: instant(self.at),
            tenant: parse("tenant id", &self.tenant_id)?,
            task: parse("task id", &self.task_id)?,
            kind: untag("event kind", &self.kind)?,
            from: untag("task state", &self.from_state)?,
            to: untag("task state", &self.to_state)?,
            service: parse_opt("service id", self.service_id.as_deref())?,
            user: parse_opt("user id", self.user_id.as_deref())?,
            offer: self.offer_id.map(|o| OfferId(uint(o))),
            outcome: self.outcome_id.map(outcome).transpose()?,
            parameter,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ServiceSessionRow {
    pub tenant_id: String,
    pub task_id: String,
    pub session_index: i64,
    pub service_id: String,
    pub modality: String,
    pub direction: String,
    pub started_at: i64,
    pub ended_at: i64,
    pub outcome_id: i64,
    pub ivr_ms: i64,
    pub queue_ms: i64,
    pub connected_ms: i64,
    pub hold_ms: i64,
    pub hold_count: i64,
    pub acw_ms: i64,
    pub under_sla: bool,
    pub policy_level: Option<i64>,
    pub user_id: Option<String>,
}

impl ServiceSessionRow {
    pub fn of(f: &ServiceSessionFact) -> Result<Self, StoreError> {
        Ok(ServiceSessionRow {
            tenant_id: text(f.tenant),
            task_id: text(f.task),
            session_index: i64::from(f.session_index),
            service_id: text(f.service),
            modality: tag(&f.modality)?,
            direction: tag(&f.direction)?,
            started_at: ms(f.started_at),
            ended_at: ms(f.ended_at),
            outcome_id: i64::from(f.outcome.id()),
            ivr_ms: int(f.ivr_ms),
            queue_ms: int(f.queue_ms),
            connected_ms: int(f.connected_ms),
            hold_ms: int(f.hold_ms),
            hold_count: i64::from(f.hold_count),
            acw_ms: int(f.acw_ms),
            under_sla: f.under_sla,
            policy_level: f.policy_level.map(i64::from),
            user_id: opt_text(f.user),
        })
    }
    pub fn into_domain(self) -> Result<ServiceSessionFact, StoreError> {
        Ok(ServiceSessionFact {
            tenant: parse("tenant id", &self.tenant_id)?,
            task: parse("task id", &self.task_id)?,
            service: parse("service id", &self.service_id)?,
            session_index: narrow("session index", self.session_index)?,
            modality: untag("modality", &self.modality)?,
            direction: untag("direction", &self.direction)?,
            started_at: instant(self.started_at),
            ended_at: instant(self.ended_at),
            outcome: outcome(self.outcome_id)?,
            ivr_ms: uint(self.ivr_ms),
            queue_ms: uint(self.queue_ms),
            connected_ms: uint(self.connected_ms),
            hold_ms: uint(self.hold_ms),
            hold_count: narrow("hold count", self.hold_count)?,
            acw_ms: uint(self.acw_ms),
            under_sla: self.under_sla,
            policy_level: self
                .policy_level
                .map(|l| narrow("policy level", l))
                .transpose()?,
            user: parse_opt("user id", self.user_id.as_deref())?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UnifiedSessionRow {
    pub tenant_id: String,
    pub task_id: String,
    pub modality: String,
    pub direction: String,
    pub first_service_id: String,
    pub last_service_id: String,
    pub started_at: i64,
    pub ended_at: i64,
    pub outcome_id: i64,
    pub service_session_count: i64,
}

impl UnifiedSessionRow {
    pub fn into_domain(self) -> Result<UnifiedSession, StoreError> {
        Ok(UnifiedSession {
            tenant: parse("tenant id", &self.tenant_id)?,
            task: parse("task id", &self.task_id)?,
            modality: untag("modality", &self.modality)?,
            direction: untag("direction", &self.direction)?,
            first_service: parse("service id", &self.first_service_id)?,
            last_service: parse("service id", &self.last_service_id)?,
            started_at: instant(self.started_at),
            ended_at: instant(self.ended_at),
            outcome: outcome(self.outcome_id)?,
            service_sessions: narrow("service session count", self.service_session_count)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserSessionRow {
    pub tenant_id: String,
    pub task_id: String,
    pub offer_id: i64,
    pub user_id: String,
    pub service_id: String,
    pub offered_at: i64,
    pub ended_at: i64,
    pub outcome: String,
    pub policy_level: Option<i64>,
    pub connected_ms: i64,
}

impl UserSessionRow {
    pub fn of(f: &UserSessionFact) -> Result<Self, StoreError> {
        Ok(UserSessionRow {
            tenant_id: text(f.tenant),
            task_id: text(f.task),
            offer_id: int(f.offer.0),
            user_id: text(f.user),
            service_id: text(f.service),
            offered_at: ms(f.offered_at),
            ended_at: ms(f.ended_at),
            outcome: tag(&f.outcome)?,
            policy_level: f.policy_level.map(i64::from),
            connected_ms: int(f.connected_ms),
        })
    }
    pub fn into_domain(self) -> Result<UserSessionFact, StoreError> {
        Ok(UserSessionFact {
            tenant: parse("tenant id", &self.tenant_id)?,
            task: parse("task id", &self.task_id)?,
            service: parse("service id", &self.service_id)?,
            user: parse("user id", &self.user_id)?,
            offer: OfferId(uint(self.offer_id)),
            offered_at: instant(self.offered_at),
            ended_at: instant(self.ended_at),
            outcome: untag("user session outcome", &self.outcome)?,
            policy_level: self
                .policy_level
                .map(|l| narrow("policy level", l))
                .transpose()?,
            connected_ms: uint(self.connected_ms),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserStateRow {
    pub tenant_id: String,
    pub user_id: String,
    pub started_at: i64,
    pub ended_at: i64,
    pub state: String,
}

impl UserStateRow {
    pub fn of(f: &UserStateInterval) -> Result<Self, StoreError> {
        Ok(UserStateRow {
            tenant_id: text(f.tenant),
            user_id: text(f.user),
            started_at: ms(f.started_at),
            ended_at: ms(f.ended_at),
            state: tag(&f.state)?,
        })
    }
    pub fn into_domain(self) -> Result<UserStateInterval, StoreError> {
        Ok(UserStateInterval {
            tenant: parse("tenant id", &self.tenant_id)?,
            user: parse("user id", &self.user_id)?,
            started_at: instant(self.started_at),
            ended_at: instant(self.ended_at),
            state: untag("user state", &self.state)?,
        })
    }
}

/// Decodes a list of rows, stopping at the first unreadable one.
pub(crate) fn all<R, T>(
    rows: Vec<R>,
    f: impl Fn(R) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(f).collect()
}
