//! One timer service per node: a heap of deadlines served by a single tokio task, instead of a
//! spawned task per timer. Arming is a channel send; a fired timer casts its message to its actor
//! (a stopped actor simply does not get it). Cancelled timers are forgotten at once and their
//! heap slots compacted. Driven by tokio's clock, so paused-time tests move it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

type Fire = Box<dyn FnOnce() + Send>;

/// Gauge: timers armed and not yet fired or cancelled, node-wide.
pub const TIMERS_PENDING: &str = "stratus_timers_pending";

enum Op {
    Arm { id: u64, at: Instant, fire: Fire },
    Cancel(u64),
}

/// A handle to cancel one armed timer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TimerId(u64);

pub(crate) struct Timers {
    tx: mpsc::UnboundedSender<Op>,
    next: AtomicU64,
    token: CancellationToken,
    sizes: Arc<Sizes>,
}

/// What the heap holds, as the service last saw it: armed timers and heap slots (cancelled
/// ones included until compaction).
#[derive(Default)]
struct Sizes {
    pending: AtomicUsize,
    slots: AtomicUsize,
}

impl Timers {
    /// Spawns the service; it ends with `token`.
    pub fn start(token: CancellationToken) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let sizes = Arc::new(Sizes::default());
        tokio::spawn(run(rx, token.clone(), sizes.clone()));
        Timers {
            tx,
            next: AtomicU64::new(1),
            token,
            sizes,
        }
    }

    /// (armed timers, heap slots) as of the service's last turn.
    pub fn sizes(&self) -> (usize, usize) {
        (
            self.sizes.pending.load(Ordering::Relaxed),
            self.sizes.slots.load(Ordering::Relaxed),
        )
    }

    /// Runs `fire` at `at` (at once if `at` has passed).
    pub fn arm(&self, at: Instant, fire: Fire) -> TimerId {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        // After shutdown the service is gone and so is the need for the timer; before it, a
        // lost timer is a deadline that never fires: counted and logged.
        if self.tx.send(Op::Arm { id, at, fire }).is_err() && !self.token.is_cancelled() {
            metrics::counter!("stratus_timers_lost_total").increment(1);
            tracing::warn!("timer service gone: a deadline was not armed");
        }
        TimerId(id)
    }

    pub fn cancel(&self, id: TimerId) {
        let _ = self.tx.send(Op::Cancel(id.0));
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Op>, token: CancellationToken, sizes: Arc<Sizes>) {
    let mut heap: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut pending: HashMap<u64, (Instant, Fire)> = HashMap::new();
    loop {
        let now = Instant::now();
        while let Some(&Reverse((at, id))) = heap.peek() {
            if at > now {
                break;
            }
            heap.pop();
            if let Some((_, fire)) = pending.remove(&id) {
                fire();
            }
        }
        // Cancelled timers leave slots behind: rebuild once they dominate the heap.
        if heap.len() > 1024 && heap.len() > 2 * pending.len() {
            heap = pending
                .iter()
                .map(|(id, (at, _))| Reverse((*at, *id)))
                .collect();
        }
        sizes.pending.store(pending.len(), Ordering::Relaxed);
        sizes.slots.store(heap.len(), Ordering::Relaxed);
        metrics::gauge!(TIMERS_PENDING).set(pending.len() as f64);
        let next = heap.peek().map(|Reverse((at, _))| *at);
        tokio::select! {
            _ = token.cancelled() => return,
            op = rx.recv() => {
                let Some(op) = op else { return };
                apply(op, &mut heap, &mut pending);
                while let Ok(op) = rx.try_recv() {
                    apply(op, &mut heap, &mut pending);
                }
            }
            _ = sleep_until(next) => {}
        }
    }
}

fn apply(
    op: Op,
    heap: &mut BinaryHeap<Reverse<(Instant, u64)>>,
    pending: &mut HashMap<u64, (Instant, Fire)>,
) {
    match op {
        Op::Arm { id, at, fire } => {
            heap.push(Reverse((at, id)));
            pending.insert(id, (at, fire));
        }
        Op::Cancel(id) => {
            pending.remove(&id);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn timers_fire_in_deadline_order_and_cancelled_ones_never() {
        let timers = Timers::start(CancellationToken::new());
        let fired = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let mut ids = Vec::new();
        for (n, secs) in [(1, 3), (2, 1), (3, 2), (4, 2)] {
            let f = fired.clone();
            ids.push(timers.arm(
                start + Duration::from_secs(secs),
                Box::new(move || f.lock().unwrap().push((n, start.elapsed().as_secs()))),
            ));
        }
        timers.cancel(ids[2]);
        tokio::time::sleep(Duration::from_secs(1)).await;
        tokio::task::yield_now().await;
        assert_eq!(*fired.lock().unwrap(), [(2, 1)]);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(*fired.lock().unwrap(), [(2, 1), (4, 2), (1, 3)]);
    }
}
