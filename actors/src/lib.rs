//! The actor runtime of Stratus: the routing machines of `stratus-routing`, run live as a
//! supervised ractor tree (DESIGN §4).
//!
//! ```text
//! NodeRoot (root.rs)             cancellation token; restarts failed tenants from the store
//! └── TenantDirectory            DashMap by tenant and by M365 tenant, read on the hot path
//!     └── Tenant{t} (tenant.rs)  supervisor: restarts children with backoff from durable truth
//!         ├── User{u} (user.rs)         UserMachine: grants or refuses offer leases
//!         ├── Service{s} (service.rs)   ServiceQueue: waiting tasks, availability view, offers
//!         └── Task{k} (task.rs)         CallFlow (or ExternalFlow): one live task; parented to
//!                                       the tenant, not the queue
//! ```
//!
//! Module map:
//! - `node.rs` [`Node`], the gateway's handle: call events, presence, commands, queries.
//! - `api.rs` request and answer types of that API; `error.rs` [`ActorsError`].
//! - `config.rs` [`NodeConfig`] and [`RestartPolicy`]; `ports.rs` [`Ports`].
//! - `shared.rs` the per-node and per-tenant state actors share: the typed directory of peers
//!   (no global names), configuration, last presence, live-task snapshots, decisions.
//! - `root.rs`, `tenant.rs`, `user.rs`, `service.rs`, `task.rs` the actors; `flow.rs` the
//!   machine a task actor runs (a call's or an external task's).
//! - `clock.rs` time: `routing::time::Instant` is milliseconds since the UNIX epoch, read once at
//!   start and advanced by tokio's clock (so paused-time tests move it); `timers.rs` the node's
//!   one timer service (a deadline heap), which every actor's timers go through.
//! - `stats.rs` live counters; `metrics.rs` metric names (restarts, failures, mailbox depth,
//!   handler time, offers by result, queue depth).
//! - [`fakes`] in-memory `Store`, `EventSink` and `CallControl` for tests and the demo.
//!
//! Rules kept everywhere: actors talk by `cast` with correlation ids (offer ids, epochs), never
//! `call` a peer; no slow I/O is awaited in a handler (call commands go through a per-call queue
//! drained by a spawned task, store loads happen at the edge); every timer carries its epoch or
//! offer id and a stale one is ignored by the machine; a failed actor's state is rebuilt, never
//! salvaged: a user from its configuration (the store's, as last loaded or changed by a command),
//! Teams' last presence, the connected leases of the live tasks and the state it carried out of
//! the actor (`TenantShared::carried`: RONA, wrap-up, Not-Available reason), a service from its configuration plus the live tasks re-enqueuing
//! and the members re-publishing, a task from its last live snapshot (a waiting one is queued
//! again; any other is ended and its call hung up, since only the platform knows its state).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod api;
mod clock;
mod config;
mod directory;
mod error;
pub mod fakes;
mod flow;
mod metrics;
mod node;
mod ports;
mod root;
mod service;
mod shared;
mod stats;
mod task;
mod tenant;
mod timers;
mod user;

pub use api::{
    NewTask, NodeStats, ServiceLive, TaskAction, TaskLive, TaskUpdate, UserCommand, UserLive,
    WaitingTask,
};
pub use clock::Clock;
pub use config::{NodeConfig, RestartPolicy};
pub use error::ActorsError;
pub use metrics::{
    ACTOR_FAILURES, ACTOR_GIVEN_UP, ACTOR_RESTARTS, CALL_COMMAND_FAILURES, HANDLER_SECONDS,
    MAILBOX_DEPTH, OFFERS, QUEUE_DEPTH,
};
pub use node::Node;
pub use ports::Ports;

#[cfg(test)]
mod tests;
