//! Validation of the JWT Graph puts on every calling callback (`Authorization: Bearer`):
//! signature with keys from the JWKS named by a configurable OpenID configuration, issuer,
//! audience (the bot's app id), lifetime and a `tid` claim. Any failure is answered 403.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, errors::ErrorKind};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::ids::M365TenantId;
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

/// What a valid callback token must look like.
#[derive(Clone, Debug)]
pub struct CallbackAuthConfig {
    /// e.g. `https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration`.
    pub openid_config_url: String,
    /// The bot's app id: the required audience.
    pub app_id: String,
    /// Accepted issuers (`https://graph.microsoft.com`, `https://api.botframework.com`).
    pub issuers: Vec<String>,
    /// Keys are re-read this often (the Microsoft samples use 2 h).
    pub refresh_every: Duration,
    /// An unknown `kid` triggers a re-read at most this often.
    pub min_refetch: Duration,
    /// Clock skew allowed on `exp`/`nbf`, seconds.
    pub leeway_s: u64,
}

impl CallbackAuthConfig {
    pub fn new(openid_config_url: impl Into<String>, app_id: impl Into<String>) -> Self {
        CallbackAuthConfig {
            openid_config_url: openid_config_url.into(),
            app_id: app_id.into(),
            issuers: vec![
                "https://graph.microsoft.com".into(),
                "https://api.botframework.com".into(),
            ],
            refresh_every: Duration::from_secs(2 * 3600),
            min_refetch: Duration::from_secs(30),
            leeway_s: 60,
        }
    }
}

/// Why a callback was refused. The gateway answers all of them with 403.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackAuthError {
    #[error("no bearer token")]
    MissingToken,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("signing key {0:?} not published")]
    UnknownKey(Option<String>),
    #[error("bad signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("no tid claim")]
    MissingTenant,
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

impl CallbackAuthError {
    /// The HTTP status to answer (the Microsoft samples answer 403 Forbidden).
    pub fn http_status(&self) -> u16 {
        403
    }

    /// What the sender is told: the kind of problem, never a key id or a library's message.
    pub fn public_reason(&self) -> &'static str {
        match self {
            CallbackAuthError::MissingToken => "no bearer token",
            CallbackAuthError::Malformed(_) => "malformed token",
            CallbackAuthError::UnknownKey(_) => "unknown signing key",
            CallbackAuthError::BadSignature => "bad signature",
            CallbackAuthError::Expired => "token expired",
            CallbackAuthError::NotYetValid => "token not yet valid",
            CallbackAuthError::WrongIssuer => "wrong issuer",
            CallbackAuthError::WrongAudience => "wrong audience",
            CallbackAuthError::MissingTenant => "no tid claim",
            CallbackAuthError::KeysUnavailable(_) => "signing keys unavailable",
        }
    }
}

/// The claims Stratus uses from a valid callback token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackClaims {
    pub tenant: M365TenantId,
    pub issuer: String,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    #[serde(default)]
    tid: Option<String>,
}

#[derive(Deserialize)]
struct OpenIdConfig {
    jwks_uri: String,
}

struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    any: Vec<DecodingKey>,
    fetched_at: Instant,
}

/// Validates callback tokens; keys are cached and refreshed.
pub struct CallbackValidator {
    http: reqwest::Client,
    cfg: CallbackAuthConfig,
    keys: RwLock<Option<Arc<Keys>>>,
    refresh: Mutex<()>,
}

impl CallbackValidator {
    pub fn new(http: reqwest::Client, cfg: CallbackAuthConfig) -> Self {
        CallbackValidator {
            http,
            cfg,
            keys: RwLock::new(None),
            refresh: Mutex::new(()),
        }
    }

