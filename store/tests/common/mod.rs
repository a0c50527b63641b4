//! Shared by the store test binaries: the back ends to run against, and domain fixtures.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::Connection;
use std::collections::BTreeMap;
use std::sync::Arc;
use stratus_routing::config::values::{
    AcwTime, EscalateAfter, MaxQueueTime, ParameterId, ParameterValue, RingTimeout, SlaTime,
};
use stratus_routing::config::{
    AcwSettings, Algorithm, Assignment, Capacity, Distribution, DistributionPolicy, Membership,
    NotAvailableReason, PolicyLevel, ProfileKind, ResponsibilityProfile, Role, ServiceConfig,
    Skill, SkillCategory, SkillLevel, SkillRequirement, Tenant, TenantLimits, UserConfig,
    UserSkill,
};
use stratus_routing::facts::{ServiceSessionFact, UserSessionFact, UserStateInterval};
use stratus_routing::ids::{
    CallId, M365TenantId, NotAvailableReasonId, OfferId, PartnerId, PolicyId, ProfileId, ServiceId,
    SkillCategoryId, SkillId, TaskId, TenantId, UserId,
};
use stratus_routing::model::{Direction, Modality, Priority};
use stratus_routing::port::{LiveTaskSnapshot, TenantSnapshot};
use stratus_routing::task::{
    Customer, Outcome, PreferredUser, PreferredUsers, SystemParameters, TaskEvent, TaskEventKind,
    TaskStateKind, UserSessionOutcome,
};
use stratus_routing::time::Instant;
use stratus_routing::user::UserStatus;
use stratus_store::{FullStore, PgStore, SqliteStore};

/// One store under test. Holds what keeps it alive (the SQLite file's directory).
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn FullStore>,
    /// What `stratus_store::open` takes to reach the same database.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server to test against. Unset: the PostgreSQL half is skipped with a notice,
/// except under CI, where `scripts/test.sh` always sets it and its absence is a failure.
pub fn pg_url() -> Option<String> {
    match std::env::var("STRATUS_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but STRATUS_TEST_PG_URL is unset: run the tests through scripts/test.sh"
                );
            }
            eprintln!(
                "NOTICE: STRATUS_TEST_PG_URL is unset; PostgreSQL tests skipped \
                 (scripts/test.sh starts a throwaway server and sets it)"
            );
            None
        }
    }
}

/// Creates a database with a random name on the server of `url`; returns its URL.
pub async fn fresh_pg_database(url: &str) -> String {
    let name = format!("stratus_test_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to the test server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create the test database");
    admin.close().await.ok();
    with_database(url, &name)
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stratus.db");
    let store = SqliteStore::open(path.to_str().unwrap())
        .await
        .expect("open SQLite");
    Backend {
        name: "sqlite",
        store: Arc::new(store),
        url: format!("sqlite://{}", path.display()),
        _dir: Some(dir),
    }
}

pub async fn postgres(url: &str) -> Backend {
    let db = fresh_pg_database(url).await;
    let store = PgStore::connect(&db).await.expect("connect PostgreSQL");
    Backend {
        name: "postgres",
        store: Arc::new(store),
        url: db,
        _dir: None,
    }
}

/// SQLite always; PostgreSQL when a server is configured.
pub async fn backends() -> Vec<Backend> {
    let mut all = vec![sqlite().await];
    if let Some(url) = pg_url() {
        all.push(postgres(&url).await);
    }
    all
}

// --- fixtures ---

pub fn tenant_id(n: u128) -> TenantId {
    TenantId::from_u128(0x7e_0000 + n)
}

pub fn tenant(n: u128) -> Tenant {
    Tenant {
        id: tenant_id(n),
        partner: Some(PartnerId::from_u128(0xa0 + n)),
        name: format!("Tenant {n}"),
        m365_tenant: M365TenantId::from_u128(0x365_0000 + n),
        limits: TenantLimits {
            max_calls_per_user: 3,
            ..TenantLimits::default()
        },
    }
}

