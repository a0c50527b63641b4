//! Bearer-token auth and tenancy: RS256 tokens checked against a JWKS (as Entra ID issues them) or
//! HS256 tokens with a local secret (development). Roles follow the product's role matrix.

use crate::config::{AuthConfig, AuthMode};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, jwk::JwkSet};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::RwLock;

/// What a caller may do. Ordered loosely from most to least powerful.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Role {
    SystemAdmin,
    PartnerAdmin,
    TenantAdmin,
    ServiceOwner,
    Supervisor,
    Agent,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(
            match s
                .to_ascii_lowercase()
                .replace(['_', '-', ' ', '.'], "")
                .as_str()
            {
                "systemadmin" | "system" => Role::SystemAdmin,
                "partneradmin" | "partner" => Role::PartnerAdmin,
                "tenantadmin" | "admin" => Role::TenantAdmin,
                "serviceowner" | "owner" => Role::ServiceOwner,
                "supervisor" | "usersupervisor" | "servicesupervisor" => Role::Supervisor,
                "agent" | "member" => Role::Agent,
                _ => return None,
            },
        )
    }
    /// Exactly the names `as_str` gives (app roles as Entra issues them).
    pub fn canonical(s: &str) -> Option<Role> {
        [
            Role::SystemAdmin,
            Role::PartnerAdmin,
            Role::TenantAdmin,
            Role::ServiceOwner,
            Role::Supervisor,
            Role::Agent,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "SystemAdmin",
            Role::PartnerAdmin => "PartnerAdmin",
            Role::TenantAdmin => "TenantAdmin",
            Role::ServiceOwner => "ServiceOwner",
            Role::Supervisor => "Supervisor",
            Role::Agent => "Agent",
        }
    }
}

/// The claims Stratus reads (Entra ID style).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Tenant: a Stratus tenant id or the Microsoft 365 tenant id bound to one.
    pub tid: String,
    /// The caller's object id (a Stratus user id for agents).
    pub oid: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// A verified caller.
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    pub tid: String,
    pub oid: String,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    pub fn any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }
}

/// Why a token was refused. The text is what the client is told: it names what is wrong with
/// the token, never a library's internals or the server's key source (those are logged).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// The key source is unreachable: not the caller's fault.
    #[error("token signing keys are unavailable")]
    Keys,
}

