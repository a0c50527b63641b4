//! The writer rides out a PostgreSQL outage in mid-stream: stopped with `pg_ctl -m immediate`,
//! started again, and every event emitted before, during and after is stored exactly once.
//!
//! The test runs a PostgreSQL server of its own (initdb with the binaries next to
//! `STRATUS_TEST_PG_CTL`): stopping the shared server of `scripts/test.sh` would break the other
//! tests that use it concurrently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::port::{EventSink, Record, Store, StoreError};
use stratus_routing::task::TaskEventKind;
use stratus_store::{PgStore, Writer, WriterConfig};

/// A throwaway PostgreSQL server, run like `scripts/test.sh` runs its own: as `nobody` when the
/// tests run as root (initdb refuses root).
struct Server {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

fn as_postgres_user(command: &str) {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let status = if root {
        Command::new("su")
            .args(["-s", "/bin/sh", "nobody", "-c", command])
            .status()
    } else {
        Command::new("sh").args(["-c", command]).status()
    }
    .expect("run a PostgreSQL command");
    assert!(status.success(), "{command} failed");
}

impl Server {
    fn init(bin: &Path) -> Server {
        let dir = tempfile::tempdir().unwrap();
        if Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false)
        {
            let ok = Command::new("chown")
                .args(["-R", "nobody"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = Server {
            bin: bin.to_owned(),
            dir,
            port,
        };
        as_postgres_user(&format!(
            "'{}/initdb' -D '{}/data' -U stratus --auth=trust -E UTF8 >'{}/initdb.log' 2>&1",
            s.bin.display(),
            s.dir.path().display(),
            s.dir.path().display()
        ));
        s.start();
        s
    }

    fn url(&self) -> String {
        format!("postgres://stratus@127.0.0.1:{}/postgres", self.port)
    }

    fn start(&self) {
        let d = self.dir.path().display();
        as_postgres_user(&format!(
            "'{}/pg_ctl' -D '{d}/data' -o \"-p {} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off\" -l '{d}/pg.log' -w start >/dev/null",
            self.bin.display(),
            self.port
        ));
    }

    /// Like a crash: no checkpoint, connections cut.
    fn stop(&self) {
        as_postgres_user(&format!(
            "'{}/pg_ctl' -D '{}/data' -m immediate -w stop >/dev/null",
            self.bin.display(),
            self.dir.path().display()
        ));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "'{}/pg_ctl' -D '{}/data' -m immediate stop >/dev/null 2>&1 || su -s /bin/sh nobody -c \"'{}/pg_ctl' -D '{}/data' -m immediate stop\" >/dev/null 2>&1",
                self.bin.display(),
                self.dir.path().display(),
                self.bin.display(),
                self.dir.path().display()
            ))
            .status();
    }
}

/// The directory of the PostgreSQL binaries, from `STRATUS_TEST_PG_CTL`.
fn pg_bin() -> Option<PathBuf> {
    pg_url()?;
    match std::env::var("STRATUS_TEST_PG_CTL") {
        Ok(ctl) if !ctl.is_empty() => Path::new(&ctl).parent().map(Path::to_owned),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but STRATUS_TEST_PG_CTL is unset: run the tests through scripts/test.sh"
                );
            }
            eprintln!(
                "NOTICE: STRATUS_TEST_PG_CTL is unset; the PostgreSQL restart test is skipped"
            );
            None
        }
    }
}

const TASKS: u128 = 4;
const EVENTS_PER_TASK: u64 = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_rides_out_a_database_restart_without_losing_an_event() {
    let Some(bin) = pg_bin() else { return };
    // This binary holds this one test, so a global recorder sees only its writer.
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshots = recorder.snapshotter();
    metrics::set_global_recorder(recorder).unwrap();
    let server = tokio::task::spawn_blocking(move || Server::init(&bin))
        .await
        .unwrap();
    let store = Arc::new(PgStore::connect(&server.url()).await.unwrap());
    store.save_tenant(tenant(1)).await.unwrap();
    let t = tenant_id(1);
    let writer = Writer::spawn(
        store.clone(),
        WriterConfig {
            batch_size: 50,
            flush_every: Duration::from_millis(10),
            max_backlog: 100_000,
            max_backoff: Duration::from_millis(200),
        },
    );

    // A steady stream, a few events every few milliseconds, for well over a second.
    let emitter = {
        let writer = writer.clone();
        tokio::spawn(async move {
            for seq in 1..=EVENTS_PER_TASK {
                for task in 0..TASKS {
                    writer.emit(Record::TaskEvent(event(
                        t,
                        task_id(task),
                        seq,
                        TaskEventKind::Queued,
                        seq,
                    )));
                }
                if seq % 4 == 0 {
                    tokio::time::sleep(Duration::from_millis(15)).await;
                }
            }
        })
    };

    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = tokio::task::spawn_blocking(move || {
        server.stop();
        server
    })
    .await
    .unwrap();
    let down = store.list_tenants().await;
    assert!(
        matches!(down, Err(StoreError::Unavailable(_))),
        "with the server stopped: {down:?}"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        writer.backlog() > 0,
        "records emitted during the outage are held"
    );
    let server = tokio::task::spawn_blocking(move || {
        server.start();
        server
    })
    .await
    .unwrap();

    emitter.await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), writer.flush())
        .await
        .expect("the writer caught up after the restart");

    for task in 0..TASKS {
        let seqs: Vec<u64> = store
            .task_events(t, task_id(task))
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(
            seqs,
            (1..=EVENTS_PER_TASK).collect::<Vec<_>>(),
            "task {task}"
        );
    }
    let total = u64::try_from(TASKS).unwrap() * EVENTS_PER_TASK;
    assert_eq!(
        (writer.written(), writer.dropped(), writer.backlog()),
        (total, 0, 0)
    );
    let failed: u64 = snapshots
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, ..)| k.key().name() == "stratus_store_writer_failed_batches_total")
        .map(|(.., v)| match v {
            metrics_util::debugging::DebugValue::Counter(c) => c,
            _ => 0,
        })
        .sum();
    assert!(failed >= 1, "the outage never hit the writer");
    eprintln!(
        "{failed} failed batch attempts during the outage, {total} events stored exactly once"
    );
    store.close().await;
    drop(server);
}
