//! Prometheus exposition: one recorder for the process, explicit histogram buckets (edges on the
//! SLA thresholds that matter), an upkeep task so histograms do not grow without bound, and a tap
//! on the actors' records for the reporting metrics (service sessions by outcome, queue wait).

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::ids::TaskId;
use stratus_routing::port::{EventSink, Record};
use stratus_routing::task::{TaskEvent, TaskEventKind};
use stratus_routing::time::Instant;
use tokio_util::sync::CancellationToken;

/// Latency buckets in seconds: sub-millisecond routing up to multi-second Graph calls.
const LATENCY: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Waiting times in seconds: edges on common SLA thresholds (20 s, 30 s, 60 s …).
const WAIT: &[f64] = &[
    1.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

/// Queue wait of each service session, in seconds.
pub const QUEUE_WAIT: &str = "stratus_queue_wait_seconds";
/// Service sessions ended, by modality and outcome group.
pub const SERVICE_SESSIONS: &str = "stratus_service_sessions_total";
/// Offers ended, by how (accepted, declined, RONA, …), from the user sessions.
pub const USER_SESSIONS: &str = "stratus_user_sessions_total";
/// From a task entering a queue to its first offer, in seconds.
pub const ENQUEUE_TO_OFFER: &str = "stratus_enqueue_to_offer_seconds";
/// Tasks created.
pub const TASKS_CREATED: &str = "stratus_tasks_created_total";

#[derive(Debug, thiserror::Error)]
#[error("metrics recorder: {0}")]
pub struct MetricsError(String);

/// Installs the global recorder (once per process; later calls reuse the first handle, also
/// when several servers start at once, as in tests).
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    static HANDLE: std::sync::Mutex<Option<PrometheusHandle>> = std::sync::Mutex::new(None);
    // The guarded value is an `Option` of a handle: a poisoned lock still holds a valid one.
    let mut slot = HANDLE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(h) = slot.as_ref() {
        return Ok(h.clone());
    }
    // Full-name matchers are consulted before suffix matchers.
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(QUEUE_WAIT.into()), WAIT)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY))
        .map_err(|e| MetricsError(e.to_string()))?
        .install_recorder()
        .map_err(|e| MetricsError(e.to_string()))?;
    *slot = Some(handle.clone());
    Ok(handle)
}

/// Runs the recorder's upkeep every few seconds until cancelled.
pub fn spawn_upkeep(handle: PrometheusHandle, cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => handle.run_upkeep(),
            }
        }
    });
}

/// Passes every record on to `inner`, counting the reporting facts on the way.
pub struct MeteredSink {
    inner: Arc<dyn EventSink>,
    /// When each queued task entered its queue, until its first offer (bounded by live tasks).
    queued: std::sync::Mutex<std::collections::HashMap<TaskId, Instant>>,
}

impl MeteredSink {
    pub fn new(inner: Arc<dyn EventSink>) -> Self {
        MeteredSink {
            inner,
            queued: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn on_event(&self, ev: &TaskEvent) {
        // The map holds plain values: a poisoned lock is still consistent.
        let mut queued = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        match ev.kind {
            TaskEventKind::Created => metrics::counter!(TASKS_CREATED).increment(1),
            TaskEventKind::Queued => {
                queued.entry(ev.task).or_insert(ev.at);
            }
            TaskEventKind::Offered => {
                if let Some(at) = queued.remove(&ev.task) {
                    let secs = ev.at.as_millis().saturating_sub(at.as_millis()) as f64 / 1000.0;
                    metrics::histogram!(ENQUEUE_TO_OFFER).record(secs);
                }
            }
            TaskEventKind::Terminated | TaskEventKind::Transferred => {
                queued.remove(&ev.task);
            }
            _ => {}
        }
    }
}

impl EventSink for MeteredSink {
    fn emit(&self, record: Record) {
        match &record {
            Record::TaskEvent(ev) => self.on_event(ev),
            Record::ServiceSession(f) => {
                let modality = format!("{:?}", f.modality);
                metrics::histogram!(QUEUE_WAIT, "modality" => modality.clone())
                    .record(f.queue_ms as f64 / 1000.0);
                metrics::counter!(SERVICE_SESSIONS, "modality" => modality, "outcome_group" => f.outcome.group().name())
                    .increment(1);
            }
            Record::UserSession(f) => {
                metrics::counter!(USER_SESSIONS, "outcome" => format!("{:?}", f.outcome))
                    .increment(1);
            }
            _ => {}
        }
        self.inner.emit(record);
    }
}

/// Live task counts and the node's running totals, read at each scrape.
pub fn record_live(node: &stratus_actors::Node) {
    let s = node.stats();
    for (state, n) in [
        ("waiting", s.waiting),
        ("ringing", s.ringing),
        ("connected", s.connected),
        ("wrap_up", s.wrap_up),
    ] {
        metrics::gauge!("stratus_tasks_live", "state" => state).set(n as f64);
    }
    metrics::counter!("stratus_tasks_handled_total").absolute(s.handled);
    metrics::counter!("stratus_tasks_abandoned_total").absolute(s.abandoned);
    metrics::counter!("stratus_rona_total").absolute(s.rona);
}
