//! The HTTP client for Graph: app-only token per tenant, per-tenant rate limit, 429 handling
//! with `Retry-After`, backoff with jitter on 5xx and timeouts (idempotent requests only),
//! and metrics per operation and status.

mod ratelimit;
mod retry;

pub use ratelimit::RateLimiter;
pub use retry::{Backoff, parse_retry_after};

use crate::auth::{TokenCache, TokenError};
use crate::parse::parse_error_body;
use reqwest::Method;
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::ids::M365TenantId;
use stratus_routing::port::CallControlError;
use tokio::time::Instant;

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// e.g. `https://graph.microsoft.com/v1.0`.
    pub graph_base_url: String,
    pub request_timeout: Duration,
    /// Total attempts per request (first try included).
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// Longest `Retry-After` honoured before giving up with [`GraphError::Throttled`].
    pub max_retry_after: Duration,
    /// Per-tenant rate limit (requests per second) and burst.
    pub rate_per_tenant: f64,
    pub burst_per_tenant: u32,
}

impl ClientConfig {
    pub fn new(graph_base_url: impl Into<String>) -> Self {
        ClientConfig {
            graph_base_url: graph_base_url.into(),
            request_timeout: Duration::from_secs(10),
            max_attempts: 8,
            backoff: Backoff {
                base: Duration::from_millis(200),
                max: Duration::from_secs(10),
            },
            max_retry_after: Duration::from_secs(60),
            // Calls: 50,000 requests / 15 s per app per tenant; stay well below.
            rate_per_tenant: 1000.0,
            burst_per_tenant: 200,
        }
    }
}

/// A failed Graph request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("token: {0}")]
    Token(#[from] TokenError),
    #[error("not found")]
    NotFound,
    #[error("throttled; retry after {0:?}")]
    Throttled(Duration),
    #[error("status {status} ({code}): {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
    },
    #[error("timed out")]
    Timeout,
    #[error("transport: {0}")]
    Transport(String),
    #[error("unexpected response: {0}")]
    BadResponse(String),
}

impl From<GraphError> for CallControlError {
    fn from(e: GraphError) -> Self {
        match e {
            GraphError::NotFound => CallControlError::CallGone,
            GraphError::Throttled(d) => CallControlError::Throttled(d),
            GraphError::Status {
                status, message, ..
            } => CallControlError::Rejected { status, message },
            other => CallControlError::Transport(other.to_string()),
        }
    }
}

/// One request.
pub struct GraphRequest {
    /// Metrics label, e.g. `answer`, `invite`.
    pub operation: &'static str,
    pub tenant: M365TenantId,
    pub method: Method,
    /// Path under the base URL, starting with `/`.
    pub path: String,
    pub body: Option<serde_json::Value>,
    /// May be repeated after a 5xx or a timeout (the first try may have taken effect).
    pub idempotent: bool,
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct GraphResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Graph over reqwest. Cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    cfg: Arc<ClientConfig>,
    tokens: Arc<TokenCache>,
    limiter: Arc<RateLimiter>,
}

fn is_retryable_5xx(s: u16) -> bool {
    matches!(s, 500 | 502 | 503 | 504)
}

impl GraphClient {
    pub fn new(http: reqwest::Client, cfg: ClientConfig, tokens: Arc<TokenCache>) -> Self {
        let limiter = Arc::new(RateLimiter::new(cfg.rate_per_tenant, cfg.burst_per_tenant));
        GraphClient {
            http,
            cfg: Arc::new(cfg),
            tokens,
            limiter,
        }
    }

    pub fn tokens(&self) -> &Arc<TokenCache> {
        &self.tokens
    }

    /// Sends a request, retrying as the policy allows.
    pub async fn send(&self, req: GraphRequest) -> Result<GraphResponse, GraphError> {
        let url = format!(
            "{}{}",
            self.cfg.graph_base_url.trim_end_matches('/'),
            req.path
        );
        let mut attempt = 0u32;
        let mut refreshed_token = false;
        loop {
            attempt += 1;
            let last = attempt >= self.cfg.max_attempts.max(1);
            self.limiter.acquire(req.tenant).await;
            let token = self.tokens.token(req.tenant).await?;
            let mut rb = self
                .http
                .request(req.method.clone(), &url)
                .bearer_auth(&*token)
                .timeout(self.cfg.request_timeout);
            if let Some(b) = &req.body {
                rb = rb.json(b);
            } else if req.method == Method::POST {
                // Bodiless actions (keepAlive) still need a length for some proxies.
                rb = rb.header(reqwest::header::CONTENT_LENGTH, "0");
            }
            let started = Instant::now();
            let result = rb.send().await;
            let result = match result {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let retry_after = r
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    match r.bytes().await {
                        Ok(b) => Ok((status, retry_after, b.to_vec())),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            let elapsed = started.elapsed().as_secs_f64();
            metrics::histogram!("stratus_graph_request_duration_seconds", "operation" => req.operation)
                .record(elapsed);
            match result {
                Ok((status, retry_after, body)) => {
                    metrics::counter!("stratus_graph_requests_total",
                        "operation" => req.operation, "status" => status.to_string())
                    .increment(1);
                    if (200..300).contains(&status) {
                        return Ok(GraphResponse { status, body });
                    }
                    if status == 429 {
                        // A throttled request was not processed: safe to retry whatever it is.
                        let wait = retry_after
                            .unwrap_or_else(|| self.cfg.backoff.delay(attempt))
                            .min(self.cfg.max_retry_after);
                        self.limiter.pause(req.tenant, wait);
                        if last {
                            return Err(GraphError::Throttled(wait));
                        }
                        tracing::debug!(op = req.operation, ?wait, "graph throttled");
                        continue;
                    }
                    if status == 401 && !refreshed_token && !last {
                        refreshed_token = true;
                        self.tokens.invalidate(req.tenant).await;
                        continue;
                    }
                    if is_retryable_5xx(status) && req.idempotent && !last {
                        let wait = retry_after
                            .unwrap_or_else(|| self.cfg.backoff.delay(attempt))
                            .min(self.cfg.max_retry_after);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if status == 404 {
                        return Err(GraphError::NotFound);
                    }
                    let (code, message) = parse_error_body(&body).unwrap_or_default();
                    return Err(GraphError::Status {
                        status,
                        code,
                        message,
                    });
                }
                Err(e) => {
                    let label = if e.is_timeout() { "timeout" } else { "error" };
                    metrics::counter!("stratus_graph_requests_total",
                        "operation" => req.operation, "status" => label)
                    .increment(1);
                    // A refused connection never reached Graph: always safe to retry.
                    let unsent = e.is_connect();
                    if (req.idempotent || unsent) && !last {
                        tokio::time::sleep(self.cfg.backoff.delay(attempt)).await;
                        continue;
                    }
                    return Err(if e.is_timeout() {
                        GraphError::Timeout
                    } else {
                        GraphError::Transport(e.to_string())
                    });
                }
            }
        }
    }
}