pub const CATEGORY: SkillCategoryId = SkillCategoryId::from_u128(0xc1);
pub const TRAITS: SkillCategoryId = SkillCategoryId::from_u128(0xc2);
pub const GERMAN: SkillId = SkillId::from_u128(0x51);
pub const ENGLISH: SkillId = SkillId::from_u128(0x52);
pub const VIP: SkillId = SkillId::from_u128(0x53);
pub const POLICY: PolicyId = PolicyId::from_u128(0x90);
pub const CUSTOM_PROFILE: ProfileId = ProfileId::from_u128(0x93);
pub const LUNCH: NotAvailableReasonId = NotAvailableReasonId::from_u128(0x4a);
pub const SALES: ServiceId = ServiceId::from_u128(0x5a1e5);
pub const SUPPORT: ServiceId = ServiceId::from_u128(0x5b);
pub const ALICE: UserId = UserId::from_u128(0xa11ce);
pub const BOB: UserId = UserId::from_u128(0xb0b);

/// A tenant's whole configuration, every field away from its default. `n` only changes names
/// (ids stay the same across tenants, to prove keys are per tenant).
pub fn configuration(n: u128) -> TenantSnapshot {
    let t = tenant_id(n);
    let skill_categories = vec![
        SkillCategory {
            id: CATEGORY,
            tenant: t,
            name: format!("Language {n}"),
            levelled: true,
            levels: vec![
                SkillLevel {
                    value: 3,
                    name: "Native".into(),
                },
                SkillLevel {
                    value: 1,
                    name: "Basic".into(),
                },
                SkillLevel {
                    value: 2,
                    name: "Fluent".into(),
                },
            ],
        },
        SkillCategory {
            id: TRAITS,
            tenant: t,
            name: "Traits".into(),
            levelled: false,
            levels: vec![],
        },
    ];
    let skills = vec![
        Skill {
            id: GERMAN,
            tenant: t,
            category: CATEGORY,
            name: format!("German {n}"),
        },
        Skill {
            id: ENGLISH,
            tenant: t,
            category: CATEGORY,
            name: "English".into(),
        },
        Skill {
            id: VIP,
            tenant: t,
            category: TRAITS,
            name: "VIP".into(),
        },
    ];
    let profiles = vec![
        ResponsibilityProfile {
            id: ResponsibilityProfile::ON_DUTY,
            tenant: t,
            name: "On Duty".into(),
            kind: ProfileKind::OnDuty,
        },
        ResponsibilityProfile {
            id: ResponsibilityProfile::OFF_DUTY,
            tenant: t,
            name: "Off Duty".into(),
            kind: ProfileKind::OffDuty,
        },
        ResponsibilityProfile {
            id: CUSTOM_PROFILE,
            tenant: t,
            name: format!("German only {n}"),
            kind: ProfileKind::Custom {
                skills: vec![UserSkill {
                    skill: GERMAN,
                    level: 2,
                }],
            },
        },
    ];
    let policies = vec![DistributionPolicy {
        id: POLICY,
        tenant: t,
        name: format!("German first {n}"),
        levels: vec![
            PolicyLevel {
                requirements: vec![
                    SkillRequirement {
                        skill: GERMAN,
                        min_level: 3,
                    },
                    SkillRequirement {
                        skill: VIP,
                        min_level: 0,
                    },
                ],
                escalate_after: EscalateAfter::new(15).unwrap(),
            },
            PolicyLevel {
                requirements: vec![SkillRequirement {
                    skill: GERMAN,
                    min_level: 1,
                }],
                escalate_after: EscalateAfter::new(0).unwrap(),
            },
        ],
    }];
    let services = vec![
        ServiceConfig {
            id: SALES,
            tenant: t,
            name: format!("Sales {n}"),
            display_name: "Sales line".into(),
            app_instance_id: Some(format!("app-{n}")),
            upn: Some("sales@example.com".into()),
            pstn_number: Some("+41440000000".into()),
            assignment: Assignment::SkillBased,
            distribution: Distribution::Broadcast { batch: 4 },
            algorithm: Algorithm::RoundRobin,
            policy: Some(POLICY),
            ring_timeout: RingTimeout::new(25).unwrap(),
            persistent_rona: true,
            acw: AcwSettings {
                enabled: true,
                time: AcwTime::new(45).unwrap(),
                early_end_allowed: true,
                extension: None,
            },
            busy_selectable: true,
            away_selectable: true,
            sla: SlaTime::new(30).unwrap(),
            default_priority: Priority::High,
            max_queue_time: MaxQueueTime::new(600).unwrap(),
            queue_capacity: 42,
            ordered_users: vec![BOB, ALICE],
            welcome_prompt: Some("Welcome".into()),
            ..ServiceConfig::default()
        },
        ServiceConfig {
            id: SUPPORT,
            tenant: t,
            name: "Support".into(),
            ..ServiceConfig::default()
        },
    ];
    let users = vec![
        UserConfig {
            id: ALICE,
            tenant: t,
            upn: format!("alice{n}@example.com"),
            display_name: "Alice".into(),
            memberships: vec![
                Membership {
                    service: SUPPORT,
                    role: Role::Member,
                    active: false,
                },
                Membership {
                    service: SALES,
                    role: Role::Owner,
                    active: true,
                },
            ],
            skills: vec![
                UserSkill {
                    skill: GERMAN,
                    level: 3,
                },
                UserSkill {
                    skill: VIP,
                    level: 0,
                },
                UserSkill {
                    skill: ENGLISH,
                    level: 1,
                },
            ],
            profiles: vec![CUSTOM_PROFILE],
            active_profile: CUSTOM_PROFILE,
            not_available_reasons: vec![LUNCH],
            capacity: Capacity {
                calls: 2,
                chats: 3,
                emails: 0,
                external_tasks: 5,
            },
        },
        UserConfig {
            id: BOB,
            tenant: t,
            upn: "bob@example.com".into(),
            display_name: "Bob".into(),
            memberships: vec![],
            skills: vec![],
            profiles: vec![],
            active_profile: ResponsibilityProfile::ON_DUTY,
            not_available_reasons: vec![],
            capacity: Capacity::default(),
        },
    ];
    TenantSnapshot {
        tenant: tenant(n),
        services,
        users,
        skill_categories,
        skills,
        profiles,
        policies,
        not_available_reasons: vec![NotAvailableReason {
            id: LUNCH,
            tenant: t,
            name: format!("Lunch {n}"),
        }],
    }
}

