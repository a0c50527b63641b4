//! Microsoft Graph's way in: the calling webhook and per-call callbacks, presence change and
//! lifecycle notifications. Each is answered within milliseconds; the work goes to the actors
//! through the node's tenant directory.

use crate::app::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dashmap::DashMap;
use std::sync::Arc;
use std::time::Duration;
use stratus_actors::{ActorsError, Node};
use stratus_graph::adapter::{CallbackError, CallbackRoute, GraphAdapter};
use stratus_graph::presence::{
    PresenceConfig, PresenceError, PresenceManager, PresenceSink, validation_token,
};
use stratus_routing::ids::{CallId, M365TenantId, TenantId, UserId};
use stratus_routing::model::Presence;
use stratus_routing::port::{CallEvent, CallEventKind, RejectReason};
use stratus_store::FullStore;
use tokio::sync::mpsc;

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

fn refusal(code: u16, message: String) -> Response {
    let body = serde_json::json!({ "error": { "code": "graph_notification_refused", "message": message } });
    (status(code), Json(body)).into_response()
}

/// `POST /graph/calls`: the calling webhook.
pub async fn calling(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    calling_at(&state, req, None, None).await
}

/// `POST /graph/calls/{tenant}/{call}`: a per-call callback, bound to the tenant and call its
/// path names.
pub async fn calling_per_call(
    State(state): State<AppState>,
    Path((tenant, call)): Path<(String, String)>,
    req: axum::extract::Request,
) -> Response {
    calling_at(&state, req, Some(&tenant), Some(&call)).await
}

/// The token is checked before a byte of the body is read: an anonymous sender makes the
/// server buffer nothing.
async fn read_authorized(
    state: &AppState,
    req: axum::extract::Request,
) -> Result<(HeaderMap, Bytes), Response> {
    let (parts, body) = req.into_parts();
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = state.graph.authorize(auth).await {
        return Err(refused(&e));
    }
    let limit = state.config.server.max_webhook_body_bytes;
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok((parts.headers, b)),
        Err(_) => Err(refusal(
            413,
            format!("notification bodies are limited to {limit} bytes (or it arrived too slowly)"),
        )),
    }
}

fn refused(e: &CallbackError) -> Response {
    let code = e.http_status();
    let reason = match e {
        CallbackError::Unauthorized(_) => "unauthorized",
        CallbackError::Unreadable(_) => "unreadable",
        CallbackError::Foreign(_) => "foreign_tenant",
    };
    metrics::counter!("stratus_graph_webhook_refused_total", "kind" => "calling", "status" => code.to_string(), "reason" => reason)
        .increment(1);
    if code == 202 {
        // Unreadable: acknowledged so Graph does not resend it forever (logged by the adapter).
        StatusCode::ACCEPTED.into_response()
    } else {
        tracing::warn!(error = %e, status = code, "calling notification refused");
        refusal(code, e.public_reason().to_string())
    }
}

