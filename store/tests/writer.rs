//! The batched writer against a real SQLite store: everything emitted arrives, a full backlog
//! loses records only counted, a bad record is dropped alone, shutdown drains.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use metrics_util::CompositeKey;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::port::{EventSink, Record, Store};
use stratus_routing::task::{Outcome, TaskEventKind, UserSessionOutcome};
use stratus_routing::user::UserStatus;
use stratus_store::{SqliteStore, Writer, WriterConfig};

fn config(batch_size: usize, max_backlog: usize) -> WriterConfig {
    WriterConfig {
        batch_size,
        flush_every: Duration::from_millis(20),
        max_backlog,
        max_backoff: Duration::from_millis(100),
    }
}

/// What the recorder holds, taken once (taking a snapshot resets the recorder).
type Metrics = Vec<(CompositeKey, DebugValue)>;

fn take(recorder: &DebuggingRecorder) -> Metrics {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(k, _, _, v)| (k, v))
        .collect()
}

/// The value of a counter (summed over label sets matching `label`, if given).
fn counter(m: &Metrics, name: &str, label: Option<(&str, &str)>) -> u64 {
    m.iter()
        .filter(|(k, ..)| k.key().name() == name)
        .filter(|(k, ..)| {
            label.is_none_or(|(n, v)| k.key().labels().any(|l| l.key() == n && l.value() == v))
        })
        .map(|(_, v)| match v {
            DebugValue::Counter(c) => *c,
            _ => 0,
        })
        .sum()
}

fn gauge(m: &Metrics, name: &str) -> Option<f64> {
    m.iter()
        .find(|(k, _)| k.key().name() == name)
        .and_then(|(_, v)| match v {
            DebugValue::Gauge(g) => Some(g.into_inner()),
            _ => None,
        })
}

fn histogram_count(m: &Metrics, name: &str) -> usize {
    m.iter()
        .filter(|(k, _)| k.key().name() == name)
        .map(|(_, v)| match v {
            DebugValue::Histogram(h) => h.len(),
            _ => 0,
        })
        .sum()
}

// These tests run on a current-thread runtime, so the writer task records into the recorder
// installed for this thread.

#[tokio::test]
async fn every_record_kind_emitted_is_written() {
    let recorder = DebuggingRecorder::new();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let b = sqlite().await;
    save_configuration(b.store.as_ref(), &configuration(1)).await;
    let t = tenant_id(1);
    let writer = Writer::spawn(b.store.clone(), config(64, 10_000));

    let mut emitted = 0u64;
    for task in 0..20u128 {
        for seq in 1..=10 {
            writer.emit(Record::TaskEvent(event(
                t,
                task_id(task),
                seq,
                TaskEventKind::Queued,
                seq,
            )));
            emitted += 1;
        }
        writer.emit(Record::ServiceSession(service_session(
            t,
            task_id(task),
            0,
            SALES,
            0,
            10,
            Outcome::UserAccepted,
        )));
        writer.emit(Record::UserSession(user_session(
            t,
            task_id(task),
            1,
            ALICE,
            UserSessionOutcome::Accepted,
        )));
        writer.emit(Record::UserState(user_state(
            t,
            ALICE,
            task as u64 * 10,
            task as u64 * 10 + 10,
            UserStatus::Connected,
        )));
        // A snapshot followed by the end in the same batch leaves no live task.
        writer.emit(Record::LiveTask(Box::new(live_task(t, task_id(task), 1))));
        writer.emit(Record::LiveTaskEnded {
            tenant: t,
            task: task_id(task),
        });
        emitted += 5;
    }
    writer.emit(Record::LiveTask(Box::new(live_task(t, task_id(99), 7))));
    emitted += 1;
    writer.flush().await;

    let s = b.store.as_ref();
    for task in 0..20u128 {
        let events = s.task_events(t, task_id(task)).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=10).collect::<Vec<_>>()
        );
    }
    assert_eq!(s.service_sessions(t, None).await.unwrap().len(), 20);
    assert_eq!(s.user_sessions(t, None).await.unwrap().len(), 20);
    assert_eq!(
        s.load_live_tasks(t).await.unwrap(),
        vec![live_task(t, task_id(99), 7)]
    );
    assert_eq!(
        (writer.written(), writer.dropped(), writer.backlog()),
        (emitted, 0, 0)
    );
    let metrics = take(&recorder);
    assert_eq!(
        counter(&metrics, "stratus_store_writer_records_written_total", None),
        emitted
    );
    assert_eq!(
        counter(&metrics, "stratus_store_writer_dropped_total", None),
        0
    );
    assert_eq!(gauge(&metrics, "stratus_store_writer_backlog"), Some(0.0));
    // 301 records in batches of at most 64.
    assert!(histogram_count(&metrics, "stratus_store_writer_batch_seconds") >= 5);
}

