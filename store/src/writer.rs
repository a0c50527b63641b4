//! The batched writer behind the actors' [`EventSink`]: `emit` queues and returns at once; one
//! task writes batches, retrying with backoff while the database is unavailable. The backlog is
//! bounded; a record that does not fit is dropped, counted and logged as an error, never silently.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use stratus_routing::facts::{ServiceSessionFact, UserSessionFact, UserStateInterval};
use stratus_routing::ids::{TaskId, TenantId};
use stratus_routing::port::{EventSink, LiveTaskSnapshot, Record, Store, StoreError};
use stratus_routing::task::TaskEvent;
use tokio::sync::{mpsc, oneshot};

const BACKLOG: &str = "stratus_store_writer_backlog";
const WRITTEN: &str = "stratus_store_writer_records_written_total";
const FAILED_BATCHES: &str = "stratus_store_writer_failed_batches_total";
const DROPPED: &str = "stratus_store_writer_dropped_total";
const BATCH_SECONDS: &str = "stratus_store_writer_batch_seconds";

#[derive(Clone, Copy, Debug)]
pub struct WriterConfig {
    /// Records per write.
    pub batch_size: usize,
    /// Longest a record waits for its batch to fill.
    pub flush_every: Duration,
    /// Records held (queued and in flight) before new ones are dropped.
    pub max_backlog: usize,
    /// Ceiling of the retry backoff while the database is unavailable.
    pub max_backoff: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            batch_size: 500,
            flush_every: Duration::from_millis(200),
            max_backlog: 100_000,
            max_backoff: Duration::from_secs(5),
        }
    }
}

enum Msg {
    Record(Record),
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

struct Shared {
    max_backlog: u64,
    /// Records accepted and not yet written or rejected.
    backlog: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    /// Set while emits are being refused, so the error is logged once per episode.
    overflowing: AtomicBool,
}

impl Shared {
    fn drop_records(&self, n: u64, reason: &'static str) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        metrics::counter!(DROPPED, "reason" => reason).increment(n);
    }
}

/// Starts the writer task.
pub struct Writer;

impl Writer {
    /// Spawns the writer on the current tokio runtime.
    pub fn spawn(store: Arc<dyn Store>, config: WriterConfig) -> WriterHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            max_backlog: u64::try_from(config.max_backlog).unwrap_or(u64::MAX),
            backlog: AtomicU64::new(0),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            overflowing: AtomicBool::new(false),
        });
        let config = WriterConfig {
            batch_size: config.batch_size.max(1),
            ..config
        };
        tokio::spawn(run(store, config, rx, Arc::clone(&shared)));
        WriterHandle { tx, shared }
    }
}

/// The actors' end of the writer. Cheap to clone.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::UnboundedSender<Msg>,
    shared: Arc<Shared>,
}

impl WriterHandle {
    /// Resolves once every record emitted before the call is written (or rejected). Returns at
    /// once if the writer has stopped.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).is_ok() {
            let _ = done.await;
        }
    }

    /// Writes everything queued, then stops the writer; later emits are dropped and counted.
    /// Waits for the database as long as it takes.
    pub async fn shutdown(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(ack)).is_ok() {
            let _ = done.await;
        }
    }

    /// Records accepted and not yet written.
    pub fn backlog(&self) -> u64 {
        self.shared.backlog.load(Ordering::Acquire)
    }

    /// Records written since the start.
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Acquire)
    }

    /// Records lost since the start (backlog full, writer stopped, or rejected by the database).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Acquire)
    }
}

impl EventSink for WriterHandle {
    fn emit(&self, record: Record) {
        let s = &self.shared;
        let before = s.backlog.fetch_add(1, Ordering::AcqRel);
        // The end of a live task is tiny and its loss costly (a task restored as waiting at
        // every restart): it passes even a full backlog.
        let essential = matches!(record, Record::LiveTaskEnded { .. });
        if before >= s.max_backlog && !essential {
            s.backlog.fetch_sub(1, Ordering::AcqRel);
            s.drop_records(1, "backlog_full");
            if !s.overflowing.swap(true, Ordering::AcqRel) {
                tracing::error!(
                    max_backlog = s.max_backlog,
                    "store writer backlog is full: records are being dropped"
                );
            }
            return;
        }
        if self.tx.send(Msg::Record(record)).is_err() {
            s.backlog.fetch_sub(1, Ordering::AcqRel);
            s.drop_records(1, "writer_stopped");
            tracing::error!("store writer has stopped: record dropped");
            return;
        }
        metrics::gauge!(BACKLOG).set((before + 1) as f64);
    }
}

