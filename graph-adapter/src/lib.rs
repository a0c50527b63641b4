//! stratus-graph: everything Stratus says to and hears from Microsoft Graph, and a simulator
//! that plays Graph and the Teams phones on one machine.
//!
//! - [`wire`] and [`parse`]: Graph payloads and a tolerant parser (codes as numbers or strings,
//!   `subcode`/`subCode`, optional `@odata.type`, enum case); unknown shapes are typed errors.
//! - [`events`]: calling notifications mapped to domain [`CallEvent`]s, per call.
//! - [`client`]: the reqwest Graph client (tokens per tenant, per-tenant rate limit, 429 with
//!   `Retry-After`, backoff with jitter on 5xx and timeouts for idempotent requests, metrics).
//! - [`auth`]: client-credentials tokens and callback JWT validation (403 on failure).
//! - [`adapter`]: [`GraphAdapter`], the `CallControl` port (Direct Conference, Broadcast, Direct,
//!   IVR media, transfer) and the calling-webhook entry point.
//! - [`presence`]: presence subscriptions and notifications.
//! - [`sim`]: the Graph + Teams phones simulator (also the `graph-sim` binary).
//!
//! [`CallEvent`]: stratus_routing::port::CallEvent
//! [`GraphAdapter`]: adapter::GraphAdapter
pub mod adapter;
pub mod auth;
pub mod client;
pub mod events;
pub mod parse;
pub mod presence;
pub mod sim;
pub mod wire;
