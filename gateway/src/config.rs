//! The one typed configuration: a TOML file plus `STRATUS_*` environment overrides
//! (`STRATUS_SERVER__LISTEN=0.0.0.0:8080`; `__` separates sections), validated at start with
//! errors that name the bad key.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub graph: GraphConfig,
    pub routing: RoutingConfig,
    pub metrics: MetricsConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// The externally reachable base URL (Graph callbacks and notification URLs are built on it).
    /// Empty: `http://` + the bound address (local use and the simulator only).
    pub public_url: String,
    /// Seconds to wait for in-flight work on shutdown.
    pub shutdown_grace_secs: u64,
    /// Open connections at most; past this a connection is answered 503 and closed.
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers. hyper starts this timer as soon as a
    /// kept-alive connection is idle, so it is also the idle keep-alive timeout.
    pub header_read_timeout_secs: u64,
    /// The largest request head (request line and headers), bytes; larger: 431.
    pub max_header_bytes: usize,
    /// Seconds a request may take from its headers to its response; longer: 408.
    pub request_timeout_secs: u64,
    /// Seconds a request body may take to arrive; longer: 408.
    pub body_timeout_secs: u64,
    /// The largest REST request body, bytes; larger: 413.
    pub max_body_bytes: usize,
    /// The largest Graph notification body, bytes; larger: 413.
    pub max_webhook_body_bytes: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://stratus.db` (default) or `postgres://user:pass@host/db`.
    pub url: String,
    /// Upper bound of the store writer's in-memory backlog (records).
    pub writer_backlog: usize,
    /// Days after which stored context data of ended tasks is purged.
    pub context_retention_days: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// HS256 with a local secret (development; `stratus token` mints tokens).
    Hs256,
    /// RS256 with keys from a JWKS URL (Entra ID).
    Jwks,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub mode: AuthMode,
    pub hs256_secret: String,
    pub jwks_url: String,
    /// Expected `iss`; `{tid}` stands for the token's tenant
    /// (`https://login.microsoftonline.com/{tid}/v2.0`). Empty: not checked (hs256 only).
    pub issuer: String,
    /// Expected `aud` (Stratus's app id URI). Required with `mode = "jwks"`.
    pub audience: String,
    /// The tenant ids (`tid`) whose tokens may carry the operator roles
    /// SystemAdmin and PartnerAdmin, in both modes. Tokens of other tenants never do.
    pub operator_tenants: Vec<String>,
    /// When set, `/metrics` requires `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphMode {
    /// The built-in Graph simulator (demo, tests).
    Simulator,
    /// Microsoft Graph.
    Microsoft,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphConfig {
    pub mode: GraphMode,
    /// Graph API base URL.
    pub base_url: String,
    /// OAuth2 authority for client credentials.
    pub authority: String,
    /// The bot's Entra app (client) id: the audience of Graph's callback tokens.
    pub app_id: String,
    pub client_secret: String,
    /// Where Graph's callback-token signing keys are published.
    pub openid_config_url: String,
    /// Expected issuer of Graph's callback tokens.
    pub callback_issuer: String,
    /// `clientState` expected on presence change notifications.
    pub client_state: String,
    /// Outbound Graph requests per second per tenant.
    pub rate_limit_per_sec: u32,
    /// Text-to-speech endpoint for text prompts (`{tts_url}?text=…`); service-hosted media
    /// plays audio files only, so without it text prompts are skipped.
    pub tts_url: Option<String>,
    /// Seconds between reads of the presence of users no subscription covers (Graph grants
    /// presence subscriptions to delegated tokens only); 0 disables polling.
    pub presence_poll_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// Agent-pull bid window in milliseconds (0: first come).
    pub bid_window_ms: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Label metrics by tenant (bounded-cardinality switch: off by default).
    pub per_tenant_labels: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            graph: GraphConfig::default(),
            routing: RoutingConfig::default(),
            metrics: MetricsConfig {
                per_tenant_labels: false,
            },
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            shutdown_grace_secs: 10,
            max_connections: 16_384,
            header_read_timeout_secs: 10,
            max_header_bytes: 16 * 1024,
            request_timeout_secs: 30,
            body_timeout_secs: 10,
            max_body_bytes: 1024 * 1024,
            max_webhook_body_bytes: 1024 * 1024,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://stratus.db".into(),
            writer_backlog: 100_000,
            context_retention_days: 30,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::Hs256,
            hs256_secret: String::new(),
            jwks_url: String::new(),
            issuer: String::new(),
            audience: String::new(),
            operator_tenants: Vec::new(),
            metrics_token: None,
        }
    }
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            mode: GraphMode::Simulator,
            base_url: "https://graph.microsoft.com/v1.0".into(),
            authority: "https://login.microsoftonline.com".into(),
            app_id: String::new(),
            client_secret: String::new(),
            openid_config_url: "https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration"
                .into(),
            callback_issuer: "https://api.botframework.com".into(),
            client_state: String::new(),
            rate_limit_per_sec: 50,
            tts_url: None,
            presence_poll_secs: 10,
        }
    }
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig { bid_window_ms: 5 }
    }
}

