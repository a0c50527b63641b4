//! Node-wide live counters kept from task events: gauges of tasks by state and totals of
//! outcomes. Atomics, so the gateway reads them without an actor round trip.

use crate::api::NodeStats;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use stratus_routing::task::{Outcome, TaskEvent, TaskEventKind, TaskStateKind};

#[derive(Debug, Default)]
pub(crate) struct Stats {
    waiting: AtomicI64,
    ringing: AtomicI64,
    connected: AtomicI64,
    wrap_up: AtomicI64,
    handled: AtomicU64,
    rona: AtomicU64,
    abandoned: AtomicU64,
}

impl Stats {
    fn gauge(&self, state: TaskStateKind) -> Option<&AtomicI64> {
        match state {
            TaskStateKind::Queued => Some(&self.waiting),
            TaskStateKind::Offered => Some(&self.ringing),
            TaskStateKind::Accepted | TaskStateKind::Connected | TaskStateKind::Held => {
                Some(&self.connected)
            }
            TaskStateKind::WrapUp => Some(&self.wrap_up),
            _ => None,
        }
    }

    /// Accounts one task event: the task left `from` and entered `to`.
    pub fn on_event(&self, ev: &TaskEvent) {
        if ev.kind != TaskEventKind::Created {
            if let Some(g) = self.gauge(ev.from) {
                g.fetch_sub(1, Ordering::Relaxed);
            }
            if let Some(g) = self.gauge(ev.to) {
                g.fetch_add(1, Ordering::Relaxed);
            }
        }
        match ev.kind {
            TaskEventKind::Rona => {
                self.rona.fetch_add(1, Ordering::Relaxed);
            }
            TaskEventKind::Terminated => match ev.outcome {
                Some(Outcome::UserAccepted) => {
                    self.handled.fetch_add(1, Ordering::Relaxed);
                }
                Some(
                    Outcome::CustomerHangupBeforeAccept
                    | Outcome::CustomerHangupInIvr
                    | Outcome::CustomerHangupInIvrAfterQueue
                    | Outcome::CustomerHangupInQueue,
                ) => {
                    self.abandoned.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// A task vanished without its events (its actor failed for good): drop it from the gauges.
    pub fn forget(&self, state: TaskStateKind) {
        if let Some(g) = self.gauge(state) {
            g.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A task restored into a queue: it counts as waiting (and no longer in `was`).
    pub fn restored(&self, was: Option<TaskStateKind>) {
        if let Some(w) = was {
            self.forget(w);
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> NodeStats {
        let g = |a: &AtomicI64| u64::try_from(a.load(Ordering::Relaxed)).unwrap_or(0);
        NodeStats {
            waiting: g(&self.waiting),
            ringing: g(&self.ringing),
            connected: g(&self.connected),
            wrap_up: g(&self.wrap_up),
            handled: self.handled.load(Ordering::Relaxed),
            rona: self.rona.load(Ordering::Relaxed),
            abandoned: self.abandoned.load(Ordering::Relaxed),
        }
    }
}
