//! Per-tenant token bucket, plus a shared pause when Graph says 429 for the tenant (every
//! request of that tenant waits, not only the one that was throttled).

use dashmap::DashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratus_routing::ids::M365TenantId;
use tokio::time::Instant;

struct Bucket {
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

/// Requests per second and burst allowed per tenant.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: DashMap<M365TenantId, Arc<Mutex<Bucket>>>,
}

impl RateLimiter {
    pub fn new(rate_per_s: f64, burst: u32) -> Self {
        RateLimiter {
            rate: rate_per_s.max(0.001),
            burst: f64::from(burst.max(1)),
            buckets: DashMap::new(),
        }
    }

    fn bucket(&self, t: M365TenantId) -> Arc<Mutex<Bucket>> {
        self.buckets
            .entry(t)
            .or_insert_with(|| {
                Arc::new(Mutex::new(Bucket {
                    tokens: self.burst,
                    last: Instant::now(),
                    paused_until: None,
                }))
            })
            .clone()
    }

    /// Waits until the tenant may send one request.
    pub async fn acquire(&self, t: M365TenantId) {
        let b = self.bucket(t);
        loop {
            let wait = {
                let Ok(mut g) = b.lock() else { return };
                let now = Instant::now();
                let elapsed = now.duration_since(g.last).as_secs_f64();
                g.tokens = (g.tokens + elapsed * self.rate).min(self.burst);
                g.last = now;
                match g.paused_until {
                    Some(p) if p > now => p - now,
                    _ if g.tokens >= 1.0 => {
                        g.tokens -= 1.0;
                        return;
                    }
                    _ => Duration::from_secs_f64((1.0 - g.tokens) / self.rate),
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Holds every request of the tenant back for `d` (after a 429).
    pub fn pause(&self, t: M365TenantId, d: Duration) {
        let b = self.bucket(t);
        if let Ok(mut g) = b.lock() {
            let until = Instant::now() + d;
            if g.paused_until.is_none_or(|p| p < until) {
                g.paused_until = Some(until);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limits_rate_after_burst() {
        let l = RateLimiter::new(10.0, 5);
        let t = M365TenantId::from_u128(1);
        let start = Instant::now();
        for _ in 0..15 {
            l.acquire(t).await;
        }
        // 5 at once, then 10 more at 10/s.
        let e = start.elapsed();
        assert!(
            e >= Duration::from_millis(990) && e < Duration::from_millis(1100),
            "{e:?}"
        );
        // Other tenants are not affected.
        let s2 = Instant::now();
        l.acquire(M365TenantId::from_u128(2)).await;
        assert_eq!(s2.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_the_tenant() {
        let l = RateLimiter::new(100.0, 10);
        let t = M365TenantId::from_u128(1);
        l.pause(t, Duration::from_millis(2500));
        let s = Instant::now();
        l.acquire(t).await;
        assert!(s.elapsed() >= Duration::from_millis(2500));
    }
}