async fn calling_at(
    state: &AppState,
    req: axum::extract::Request,
    tenant: Option<&str>,
    call: Option<&str>,
) -> Response {
    let started = std::time::Instant::now();
    let (headers, body) = match read_authorized(state, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let node = state.node.clone();
    // Calls restored after a restart are known to the actors before the adapter sees them again.
    let owner = move |c: &str| node.m365_of_call(&CallId::new(c.to_owned()));
    let route = CallbackRoute {
        tenant,
        call,
        owner: Some(&owner),
    };
    let r = state.graph.handle_callback_at(auth, &body, &route).await;
    metrics::histogram!("stratus_graph_webhook_seconds", "kind" => "calling")
        .record(started.elapsed().as_secs_f64());
    match r {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(e) => refused(&e),
    }
}

/// The presence managers, one per Microsoft 365 tenant, found by the notification URL's path.
pub struct PresenceIntake {
    graph: GraphAdapter,
    sink: Arc<dyn PresenceSink>,
    public_url: String,
    client_state: String,
    /// How often users no subscription covers are read with getPresencesByUserId. Graph allows
    /// presence subscriptions with delegated permissions only; with an app-only token this
    /// polling is how presence arrives.
    poll_every: Duration,
    managers: DashMap<M365TenantId, Arc<PresenceManager>>,
    /// The users watched per tenant, as last loaded.
    watched: DashMap<M365TenantId, Arc<Vec<UserId>>>,
    /// One update of a tenant's watched users at a time, so the newest configuration wins.
    locks: DashMap<TenantId, Arc<tokio::sync::Mutex<()>>>,
    /// Maintenance and polling loops, stopped at shutdown.
    loops: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl PresenceIntake {
    pub fn new(
        graph: GraphAdapter,
        sink: Arc<dyn PresenceSink>,
        public_url: String,
        client_state: String,
        poll_every: Duration,
    ) -> Self {
        PresenceIntake {
            graph,
            sink,
            public_url,
            client_state,
            poll_every,
            managers: DashMap::new(),
            watched: DashMap::new(),
            locks: DashMap::new(),
            loops: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn get(&self, tenant: &M365TenantId) -> Option<Arc<PresenceManager>> {
        self.managers.get(tenant).map(|m| Arc::clone(m.value()))
    }

    /// Watches the presence of every user of `tenant` (subscriptions, renewal, resync, and
    /// polling where no subscription covers a user). Runs detached: Graph may be slow or
    /// down, and presence is a soft signal.
    pub fn sync_tenant(self: &Arc<Self>, store: Arc<dyn FullStore>, tenant: TenantId) {
        let me = Arc::clone(self);
        let lock = Arc::clone(self.locks.entry(tenant).or_default().value());
        tokio::spawn(async move {
            let _one_at_a_time = lock.lock().await;
            // Loaded under the lock: a later change's list is never overwritten by an older one.
            let snapshot = match store.load_tenant(tenant).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "presence: cannot load the tenant");
                    return;
                }
            };
            let m365 = snapshot.tenant.m365_tenant;
            let users: Vec<UserId> = snapshot.users.iter().map(|u| u.id).collect();
            me.watched.insert(m365, Arc::new(users.clone()));
            let manager = me.manager(m365);
            if let Err(e) = manager.set_users(&users).await {
                tracing::warn!(%tenant, error = %e, "presence subscriptions not in place; polling covers the users");
            }
        });
    }

    fn manager(self: &Arc<Self>, m365: M365TenantId) -> Arc<PresenceManager> {
        if let Some(m) = self.get(&m365) {
            return m;
        }
        let cfg = PresenceConfig::new(
            format!("{}/graph/presence/{m365}", self.public_url),
            format!("{}/graph/lifecycle/{m365}", self.public_url),
            self.client_state.clone(),
        );
        let m = Arc::new(PresenceManager::new(
            self.graph.clone(),
            m365,
            cfg,
            Arc::clone(&self.sink),
        ));
        let m = Arc::clone(self.managers.entry(m365).or_insert(m).value());
        let maintenance = Arc::clone(&m).spawn_maintenance(MAINTENANCE_EVERY);
        let poller = self.spawn_poller(m365, Arc::clone(&m));
        if let Ok(mut loops) = self.loops.lock() {
            loops.push(maintenance);
            loops.push(poller);
        }
        m
    }

    /// Reads the presence of watched users that no live subscription covers.
    fn spawn_poller(
        self: &Arc<Self>,
        m365: M365TenantId,
        manager: Arc<PresenceManager>,
    ) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            if me.poll_every.is_zero() {
                return;
            }
            let mut tick = tokio::time::interval(me.poll_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(watched) = me.watched.get(&m365).map(|w| Arc::clone(w.value())) else {
                    continue;
                };
                let covered: std::collections::HashSet<String> = manager
                    .subscriptions()
                    .await
                    .into_iter()
                    .flat_map(|(_, users)| users)
                    .map(|u| u.to_ascii_lowercase())
                    .collect();
                let uncovered: Vec<String> = watched
                    .iter()
                    .map(|u| u.to_string())
                    .filter(|u| !covered.contains(u))
                    .collect();
                for chunk in uncovered.chunks(stratus_graph::presence::MAX_IDS) {
                    if let Err(e) = manager.resync(chunk).await {
                        tracing::warn!(%m365, error = %e, "presence poll failed");
                    }
                }
            }
        })
    }

    /// Deletes this node's presence subscriptions (Graph would otherwise keep notifying a
    /// stopped node for up to an hour), within `grace`.
    pub async fn unsubscribe_all(&self, grace: Duration) {
        let managers: Vec<Arc<PresenceManager>> = self
            .managers
            .iter()
            .map(|m| Arc::clone(m.value()))
            .collect();
        let all = async {
            for m in managers {
                if let Err(e) = m.set_users(&[]).await {
                    tracing::warn!(error = %e, "presence subscriptions not deleted");
                }
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("presence subscriptions not all deleted within the grace period");
        }
    }

    /// Stops the maintenance and polling loops.
    pub fn stop(&self) {
        if let Ok(mut loops) = self.loops.lock() {
            for l in loops.drain(..) {
                l.abort();
            }
        }
    }
}

/// How often subscriptions are checked (renewal happens well before Graph's 60-minute expiry).
const MAINTENANCE_EVERY: Duration = Duration::from_secs(60);

/// The validation handshake of a subscription: the token, decoded, as `text/plain`.
fn handshake(query: Option<&str>) -> Option<Response> {
    validation_token(query).map(|token| {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            token,
        )
            .into_response()
    })
}

/// Why a change notification is refused (answered with its status and a JSON body).
struct Refusal {
    code: u16,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refusal(self.code, self.message)
    }
}

