//! User (agent) configuration.

use super::skills::UserSkill;
use crate::error::ValidationError;
use crate::ids::{NotAvailableReasonId, ProfileId, ServiceId, TenantId, UserId};
use crate::model::Modality;
use serde::{Deserialize, Serialize};

/// A user's role in one service.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Skill-based: takes tasks.
    #[default]
    Agent,
    /// Skill-based and Teams-based: takes tasks and administers the service.
    Owner,
    /// Teams-based team member.
    Member,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub service: ServiceId,
    #[serde(default)]
    pub role: Role,
    /// Teams-based services: the per-service Active toggle.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Concurrent tasks a user may hold, per modality (product default: 1 call, 1 external task).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Capacity {
    pub calls: u8,
    pub chats: u8,
    pub emails: u8,
    pub external_tasks: u8,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            calls: 1,
            chats: 1,
            emails: 1,
            external_tasks: 1,
        }
    }
}

impl Capacity {
    pub fn of(&self, m: Modality) -> u8 {
        match m {
            Modality::Call => self.calls,
            Modality::Chat => self.chats,
            Modality::Email => self.emails,
            Modality::ExternalTask => self.external_tasks,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotAvailableReason {
    pub id: NotAvailableReasonId,
    pub tenant: TenantId,
    pub name: String,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserConfig {
    pub id: UserId,
    pub tenant: TenantId,
    pub upn: String,
    pub display_name: String,
    #[serde(default)]
    pub memberships: Vec<Membership>,
    /// All skills of the user; the active profile decides which count.
    #[serde(default)]
    pub skills: Vec<UserSkill>,
    /// Profiles the user may switch between (the built-ins are always allowed).
    #[serde(default)]
    pub profiles: Vec<ProfileId>,
    #[serde(default = "on_duty")]
    pub active_profile: ProfileId,
    #[serde(default)]
    pub not_available_reasons: Vec<NotAvailableReasonId>,
    #[serde(default)]
    pub capacity: Capacity,
}

fn on_duty() -> ProfileId {
    super::skills::ResponsibilityProfile::ON_DUTY
}

impl UserConfig {
    pub fn validate(&self, limits: &super::TenantLimits) -> Result<(), ValidationError> {
        if self.upn.trim().is_empty() {
            return Err(ValidationError::new("upn", "must not be empty"));
        }
        if self.capacity.calls > limits.max_calls_per_user {
            return Err(ValidationError::new(
                "capacity.calls",
                format!(
                    "{} exceeds the tenant maximum {}",
                    self.capacity.calls, limits.max_calls_per_user
                ),
            ));
        }
        let mut seen: Vec<ServiceId> = self.memberships.iter().map(|m| m.service).collect();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(ValidationError::new(
                "memberships",
                "a service is listed twice",
            ));
        }
        Ok(())
    }

    /// A user works under the built-in On Duty / Off Duty profiles or one assigned to them:
    /// another custom profile's skills would route them as someone else.
    pub fn may_use_profile(&self, profile: ProfileId) -> bool {
        use super::skills::ResponsibilityProfile as P;
        profile == P::ON_DUTY || profile == P::OFF_DUTY || self.profiles.contains(&profile)
    }

    pub fn membership(&self, service: ServiceId) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.service == service)
    }
}