#[tokio::test]
async fn a_full_backlog_drops_counts_and_never_blocks() {
    let recorder = DebuggingRecorder::new();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("down.db").to_str().unwrap())
        .await
        .unwrap();
    store.save_tenant(tenant(1)).await.unwrap();
    // The database becomes unreachable: every write fails as Unavailable and is retried.
    store.close().await;
    let store: Arc<dyn Store> = Arc::new(store);
    let writer = Writer::spawn(store, config(4, 10));
    let t = tenant_id(1);
    for seq in 1..=25 {
        writer.emit(Record::TaskEvent(event(
            t,
            task_id(1),
            seq,
            TaskEventKind::Queued,
            seq,
        )));
    }
    // Let the writer take a batch and fail on it at least once.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        writer.backlog(),
        10,
        "the backlog holds what fits, in flight included"
    );
    assert_eq!(writer.dropped(), 15);
    assert_eq!(writer.written(), 0);
    // The end of a live task still gets in: it is what keeps a finished task from being
    // restored as waiting at the next start.
    writer.emit(Record::LiveTaskEnded {
        tenant: t,
        task: task_id(1),
    });
    assert_eq!((writer.backlog(), writer.dropped()), (11, 15));
    let metrics = take(&recorder);
    assert_eq!(
        counter(
            &metrics,
            "stratus_store_writer_dropped_total",
            Some(("reason", "backlog_full"))
        ),
        15
    );
    assert!(counter(&metrics, "stratus_store_writer_failed_batches_total", None) >= 1);
    assert_eq!(gauge(&metrics, "stratus_store_writer_backlog"), Some(11.0));
}

#[tokio::test]
async fn a_record_the_database_refuses_is_dropped_alone() {
    let recorder = DebuggingRecorder::new();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let b = sqlite().await;
    b.store.save_tenant(tenant(1)).await.unwrap();
    let writer = Writer::spawn(b.store.clone(), config(100, 1_000));
    let t = tenant_id(1);
    writer.emit(Record::TaskEvent(event(
        t,
        task_id(1),
        1,
        TaskEventKind::Queued,
        1,
    )));
    // No such tenant: a foreign-key violation.
    writer.emit(Record::TaskEvent(event(
        tenant_id(404),
        task_id(1),
        1,
        TaskEventKind::Queued,
        1,
    )));
    writer.emit(Record::TaskEvent(event(
        t,
        task_id(1),
        2,
        TaskEventKind::Offered,
        2,
    )));
    writer.emit(Record::UserState(user_state(
        t,
        ALICE,
        0,
        5,
        UserStatus::Idle,
    )));
    writer.flush().await;
    let events = b.store.task_events(t, task_id(1)).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(
        b.store
            .user_states(
                t,
                None,
                stratus_routing::time::Instant::ZERO,
                stratus_routing::time::Instant::from_millis(10)
            )
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        (writer.written(), writer.dropped(), writer.backlog()),
        (3, 1, 0)
    );
    let metrics = take(&recorder);
    assert_eq!(
        counter(
            &metrics,
            "stratus_store_writer_dropped_total",
            Some(("reason", "rejected"))
        ),
        1
    );
}

#[tokio::test]
async fn shutdown_drains_the_backlog_and_later_records_are_counted() {
    let b = sqlite().await;
    b.store.save_tenant(tenant(1)).await.unwrap();
    // Big batches and a long flush interval: only shutdown makes these records leave.
    let writer = Writer::spawn(
        b.store.clone(),
        WriterConfig {
            batch_size: 100_000,
            flush_every: Duration::from_secs(3600),
            ..config(1, 100_000)
        },
    );
    let t = tenant_id(1);
    for seq in 1..=1_000 {
        writer.emit(Record::TaskEvent(event(
            t,
            task_id(1),
            seq,
            TaskEventKind::Queued,
            seq,
        )));
    }
    writer.shutdown().await;
    assert_eq!(
        b.store.task_events(t, task_id(1)).await.unwrap().len(),
        1_000
    );
    assert_eq!((writer.written(), writer.backlog()), (1_000, 0));
    writer.emit(Record::TaskEvent(event(
        t,
        task_id(1),
        1_001,
        TaskEventKind::Queued,
        1,
    )));
    assert_eq!(writer.dropped(), 1);
    writer.flush().await; // returns at once: the writer is gone
}
