//! Service (queue line) configuration: one schema for REST, config files and stored JSON.

use super::values::{
    AcwExtension, AcwTime, MaxQueueTime, RingTimeout, RonaCooldown, RonaResetTime, SlaTime,
};
use crate::error::ValidationError;
use crate::ids::{PolicyId, ServiceId, TenantId, UserId};
use crate::model::Priority;
use serde::{Deserialize, Serialize};

/// How users are attached to a service.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Assignment {
    /// Members of a Teams team; each has a per-service Active toggle.
    #[default]
    TeamsBased,
    /// Agents/Owners assigned by an admin; a distribution policy and responsibility profiles apply.
    SkillBased,
    /// No users (IVR-only service).
    None,
}

/// How an offer reaches users.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Distribution {
    /// Ring up to `batch` longest-idle users at once; first to answer wins; no RONA.
    Broadcast { batch: u8 },
    /// One user at a time on a separate leg, moved into the caller's call when answered.
    Direct,
    /// One user at a time invited straight into the caller's call (recommended).
    #[default]
    DirectConference,
    /// Users pull tasks themselves.
    Pickup,
}

impl Distribution {
    pub const DEFAULT_BROADCAST_BATCH: u8 = 10;

    pub fn applies_rona(self) -> bool {
        !matches!(self, Distribution::Broadcast { .. })
    }
}

/// How one user is picked among the eligible ones.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Algorithm {
    /// The user idle longest (since their last task, ACW included, ended). The product's default.
    #[default]
    LongestIdle,
    /// Rotate through members in a fixed order, continuing after the last one offered.
    RoundRobin,
    /// The user who handled the fewest tasks today; ties by longest idle.
    FewestTasks,
    /// The user with the least accumulated talk time; ties by longest idle.
    LeastTalkTime,
    /// The first selectable user of the service's ordered member list.
    Ordered,
    /// A uniformly random eligible user (seeded, deterministic for a given seed).
    Random,
}

/// After-call work settings.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcwSettings {
    pub enabled: bool,
    #[serde(rename = "seconds")]
    pub time: AcwTime,
    pub early_end_allowed: bool,
    /// `None`: extension not allowed.
    #[serde(rename = "extension_secs")]
    pub extension: Option<AcwExtension>,
}

/// Every setting of a service that routing uses.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceConfig {
    pub id: ServiceId,
    pub tenant: TenantId,
    pub name: String,
    /// Caller-facing name.
    pub display_name: String,
    /// Teams resource account (application instance) object id: incoming calls target it.
    pub app_instance_id: Option<String>,
    pub upn: Option<String>,
    pub pstn_number: Option<String>,
    pub assignment: Assignment,
    pub distribution: Distribution,
    pub algorithm: Algorithm,
    /// Skill-based services: the distribution policy.
    pub policy: Option<PolicyId>,
    #[serde(rename = "ring_timeout_secs")]
    pub ring_timeout: RingTimeout,
    pub persistent_rona: bool,
    #[serde(rename = "rona_reset_secs")]
    pub rona_reset: RonaResetTime,
    /// Without persistent RONA: how long a user who missed or declined a ring shows RONA.
    #[serde(rename = "rona_cooldown_secs")]
    pub rona_cooldown: RonaCooldown,
    pub acw: AcwSettings,
    /// Multitasking: a user connected to a call of this service's may still get its chats and
    /// external tasks (up to their capacity). Off: a connected call blocks every other modality.
    pub multitasking: bool,
    /// Distribute to users whose Teams presence is Busy.
    pub busy_selectable: bool,
    /// Distribute to users whose Teams presence is Away / Be right back.
    pub away_selectable: bool,
    #[serde(rename = "sla_secs")]
    pub sla: SlaTime,
    pub default_priority: Priority,
    #[serde(rename = "max_queue_secs")]
    pub max_queue_time: MaxQueueTime,
    /// Maximum number of waiting tasks; further tasks are refused.
    pub queue_capacity: u32,
    /// Order of users for `Algorithm::Ordered` (others follow in id order).
    pub ordered_users: Vec<UserId>,
    /// Text announced before queueing in the default workflow.
    pub welcome_prompt: Option<String>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            id: ServiceId::default(),
            tenant: TenantId::default(),
            name: String::new(),
            display_name: String::new(),
            app_instance_id: None,
            upn: None,
            pstn_number: None,
            assignment: Assignment::default(),
            distribution: Distribution::default(),
            algorithm: Algorithm::default(),
            policy: None,
            ring_timeout: RingTimeout::default(),
            persistent_rona: false,
            rona_reset: RonaResetTime::default(),
            rona_cooldown: RonaCooldown::default(),
            acw: AcwSettings::default(),
            multitasking: false,
            busy_selectable: false,
            away_selectable: false,
            sla: SlaTime::default(),
            default_priority: Priority::Normal,
            max_queue_time: MaxQueueTime::default(),
            queue_capacity: 300,
            ordered_users: Vec::new(),
            welcome_prompt: None,
        }
    }
}

impl ServiceConfig {
    /// Checks the cross-field rules the value types cannot check alone.
    pub fn validate(&self, limits: &super::TenantLimits) -> Result<(), ValidationError> {
        if self.name.trim().is_empty() {
            return Err(ValidationError::new("name", "must not be empty"));
        }
        if let Distribution::Broadcast { batch } = self.distribution
            && (batch == 0 || batch > 10)
        {
            {
                return Err(ValidationError::new(
                    "distribution.Broadcast.batch",
                    format!("{batch} is out of range 1..=10"),
                ));
            }
        }
        if self.queue_capacity == 0 || self.queue_capacity > limits.max_concurrent_calls_per_service
        {
            return Err(ValidationError::new(
                "queue_capacity",
                format!(
                    "{} is out of range 1..={}",
                    self.queue_capacity, limits.max_concurrent_calls_per_service
                ),
            ));
        }
        if self.assignment == Assignment::SkillBased && self.policy.is_none() {
            return Err(ValidationError::new(
                "policy",
                "a skill-based service needs a distribution policy",
            ));
        }
        if self.assignment != Assignment::SkillBased && self.policy.is_some() {
            return Err(ValidationError::new(
                "policy",
                "only skill-based services use a distribution policy",
            ));
        }
        Ok(())
    }
}
