//! Configuration: the one schema shared by the REST API, config files and stored JSON.

mod service;
mod skills;
mod user;
pub mod values;

pub use service::{AcwSettings, Algorithm, Assignment, Distribution, ServiceConfig};
pub use skills::{
    DistributionPolicy, PolicyLevel, ProfileKind, ResponsibilityProfile, Skill, SkillCategory,
    SkillLevel, SkillRequirement, UserSkill,
};
pub use user::{Capacity, Membership, NotAvailableReason, Role, UserConfig};

use crate::ids::{M365TenantId, OrgUnitId, PartnerId, TenantId};
use serde::{Deserialize, Serialize};

/// The product's limits, as configuration (DESIGN §3.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantLimits {
    pub max_users_per_service: u32,
    pub max_concurrent_calls_per_service: u32,
    pub max_calls_per_user: u8,
    /// Tenant-wide concurrent tasks per modality (calls, chats, emails, external tasks).
    pub max_concurrent_tasks: [u32; 4],
}

impl Default for TenantLimits {
    fn default() -> Self {
        TenantLimits {
            max_users_per_service: 100,
            max_concurrent_calls_per_service: 300,
            max_calls_per_user: 2,
            max_concurrent_tasks: [1000, 1000, 1000, 1000],
        }
    }
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tenant {
    pub id: TenantId,
    #[serde(default)]
    pub partner: Option<PartnerId>,
    pub name: String,
    /// The Microsoft 365 tenant this tenant is bound to (Graph's `tenantId` / `tid`).
    pub m365_tenant: M365TenantId,
    #[serde(default)]
    pub limits: TenantLimits,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    pub tenant: TenantId,
    pub name: String,
    pub parent: Option<OrgUnitId>,
}
