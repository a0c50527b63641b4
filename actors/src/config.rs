//! Node configuration: the agent-pull bid window and the restart policy of every supervisor.

use std::time::Duration;

/// How a supervisor restarts a failed child: exponential backoff from `backoff_base` up to
/// `backoff_max`, and at most `max_restarts` restarts of one child within `window`; beyond that
/// the child is given up (logged and counted) rather than restarted in a loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RestartPolicy {
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub max_restarts: u32,
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
            max_restarts: 10,
            window: Duration::from_secs(60),
        }
    }
}

impl RestartPolicy {
    /// The delay before the `n`-th restart (0-based) within the window.
    pub fn backoff(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(20)).unwrap_or(u32::MAX);
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_max)
    }
}

/// Settings of one node.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NodeConfig {
    /// Agent-pull bid window: how long a user who became free collects offers from its services
    /// before granting the best one. Zero: first come, first served.
    pub bid_window: Duration,
    pub restart: RestartPolicy,
    /// Finished tasks whose decisions stay queryable, per tenant.
    pub decisions_kept: usize,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            bid_window: Duration::from_millis(5),
            restart: RestartPolicy::default(),
            decisions_kept: 10_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let p = RestartPolicy::default();
        assert_eq!(p.backoff(0), Duration::from_millis(50));
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(3), Duration::from_millis(400));
        assert_eq!(p.backoff(7), Duration::from_secs(5));
        assert_eq!(p.backoff(40), Duration::from_secs(5));
    }
}
