//! The `stratus` server: Microsoft Graph webhooks, the REST API, auth and tenancy, health and
//! metrics, and the demo. The only crate that knows HTTP and JSON wire formats of its own API.
//!
//! - `config` the one typed configuration (file + `STRATUS_*` overrides), validated at start
//! - `serve` the composition root: store, writer, Graph adapter, actors, HTTP server
//! - `listener` the HTTP listener: connection limit, header timeout, JSON for hyper's refusals
//! - `graph` Graph's webhooks (calls, presence, lifecycle) and the forwarders into the actors
//! - `api` REST `/api/v1` and its OpenAPI document; `auth` bearer tokens and roles
//! - `demo` and `seed` the self-contained demo

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod graph;
pub mod listener;
pub mod metrics;
pub mod seed;
pub mod serve;
pub mod telemetry;
