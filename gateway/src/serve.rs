//! `stratus serve`: the composition root. Opens the store, starts the batched writer, the Graph
//! adapter (against Microsoft Graph or the built-in simulator), the actors and the HTTP server,
//! and shuts them down in the reverse order.

use crate::app::AppState;
use crate::auth::Verifier;
use crate::config::{Config, GraphMode};
use crate::graph::{PresenceIntake, spawn_call_forwarder, spawn_presence_forwarder};
use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use stratus_actors::{Node, NodeConfig, Ports};
use stratus_graph::adapter::{AdapterConfig, GraphAdapter};
use stratus_graph::auth::{CallbackAuthConfig, CallbackValidator, TokenCache, TokenConfig};
use stratus_graph::client::{ClientConfig, GraphClient};
use stratus_graph::sim::{SimConfig, SimHandle, Simulator};
use stratus_routing::port::Store;
use stratus_store::{RetentionConfig, Writer, WriterConfig, WriterHandle};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// The bot identity of the built-in simulator when none is configured.
const SIMULATED_BOT_APP_ID: &str = "5e1f0000-57a7-4000-8000-000000000b07";

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    /// The built-in Graph simulator, when `graph.mode = "simulator"`.
    pub simulator: Option<SimHandle>,
    writer: WriterHandle,
    retention: tokio::task::JoinHandle<()>,
    key_refresh: tokio::task::JoinHandle<()>,
    cancel: CancellationToken,
    http: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops taking requests, drains the actors, then flushes every pending record.
    pub async fn shutdown(self) {
        self.state.ready.store(false, Ordering::Relaxed);
        self.cancel.cancel();
        let grace = Duration::from_secs(self.state.config.server.shutdown_grace_secs);
        let mut http = self.http;
        if tokio::time::timeout(grace, &mut http).await.is_err() {
            tracing::warn!("HTTP connections still open after the grace period: closed");
            http.abort();
        }
        self.state.presence.stop();
        self.state
            .presence
            .unsubscribe_all(Duration::from_secs(3))
            .await;
        self.state.node.clone().shutdown().await;
        self.retention.abort();
        self.key_refresh.abort();
        // The writer retries while the database is down; past the grace period what is still
        // buffered is reported, not waited for forever.
        if tokio::time::timeout(grace, self.writer.shutdown())
            .await
            .is_err()
        {
            tracing::error!(
                unwritten = self.writer.backlog(),
                "the database did not take the last records within the grace period"
            );
        }
        if let Some(sim) = &self.simulator {
            sim.shutdown();
        }
        tracing::info!("stopped");
    }
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let server = start(config).await?;
    tracing::info!(url = %server.base_url(), "stratus is serving");
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// The Graph side: where Graph lives and who signs its callbacks.
struct GraphEndpoints {
    graph_base_url: String,
    authority: String,
    openid_config_url: String,
    issuer: String,
}