    /// Validates the value of the `Authorization` header.
    pub async fn validate(
        &self,
        authorization: Option<&str>,
    ) -> Result<CallbackClaims, CallbackAuthError> {
        let token = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(CallbackAuthError::MissingToken)?;
        let header =
            decode_header(token).map_err(|e| CallbackAuthError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(CallbackAuthError::Malformed(format!(
                "algorithm {:?}",
                header.alg
            )));
        }
        let keys = self.keys_for(header.kid.as_deref()).await?;
        let candidates: Vec<&DecodingKey> = match header.kid.as_deref() {
            Some(k) => keys.by_kid.get(k).into_iter().collect(),
            None => keys.any.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(CallbackAuthError::UnknownKey(header.kid));
        }
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&self.cfg.issuers);
        v.set_audience(&[&self.cfg.app_id]);
        v.leeway = self.cfg.leeway_s;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let mut last = CallbackAuthError::BadSignature;
        for key in candidates {
            match decode::<RawClaims>(token, key, &v) {
                Ok(d) => {
                    let tid = d.claims.tid.ok_or(CallbackAuthError::MissingTenant)?;
                    let tenant = tid
                        .parse()
                        .map_err(|_| CallbackAuthError::Malformed(format!("tid {tid:?}")))?;
                    return Ok(CallbackClaims {
                        tenant,
                        issuer: d.claims.iss,
                    });
                }
                Err(e) => {
                    last = match e.kind() {
                        ErrorKind::InvalidSignature => CallbackAuthError::BadSignature,
                        ErrorKind::ExpiredSignature => CallbackAuthError::Expired,
                        ErrorKind::ImmatureSignature => CallbackAuthError::NotYetValid,
                        ErrorKind::InvalidIssuer => CallbackAuthError::WrongIssuer,
                        ErrorKind::InvalidAudience => CallbackAuthError::WrongAudience,
                        ErrorKind::MissingRequiredClaim(c) => {
                            CallbackAuthError::Malformed(format!("missing {c}"))
                        }
                        _ => CallbackAuthError::Malformed(e.to_string()),
                    };
                    if last != CallbackAuthError::BadSignature {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    /// Re-reads the signing keys now (one read at a time); on failure the old keys stay.
    pub async fn refresh(&self) -> Result<(), CallbackAuthError> {
        let _one_at_a_time = self.refresh.lock().await;
        let k = self.fetch().await?;
        *self.keys.write().await = Some(Arc::new(k));
        Ok(())
    }

    /// Reads the keys at once and then twice per refresh period, so a callback only ever reads
    /// the cache and Graph never waits for a key fetch.
    pub fn spawn_refresh(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let every = (me.cfg.refresh_every / 2).max(Duration::from_secs(1));
            loop {
                if let Err(e) = me.refresh().await {
                    tracing::warn!(error = %e, "callback signing keys not refreshed; retrying");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
                tokio::time::sleep(every).await;
            }
        })
    }

    /// The cached key set; re-read when stale or when `kid` is unknown (rate-limited).
    async fn keys_for(&self, kid: Option<&str>) -> Result<Arc<Keys>, CallbackAuthError> {
        let now = Instant::now();
        if let Some(k) = self.keys.read().await.as_ref() {
            let fresh = now.duration_since(k.fetched_at) < self.cfg.refresh_every;
            let known = kid.is_none_or(|id| k.by_kid.contains_key(id));
            let may_refetch = now.duration_since(k.fetched_at) >= self.cfg.min_refetch;
            if fresh && (known || !may_refetch) {
                return Ok(k.clone());
            }
        }
        let _one_at_a_time = self.refresh.lock().await;
        // Someone else may have refreshed while we waited.
        if let Some(k) = self.keys.read().await.as_ref()
            && k.fetched_at > now
        {
            return Ok(k.clone());
        }
        match self.fetch().await {
            Ok(k) => {
                let k = Arc::new(k);
                *self.keys.write().await = Some(k.clone());
                Ok(k)
            }
            // Keep serving the old keys if the refresh fails.
            Err(e) => self.keys.read().await.clone().ok_or(e),
        }
    }

    async fn fetch(&self) -> Result<Keys, CallbackAuthError> {
        let unavailable = |e: String| CallbackAuthError::KeysUnavailable(e);
        let cfg: OpenIdConfig = self
            .http
            .get(&self.cfg.openid_config_url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let set: JwkSet = self
            .http
            .get(&cfg.jwks_uri)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let mut by_kid = HashMap::new();
        let mut any = Vec::new();
        for jwk in &set.keys {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                tracing::warn!("skipping unusable JWK");
                continue;
            };
            if let Some(kid) = &jwk.common.key_id {
                by_kid.insert(kid.clone(), key.clone());
            }
            any.push(key);
        }
        Ok(Keys {
            by_kid,
            any,
            fetched_at: Instant::now(),
        })
    }
}