/// A configuration problem, naming the key as it is spelled in the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(Box<figment::Error>),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: &'static str, problem: String },
    #[error(
        "environment variable {0} is not a configuration key (keys are STRATUS_<SECTION>__<KEY>, e.g. STRATUS_SERVER__LISTEN)"
    )]
    StrayVariable(String),
}

impl Config {
    /// Defaults, then the file (if any), then `STRATUS_*` variables; validated.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            fig = fig.merge(Toml::file_exact(f));
        }
        // `DATABASE_URL` is the conventional name; `STRATUS_DATABASE__URL` wins over it.
        fig = fig.merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| "database.url".into()),
        );
        // Only `STRATUS_<SECTION>__<KEY>` variables configure; others of the same prefix
        // (`STRATUS_CONFIG`, `STRATUS_LOG_FORMAT`, test settings) are not configuration keys.
        fig = fig.merge(
            Env::prefixed("STRATUS_")
                .filter(|k| k.as_str().contains("__"))
                .split("__"),
        );
        if let Some(k) = stray_variable() {
            return Err(ConfigError::StrayVariable(k));
        }
        let cfg: Config = fig.extract().map_err(|e| ConfigError::Parse(Box::new(e)))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The connection and request limits of `[server]`: none may be off (zero), and they must
    /// fit together.
    fn validate_limits(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        let bad = |key, problem: String| Err(ConfigError::Invalid { key, problem });
        let at_least = |key, v: u64, min: u64| {
            if v < min {
                bad(key, format!("must be at least {min}"))
            } else {
                Ok(())
            }
        };
        at_least("server.max_connections", s.max_connections as u64, 1)?;
        at_least(
            "server.header_read_timeout_secs",
            s.header_read_timeout_secs,
            1,
        )?;
        at_least("server.max_header_bytes", s.max_header_bytes as u64, 8192)?;
        at_least("server.request_timeout_secs", s.request_timeout_secs, 1)?;
        at_least("server.body_timeout_secs", s.body_timeout_secs, 1)?;
        at_least("server.max_body_bytes", s.max_body_bytes as u64, 1024)?;
        at_least(
            "server.max_webhook_body_bytes",
            s.max_webhook_body_bytes as u64,
            1024,
        )?;
        if s.body_timeout_secs > s.request_timeout_secs {
            return bad(
                "server.body_timeout_secs",
                format!(
                    "must not exceed server.request_timeout_secs ({})",
                    s.request_timeout_secs
                ),
            );
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, problem: &str| {
            Err(ConfigError::Invalid {
                key,
                problem: problem.to_string(),
            })
        };
        if self.server.listen.parse::<SocketAddr>().is_err() {
            return bad("server.listen", "not a socket address like 127.0.0.1:8080");
        }
        if !(self.server.public_url.is_empty() || is_url(&self.server.public_url)) {
            return bad("server.public_url", "must be an http:// or https:// URL");
        }
        self.validate_limits()?;
        let db = &self.database.url;
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            return bad("database.url", "must be sqlite://PATH or postgres://…");
        }
        if self.database.writer_backlog == 0 {
            return bad("database.writer_backlog", "must be at least 1");
        }
        if self.database.context_retention_days == 0 {
            return bad("database.context_retention_days", "must be at least 1");
        }
        let jwks = "required when auth.mode = \"jwks\"";
        match self.auth.mode {
            AuthMode::Hs256 if self.auth.hs256_secret.len() < 16 => {
                return bad(
                    "auth.hs256_secret",
                    "must be at least 16 characters (set STRATUS_AUTH__HS256_SECRET)",
                );
            }
            AuthMode::Jwks if !is_url(&self.auth.jwks_url) => {
                return bad("auth.jwks_url", &format!("an http(s) URL is {jwks}"));
            }
            // Without them any token the identity provider signs, for any app, would do.
            AuthMode::Jwks if self.auth.audience.is_empty() => {
                return bad("auth.audience", jwks);
            }
            AuthMode::Jwks if self.auth.issuer.is_empty() => {
                return bad(
                    "auth.issuer",
                    &format!("{jwks} (e.g. https://login.microsoftonline.com/{{tid}}/v2.0)"),
                );
            }
            _ => {}
        }
        if self
            .auth
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.len() < 16)
        {
            return bad(
                "auth.metrics_token",
                "must be at least 16 characters when set",
            );
        }
        if self.graph.mode == GraphMode::Microsoft {
            for (key, url) in [
                ("graph.base_url", &self.graph.base_url),
                ("graph.authority", &self.graph.authority),
                ("graph.openid_config_url", &self.graph.openid_config_url),
            ] {
                if !is_url(url) {
                    return bad(key, "must be an http(s) URL");
                }
            }
            if self.graph.app_id.is_empty() {
                return bad("graph.app_id", "required when graph.mode = \"microsoft\"");
            }
            if self.graph.client_secret.is_empty() {
                return bad(
                    "graph.client_secret",
                    "required when graph.mode = \"microsoft\" (set STRATUS_GRAPH__CLIENT_SECRET)",
                );
            }
            // Microsoft Graph itself calls back only to https; a Graph-compatible endpoint on
            // loopback (graph-sim, tests) may use http.
            if self.graph.base_url.contains("graph.microsoft.com")
                && !self.server.public_url.starts_with("https://")
            {
                return bad(
                    "server.public_url",
                    "Microsoft Graph only calls back to https URLs",
                );
            }
            if self.graph.client_state.len() < 8 {
                return bad(
                    "graph.client_state",
                    "at least 8 characters are required when graph.mode = \"microsoft\" (set STRATUS_GRAPH__CLIENT_STATE)",
                );
            }
        }
        if let Some(tts) = &self.graph.tts_url
            && !is_url(tts)
        {
            return bad("graph.tts_url", "must be an http(s) URL");
        }
        if self.graph.rate_limit_per_sec == 0 {
            return bad("graph.rate_limit_per_sec", "must be at least 1");
        }
        if self.routing.bid_window_ms > 1000 {
            return bad("routing.bid_window_ms", "must be at most 1000");
        }
        Ok(())
    }
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
}

