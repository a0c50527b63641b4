//! Time for the machines. `routing::time::Instant` here is milliseconds since the UNIX epoch: the
//! wall clock is read once at node start and from then on advanced by tokio's monotonic clock, so
//! stored times (snapshots, facts) are comparable across restarts, and under tokio's paused time
//! (tests) the machines' clock moves exactly with the paused clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stratus_routing::time::Instant;

/// The node's clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    origin: tokio::time::Instant,
    origin_ms: u64,
}

impl Clock {
    /// Reads the wall clock once; later readings follow tokio's clock.
    pub fn start() -> Self {
        let origin_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Clock {
            origin: tokio::time::Instant::now(),
            origin_ms,
        }
    }

    pub fn now(&self) -> Instant {
        let elapsed = self.origin.elapsed();
        Instant::from_millis(self.origin_ms) + elapsed
    }

    /// The tokio instant at which the machines' clock reads `at`.
    pub fn to_tokio(&self, at: Instant) -> tokio::time::Instant {
        let ms = at.as_millis().saturating_sub(self.origin_ms);
        self.origin + Duration::from_millis(ms)
    }
}
