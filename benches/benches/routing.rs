//! Routing decisions: one task-push decision among 10,000 users under a 3-level skill policy, and
//! one agent-pull decision across 20 services.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use stratus_routing::queue::{QueueEffect, ServiceQueue};
use stratus_routing::user::UserEffect;

mod fixtures;

fn decision(c: &mut Criterion, name: &str, q: ServiceQueue) {
    // The decision must actually pick someone, or the bench measures nothing.
    let effects = fixtures::decide(&mut q.clone());
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, QueueEffect::Reserve { .. }))
    );
    c.bench_function(name, |b| {
        b.iter_batched_ref(
            || q.clone(),
            |q| black_box(fixtures::decide(q)),
            BatchSize::LargeInput,
        )
    });
}

fn routing_decision(c: &mut Criterion) {
    decision(
        c,
        "decision_10k_users_3_level_policy",
        fixtures::spread_queue(),
    );
    decision(
        c,
        "decision_10k_users_3_level_policy_adversarial",
        fixtures::adversarial_queue(),
    );
}

fn agent_pull(c: &mut Criterion) {
    // One user in 20 services, each with 10 waiting tasks; the user becomes free and takes the
    // best task across all of them when its bid window closes.
    let (user, queues) = fixtures::pull_setup();
    let granted = fixtures::pull(&mut user.clone(), &mut queues.clone());
    assert!(
        granted
            .iter()
            .any(|e| matches!(e, UserEffect::Granted { .. }))
    );
    c.bench_function("agent_pull_20_services", |b| {
        b.iter_batched_ref(
            || (user.clone(), queues.clone()),
            |(user, queues)| black_box(fixtures::pull(user, queues)),
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, routing_decision, agent_pull);
criterion_main!(benches);