/// Starts everything and returns once the server is ready.
pub async fn start(config: Config) -> anyhow::Result<Server> {
    let metrics = crate::metrics::install()?;
    let cancel = CancellationToken::new();
    crate::metrics::spawn_upkeep(metrics.clone(), cancel.clone());

    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("server.listen: cannot bind {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let mut config = config;
    if config.server.public_url.is_empty() {
        config.server.public_url = format!("http://{addr}");
    }
    let public = config.server.public_url.trim_end_matches('/').to_string();
    if config.graph.mode == GraphMode::Simulator {
        // The simulator needs some bot identity and presence secret; invent them if unset.
        if config.graph.app_id.is_empty() {
            config.graph.app_id = SIMULATED_BOT_APP_ID.into();
        }
        if config.graph.client_state.is_empty() {
            config.graph.client_state = format!("sim-{:032x}", rand::random::<u128>());
        }
    }

    let store = stratus_store::open(&config.database.url)
        .await
        .with_context(|| format!("database.url: cannot open {}", config.database.url))?;
    let writer = Writer::spawn(
        Arc::clone(&store) as Arc<dyn Store>,
        WriterConfig {
            max_backlog: config.database.writer_backlog,
            ..WriterConfig::default()
        },
    );
    let retention = stratus_store::spawn_retention(
        Arc::clone(&store) as Arc<dyn Store>,
        RetentionConfig {
            context_days: config.database.context_retention_days,
            ..RetentionConfig::default()
        },
    );

    let GraphSide {
        simulator,
        graph,
        events: call_rx,
        key_refresh,
    } = start_graph(&config, &public).await?;

    let node = Node::start(
        NodeConfig {
            bid_window: Duration::from_millis(config.routing.bid_window_ms),
            ..NodeConfig::default()
        },
        Ports {
            calls: Arc::new(graph.clone()),
            store: Arc::clone(&store) as Arc<dyn Store>,
            sink: Arc::new(crate::metrics::MeteredSink::new(Arc::new(writer.clone()))),
        },
    )
    .await
    .context("starting the actors")?;

    spawn_call_forwarder(node.clone(), graph.clone(), call_rx);
    let (presence_tx, presence_rx) = mpsc::unbounded_channel();
    spawn_presence_forwarder(node.clone(), presence_rx);
    let presence = Arc::new(PresenceIntake::new(
        graph.clone(),
        Arc::new(presence_tx),
        public.clone(),
        config.graph.client_state.clone(),
        Duration::from_secs(config.graph.presence_poll_secs),
    ));

    let state = AppState {
        config: Arc::new(config.clone()),
        store: Arc::clone(&store),
        node,
        verifier: Verifier::new(config.auth.clone()),
        graph,
        presence,
        metrics,
        ready: Arc::new(AtomicBool::new(false)),
    };

    for t in state
        .store
        .list_tenants()
        .await
        .context("listing tenants")?
    {
        state.presence.sync_tenant(Arc::clone(&state.store), t.id);
    }

    let app = router(state.clone());
    let limits = crate::listener::Limits::from_config(&state.config.server);
    let http = tokio::spawn(crate::listener::serve(
        listener,
        app,
        limits,
        cancel.clone(),
    ));
    state.ready.store(true, Ordering::Relaxed);
    tracing::info!(%addr, graph = ?state.config.graph.mode, database = %redact(&state.config.database.url), "ready");
    Ok(Server {
        addr,
        state,
        simulator,
        writer,
        retention,
        key_refresh,
        cancel,
        http,
    })
}

/// The Graph side of the node: the adapter (and the built-in simulator it talks to, in simulator
/// mode), the channel its call events arrive on, and the key refresh of callback validation.
struct GraphSide {
    simulator: Option<SimHandle>,
    graph: GraphAdapter,
    events: mpsc::UnboundedReceiver<stratus_routing::port::CallEvent>,
    key_refresh: tokio::task::JoinHandle<()>,
}

async fn start_graph(config: &Config, public: &str) -> anyhow::Result<GraphSide> {
    let (simulator, endpoints) = match config.graph.mode {
        GraphMode::Simulator => {
            let mut sim_cfg =
                SimConfig::new(format!("{public}/graph/calls"), config.graph.app_id.clone());
            sim_cfg.issuer = config.graph.callback_issuer.clone();
            let sim = Simulator::start(sim_cfg)
                .await
                .context("starting the built-in Graph simulator")?;
            let endpoints = GraphEndpoints {
                graph_base_url: sim.graph_base_url(),
                authority: sim.authority_url(),
                openid_config_url: sim.openid_config_url(),
                issuer: config.graph.callback_issuer.clone(),
            };
            (Some(sim), endpoints)
        }
        GraphMode::Microsoft => (
            None,
            GraphEndpoints {
                graph_base_url: config.graph.base_url.clone(),
                authority: config.graph.authority.clone(),
                openid_config_url: config.graph.openid_config_url.clone(),
                issuer: config.graph.callback_issuer.clone(),
            },
        ),
    };

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .context("building the HTTP client")?;
    let mut token_cfg = TokenConfig::new(endpoints.authority.clone(), config.graph.app_id.clone());
    token_cfg.client_secret = config.graph.client_secret.clone();
    let tokens = Arc::new(TokenCache::new(http.clone(), token_cfg));
    let mut client_cfg = ClientConfig::new(endpoints.graph_base_url.clone());
    client_cfg.rate_per_tenant = f64::from(config.graph.rate_limit_per_sec);
    let client = GraphClient::new(http.clone(), client_cfg, tokens);
    let mut auth_cfg = CallbackAuthConfig::new(
        endpoints.openid_config_url.clone(),
        config.graph.app_id.clone(),
    );
    // Graph signs with either documented issuer; a configured one (simulator, sovereign cloud) adds to them.
    if !auth_cfg.issuers.contains(&endpoints.issuer) {
        auth_cfg.issuers.push(endpoints.issuer.clone());
    }
    let validator = Arc::new(CallbackValidator::new(http.clone(), auth_cfg));
    let key_refresh = validator.spawn_refresh();
    let (call_tx, events) = mpsc::unbounded_channel();
    let graph = GraphAdapter::new(
        client,
        validator,
        Arc::new(call_tx),
        AdapterConfig {
            callback_base_url: format!("{public}/graph/calls"),
            tts_url: config.graph.tts_url.clone(),
        },
    );

    Ok(GraphSide {
        simulator,
        graph,
        events,
        key_refresh,
    })
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Every route of the server, with the request limits of `[server]`: a body limit per route
/// family (checked against `Content-Length` before anything is read), a body timeout and a
/// whole-request timeout.
pub fn router(state: AppState) -> Router {
    let s = &state.config.server;
    let graph = Router::new()
        .route("/graph/calls", post(crate::graph::calling))
        .route(
            "/graph/calls/{tenant}/{call}",
            post(crate::graph::calling_per_call),
        )
        .route("/graph/presence/{tenant}", post(crate::graph::presence))
        .route("/graph/lifecycle/{tenant}", post(crate::graph::lifecycle))
        .layer(DefaultBodyLimit::max(s.max_webhook_body_bytes))
        .layer(RequestBodyLimitLayer::new(s.max_webhook_body_bytes));
    let api = crate::api::router(state.clone())
        .layer(DefaultBodyLimit::max(s.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(s.max_body_bytes));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(graph)
        .merge(api)
        .fallback(not_found)
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            s.body_timeout_secs,
        )))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(s.request_timeout_secs),
        ))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn(http_metrics))
        .with_state(state)
}