async fn run(
    store: Arc<dyn Store>,
    config: WriterConfig,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    shared: Arc<Shared>,
) {
    let mut batch: Vec<Record> = Vec::with_capacity(config.batch_size);
    let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
    let mut stopping = false;
    while !stopping {
        let Some(first) = rx.recv().await else { break };
        stopping |= take(first, &mut batch, &mut acks);
        let deadline = tokio::time::Instant::now() + config.flush_every;
        // Fill the batch until it is full, its time is up, or somebody waits for it.
        while batch.len() < config.batch_size && acks.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(msg)) => stopping |= take(msg, &mut batch, &mut acks),
                Ok(None) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        persist(store.as_ref(), &config, &shared, &mut batch).await;
        if stopping {
            // Refuse new records, then write what was queued before the door closed.
            rx.close();
            while let Ok(msg) = rx.try_recv() {
                take(msg, &mut batch, &mut acks);
                if batch.len() >= config.batch_size {
                    persist(store.as_ref(), &config, &shared, &mut batch).await;
                }
            }
            persist(store.as_ref(), &config, &shared, &mut batch).await;
        }
        for ack in acks.drain(..) {
            let _ = ack.send(());
        }
    }
}

/// Adds a message to the batch; true if it asks the writer to stop.
fn take(msg: Msg, batch: &mut Vec<Record>, acks: &mut Vec<oneshot::Sender<()>>) -> bool {
    match msg {
        Msg::Record(r) => batch.push(r),
        Msg::Flush(ack) => acks.push(ack),
        Msg::Shutdown(ack) => {
            acks.push(ack);
            return true;
        }
    }
    false
}

/// The database is away: wait and retry, however long it takes (the backlog bound protects
/// memory).
fn unavailable(e: &StoreError) -> bool {
    matches!(e, StoreError::Unavailable(_))
}

/// An unexplained failure may pass (a driver hiccup) or repeat for ever (a value the database
/// cannot take): a few tries, then the record-by-record path decides.
const OTHER_TRIES: u32 = 3;

/// A write that hangs (a connection that died without a reset) counts as unavailable after this.
const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

async fn write_within(store: &dyn Store, records: &[Record]) -> Result<(), StoreError> {
    match tokio::time::timeout(WRITE_TIMEOUT, write(store, records)).await {
        Ok(r) => r,
        Err(_) => Err(StoreError::Unavailable(format!(
            "no answer from the database within {WRITE_TIMEOUT:?}"
        ))),
    }
}

/// Writes the batch, retrying while the database is unavailable. A batch the database refuses
/// (a constraint) is written record by record so only the bad records are lost.
#[tracing::instrument(name = "store_batch", level = "debug", skip_all, fields(records = batch.len()))]
async fn persist(
    store: &dyn Store,
    config: &WriterConfig,
    shared: &Shared,
    batch: &mut Vec<Record>,
) {
    if batch.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let n = batch.len() as u64;
    let mut rejected = 0;
    let mut backoff = Backoff::new(config.max_backoff);
    let mut others = 0;
    loop {
        match write_within(store, batch).await {
            Ok(()) => break,
            Err(e)
                if unavailable(&e)
                    || (matches!(e, StoreError::Other(_)) && others < OTHER_TRIES) =>
            {
                if !unavailable(&e) {
                    others += 1;
                }
                metrics::counter!(FAILED_BATCHES).increment(1);
                let wait = backoff.next();
                tracing::warn!(error = %e, records = n, retry_in_ms = wait.as_millis() as u64,
                    "store write failed; the batch is kept and retried");
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                metrics::counter!(FAILED_BATCHES).increment(1);
                tracing::warn!(error = %e, records = n, "store refused a batch; writing its records one by one");
                rejected = write_one_by_one(store, config, batch).await;
                shared.drop_records(rejected, "rejected");
                break;
            }
        }
    }
    batch.clear();
    metrics::histogram!(BATCH_SECONDS).record(started.elapsed().as_secs_f64());
    metrics::counter!(WRITTEN).increment(n - rejected);
    shared.written.fetch_add(n - rejected, Ordering::AcqRel);
    let left = shared.backlog.fetch_sub(n, Ordering::AcqRel) - n;
    metrics::gauge!(BACKLOG).set(left as f64);
    if left < shared.max_backlog && shared.overflowing.swap(false, Ordering::AcqRel) {
        tracing::error!(
            dropped_total = shared.dropped.load(Ordering::Acquire),
            "store writer backlog is below its bound again; records were lost while it was full"
        );
    }
}

