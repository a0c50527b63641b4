//! The actor pipeline without I/O (in-memory ports): tasks per second from enqueue to lease
//! granted, with its latency distribution, while 2,000 calls stay live among 10,000 users; and the
//! resident memory per idle user actor and per live call (RSS from /proc/self/status).
//!
//! Run: `cargo bench -p stratus-benches --bench actors` (release). Flow of one measured task: the
//! bench sends the call's `Established` (the call flow enqueues the task), the service asks a user
//! actor for a lease, the user grants it, the service offers it to the call, the call sends
//! `RingAgent`: the instant the fake `CallControl` sees that command ends the sample.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stratus_actors::fakes::MemoryStore;
use stratus_actors::{Node, NodeConfig, Ports};
use stratus_routing::config::values::RingTimeout;
use stratus_routing::config::*;
use stratus_routing::ids::*;
use stratus_routing::model::{Activity, Availability, Presence};
use stratus_routing::port::{
    BoxFuture, CallAction, CallCommand, CallControl, CallControlError, CallEvent, CallEventKind,
    EventSink, Record, TenantSnapshot,
};

const TENANT: TenantId = TenantId::from_u128(1);
const M365: M365TenantId = M365TenantId::from_u128(0x365);
const SERVICES: u128 = 100;
const USERS_PER_SERVICE: u128 = 100;
const LIVE_CALLS: usize = 2_000;
const BATCH: usize = 4_000;
const BATCHES: usize = 5;
/// Calls run through at the end, to show the timer heap stays bounded.
const THROUGH: usize = 100_000;

/// Records when each call's first `RingAgent` arrives.
#[derive(Default)]
struct Rings {
    at: Mutex<HashMap<String, Instant>>,
    count: AtomicUsize,
}

