//! Prometheus exposition: one recorder for the process, explicit histogram buckets (edges on the
//! SLA thresholds that matter), and an upkeep task so histograms do not grow without bound.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Latency buckets in seconds: sub-millisecond routing up to multi-second Graph calls.
const LATENCY: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Waiting times in seconds: edges on common SLA thresholds (20 s, 30 s, 60 s …).
const WAIT: &[f64] = &[
    1.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

#[derive(Debug, thiserror::Error)]
#[error("metrics recorder: {0}")]
pub struct MetricsError(String);

/// Installs the global recorder (once per process; later calls reuse the first handle).
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("wait_seconds".into()), WAIT))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("queue_time_seconds".into()), WAIT))
        .map_err(|e| MetricsError(e.to_string()))?
        .install_recorder()
        .map_err(|e| MetricsError(e.to_string()))?;
    Ok(HANDLE.get_or_init(|| handle).clone())
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
