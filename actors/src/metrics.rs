//! Metric names and the small helpers every actor uses. Base units, `_total` counters,
//! `_seconds` histograms; labels have bounded cardinality (actor kind, offer result).

use metrics::{counter, gauge, histogram};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub const ACTOR_FAILURES: &str = "stratus_actor_failures_total";
pub const ACTOR_RESTARTS: &str = "stratus_actor_restarts_total";
pub const ACTOR_GIVEN_UP: &str = "stratus_actor_given_up_total";
pub const MAILBOX_DEPTH: &str = "stratus_actor_mailbox_depth";
pub const HANDLER_SECONDS: &str = "stratus_actor_handler_seconds";
pub const OFFERS: &str = "stratus_offers_total";
pub const QUEUE_DEPTH: &str = "stratus_queue_depth";
pub const CALL_COMMAND_FAILURES: &str = "stratus_call_command_failures_total";

/// The kinds of actors, as metric label values.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    Root,
    Tenant,
    User,
    Service,
    Task,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Root => "root",
            Kind::Tenant => "tenant",
            Kind::User => "user",
            Kind::Service => "service",
            Kind::Task => "task",
        }
    }
    fn index(self) -> usize {
        match self {
            Kind::Root => 0,
            Kind::Tenant => 1,
            Kind::User => 2,
            Kind::Service => 3,
            Kind::Task => 4,
        }
    }
}

/// Messages sent but not yet handled, per actor kind (ractor's mailboxes are unbounded and do not
/// expose their length, so the runtime counts at send and at handle).
static DEPTH: [AtomicI64; 5] = [
    AtomicI64::new(0),
    AtomicI64::new(0),
    AtomicI64::new(0),
    AtomicI64::new(0),
    AtomicI64::new(0),
];

pub fn sent(kind: Kind) {
    DEPTH[kind.index()].fetch_add(1, Ordering::Relaxed);
}

/// Called when a handler starts; returns the depth it saw.
pub fn received(kind: Kind) -> i64 {
    let d = DEPTH[kind.index()].fetch_sub(1, Ordering::Relaxed) - 1;
    gauge!(MAILBOX_DEPTH, "kind" => kind.label()).set(d.max(0) as f64);
    d
}

/// A message that could not be delivered (its actor is gone) leaves the count.
pub fn dropped(kind: Kind) {
    DEPTH[kind.index()].fetch_sub(1, Ordering::Relaxed);
}

pub fn handled(kind: Kind, took: Duration) {
    histogram!(HANDLER_SECONDS, "kind" => kind.label()).record(took.as_secs_f64());
}

pub fn failure(kind: Kind) {
    counter!(ACTOR_FAILURES, "kind" => kind.label()).increment(1);
}
pub fn restart(kind: Kind) {
    counter!(ACTOR_RESTARTS, "kind" => kind.label()).increment(1);
}
pub fn given_up(kind: Kind) {
    counter!(ACTOR_GIVEN_UP, "kind" => kind.label()).increment(1);
}
pub fn offer(result: &'static str) {
    counter!(OFFERS, "result" => result).increment(1);
}
pub fn queue_depth(waiting: u64) {
    gauge!(QUEUE_DEPTH).set(waiting as f64);
}
pub fn call_command_failed(action: &'static str) {
    counter!(CALL_COMMAND_FAILURES, "action" => action).increment(1);
}
