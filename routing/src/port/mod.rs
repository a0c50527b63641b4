//! Ports: how the actors talk to the outside. The data (commands, events, records) and the traits
//! are plain Rust with std futures only; `graph-adapter` implements [`CallControl`], `store`
//! implements [`Store`] and [`EventSink`], and the `gateway` binary wires them together.

mod call;
mod store;

pub use call::{
    CallAction, CallCommand, CallControl, CallControlError, CallEvent, CallEventKind, CallerInfo,
    LegFailure, Prompt, RejectReason, RingMode,
};
pub use store::{
    AdminStore, EventSink, LiveTaskSnapshot, OpeningHours, ParameterDefinition, Partner, Record,
    ReportingStore, Store, StoreError, StoredOutcome, StoredOutcomeGroup, TenantSnapshot,
    TriggerSubscription, UnifiedSession, WebhookDelivery, Workflow,
};

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future: keeps the port traits object-safe (`Arc<dyn Store>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
