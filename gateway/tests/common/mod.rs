#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]
//! A real server on loopback (SQLite in a temp dir, the built-in Graph simulator), tokens, and a
//! small JSON client.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;
use stratus_gateway::auth::{Role, mint};
use stratus_gateway::config::{Config, GraphMode};
use stratus_gateway::serve::Server;
use stratus_routing::config::*;
use stratus_routing::ids::*;

pub const SECRET: &str = "test-secret-0123456789abcdef";

pub struct Env {
    pub server: Server,
    pub http: reqwest::Client,
    pub base: String,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// A server whose configuration `tune` may change before it starts.
pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Env {
    stratus_gateway::telemetry::init("warn");
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = format!("sqlite://{}", dir.path().join("stratus.db").display());
    config.auth.hs256_secret = SECRET.into();
    config.graph.mode = GraphMode::Simulator;
    config.graph.app_id = "0efc74f7-41c3-47a4-8775-7259bfef4241".into();
    config.graph.client_state = "test-client-state".into();
    // The tenants whose tokens may carry SystemAdmin / PartnerAdmin (`system_admin()` and the
    // partner of the partner tests).
    config.auth.operator_tenants = vec![
        "system".into(),
        "00000000-0000-0000-0000-0000000000aa".into(),
    ];
    tune(&mut config);
    config.validate().unwrap();
    let server = stratus_gateway::serve::start(config).await.unwrap();
    let base = server.base_url();
    Env {
        server,
        http: reqwest::Client::new(),
        base,
        _dir: dir,
    }
}

pub fn token(tenant: &str, user: &str, roles: &[Role]) -> String {
    mint(SECRET, tenant, user, roles, Duration::from_secs(600)).unwrap()
}

pub fn system_admin() -> String {
    token("system", "root", &[Role::SystemAdmin])
}

pub fn tenant_admin(t: TenantId) -> String {
    token(&t.to_string(), "admin", &[Role::TenantAdmin])
}

/// A token holding every tenant-level role, so a refusal can only come from tenancy.
pub fn all_roles(t: TenantId, user: UserId) -> String {
    token(
        &t.to_string(),
        &user.to_string(),
        &[
            Role::TenantAdmin,
            Role::ServiceOwner,
            Role::Supervisor,
            Role::Agent,
        ],
    )
}

impl Env {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Creates a tenant with one Teams-based service and `agents` members; returns its ids.
    pub async fn tenant(&self, n: u128, agents: u128) -> Seeded {
        let tenant = TenantId::from_u128(0x7e00 + n);
        let m365 = M365TenantId::from_u128(0x3650_0000 + n);
        let t = Tenant {
            id: tenant,
            partner: None,
            name: format!("Tenant {n}"),
            m365_tenant: m365,
            limits: TenantLimits::default(),
        };
        let (s, b) = self
            .post(
                "/api/v1/tenants",
                &system_admin(),
                serde_json::to_value(&t).unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let admin = tenant_admin(tenant);
        let service = ServiceId::from_u128(0x5e00 + n);
        let cfg = ServiceConfig {
            id: service,
            name: format!("Service {n}"),
            app_instance_id: Some(format!("{}", Guid(0xa900 + n))),
            ..ServiceConfig::default()
        };
        let (s, b) = self
            .post(
                "/api/v1/services",
                &admin,
                serde_json::to_value(&cfg).unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let mut users = Vec::new();
        for a in 0..agents {
            let id = UserId::from_u128((n << 16) + a + 1);
            let u = UserConfig {
                id,
                tenant,
                upn: format!("agent{a}@t{n}.example"),
                display_name: format!("Agent {a}"),
                memberships: vec![Membership {
                    service,
                    role: stratus_routing::config::Role::Member,
                    active: true,
                }],
                skills: vec![],
                profiles: vec![],
                active_profile: ResponsibilityProfile::ON_DUTY,
                not_available_reasons: vec![],
                capacity: Capacity::default(),
            };
            let (s, b) = self
                .post("/api/v1/users", &admin, serde_json::to_value(&u).unwrap())
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
            users.push(id);
        }
        Seeded {
            tenant,
            m365,
            service,
            users,
            admin,
        }
    }
}

pub struct Seeded {
    pub tenant: TenantId,
    pub m365: M365TenantId,
    pub service: ServiceId,
    pub users: Vec<UserId>,
    pub admin: String,
}

/// Polls `f` every 20 ms until it returns `Some`, within `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("not {what} within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The tenant's service sessions once at least one is stored, within `within`.
pub async fn stored_sessions(
    env: &Env,
    tenant: TenantId,
    within: Duration,
) -> Vec<stratus_routing::facts::ServiceSessionFact> {
    let store = env.server.state.store.clone();
    eventually("a service session stored", within, || {
        let store = store.clone();
        async move {
            let s = store.service_sessions(tenant, None).await.unwrap();
            (!s.is_empty()).then_some(s)
        }
    })
    .await
}