/// Saves a configuration in dependency order (tenant, categories, skills, policies, …, users).
pub async fn save_configuration(store: &dyn FullStore, c: &TenantSnapshot) {
    store.save_tenant(c.tenant.clone()).await.unwrap();
    for x in &c.skill_categories {
        store.save_skill_category(x.clone()).await.unwrap();
    }
    for x in &c.skills {
        store.save_skill(x.clone()).await.unwrap();
    }
    for x in &c.profiles {
        store.save_profile(x.clone()).await.unwrap();
    }
    for x in &c.policies {
        store.save_policy(x.clone()).await.unwrap();
    }
    for x in &c.not_available_reasons {
        store.save_not_available_reason(x.clone()).await.unwrap();
    }
    for x in &c.services {
        store.save_service(x.clone()).await.unwrap();
    }
    for x in &c.users {
        store.save_user(x.clone()).await.unwrap();
    }
}

pub fn task_id(n: u128) -> TaskId {
    TaskId::from_u128(0x7a5c_0000 + n)
}

pub fn event(tenant: TenantId, task: TaskId, seq: u64, kind: TaskEventKind, at: u64) -> TaskEvent {
    TaskEvent {
        seq,
        at: Instant::from_millis(at),
        tenant,
        task,
        kind,
        from: TaskStateKind::Queued,
        to: TaskStateKind::Offered,
        service: Some(SALES),
        user: Some(ALICE),
        // Past i64::MAX on purpose: ids travel as i64 bit patterns.
        offer: Some(OfferId(u64::MAX - seq)),
        outcome: (kind == TaskEventKind::Terminated).then_some(Outcome::QueueTimeout),
        parameter: (kind == TaskEventKind::ParameterUpdated).then(|| {
            (
                ParameterId::new("OrderNo").unwrap(),
                ParameterValue::new(format!("A-{seq}")).unwrap(),
            )
        }),
    }
}

