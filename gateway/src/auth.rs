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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("signing keys unavailable: {0}")]
    Keys(String),
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: AuthConfig,
    jwks: RwLock<Option<(JwkSet, std::time::Instant)>>,
    http: reqwest::Client,
}

const JWKS_TTL: Duration = Duration::from_secs(3600);

impl Verifier {
    pub fn new(config: AuthConfig) -> Self {
        Verifier {
            inner: Arc::new(Inner {
                config,
                jwks: RwLock::new(None),
                http: reqwest::Client::new(),
            }),
        }
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = 30;
        v.set_required_spec_claims(&["exp"]);
        let c = &self.inner.config;
        if c.issuer.is_empty() {
            v.iss = None;
        } else {
            v.set_issuer(&[c.issuer.as_str()]);
        }
        if c.audience.is_empty() {
            v.validate_aud = false;
        } else {
            v.set_audience(&[c.audience.as_str()]);
        }
        v
    }

    async fn jwk_key(&self, kid: &str, refresh: bool) -> Result<Option<DecodingKey>, AuthError> {
        if !refresh {
            let cached = self.inner.jwks.read().await;
            if let Some((set, at)) = cached.as_ref()
                && at.elapsed() < JWKS_TTL
            {
                return match set.find(kid) {
                    Some(jwk) => DecodingKey::from_jwk(jwk)
                        .map(Some)
                        .map_err(|e| AuthError::Keys(e.to_string())),
                    None => Ok(None),
                };
            }
        }
        let set: JwkSet = self
            .inner
            .http
            .get(&self.inner.config.jwks_url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| AuthError::Keys(e.to_string()))?
            .json()
            .await
            .map_err(|e| AuthError::Keys(e.to_string()))?;
        let key = set
            .find(kid)
            .map(DecodingKey::from_jwk)
            .transpose()
            .map_err(|e| AuthError::Keys(e.to_string()))?;
        *self.inner.jwks.write().await = Some((set, std::time::Instant::now()));
        Ok(key)
    }

    /// Checks signature, lifetime, issuer and audience; returns the caller.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let claims = match self.inner.config.mode {
            AuthMode::Hs256 => {
                if header.alg != Algorithm::HS256 {
                    return Err(AuthError::Invalid(format!(
                        "algorithm {:?} not accepted",
                        header.alg
                    )));
                }
                let key = DecodingKey::from_secret(self.inner.config.hs256_secret.as_bytes());
                jsonwebtoken::decode::<Claims>(token, &key, &self.validation(Algorithm::HS256))
            }
            AuthMode::Jwks => {
                if header.alg != Algorithm::RS256 {
                    return Err(AuthError::Invalid(format!(
                        "algorithm {:?} not accepted",
                        header.alg
                    )));
                }
                let kid = header
                    .kid
                    .ok_or_else(|| AuthError::Invalid("no key id".into()))?;
                let key = match self.jwk_key(&kid, false).await? {
                    Some(k) => k,
                    // An unknown key id may mean the keys rolled over: refresh once.
                    None => self
                        .jwk_key(&kid, true)
                        .await?
                        .ok_or_else(|| AuthError::Invalid("unknown key id".into()))?,
                };
                jsonwebtoken::decode::<Claims>(token, &key, &self.validation(Algorithm::RS256))
            }
        }
        .map_err(|e| AuthError::Invalid(e.to_string()))?
        .claims;
        let roles = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
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
