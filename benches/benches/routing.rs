//! Routing decisions: one task-push decision among 10,000 users under a 3-level skill policy, and
//! one agent-pull decision across 20 services.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use stratus_routing::availability::UserAvailability;
use stratus_routing::config::values::EscalateAfter;
use stratus_routing::config::*;
use stratus_routing::ids::*;
use stratus_routing::model::{Activity, Availability, Modality, Presence, Priority};
use stratus_routing::queue::{EnqueueTask, QueueEffect, QueueInput, ServiceQueue};
use stratus_routing::task::PreferredUsers;
use stratus_routing::time::Instant;
use stratus_routing::user::{UserEffect, UserInput, UserMachine, UserTimer};

const TENANT: TenantId = TenantId::from_u128(1);
const SKILL: SkillId = SkillId::from_u128(77);

fn policy() -> DistributionPolicy {
    let level = |min, after| PolicyLevel {
        requirements: vec![SkillRequirement {
            skill: SKILL,
            min_level: min,
        }],
        escalate_after: EscalateAfter::new(after).unwrap(),
    };
    DistributionPolicy {
        id: PolicyId::from_u128(5),
        tenant: TENANT,
        name: "3 levels".into(),
        levels: vec![level(3, 30), level(2, 30), level(1, 0)],
    }
}

fn service(n: u128, skill_based: bool) -> ServiceConfig {
    ServiceConfig {
        id: ServiceId::from_u128(n),
        tenant: TENANT,
        name: format!("s{n}"),
        assignment: if skill_based {
            Assignment::SkillBased
        } else {
            Assignment::TeamsBased
        },
        policy: skill_based.then(|| PolicyId::from_u128(5)),
        queue_capacity: 300,
        ..ServiceConfig::default()
    }
}

fn online() -> Presence {
    Presence {
        availability: Availability::Available,
        activity: Activity::Available,
        sequence: 1,
    }
}

fn on_duty() -> ResponsibilityProfile {
    ResponsibilityProfile {
        id: ResponsibilityProfile::ON_DUTY,
        tenant: TENANT,
        name: "On Duty".into(),
        kind: ProfileKind::OnDuty,
    }
}

fn user_config(n: u128, services: &[ServiceId], level: u8) -> UserConfig {
    UserConfig {
        id: UserId::from_u128(1_000_000 + n),
        tenant: TENANT,
        upn: format!("u{n}@example.com"),
        display_name: format!("u{n}"),
        memberships: services
            .iter()
            .map(|s| Membership {
                service: *s,
                role: Role::Agent,
                active: true,
            })
            .collect(),
        skills: vec![UserSkill {
            skill: SKILL,
            level,
        }],
        profiles: vec![],
        active_profile: ResponsibilityProfile::ON_DUTY,
        not_available_reasons: vec![],
        capacity: Capacity::default(),
    }
}

fn availability(n: u128, services: &[ServiceId], level: u8, idle_since: u64) -> UserAvailability {
    let at = Instant::from_millis(idle_since);
    let mut m = UserMachine::new(
        at,
        user_config(n, services, level),
        on_duty(),
        Duration::ZERO,
    );
    m.handle(at, UserInput::Presence(online()));
    m.availability()
}

/// A skill-based queue with 10,000 selectable members; `level_of(i)` is the skill level of the
/// i-th longest-idle member.
fn big_queue(level_of: impl Fn(u128) -> u8) -> ServiceQueue {
    let cfg = service(1, true);
    let mut q = ServiceQueue::new(cfg.clone(), Some(policy()), TenantLimits::default(), 1);
    for i in 0..10_000u128 {
        let a = availability(i, &[cfg.id], level_of(i), i as u64);
        q.handle(Instant::from_secs(100), QueueInput::Availability(a));
    }
    assert_eq!(q.selectable_members(), 10_000);
    q
}

