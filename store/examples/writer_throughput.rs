//! How fast the batched writer persists task events.
//!
//! `cargo run -p stratus-store --example writer_throughput [--release] -- [DATABASE_URL] [EVENTS]`
//! (default: a temporary SQLite file, 100 000 events). Prints events per second from the first
//! emit to the end of the final flush.

use std::sync::Arc;
use std::time::{Duration, Instant as Clock};
use stratus_routing::config::Tenant;
use stratus_routing::ids::{M365TenantId, TaskId, TenantId};
use stratus_routing::port::{EventSink, Record, Store};
use stratus_routing::task::{TaskEvent, TaskEventKind, TaskStateKind};
use stratus_routing::time::Instant;
use stratus_store::{Writer, WriterConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("throughput.db").display()));
    let events: u64 = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);

    let store = stratus_store::open(&url).await?;
    let tenant = TenantId::from_u128(0x7);
    store
        .save_tenant(Tenant {
            id: tenant,
            partner: None,
            name: "throughput".into(),
            m365_tenant: M365TenantId::from_u128(0x365),
            limits: Default::default(),
        })
        .await?;
    let store: Arc<dyn Store> = store;
    let config = WriterConfig {
        max_backlog: usize::try_from(events)?,
        ..WriterConfig::default()
    };
    let writer = Writer::spawn(Arc::clone(&store), config);

    // A run id keeps repeated runs against one database from colliding.
    let run = u128::from(std::process::id()) << 64;
    let started = Clock::now();
    for i in 0..events {
        writer.emit(Record::TaskEvent(TaskEvent {
            seq: i % 10 + 1,
            at: Instant::from_millis(i),
            tenant,
            task: TaskId::from_u128(run + u128::from(i / 10)),
            kind: TaskEventKind::Queued,
            from: TaskStateKind::InIvr,
            to: TaskStateKind::Queued,
            service: None,
            user: None,
            offer: None,
            outcome: None,
            parameter: None,
        }));
    }
    let emitted = started.elapsed();
    writer.flush().await;
    let total = started.elapsed();
    println!(
        "{url}: {events} events, emit {:.0} ns/event, persisted in {:.2} s = {:.0} events/s \
         (batch {}, written {}, dropped {})",
        emitted.as_nanos() as f64 / events as f64,
        total.as_secs_f64(),
        events as f64
            / total
                .as_secs_f64()
                .max(Duration::from_micros(1).as_secs_f64()),
        config.batch_size,
        writer.written(),
        writer.dropped()
    );
    Ok(())
}