/// Returns how many records the database refused.
async fn write_one_by_one(store: &dyn Store, config: &WriterConfig, batch: &[Record]) -> u64 {
    let mut rejected = 0;
    for record in batch {
        let mut backoff = Backoff::new(config.max_backoff);
        let mut others = 0;
        loop {
            match write_within(store, std::slice::from_ref(record)).await {
                Ok(()) => break,
                Err(e) if unavailable(&e) => tokio::time::sleep(backoff.next()).await,
                Err(StoreError::Other(_)) if others < OTHER_TRIES => {
                    others += 1;
                    tokio::time::sleep(backoff.next()).await;
                }
                Err(e) => {
                    let (tenant, task) = subject(record);
                    tracing::error!(error = %e, tenant = %tenant, task = ?task,
                        "store refused a record; it is dropped");
                    rejected += 1;
                    break;
                }
            }
        }
    }
    rejected
}

/// Writes records grouped by kind. Every write is idempotent (events and facts are keyed and
/// inserted once; a snapshot never replaces a newer one), so retrying a partly written batch is
/// safe.
async fn write(store: &dyn Store, records: &[Record]) -> Result<(), StoreError> {
    let mut events: Vec<TaskEvent> = Vec::new();
    let mut service_sessions: Vec<ServiceSessionFact> = Vec::new();
    let mut user_sessions: Vec<UserSessionFact> = Vec::new();
    let mut user_states: Vec<UserStateInterval> = Vec::new();
    // The last live-task change per task wins: a snapshot followed by the end is just the end.
    let mut live: HashMap<(TenantId, TaskId), Option<&LiveTaskSnapshot>> = HashMap::new();
    for r in records {
        match r {
            Record::TaskEvent(e) => events.push(e.clone()),
            Record::ServiceSession(f) => service_sessions.push(f.clone()),
            Record::UserSession(f) => user_sessions.push(f.clone()),
            Record::UserState(f) => user_states.push(f.clone()),
            Record::LiveTask(t) => {
                live.insert((t.tenant, t.task), Some(t));
            }
            Record::LiveTaskEnded { tenant, task } => {
                live.insert((*tenant, *task), None);
            }
        }
    }
    if !events.is_empty() {
        store.append_events(events).await?;
    }
    if !service_sessions.is_empty() {
        store.record_service_sessions(service_sessions).await?;
    }
    if !user_sessions.is_empty() {
        store.record_user_sessions(user_sessions).await?;
    }
    if !user_states.is_empty() {
        store.record_user_states(user_states).await?;
    }
    for ((tenant, task), snapshot) in live {
        match snapshot {
            Some(t) => store.snapshot_live_task(t.clone()).await?,
            None => store.remove_live_task(tenant, task).await?,
        }
    }
    Ok(())
}

fn subject(r: &Record) -> (TenantId, Option<TaskId>) {
    match r {
        Record::TaskEvent(e) => (e.tenant, Some(e.task)),
        Record::ServiceSession(f) => (f.tenant, Some(f.task)),
        Record::UserSession(f) => (f.tenant, Some(f.task)),
        Record::UserState(f) => (f.tenant, None),
        Record::LiveTask(t) => (t.tenant, Some(t.task)),
        Record::LiveTaskEnded { tenant, task } => (*tenant, Some(*task)),
    }
}

/// Doubling delay from 50 ms up to a ceiling.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    fn new(max: Duration) -> Self {
        Backoff {
            next: Duration::from_millis(50).min(max),
            max,
        }
    }
    fn next(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let mut b = Backoff::new(Duration::from_millis(300));
        let waits: Vec<u128> = (0..5).map(|_| b.next().as_millis()).collect();
        assert_eq!(waits, vec![50, 100, 200, 300, 300]);
    }
}
