//! Stratus persistence: the [`Store`](stratus_routing::port::Store) port (plus
//! [`AdminStore`] and [`ReportingStore`]) for SQLite, the default, and PostgreSQL; the batched
//! [`Writer`] behind the actors' [`EventSink`](stratus_routing::port::EventSink); retention.
//!
//! Each back end owns its SQL and migrations; statements whose text is identical on both are
//! shared from `sql`. No `sqlx::Any`, no code generic over the database.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod codec;
mod error;
mod postgres;
mod retention;
mod rows;
mod sql;
mod sqlite;
mod writer;

pub use postgres::PgStore;
pub use retention::{RetentionConfig, purge_expired_context, retention_cutoff, spawn_retention};
pub use sqlite::SqliteStore;
pub use writer::{Writer, WriterConfig, WriterHandle};

use std::sync::Arc;
use stratus_routing::port::{AdminStore, ReportingStore, StoreError};

/// Everything a store offers: routing's port, administration and reporting. An
/// `Arc<dyn FullStore>` coerces to `Arc<dyn Store>` (and the other two) where one is expected.
pub trait FullStore: AdminStore + ReportingStore {}
impl<T: AdminStore + ReportingStore> FullStore for T {}

/// Opens the store a URL names, running its migrations: `sqlite://path`, `sqlite::memory:` or a
/// plain path for SQLite; `postgres://…` / `postgresql://…` for PostgreSQL.
pub async fn open(url: &str) -> Result<Arc<dyn FullStore>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else if url.contains("://") && !url.starts_with("sqlite:") {
        // Name the scheme only: the rest of a URL may hold a password.
        let scheme = url.split("://").next().unwrap_or_default();
        Err(StoreError::Other(format!(
            "unsupported database URL scheme {scheme:?}: use sqlite:// or postgres://"
        )))
    } else {
        Ok(Arc::new(SqliteStore::open(url).await?))
    }
}

/// The migrations each back end runs at start (for checks that both list the same versions).
pub fn migrations() -> [(&'static str, &'static sqlx::migrate::Migrator); 2] {
    [
        ("sqlite", &sqlite::MIGRATOR),
        ("postgres", &postgres::MIGRATOR),
    ]
}
