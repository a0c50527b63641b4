//! App-only OAuth2 client-credentials tokens, one per Microsoft 365 tenant, cached and renewed
//! before they expire.

use dashmap::DashMap;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use stratus_routing::ids::M365TenantId;
use tokio::time::Instant;

/// Where and how to get tokens.
#[derive(Clone, Debug)]
pub struct TokenConfig {
    /// Authority base, e.g. `https://login.microsoftonline.com`; the token endpoint is
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub authority_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
    /// Renew this long before the token expires.
    pub renew_before: Duration,
}

impl TokenConfig {
    pub fn new(authority_url: impl Into<String>, client_id: impl Into<String>) -> Self {
        TokenConfig {
            authority_url: authority_url.into(),
            client_id: client_id.into(),
            client_secret: String::new(),
            scope: "https://graph.microsoft.com/.default".into(),
            renew_before: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token endpoint unreachable: {0}")]
    Transport(String),
    #[error("token endpoint answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("token response malformed: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

struct Cached {
    token: Arc<str>,
    expires_at: Instant,
}

/// Per-tenant token cache. One fetch at a time per tenant (single flight).
pub struct TokenCache {
    http: reqwest::Client,
    cfg: TokenConfig,
    entries: DashMap<M365TenantId, Arc<tokio::sync::Mutex<Option<Cached>>>>,
    fetches: AtomicU64,
}

impl TokenCache {
    pub fn new(http: reqwest::Client, cfg: TokenConfig) -> Self {
        TokenCache {
            http,
            cfg,
            entries: DashMap::new(),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many tokens were fetched so far (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid token for `tenant`, fetched if absent or about to expire.
    pub async fn token(&self, tenant: M365TenantId) -> Result<Arc<str>, TokenError> {
        let slot = self.entries.entry(tenant).or_default().clone();
        let mut guard = slot.lock().await;
        let now = Instant::now();
        if let Some(c) = guard.as_ref()
            && c.expires_at > now + self.cfg.renew_before
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch(tenant).await?;
        let token = fresh.token.clone();
        *guard = Some(fresh);
        Ok(token)
    }

    /// Forgets the token (after a 401).
    pub async fn invalidate(&self, tenant: M365TenantId) {
        let slot = self.entries.get(&tenant).map(|s| s.clone());
        if let Some(s) = slot {
            *s.lock().await = None;
        }
    }

    async fn fetch(&self, tenant: M365TenantId) -> Result<Cached, TokenError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.cfg.authority_url.trim_end_matches('/'),
            tenant
        );
        let form = [
            ("client_id", self.cfg.client_id.as_str()),
            ("client_secret", self.cfg.client_secret.as_str()),
            ("scope", self.cfg.scope.as_str()),
            ("grant_type", "client_credentials"),
        ];
        let resp = self
            .http
            .post(&url)
            .form(&form)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| TokenError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| TokenError::Transport(e.to_string()))?;
        if status != 200 {
            return Err(TokenError::Refused {
                status,
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
        }
        let t: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| TokenError::Malformed(e.to_string()))?;
        // expires_in is a number in v2 and a string in v1 responses.
        let secs = match &t.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(3599),
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(3599),
            _ => 3599,
        };
        Ok(Cached {
            token: Arc::from(t.access_token),
            expires_at: Instant::now() + Duration::from_secs(secs),
        })
    }
}
