//! The demo tenant: 3 services (Teams-based Direct Conference, skill-based with a 3-level policy,
//! Broadcast) and 20 agents with language skills.

use stratus_routing::config::values::*;
use stratus_routing::config::*;
use stratus_routing::error::ValidationError;
use stratus_routing::ids::*;
use stratus_routing::port::{Store, StoreError};

pub const DEMO_TENANT: TenantId = TenantId::from_u128(0xD3_0000_0001);
pub const DEMO_M365_TENANT: M365TenantId = M365TenantId::from_u128(0xD3_0000_0001_0000_0000_0001);
pub const SUPPORT: ServiceId = ServiceId::from_u128(0xD3_5000_0001);
pub const SALES: ServiceId = ServiceId::from_u128(0xD3_5000_0002);
pub const HOTLINE: ServiceId = ServiceId::from_u128(0xD3_5000_0003);
pub const AGENTS: u128 = 20;

const LANGUAGE: SkillCategoryId = SkillCategoryId::from_u128(0xD3_3000_0001);
const GERMAN: SkillId = SkillId::from_u128(0xD3_3100_0001);
const ENGLISH: SkillId = SkillId::from_u128(0xD3_3100_0002);
const POLICY: PolicyId = PolicyId::from_u128(0xD3_4000_0001);

pub fn agent(n: u128) -> UserId {
    UserId::from_u128(0xD3_1000_0000 + n)
}

/// The resource account (application instance) each service answers on.
pub fn app_instance(service: ServiceId) -> String {
    format!(
        "{}",
        Guid(service.0.0 | 0xA0A0_0000_0000_0000_0000_0000_0000)
    )
}

fn ok<T>(r: Result<T, ValidationError>) -> T
where
    T: Default,
{
    r.unwrap_or_default()
}

pub fn tenant() -> Tenant {
    Tenant {
        id: DEMO_TENANT,
        partner: None,
        name: "Contoso Demo".into(),
        m365_tenant: DEMO_M365_TENANT,
        limits: TenantLimits::default(),
    }
}

pub fn services() -> Vec<ServiceConfig> {
    let base = |id: ServiceId, name: &str| ServiceConfig {
        id,
        tenant: DEMO_TENANT,
        name: name.into(),
        display_name: format!("Contoso {name}"),
        app_instance_id: Some(app_instance(id)),
        upn: Some(format!("{}@contoso.example", name.to_lowercase())),
        ring_timeout: ok(RingTimeout::new(15)),
        acw: AcwSettings {
            enabled: true,
            time: ok(AcwTime::new(5)),
            early_end_allowed: true,
            extension: Some(ok(AcwExtension::new(10))),
        },
        max_queue_time: ok(MaxQueueTime::new(120)),
        ..ServiceConfig::default()
    };
    let support = ServiceConfig {
        distribution: Distribution::DirectConference,
        ..base(SUPPORT, "Support")
    };
    let sales = ServiceConfig {
        assignment: Assignment::SkillBased,
        policy: Some(POLICY),
        persistent_rona: true,
        rona_reset: ok(RonaResetTime::new(30)),
        ..base(SALES, "Sales")
    };
    let hotline = ServiceConfig {
        distribution: Distribution::Broadcast { batch: 3 },
        busy_selectable: true,
        ..base(HOTLINE, "Hotline")
    };
    vec![support, sales, hotline]
}

pub fn users() -> Vec<UserConfig> {
    (1..=AGENTS)
        .map(|n| {
            let mut memberships = vec![];
            if n <= 10 {
                memberships.push(Membership {
                    service: SUPPORT,
                    role: Role::Member,
                    active: true,
                });
            }
            if n > 6 {
                memberships.push(Membership {
                    service: SALES,
                    role: Role::Agent,
                    active: true,
                });
            }
            if n % 3 == 0 {
                memberships.push(Membership {
                    service: HOTLINE,
                    role: Role::Member,
                    active: true,
                });
            }
            UserConfig {
                id: agent(n),
                tenant: DEMO_TENANT,
                upn: format!("agent{n}@contoso.example"),
                display_name: format!("Agent {n}"),
                memberships,
                skills: vec![
                    UserSkill {
                        skill: GERMAN,
                        level: (n % 3 + 1) as u8,
                    },
                    UserSkill {
                        skill: ENGLISH,
                        level: 3,
                    },
                ],
                profiles: vec![],
                active_profile: ResponsibilityProfile::ON_DUTY,
                not_available_reasons: vec![],
                capacity: Capacity::default(),
            }
        })
        .collect()
}

/// Saves the demo tenant into `store` (idempotent: saving again overwrites).
pub async fn seed(store: &dyn Store) -> Result<(), StoreError> {
    store.save_tenant(tenant()).await?;
    store
        .save_skill_category(SkillCategory {
            id: LANGUAGE,
            tenant: DEMO_TENANT,
            name: "Language".into(),
            levelled: true,
            levels: vec![
                SkillLevel {
                    value: 1,
                    name: "Basic".into(),
                },
                SkillLevel {
                    value: 2,
                    name: "Fluent".into(),
                },
                SkillLevel {
                    value: 3,
                    name: "Native".into(),
                },
            ],
        })
        .await?;
    for (id, name) in [(GERMAN, "German"), (ENGLISH, "English")] {
        store
            .save_skill(Skill {
                id,
                tenant: DEMO_TENANT,
                category: LANGUAGE,
                name: name.into(),
            })
            .await?;
    }
    let level = |min, after| PolicyLevel {
        requirements: vec![SkillRequirement {
            skill: GERMAN,
            min_level: min,
        }],
        escalate_after: ok(EscalateAfter::new(after)),
    };
    store
        .save_policy(DistributionPolicy {
            id: POLICY,
            tenant: DEMO_TENANT,
            name: "German first".into(),
            levels: vec![level(3, 10), level(2, 10), level(1, 0)],
        })
        .await?;
    for p in [
        ResponsibilityProfile {
            id: ResponsibilityProfile::ON_DUTY,
            tenant: DEMO_TENANT,
            name: "On Duty".into(),
            kind: ProfileKind::OnDuty,
        },
        ResponsibilityProfile {
            id: ResponsibilityProfile::OFF_DUTY,
            tenant: DEMO_TENANT,
            name: "Off Duty".into(),
            kind: ProfileKind::OffDuty,
        },
    ] {
        store.save_profile(p).await?;
    }
    for s in services() {
        store.save_service(s).await?;
    }
    for u in users() {
        store.save_user(u).await?;
    }
    Ok(())
}