/// Every refusal is JSON, including the ones axum makes itself (405, a path that is not
/// UTF-8, an oversized body).
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    // axum's own rejection texts describe the client's input; kept short all the same.
    let text: String = String::from_utf8_lossy(&text)
        .trim()
        .chars()
        .take(200)
        .collect();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_string()
    } else {
        text
    };
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let mut out = crate::error::ApiError::new(status, code, message).into_response();
    // Keep what the client needs, such as `Allow` on a 405.
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// Requests by route template (bounded cardinality) and status, with latency.
async fn http_metrics(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    // Any method name is valid HTTP: labels take the known ones only (bounded cardinality).
    let method: &'static str = match *req.method() {
        axum::http::Method::GET => "GET",
        axum::http::Method::POST => "POST",
        axum::http::Method::PUT => "PUT",
        axum::http::Method::DELETE => "DELETE",
        axum::http::Method::PATCH => "PATCH",
        axum::http::Method::HEAD => "HEAD",
        _ => "OTHER",
    };
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!("stratus_http_request_duration_seconds", "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("stratus_http_requests_total", "method" => method, "route" => route, "status" => status).increment(1);
    resp
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::not_found("route")
}

async fn healthz() -> Response {
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    if state.is_ready() {
        axum::Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "starting or stopping" })),
        )
            .into_response()
    }
}

async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
) -> Response {
    if let Some(expected) = &state.config.auth.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(expected.as_str()) {
            return crate::error::ApiError::unauthorized(
                "the metrics scrape token is missing or wrong",
            )
            .into_response();
        }
    }
    crate::metrics::record_live(&state.node);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
