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
use stratus_actors::{ActorsError, Node};
use stratus_graph::adapter::GraphAdapter;
use stratus_graph::parse::{ChangeItem, parse_change_notifications};
use stratus_graph::presence::{PresenceConfig, PresenceManager, PresenceSink, validation_token};
use stratus_routing::ids::{M365TenantId, TenantId, UserId};
use stratus_routing::model::Presence;
use stratus_routing::port::{CallEvent, CallEventKind, RejectReason};
use tokio::sync::mpsc;

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

fn refusal(code: u16, message: String) -> Response {
    let body = serde_json::json!({ "error": { "code": "graph_notification_refused", "message": message } });
    (status(code), Json(body)).into_response()
}

/// `POST /graph/calls` and `POST /graph/calls/{tenant}/{call}`.
pub async fn calling(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let started = std::time::Instant::now();
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let r = state.graph.handle_callback(auth, &body).await;
    metrics::histogram!("stratus_graph_webhook_seconds", "kind" => "calling")
        .record(started.elapsed().as_secs_f64());
    match r {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(e) => {
            let code = e.http_status();
            metrics::counter!("stratus_graph_webhook_refused_total", "kind" => "calling", "status" => code.to_string())
                .increment(1);
            if code == 202 {
                // Unreadable: acknowledged so Graph does not resend it forever (logged by the adapter).
                StatusCode::ACCEPTED.into_response()
            } else {
                tracing::warn!(error = %e, status = code, "calling notification refused");
                refusal(code, e.to_string())
            }
        }
    }
}

/// `POST /graph/calls/{tenant}/{call}`: the path only helps operators read logs.
pub async fn calling_per_call(
    state: State<AppState>,
    Path((_tenant, _call)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    calling(state, headers, body).await
}

/// The presence managers, one per Microsoft 365 tenant, found by the notification URL's path.
pub struct PresenceIntake {
    graph: GraphAdapter,
    sink: Arc<dyn PresenceSink>,
    public_url: String,
    client_state: String,
    managers: DashMap<M365TenantId, Arc<PresenceManager>>,
}

impl PresenceIntake {
    pub fn new(
        graph: GraphAdapter,
        sink: Arc<dyn PresenceSink>,
        public_url: String,
        client_state: String,
    ) -> Self {
        PresenceIntake {
            graph,
            sink,
            public_url,
            client_state,
            managers: DashMap::new(),
        }
    }

    pub fn get(&self, tenant: &M365TenantId) -> Option<Arc<PresenceManager>> {
        self.managers.get(tenant).map(|m| Arc::clone(m.value()))
    }

    /// Watches the presence of every user of `tenant` (subscriptions, renewal, resync). Runs
    /// detached: Graph may be slow or down, and presence is a soft signal.
    pub async fn sync_tenant(&self, state: &AppState, tenant: TenantId) {
        let snapshot = match state.store.load_tenant(tenant).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "presence: cannot load the tenant");
                return;
            }
        };
        let m365 = snapshot.tenant.m365_tenant;
        let users: Vec<UserId> = snapshot.users.iter().map(|u| u.id).collect();
        let manager = self
            .managers
            .entry(m365)
            .or_insert_with(|| {
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
                Arc::clone(&m).spawn_maintenance(MAINTENANCE_EVERY);
                m
            })
            .clone();
        tokio::spawn(async move {
            if let Err(e) = manager.set_users(&users).await {
                tracing::warn!(%tenant, error = %e, "presence subscriptions not in place yet; maintenance retries");
            }
        });
    }
}

/// How often subscriptions are checked (renewal happens well before Graph's 60-minute expiry).
const MAINTENANCE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

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

/// Checks what must be refused at once: an unreadable body (400) and a forged `clientState`
/// (403). Everything else is acknowledged and done detached, within Graph's answer deadline.
fn precheck(state: &AppState, kind: &'static str, body: &[u8]) -> Result<(), Refusal> {
    let refuse = |code: u16, message: String| {
        metrics::counter!("stratus_graph_webhook_refused_total", "kind" => kind, "status" => code.to_string())
            .increment(1);
        tracing::warn!(kind, status = code, %message, "change notification refused");
        Refusal { code, message }
    };
    let batch = parse_change_notifications(body).map_err(|e| refuse(400, e.to_string()))?;
    let expected = state.config.graph.client_state.as_str();
    let forged = batch.items.iter().any(|i| {
        let cs = match i {
            ChangeItem::Changed { client_state, .. }
            | ChangeItem::Lifecycle { client_state, .. } => client_state,
        };
        cs.as_deref() != Some(expected)
    });
    if forged {
        return Err(refuse(403, "clientState does not match".into()));
    }
    Ok(())
}

/// `POST /graph/presence/{m365 tenant}`.
pub async fn presence(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if let Some(r) = handshake(query.as_deref()) {
        return r;
    }
    let manager = match manager_for(&state, &tenant) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = precheck(&state, "presence", &body) {
        return r.into_response();
    }
    // A basic notification needs a read-back of the presence, which may take longer than
    // Graph waits for an answer, so it runs detached.
    tokio::spawn(async move {
        if let Err(e) = manager.handle_notification(&body).await {
            tracing::warn!(%tenant, error = %e, "presence notification not applied");
        }
    });
    StatusCode::ACCEPTED.into_response()
}

/// `POST /graph/lifecycle/{m365 tenant}`.
pub async fn lifecycle(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if let Some(r) = handshake(query.as_deref()) {
        return r;
    }
    let manager = match manager_for(&state, &tenant) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = precheck(&state, "lifecycle", &body) {
        return r.into_response();
    }
    tokio::spawn(async move {
        if let Err(e) = manager.handle_lifecycle(&body).await {
            tracing::warn!(%tenant, error = %e, "lifecycle notification not applied");
        }
    });
    StatusCode::ACCEPTED.into_response()
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
                (
                    Err(e @ (ActorsError::UnknownTenant | ActorsError::UnknownService)),
                    Some(m365),
                ) => {
                    tracing::warn!(%call, error = %e, "incoming call for nobody: rejected");
                    metrics::counter!("stratus_calls_rejected_total", "reason" => "unknown_target")
                        .increment(1);
                    let graph = graph.clone();
                    tokio::spawn(async move {
                        if let Err(e) = graph.reject(m365, call.as_str(), RejectReason::None).await
                        {
                            tracing::warn!(%call, error = %e, "could not reject the call");
                        }
                    });
                }
                (Err(e), _) => {
                    // A late notification for a call that has ended: nothing to do.
                    tracing::debug!(%call, error = %e, "call event not delivered");
                }
            }
        }
    })
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