fn manager_for(state: &AppState, tenant: &str) -> Result<Arc<PresenceManager>, Refusal> {
    tenant
        .parse::<M365TenantId>()
        .ok()
        .and_then(|t| state.presence.get(&t))
        .ok_or_else(|| Refusal {
            code: 404,
            message: format!("no presence subscriptions for tenant {tenant:?}"),
        })
}

#[derive(Clone, Copy)]
enum ChangeKind {
    Presence,
    Lifecycle,
}

/// Both change-notification endpoints: the handshake, the checks that must answer at once, then
/// the work detached (a basic presence notification needs a read-back, which may take longer
/// than Graph waits for an answer).
async fn change_notification(
    state: AppState,
    tenant: String,
    query: Option<String>,
    body: Bytes,
    kind: ChangeKind,
) -> Response {
    // Only a tenant Stratus serves gets its handshake answered: echoing any token on any path
    // would let anyone validate a subscription of theirs against this server.
    let served = tenant
        .parse::<M365TenantId>()
        .ok()
        .and_then(|t| state.node.tenant_of_m365(&t));
    if served.is_none() {
        return Refusal {
            code: 404,
            message: format!("no presence subscriptions for tenant {tenant:?}"),
        }
        .into_response();
    }
    if let Some(r) = handshake(query.as_deref()) {
        return r;
    }
    let manager = match manager_for(&state, &tenant) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let label = match kind {
        ChangeKind::Presence => "presence",
        ChangeKind::Lifecycle => "lifecycle",
    };
    // An unreadable body is refused (400), a forged `clientState` too (403).
    if let Err(e) = manager.check(&body) {
        let code = match e {
            PresenceError::ClientState => 403,
            _ => 400,
        };
        let reason = if code == 403 {
            "client_state"
        } else {
            "unreadable"
        };
        metrics::counter!("stratus_graph_webhook_refused_total", "kind" => label, "status" => code.to_string(), "reason" => reason)
            .increment(1);
        tracing::warn!(kind = label, status = code, error = %e, "change notification refused");
        let public = if code == 403 {
            "clientState mismatch"
        } else {
            "unreadable notification"
        };
        return refusal(code, public.to_string());
    }
    tokio::spawn(async move {
        let done = match kind {
            ChangeKind::Presence => manager.handle_notification(&body).await.map(|_| ()),
            ChangeKind::Lifecycle => manager.handle_lifecycle(&body).await,
        };
        if let Err(e) = done {
            tracing::warn!(%tenant, kind = label, error = %e, "change notification not applied");
        }
    });
    StatusCode::ACCEPTED.into_response()
}

/// `POST /graph/presence/{m365 tenant}`.
pub async fn presence(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    change_notification(state, tenant, query, body, ChangeKind::Presence).await
}

/// `POST /graph/lifecycle/{m365 tenant}`.
pub async fn lifecycle(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    change_notification(state, tenant, query, body, ChangeKind::Lifecycle).await
}

/// Hands the adapter's call events to the actors. A call for a tenant or resource account that
/// Stratus does not serve is rejected at once, so the caller is not left ringing.
pub fn spawn_call_forwarder(
    node: Node,
    graph: GraphAdapter,
    mut events: mpsc::UnboundedReceiver<CallEvent>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let incoming = match &event.kind {
                CallEventKind::Incoming { m365_tenant, .. } => Some(*m365_tenant),
                _ => None,
            };
            let call = event.call.clone();
            match (node.call_event(event), incoming) {
                (Ok(()), _) => {}
                // A new call nobody will take (unknown tenant or resource account, or the tenant
                // is stopping) is rejected at once, so the caller is not left ringing.
                (Err(e), Some(m365)) => {
                    tracing::warn!(%call, error = %e, "incoming call not taken: rejected");
                    metrics::counter!("stratus_calls_rejected_total", "reason" => rejection_reason(&e)).increment(1);
                    let graph = graph.clone();
                    tokio::spawn(async move {
                        if let Err(e) = graph.reject(m365, call.as_str(), RejectReason::None).await
                        {
                            tracing::warn!(%call, error = %e, "could not reject the call");
                        }
                    });
                }
                (Err(e), None) => {
                    // A late notification for a call that has ended: nothing to do.
                    tracing::debug!(%call, error = %e, "call event not delivered");
                }
            }
        }
    })
}

fn rejection_reason(e: &ActorsError) -> &'static str {
    match e {
        ActorsError::UnknownTenant | ActorsError::UnknownService => "unknown_target",
        _ => "unavailable",
    }
}

/// Hands presence changes to the user actors.
pub fn spawn_presence_forwarder(
    node: Node,
    mut changes: mpsc::UnboundedReceiver<(M365TenantId, UserId, Presence)>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some((m365, user, presence)) = changes.recv().await {
            let Some(tenant) = node.tenant_of_m365(&m365) else {
                tracing::debug!(%m365, "presence for an unknown tenant");
                continue;
            };
            if let Err(e) = node.presence(tenant, user, presence) {
                tracing::debug!(%tenant, %user, error = %e, "presence not delivered");
            }
        }
    })
}