/// `STRATUS_` variables that are not configuration keys.
const NOT_CONFIGURATION: &[&str] = &[
    "STRATUS_CONFIG",
    "STRATUS_LOG_FORMAT",
    "STRATUS_USE_NEXTEST",
];

/// A `STRATUS_` variable that is neither a key (`STRATUS_<SECTION>__<KEY>`) nor a known
/// setting is a typo: named, not ignored.
fn stray_variable() -> Option<String> {
    std::env::vars().map(|(k, _)| k).find(|k| {
        k.starts_with("STRATUS_")
            && !k.contains("__")
            && !k.starts_with("STRATUS_TEST_")
            && !NOT_CONFIGURATION.contains(&k.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn with_file(text: &str) -> Result<Config, ConfigError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        Config::load(Some(f.path()))
    }

    #[test]
    fn a_file_sets_values_and_validation_names_the_bad_key() {
        let ok = with_file(
            "[auth]\nhs256_secret = \"0123456789abcdef\"\n[server]\nlisten = \"127.0.0.1:9999\"\n",
        )
        .unwrap();
        assert_eq!(ok.server.listen, "127.0.0.1:9999");
        let e = with_file("[auth]\nhs256_secret = \"short\"\n").unwrap_err();
        assert!(e.to_string().contains("auth.hs256_secret"), "{e}");
        let e = with_file(
            "[auth]\nhs256_secret = \"0123456789abcdef\"\n[server]\nlisten = \"nowhere\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("server.listen"), "{e}");
        let e = with_file(
            "[auth]\nhs256_secret = \"0123456789abcdef\"\n[database]\nurl = \"mysql://x\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("database.url"), "{e}");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        let e = with_file("[server]\nlisen = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("lisen"), "{e}");
        let e = with_file("[routing]\nbid_window_ms = \"soon\"\n").unwrap_err();
        assert!(e.to_string().contains("bid_window_ms"), "{e}");
    }
}