pub fn live_task(tenant: TenantId, task: TaskId, seq: u64) -> LiveTaskSnapshot {
    let mut context = BTreeMap::new();
    context.insert(
        ParameterId::new("OrderNo").unwrap(),
        ParameterValue::new("A-17").unwrap(),
    );
    context.insert(
        ParameterId::new("Empty").unwrap(),
        ParameterValue::new("").unwrap(),
    );
    let mut custom_fields = BTreeMap::new();
    custom_fields.insert("tier".to_owned(), "gold".to_owned());
    LiveTaskSnapshot {
        tenant,
        task,
        call: Some(CallId::new(format!("call-{task}"))),
        service: Some(SALES),
        modality: Modality::Chat,
        direction: Direction::Outbound,
        priority: Priority::Strict,
        state: TaskStateKind::Queued,
        created_at: Instant::from_millis(1_700_000_000_000),
        queued_at: Some(Instant::from_millis(1_700_000_004_000)),
        connected_user: Some(BOB),
        system: SystemParameters {
            caller_id: Some("caller".into()),
            caller_number: Some("+4179".into()),
            caller_upn: None,
            anonymous: true,
            service: Some(SALES),
            call_chain_id: Some("chain".into()),
            call_id: Some(CallId::new("call")),
            reference_id: Some("ref".into()),
        },
        context,
        preferred: PreferredUsers::new(vec![
            PreferredUser {
                user: BOB,
                priority: 5,
            },
            PreferredUser {
                user: ALICE,
                priority: 1,
            },
        ])
        .unwrap(),
        customer: Customer {
            first_name: Some("Ada".into()),
            city: Some("Zürich".into()),
            custom_fields,
            ..Customer::default()
        },
        seq,
        session_index: 0,
    }
}

pub fn service_session(
    tenant: TenantId,
    task: TaskId,
    index: u32,
    service: ServiceId,
    start: u64,
    end: u64,
    outcome: Outcome,
) -> ServiceSessionFact {
    ServiceSessionFact {
        tenant,
        task,
        service,
        session_index: index,
        modality: Modality::Call,
        direction: Direction::Inbound,
        started_at: Instant::from_millis(start),
        ended_at: Instant::from_millis(end),
        outcome,
        ivr_ms: 1_000,
        queue_ms: 2_000,
        connected_ms: 30_000,
        hold_ms: 500,
        hold_count: 2,
        acw_ms: 20_000,
        under_sla: true,
        policy_level: Some(2),
        user: Some(ALICE),
    }
}

pub fn user_session(
    tenant: TenantId,
    task: TaskId,
    offer: u64,
    user: UserId,
    outcome: UserSessionOutcome,
) -> UserSessionFact {
    UserSessionFact {
        tenant,
        task,
        service: SALES,
        user,
        offer: OfferId(offer),
        offered_at: Instant::from_millis(1_000 + offer),
        ended_at: Instant::from_millis(2_000 + offer),
        outcome,
        policy_level: None,
        connected_ms: 0,
    }
}

pub fn user_state(
    tenant: TenantId,
    user: UserId,
    start: u64,
    end: u64,
    state: UserStatus,
) -> UserStateInterval {
    UserStateInterval {
        tenant,
        user,
        started_at: Instant::from_millis(start),
        ended_at: Instant::from_millis(end),
        state,
    }
}