fn task(n: u128) -> EnqueueTask {
    EnqueueTask {
        task: TaskId::from_u128(n),
        modality: Modality::Call,
        priority: Priority::Normal,
        preferred: PreferredUsers::default(),
        enqueued_at: Instant::from_secs(100),
    }
}

fn decision(c: &mut Criterion, name: &str, q: ServiceQueue) {
    let now = Instant::from_secs(100);
    // The decision must actually pick someone, or the bench measures nothing.
    let effects = q.clone().handle(now, QueueInput::Enqueue(task(1)));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, QueueEffect::Reserve { .. }))
    );
    c.bench_function(name, |b| {
        b.iter_batched_ref(
            || q.clone(),
            |q| black_box(q.handle(now, QueueInput::Enqueue(task(1)))),
            BatchSize::LargeInput,
        )
    });
}

fn routing_decision(c: &mut Criterion) {
    // Skill levels spread evenly (deterministic pseudo-random 1..=3); a level-1 task needs 3.
    decision(
        c,
        "decision_10k_users_3_level_policy",
        big_queue(|i| ((i * 7919) % 3 + 1) as u8),
    );
    // Worst case for the idle index: the 9,000 longest-idle users all lack the level-1 skill.
    decision(
        c,
        "decision_10k_users_3_level_policy_adversarial",
        big_queue(|i| if i < 9_000 { 1 } else { 3 }),
    );
}

fn agent_pull(c: &mut Criterion) {
    // One user in 20 services, each with 10 waiting tasks; the user becomes free and takes the
    // best task across all of them when its bid window closes.
    let services: Vec<ServiceId> = (0..20).map(|n| ServiceId::from_u128(100 + n)).collect();
    let now = Instant::from_secs(1_000);
    let mut queues: Vec<ServiceQueue> = Vec::new();
    for (k, s) in services.iter().enumerate() {
        let mut q = ServiceQueue::new(
            service(s.0.0, false),
            None,
            TenantLimits::default(),
            k as u64 * 1_000_000,
        );
        for t in 0..10u128 {
            let mut e = task((k as u128) * 100 + t);
            e.enqueued_at = Instant::from_secs(100 + (k as u64 * 7 + t as u64 * 13) % 200);
            q.handle(now, QueueInput::Enqueue(e));
        }
        queues.push(q);
    }
    let mut user = UserMachine::new(
        now,
        user_config(1, &services, 1),
        on_duty(),
        Duration::from_millis(5),
    );
    user.handle(
        now,
        UserInput::SetNotAvailable(Some(NotAvailableReasonId::from_u128(1))),
    );
    user.handle(now, UserInput::Presence(online()));
    let pull = |user: &mut UserMachine, queues: &mut Vec<ServiceQueue>| {
        let mut window = None;
        let mut avail = None;
        for e in user.handle(now, UserInput::SetNotAvailable(None)) {
            match e {
                UserEffect::ArmTimer {
                    timer: t @ UserTimer::BidWindow { .. },
                    ..
                } => window = Some(t),
                UserEffect::Availability(a) => avail = Some(a),
                _ => {}
            }
        }
        let (Some(window), Some(avail)) = (window, avail) else {
            panic!("no bid window")
        };
        for q in queues.iter_mut() {
            for e in q.handle(now, QueueInput::Availability(avail.clone())) {
                if let QueueEffect::Reserve { request, .. } = e {
                    user.handle(now, UserInput::Reserve(request));
                }
            }
        }
        user.handle(now + Duration::from_millis(5), UserInput::Timer(window))
    };
    let granted = pull(&mut user.clone(), &mut queues.clone());
    assert!(
        granted
            .iter()
            .any(|e| matches!(e, UserEffect::Granted { .. }))
    );
    c.bench_function("agent_pull_20_services", |b| {
        b.iter_batched_ref(
            || (user.clone(), queues.clone()),
            |(user, queues)| black_box(pull(user, queues)),
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, routing_decision, agent_pull);
criterion_main!(benches);
