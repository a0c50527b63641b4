//! Drives many calls through the adapter and the simulator on loopback and reports what the
//! pair sustains (no routing core: each call is answered, one agent is invited, and the call
//! is hung up when the agent leaves).
//!
//! ```text
//! cargo run --release -p stratus-graph --example loopback_load -- 2000 200
//! ```
//! Arguments: calls (default 2000), calls per second (default 200), agents (default 1000),
//! talk time in milliseconds (default 200; 10000 at 200/s keeps 2,000 calls up at once).

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use stratus_graph::adapter::{AdapterConfig, GraphAdapter};
use stratus_graph::auth::{CallbackAuthConfig, CallbackValidator, TokenCache, TokenConfig};
use stratus_graph::client::{ClientConfig, GraphClient};
use stratus_graph::sim::{AgentBehaviour, CallPlan, SimAgent, SimConfig, Simulator};
use stratus_routing::ids::{CallId, M365TenantId, OfferId, TaskId, TenantId, UserId};
use stratus_routing::port::{CallAction, CallCommand, CallControl, CallEventKind, RingMode};
use tokio::sync::mpsc;
use tokio::time::Instant;

const BOT: &str = "0efc74f7-41c3-47a4-8775-7259bfef4241";
const APP_INSTANCE: &str = "7629bdce-046c-4903-86b4-a8f718277e1a";

async fn receive(State(a): State<GraphAdapter>, h: HeaderMap, body: Bytes) -> StatusCode {
    let auth = h.get("authorization").and_then(|v| v.to_str().ok());
    match a.handle_callback(auth, &body).await {
        Ok(_) => StatusCode::ACCEPTED,
        Err(e) => StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::FORBIDDEN),
    }
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<()> {
    let calls = arg(1, 2000) as u32;
    let rate = arg(2, 200) as f64;
    let agents = arg(3, 1000).max(1) as u128;
    let talk = Duration::from_millis(arg(4, 200));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let webhook = format!("http://{}/graph/calls", listener.local_addr()?);
    let mut cfg = SimConfig::new(webhook.clone(), BOT);
    cfg.keep_records = false;
    cfg.agents = (1..=agents)
        .map(|n| {
            SimAgent::available(
                UserId::from_u128(n),
                AgentBehaviour::Answer {
                    after: Duration::from_millis(50),
                    talk: Some(talk),
                },
            )
        })
        .collect();
    let sim = Simulator::start(cfg).await.context("simulator")?;
    let http = reqwest::Client::new();
    let tokens = Arc::new(TokenCache::new(
        http.clone(),
        TokenConfig::new(sim.authority_url(), BOT),
    ));
    let client = GraphClient::new(
        http.clone(),
        ClientConfig::new(sim.graph_base_url()),
        tokens,
    );
    let validator = Arc::new(CallbackValidator::new(
        http,
        CallbackAuthConfig::new(sim.openid_config_url(), BOT),
    ));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let adapter = GraphAdapter::new(
        client,
        validator,
        Arc::new(tx),
        AdapterConfig {
            callback_base_url: webhook,
            tts_url: None,
        },
    );
    let app = Router::new()
        .route("/graph/calls", post(receive))
        .route("/graph/calls/{tenant}/{call}", post(receive))
        .with_state(adapter.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Command latencies come back on this channel.
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<(Duration, bool)>();
    let exec = |call: CallId, t: M365TenantId, action: CallAction| {
        let a = adapter.clone();
        let lat = lat_tx.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let r = a
                .execute(CallCommand {
                    tenant: TenantId::from_u128(1),
                    m365_tenant: t,
                    call,
                    task: TaskId::from_u128(1),
                    action,
                })
                .await;
            let _ = lat.send((started.elapsed(), r.is_ok()));
        });
    };

    let started = Instant::now();
    let placing = {
        let sim = sim.clone();
        tokio::spawn(async move {
            sim.place_calls(CallPlan::new(calls, rate, APP_INSTANCE))
                .await
        })
    };
    let mut tenants: HashMap<CallId, M365TenantId> = HashMap::new();
    let mut incoming_at: HashMap<CallId, Instant> = HashMap::new();
    let mut to_joined = Vec::new();
    let mut next_agent = 0u128;
    let mut ended = 0u32;
    let (mut live, mut most_live) = (0u32, 0u32);
    let deadline = Instant::now() + Duration::from_secs_f64(f64::from(calls) / rate + 30.0) + talk;
    while ended < calls {
        let Ok(Some(e)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            break;
        };
        let call = e.call.clone();
        match e.kind {
            CallEventKind::Incoming { m365_tenant, .. } => {
                tenants.insert(call.clone(), m365_tenant);
                incoming_at.insert(call.clone(), Instant::now());
                live += 1;
                most_live = most_live.max(live);
                exec(call, m365_tenant, CallAction::Answer { prefetch: vec![] });
            }
            CallEventKind::Established => {
                let Some(t) = tenants.get(&call).copied() else {
                    continue;
                };
                next_agent = next_agent % agents + 1;
                exec(
                    call,
                    t,
                    CallAction::RingAgent {
                        offer: OfferId(u64::try_from(next_agent).unwrap_or(0)),
                        user: UserId::from_u128(next_agent),
                        mode: RingMode::Invite,
                    },
                );
            }
            CallEventKind::AgentJoined { .. } => {
                if let Some(at) = incoming_at.get(&call) {
                    to_joined.push(at.elapsed());
                }
            }
            CallEventKind::AgentLeft { .. } => {
                if let Some(t) = tenants.get(&call).copied() {
                    exec(call, t, CallAction::HangUp);
                }
            }
            CallEventKind::Terminated { .. } => {
                ended += 1;
                live = live.saturating_sub(1);
            }
            _ => {}
        }
    }
    let elapsed = started.elapsed();
    let placed = placing.await?;
    drop(lat_tx);
    let mut lat = Vec::new();
    let mut failed = 0;
    while let Some((d, ok)) = lat_rx.recv().await {
        lat.push(d);
        failed += usize::from(!ok);
    }
    lat.sort_unstable();
    to_joined.sort_unstable();
    let st = sim.stats();
    println!(
        "{calls} calls at {rate}/s: {} placed, {ended} ended in {:.1} s, {} refused, {most_live} up at once",
        placed.iter().filter(|r| r.is_ok()).count(),
        elapsed.as_secs_f64(),
        st.calls_refused
    );
    println!(
        "graph commands: {} ({failed} failed), latency p50 {:?} p99 {:?} max {:?}",
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or_default()
    );
    println!(
        "incoming -> agent joined (includes 10 ms establish + 50 ms ring): p50 {:?} p99 {:?}",
        percentile(&to_joined, 0.5),
        percentile(&to_joined, 0.99)
    );
    println!(
        "simulator: {} graph requests, {} callbacks, {} live at the end",
        st.graph_requests, st.callbacks_sent, st.calls_live
    );
    Ok(())
}
