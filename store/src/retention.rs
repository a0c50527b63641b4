//! Retention: stored context data is forgotten a configurable number of days after its task
//! ended; reporting facts are kept. A background task purges once at start, then daily.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stratus_routing::port::{Store, StoreError};
use stratus_routing::time::Instant;
use tokio::task::JoinHandle;

#[derive(Clone, Copy, Debug)]
pub struct RetentionConfig {
    /// Days stored context data outlives its task (product default 30).
    pub context_days: u32,
    /// Time between purges.
    pub every: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            context_days: 30,
            every: Duration::from_secs(24 * 3600),
        }
    }
}

/// The cut-off for `now`: tasks that ended before it lose their context data.
pub fn retention_cutoff(now: Instant, context_days: u32) -> Instant {
    now - Duration::from_secs(u64::from(context_days) * 24 * 3600)
}

/// Purges once: context data of tasks that ended more than `context_days` before `now`.
pub async fn purge_expired_context(
    store: &dyn Store,
    context_days: u32,
    now: Instant,
) -> Result<u64, StoreError> {
    let purged = store
        .purge_context(retention_cutoff(now, context_days))
        .await?;
    metrics::counter!("stratus_store_context_purged_total").increment(purged);
    Ok(purged)
}

/// The first purge of a process waits this long (or one period, if shorter).
const FIRST_RUN_AFTER: Duration = Duration::from_secs(10 * 60);

/// Starts the daily purge on the current tokio runtime. The store's clock is the Unix epoch.
pub fn spawn_retention(store: Arc<dyn Store>, config: RetentionConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Not at once: a node starting up has its restore to do first.
        let first = tokio::time::Instant::now() + config.every.min(FIRST_RUN_AFTER);
        let mut tick = tokio::time::interval_at(first, config.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| Instant::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
                .unwrap_or(Instant::ZERO);
            match purge_expired_context(store.as_ref(), config.context_days, now).await {
                Ok(n) => tracing::info!(
                    purged = n,
                    days = config.context_days,
                    "context retention ran"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "context retention failed; retrying at the next run")
                }
            }
        }
    })
}