impl CallControl for Rings {
    fn execute(&self, cmd: CallCommand) -> BoxFuture<'_, Result<(), CallControlError>> {
        if let CallAction::RingAgent { .. } = cmd.action {
            let now = Instant::now();
            let mut at = self.at.lock().unwrap();
            if at.insert(cmd.call.0, now).is_none() {
                self.count.fetch_add(1, Ordering::Relaxed);
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Drops records: the bench measures routing, not a writer.
struct NullSink;
impl EventSink for NullSink {
    fn emit(&self, _record: Record) {}
}

fn snapshot() -> TenantSnapshot {
    let services = (0..SERVICES)
        .map(|n| ServiceConfig {
            id: ServiceId::from_u128(0x5000 + n),
            tenant: TENANT,
            name: format!("service {n}"),
            display_name: format!("Service {n}"),
            app_instance_id: Some(format!("app-{n}")),
            // Live calls keep ringing for the whole bench.
            ring_timeout: RingTimeout::new(300).unwrap(),
            ..ServiceConfig::default()
        })
        .collect();
    let users = (0..SERVICES * USERS_PER_SERVICE)
        .map(|n| UserConfig {
            id: UserId::from_u128(0x10_0000 + n),
            tenant: TENANT,
            upn: format!("user{n}@example.com"),
            display_name: format!("User {n}"),
            memberships: vec![Membership {
                service: ServiceId::from_u128(0x5000 + n % SERVICES),
                role: Role::Agent,
                active: true,
            }],
            skills: Vec::new(),
            profiles: Vec::new(),
            active_profile: ResponsibilityProfile::ON_DUTY,
            not_available_reasons: Vec::new(),
            capacity: Capacity::default(),
        })
        .collect();
    TenantSnapshot {
        tenant: Tenant {
            id: TENANT,
            partner: None,
            name: "bench".into(),
            m365_tenant: M365,
            limits: TenantLimits::default(),
        },
        services,
        users,
        skill_categories: Vec::new(),
        skills: Vec::new(),
        profiles: Vec::new(),
        policies: Vec::new(),
        not_available_reasons: Vec::new(),
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn incoming(node: &Node, call: &str, service: u128) {
    node.call_event(CallEvent {
        call: CallId::new(call),
        kind: CallEventKind::Incoming {
            m365_tenant: M365,
            target: format!("app-{service}"),
            caller: Default::default(),
            call_chain_id: None,
        },
    })
    .unwrap();
}

fn event(node: &Node, call: &str, kind: CallEventKind) {
    node.call_event(CallEvent {
        call: CallId::new(call),
        kind,
    })
    .unwrap();
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > Duration::from_secs(120) {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn run() {
    let rings = Arc::new(Rings::default());
    let store = MemoryStore::new();
    store.put_snapshot(snapshot());
    let ports = Ports {
        calls: rings.clone(),
        store: Arc::new(store),
        sink: Arc::new(NullSink),
    };

    let users = (SERVICES * USERS_PER_SERVICE) as u64;
    let before_users = rss_kib();
    let node = Node::start(NodeConfig::default(), ports).await.unwrap();
    for n in 0..SERVICES * USERS_PER_SERVICE {
        let p = Presence {
            availability: Availability::Available,
            activity: Activity::Available,
            sequence: 1,
        };
        node.presence(TENANT, UserId::from_u128(0x10_0000 + n), p)
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_users = rss_kib();

    // 2,000 live calls, each ringing a user, for the rest of the bench.
    for i in 0..LIVE_CALLS {
        incoming(&node, &format!("live-{i}"), (i as u128) % SERVICES);
    }
    for i in 0..LIVE_CALLS {
        event(&node, &format!("live-{i}"), CallEventKind::Established);
    }
    until("the live calls to ring", || {
        rings.count.load(Ordering::Relaxed) >= LIVE_CALLS
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_calls = rss_kib();

    // Measured batches: enqueue (Established) -> lease granted -> RingAgent.
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut total_tasks = 0usize;
    let mut total_time = Duration::ZERO;
    for b in 0..BATCHES {
        let names: Vec<String> = (0..BATCH).map(|i| format!("b{b}-{i}")).collect();
        for (i, call) in names.iter().enumerate() {
            incoming(&node, call, (i as u128) % SERVICES);
        }
        tokio::time::sleep(Duration::from_millis(100)).await; // answered, not yet queued
        let target = rings.count.load(Ordering::Relaxed) + BATCH;
        let mut sent = Vec::with_capacity(BATCH);
        let start = Instant::now();
        for call in &names {
            sent.push(Instant::now());
            event(&node, call, CallEventKind::Established);
        }
        until("a batch to ring", || {
            rings.count.load(Ordering::Relaxed) >= target
        })
        .await;
        let at = rings.at.lock().unwrap().clone();
        let last = names
            .iter()
            .filter_map(|c| at.get(c))
            .max()
            .copied()
            .unwrap();
        total_time += last.duration_since(start);
        total_tasks += BATCH;
        for (call, t0) in names.iter().zip(&sent) {
            let t1 = at[call];
            hist.record(t1.duration_since(*t0).as_micros().max(1) as u64)
                .unwrap();
        }
        // The callers hang up: their users are free for the next batch.
        for call in &names {
            event(&node, call, CallEventKind::Terminated { code: 0 });
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Paced: tasks arrive at a steady rate below saturation; latency without burst queueing.
    let mut paced = Vec::new();
    for (b, rate) in [5_000usize, 10_000, 25_000].into_iter().enumerate() {
        let names: Vec<String> = (0..BATCH).map(|i| format!("p{b}-{i}")).collect();
        for (i, call) in names.iter().enumerate() {
            incoming(&node, call, (i as u128) % SERVICES);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let target = rings.count.load(Ordering::Relaxed) + BATCH;
        let per_ms = rate / 1000;
        let mut sent = Vec::with_capacity(BATCH);
        let start = Instant::now();
        for (i, chunk) in names.chunks(per_ms).enumerate() {
            // Open loop: chunk i leaves at i ms, whatever the pipeline does.
            let due = start + Duration::from_millis(i as u64);
            tokio::time::sleep_until(due.into()).await;
            for call in chunk {
                sent.push(Instant::now());
                event(&node, call, CallEventKind::Established);
            }
        }
        until("a paced batch to ring", || {
            rings.count.load(Ordering::Relaxed) >= target
        })
        .await;
        let at = rings.at.lock().unwrap().clone();
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for (call, t0) in names.iter().zip(&sent) {
            h.record(at[call].duration_since(*t0).as_micros().max(1) as u64)
                .unwrap();
        }
        paced.push((rate, h));
        for call in &names {
            event(&node, call, CallEventKind::Terminated { code: 0 });
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // 100,000 calls through (answered, queued, rung, caller hangs up while it rings): the node's
    // timer heap must end bounded by what is still live, not by what passed through.
    let through_start = Instant::now();
    for chunk in 0..THROUGH / BATCH {
        let names: Vec<String> = (0..BATCH).map(|i| format!("t{chunk}-{i}")).collect();
        for (i, call) in names.iter().enumerate() {
            incoming(&node, call, (i as u128) % SERVICES);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let target = rings.count.load(Ordering::Relaxed) + BATCH;
        for call in &names {
            event(&node, call, CallEventKind::Established);
        }
        until("calls passing through to ring", || {
            rings.count.load(Ordering::Relaxed) >= target
        })
        .await;
        for call in &names {
            event(&node, call, CallEventKind::Terminated { code: 0 });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let through_secs = through_start.elapsed().as_secs_f64();
    let (timers_armed, timer_slots) = node.timer_sizes();

    let per_user = (after_users.saturating_sub(before_users)) as f64 / users as f64;
    let per_call = (after_calls.saturating_sub(after_users)) as f64 / LIVE_CALLS as f64;
    println!(
        "actor pipeline (in-memory ports, {users} users in {SERVICES} services, {LIVE_CALLS} live calls ringing)"
    );
    println!(
        "  enqueue -> lease granted: {:.0} tasks/s over {total_tasks} tasks in {BATCHES} bursts of {BATCH}",
        total_tasks as f64 / total_time.as_secs_f64()
    );
    println!(
        "  latency: p50 {} µs, p90 {} µs, p99 {} µs, max {} µs (bursts: every task of a burst is enqueued at once)",
        hist.value_at_quantile(0.50),
        hist.value_at_quantile(0.90),
        hist.value_at_quantile(0.99),
        hist.max()
    );
    for (rate, h) in &paced {
        println!(
            "  paced at {rate} tasks/s ({BATCH} tasks): p50 {} µs, p99 {} µs, max {} µs",
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.99),
            h.max()
        );
    }
    println!(
        "  RSS: {per_user:.1} KiB per idle user actor ({before_users} -> {after_users} KiB), {per_call:.1} KiB per live call (-> {after_calls} KiB)"
    );
    println!(
        "  after {THROUGH} calls through ({through_secs:.1} s) with {LIVE_CALLS} live: {timers_armed} timers armed, {timer_slots} heap slots"
    );
    node.shutdown().await;
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}