/// What a client may learn of a token the library refused.
fn token_problem(e: &jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind as K;
    tracing::debug!(error = %e, "token refused");
    AuthError::Invalid(match e.kind() {
        K::ExpiredSignature => "expired",
        K::ImmatureSignature => "not valid yet (nbf)",
        K::InvalidAudience => "wrong audience",
        K::InvalidIssuer => "wrong issuer",
        K::MissingRequiredClaim(c) => match c.as_str() {
            "aud" => "no audience (aud)",
            "iss" => "no issuer (iss)",
            "exp" => "no expiry (exp)",
            _ => "a required claim is missing",
        },
        K::InvalidSignature => "bad signature",
        K::InvalidAlgorithm | K::InvalidAlgorithmName => "algorithm not accepted",
        K::Json(_) | K::Utf8(_) | K::Base64(_) | K::InvalidToken => "malformed",
        _ => "refused",
    })
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Keys {
    set: Option<JwkSet>,
    fetched_at: Option<std::time::Instant>,
    /// The last failed fetch: no other is tried for [`MIN_REFETCH`], so a key source that is
    /// down (or a flood of forged key ids) does not turn every request into a fetch.
    failed_at: Option<std::time::Instant>,
}

struct Inner {
    config: AuthConfig,
    keys: RwLock<Keys>,
    /// One key fetch at a time: concurrent requests wait for it instead of fetching too.
    fetching: tokio::sync::Mutex<()>,
    http: reqwest::Client,
}

/// Keys are re-read this often.
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` re-reads the keys at most this often (a forged `kid` must not make every
/// request a fetch).
const MIN_REFETCH: Duration = Duration::from_secs(30);

impl Verifier {
    pub fn new(config: AuthConfig) -> Self {
        Verifier {
            inner: Arc::new(Inner {
                config,
                keys: RwLock::new(Keys {
                    set: None,
                    fetched_at: None,
                    failed_at: None,
                }),
                fetching: tokio::sync::Mutex::new(()),
                http: reqwest::Client::new(),
            }),
        }
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = 30;
        v.validate_nbf = true;
        let c = &self.inner.config;
        // Entra tokens always carry both: one without is not for us (the config requires them).
        match c.mode {
            AuthMode::Jwks => v.set_required_spec_claims(&["exp", "aud", "iss"]),
            AuthMode::Hs256 => v.set_required_spec_claims(&["exp"]),
        }
        // The issuer may name the token's own tenant (`{tid}`): checked after decoding.
        v.iss = None;
        if c.audience.is_empty() {
            v.validate_aud = false;
        } else {
            v.set_audience(&[c.audience.as_str()]);
        }
        v
    }

    fn cached(&self, keys: &Keys, kid: &str) -> Option<Result<DecodingKey, AuthError>> {
        let set = keys.set.as_ref()?;
        let fresh = keys.fetched_at.is_some_and(|at| at.elapsed() < JWKS_TTL);
        match set.find(kid) {
            Some(jwk) if fresh => Some(DecodingKey::from_jwk(jwk).map_err(|e| {
                tracing::warn!(kid, error = %e, "a published signing key is unusable");
                AuthError::Invalid("unusable key")
            })),
            _ => None,
        }
    }

    async fn jwk_key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(k) = self.cached(&*self.inner.keys.read().await, kid) {
            return k;
        }
        let _one = self.inner.fetching.lock().await;
        // Someone else may have fetched while we waited.
        {
            let keys = self.inner.keys.read().await;
            if let Some(k) = self.cached(&keys, kid) {
                return k;
            }
            if keys.failed_at.is_some_and(|at| at.elapsed() < MIN_REFETCH) {
                return Err(AuthError::Keys);
            }
            let recent = keys.fetched_at.is_some_and(|at| at.elapsed() < MIN_REFETCH);
            if recent {
                return Err(AuthError::Invalid("unknown key id"));
            }
        }
        let set = match self.fetch_keys().await {
            Ok(set) => set,
            Err(e) => {
                metrics::counter!("stratus_auth_key_fetch_failures_total").increment(1);
                // The key source's URL and error are for the operator, not the client.
                tracing::error!(url = %self.inner.config.jwks_url, error = %e, "fetching the token signing keys failed");
                self.inner.keys.write().await.failed_at = Some(std::time::Instant::now());
                return Err(AuthError::Keys);
            }
        };
        let key = set.find(kid).map(DecodingKey::from_jwk);
        *self.inner.keys.write().await = Keys {
            set: Some(set),
            fetched_at: Some(std::time::Instant::now()),
            failed_at: None,
        };
        match key {
            Some(k) => k.map_err(|e| {
                tracing::warn!(kid, error = %e, "a published signing key is unusable");
                AuthError::Invalid("unusable key")
            }),
            None => Err(AuthError::Invalid("unknown key id")),
        }
    }

    async fn fetch_keys(&self) -> Result<JwkSet, reqwest::Error> {
        self.inner
            .http
            .get(&self.inner.config.jwks_url)
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// Checks signature, lifetime, issuer and audience; returns the caller.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| token_problem(&e))?;
        let config = &self.inner.config;
        let claims = match config.mode {
            AuthMode::Hs256 => {
                if header.alg != Algorithm::HS256 {
                    return Err(AuthError::Invalid("algorithm not accepted"));
                }
                let key = DecodingKey::from_secret(config.hs256_secret.as_bytes());
                jsonwebtoken::decode::<Claims>(token, &key, &self.validation(Algorithm::HS256))
            }
            AuthMode::Jwks => {
                if header.alg != Algorithm::RS256 {
                    return Err(AuthError::Invalid("algorithm not accepted"));
                }
                let kid = header.kid.ok_or(AuthError::Invalid("no key id"))?;
                let key = self.jwk_key(&kid).await?;
                jsonwebtoken::decode::<Claims>(token, &key, &self.validation(Algorithm::RS256))
            }
        }
        .map_err(|e| token_problem(&e))?
        .claims;
        if !config.issuer.is_empty() {
            let expected = config.issuer.replace("{tid}", &claims.tid);
            if claims.iss.as_deref() != Some(expected.as_str()) {
                return Err(AuthError::Invalid("wrong issuer"));
            }
        }
        // The operator roles only from the operator's own tenants, in both modes: a customer's
        // admin can assign any app role in their own directory.
        let operator = config
            .operator_tenants
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&claims.tid));
        let roles = claims
            .roles
            .iter()
            .filter_map(|r| match config.mode {
                // Development tokens: the usual spellings.
                AuthMode::Hs256 => Role::parse(r),
                // Entra app roles: exact names only.
                AuthMode::Jwks => Role::canonical(r),
            })
            .filter(|r| operator || !matches!(r, Role::SystemAdmin | Role::PartnerAdmin))
            .collect();
        Ok(Caller {
            tid: claims.tid,
            oid: claims.oid,
            roles,
        })
    }
}

/// Mints an HS256 development token (`stratus token`).
pub fn mint(
    secret: &str,
    tenant: &str,
    user: &str,
    roles: &[Role],
    ttl: Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = Claims {
        tid: tenant.to_string(),
        oid: user.to_string(),
        roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
        exp: now + ttl.as_secs(),
        iat: now,
        iss: None,
        aud: None,
        nbf: None,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> Verifier {
        Verifier::new(AuthConfig {
            hs256_secret: "0123456789abcdef0123".into(),
            ..AuthConfig::default()
        })
    }

    #[tokio::test]
    async fn minted_tokens_verify_and_forged_or_expired_ones_do_not() {
        let v = verifier();
        let t = mint(
            "0123456789abcdef0123",
            "t1",
            "u1",
            &[Role::TenantAdmin],
            Duration::from_secs(60),
        )
        .unwrap();
        let c = v.verify(&t).await.unwrap();
        assert_eq!((c.tid.as_str(), c.oid.as_str()), ("t1", "u1"));
        assert!(c.has(Role::TenantAdmin));
        let forged = mint(
            "another-secret-entirely",
            "t1",
            "u1",
            &[Role::SystemAdmin],
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(matches!(
            v.verify(&forged).await,
            Err(AuthError::Invalid(_))
        ));
        let mut claims = Claims {
            tid: "t1".into(),
            oid: "u1".into(),
            roles: vec![],
            exp: 1,
            iat: 0,
            iss: None,
            aud: None,
            nbf: None,
        };
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123"),
        )
        .unwrap();
        assert!(v.verify(&expired).await.is_err());
        claims.exp = u64::MAX / 2;
        assert!(v.verify("not.a.token").await.is_err());
    }

    #[test]
    fn roles_parse_in_the_usual_spellings() {
        assert_eq!(Role::parse("tenant_admin"), Some(Role::TenantAdmin));
        assert_eq!(Role::parse("Supervisor"), Some(Role::Supervisor));
        assert_eq!(Role::parse("nobody"), None);
    }
}
