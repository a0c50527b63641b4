//! Presence: change-notification subscriptions (≤ 650 users each, renewed before the 60-minute
//! expiry, recreated when Graph removes them), the validation handshake, `clientState`
//! checks, resync with getPresencesByUserId after any gap, and stale updates dropped by
//! `sequenceNumber`. Presence is a soft signal: the core's own knowledge of offers wins.

mod time;

pub use time::iso8601;

use crate::adapter::GraphAdapter;
use crate::client::{GraphError, GraphRequest};
use crate::parse::{
    ChangeItem, LifecycleEvent, ParseError, PresenceReading, parse_change_notifications,
    parse_subscription,
};
use crate::wire::requests as rq;
use reqwest::Method;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use stratus_routing::ids::{M365TenantId, UserId};
use stratus_routing::model::Presence;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Graph's limit per subscription and per getPresencesByUserId call.
pub const MAX_IDS: usize = 650;

/// Where presence changes go.
pub trait PresenceSink: Send + Sync + 'static {
    fn presence(&self, tenant: M365TenantId, user: UserId, presence: Presence);
}

impl PresenceSink for tokio::sync::mpsc::UnboundedSender<(M365TenantId, UserId, Presence)> {
    fn presence(&self, tenant: M365TenantId, user: UserId, presence: Presence) {
        let _ = self.send((tenant, user, presence));
    }
}

#[derive(Clone, Debug)]
pub struct PresenceConfig {
    /// The gateway's `POST /graph/presence`.
    pub notification_url: String,
    /// The gateway's `POST /graph/lifecycle`.
    pub lifecycle_url: String,
    /// Echoed by Graph in every notification; anything else is rejected.
    pub client_state: String,
    /// Subscription lifetime asked for (Graph allows at most 60 minutes).
    pub lifetime: Duration,
    /// Renew this long before expiry.
    pub renew_before: Duration,
    /// Users per subscription (≤ 650).
    pub chunk: usize,
}

impl PresenceConfig {
    pub fn new(
        notification_url: impl Into<String>,
        lifecycle_url: impl Into<String>,
        client_state: impl Into<String>,
    ) -> Self {
        PresenceConfig {
            notification_url: notification_url.into(),
            lifecycle_url: lifecycle_url.into(),
            client_state: client_state.into(),
            lifetime: Duration::from_secs(55 * 60),
            renew_before: Duration::from_secs(10 * 60),
            chunk: MAX_IDS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresenceError {
    #[error("unreadable notification: {0}")]
    Unreadable(#[from] ParseError),
    #[error("clientState mismatch")]
    ClientState,
    #[error("graph: {0}")]
    Graph(#[from] GraphError),
}

impl PresenceError {
    /// 202 for what Graph should not resend; 403 for a forged `clientState`.
    pub fn http_status(&self) -> u16 {
        match self {
            PresenceError::ClientState => 403,
            _ => 202,
        }
    }
}

/// The validation handshake: the decoded `validationToken` of the query string, to be answered
/// 200 `text/plain` as is. `None` when the request is a real notification.
pub fn validation_token(raw_query: Option<&str>) -> Option<String> {
    let q = raw_query?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "validationToken").then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b.get(i) {
            Some(b'+') => out.push(b' '),
            Some(b'%') => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            Some(c) => out.push(*c),
            None => {}
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `sequenceNumber`s sort lexicographically; compare length first so `"10"` > `"9"` too.
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

struct Sub {
    id: String,
    users: Vec<String>,
    expires_at: Instant,
}

#[derive(Default)]
struct State {
    wanted: Vec<String>,
    subs: Vec<Sub>,
    /// Per user: last Graph sequenceNumber and the local sequence handed to the core.
    seen: HashMap<String, (Option<String>, u64)>,
}

/// Keeps one tenant's presence subscriptions alive and turns notifications into presence.
pub struct PresenceManager {
    adapter: GraphAdapter,
    tenant: M365TenantId,
    cfg: PresenceConfig,
    state: Mutex<State>,
    reconcile_lock: Mutex<()>,
    sink: Arc<dyn PresenceSink>,
}

impl PresenceManager {
    pub fn new(
        adapter: GraphAdapter,
        tenant: M365TenantId,
        cfg: PresenceConfig,
        sink: Arc<dyn PresenceSink>,
    ) -> Self {
        PresenceManager {
            adapter,
            tenant,
            cfg,
            state: Mutex::new(State::default()),
            reconcile_lock: Mutex::new(()),
            sink,
        }
    }

    /// Sets the users to watch and reconciles subscriptions.
    pub async fn set_users(&self, users: &[UserId]) -> Result<(), PresenceError> {
        self.state.lock().await.wanted = users.iter().map(ToString::to_string).collect();
        self.reconcile().await
    }

    /// Ids of live subscriptions with their users.
    pub async fn subscriptions(&self) -> Vec<(String, Vec<String>)> {
        self.state
            .lock()
            .await
            .subs
            .iter()
            .map(|s| (s.id.clone(), s.users.clone()))
            .collect()
    }

    /// Graph keeps a presence subscription at most 60 minutes.
    fn lifetime(&self) -> Duration {
        self.cfg.lifetime.min(Duration::from_secs(3600))
    }

    fn expiration(&self) -> String {
        iso8601(SystemTime::now() + self.lifetime())
    }

    async fn create(&self, users: &[String]) -> Result<Sub, GraphError> {
        let body = rq::presence_subscription(
            users,
            &self.cfg.notification_url,
            &self.cfg.lifecycle_url,
            &self.expiration(),
            &self.cfg.client_state,
        );
        let r = self
            .adapter
            .client()
            .send(GraphRequest {
                operation: "createSubscription",
                tenant: self.tenant,
                method: Method::POST,
                path: "/subscriptions".into(),
                body: Some(body),
                idempotent: false,
            })
            .await?;
        let info =
            parse_subscription(&r.body).map_err(|e| GraphError::BadResponse(e.to_string()))?;
        Ok(Sub {
            id: info.id,
            users: users.to_vec(),
            expires_at: Instant::now() + self.lifetime(),
        })
    }

    async fn renew(&self, id: &str) -> Result<(), GraphError> {
        self.adapter
            .client()
            .send(GraphRequest {
                operation: "renewSubscription",
                tenant: self.tenant,
                method: Method::PATCH,
                path: format!("/subscriptions/{id}"),
                body: Some(rq::renew_subscription(&self.expiration())),
                idempotent: true,
            })
            .await
            .map(|_| ())
    }

    async fn delete(&self, id: &str) -> Result<(), GraphError> {
        let r = self
            .adapter
            .client()
            .send(GraphRequest {
                operation: "deleteSubscription",
                tenant: self.tenant,
                method: Method::DELETE,
                path: format!("/subscriptions/{id}"),
                body: None,
                idempotent: true,
            })
            .await;
        match r {
            Ok(_) | Err(GraphError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Creates missing subscriptions, renews those close to expiry, recreates those Graph
    /// forgot (a PATCH on an expired subscription is 404), deletes those nobody is wanted in,
    /// and resyncs the users of new subscriptions. The state lock is not held across Graph
    /// requests, so notifications keep flowing meanwhile; reconciles run one at a time.
    pub async fn reconcile(&self) -> Result<(), PresenceError> {
        let _one_at_a_time = self.reconcile_lock.lock().await;
        let now = Instant::now();
        let (due, unwanted) = {
            let st = self.state.lock().await;
            let wanted: std::collections::HashSet<&String> = st.wanted.iter().collect();
            let unwanted: Vec<String> = st
                .subs
                .iter()
                .filter(|s| !s.users.iter().any(|u| wanted.contains(u)))
                .map(|s| s.id.clone())
                .collect();
            let due: Vec<(String, Vec<String>)> = st
                .subs
                .iter()
                .filter(|s| s.expires_at <= now + self.cfg.renew_before)
                .filter(|s| !unwanted.contains(&s.id))
                .map(|s| (s.id.clone(), s.users.clone()))
                .collect();
            (due, unwanted)
        };
        for id in unwanted {
            self.delete(&id).await?;
            self.state.lock().await.subs.retain(|s| s.id != id);
        }
        let mut lost: Vec<String> = Vec::new();
        for (id, users) in due {
            match self.renew(&id).await {
                Ok(()) => {
                    let until = Instant::now() + self.lifetime();
                    let mut st = self.state.lock().await;
                    if let Some(s) = st.subs.iter_mut().find(|s| s.id == id) {
                        s.expires_at = until;
                    }
                }
                Err(GraphError::NotFound) => {
                    self.state.lock().await.subs.retain(|s| s.id != id);
                    lost.extend(users);
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Subscribe whoever is wanted and not covered.
        let missing: Vec<String> = {
            let st = self.state.lock().await;
            let covered: std::collections::HashSet<&String> =
                st.subs.iter().flat_map(|s| s.users.iter()).collect();
            st.wanted
                .iter()
                .filter(|u| !covered.contains(u))
                .cloned()
                .collect()
        };
        let chunk = self.cfg.chunk.clamp(1, MAX_IDS);
        let mut failed = None;
        for c in missing.chunks(chunk) {
            match self.create(c).await {
                Ok(s) => {
                    // A new subscription only tells future changes: its users are read below.
                    lost.extend(s.users.iter().cloned());
                    self.state.lock().await.subs.push(s);
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if !lost.is_empty() {
            self.resync(&lost).await?;
        }
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Reads presence with getPresencesByUserId and applies it (after any gap).
    pub async fn resync(&self, users: &[String]) -> Result<usize, PresenceError> {
        let readings = self.adapter.get_presences(self.tenant, users).await?;
        let mut st = self.state.lock().await;
        Ok(readings.iter().filter(|r| self.apply(&mut st, r)).count())
    }

    /// Applies a reading unless it is older than what was seen; returns whether it was used.
    fn apply(&self, st: &mut State, r: &PresenceReading) -> bool {
        let Ok(user) = r.user_id.parse::<UserId>() else {
            return false;
        };
        let entry = st.seen.entry(r.user_id.to_ascii_lowercase()).or_default();
        if let (Some(new), Some(old)) = (&r.sequence_number, &entry.0)
            && !newer(new, old)
        {
            return false;
        }
        if r.sequence_number.is_some() {
            entry.0 = r.sequence_number.clone();
        }
        entry.1 += 1;
        self.sink.presence(
            self.tenant,
            user,
            Presence {
                availability: r.availability,
                activity: r.activity,
                sequence: entry.1,
            },
        );
        true
    }

    /// What must be refused before answering Graph: a body that is no change notification, or
    /// an item whose `clientState` is not ours (a forgery). The work itself may then run
    /// detached, within Graph's answer deadline.
    pub fn check(&self, body: &[u8]) -> Result<(), PresenceError> {
        let batch = parse_change_notifications(body)?;
        let ours = |cs: &Option<String>| cs.as_deref() == Some(self.cfg.client_state.as_str());
        let forged = batch.items.iter().any(|i| match i {
            ChangeItem::Changed { client_state, .. }
            | ChangeItem::Lifecycle { client_state, .. } => !ours(client_state),
        });
        if forged {
            tracing::warn!("change notification with a wrong clientState");
            return Err(PresenceError::ClientState);
        }
        Ok(())
    }

    /// Handles a POST on the notification URL (not the handshake: see [`validation_token`]).
    /// Basic notifications carry only the user id, so the current presence is read back.
    pub async fn handle_notification(&self, body: &[u8]) -> Result<usize, PresenceError> {
        let batch = parse_change_notifications(body)?;
        let mut fetch = Vec::new();
        let mut applied = 0;
        for item in batch.items {
            match item {
                ChangeItem::Changed {
                    client_state,
                    resource_id,
                    presence,
                    ..
                } => {
                    if client_state.as_deref() != Some(self.cfg.client_state.as_str()) {
                        tracing::warn!("presence notification with a wrong clientState");
                        return Err(PresenceError::ClientState);
                    }
                    match (presence, resource_id) {
                        (Some(p), _) => {
                            let mut st = self.state.lock().await;
                            applied += usize::from(self.apply(&mut st, &p));
                        }
                        (None, Some(id)) => fetch.push(id),
                        _ => {}
                    }
                }
                ChangeItem::Lifecycle { .. } => {
                    return self.handle_lifecycle(body).await.map(|_| 0);
                }
            }
        }
        if !fetch.is_empty() {
            fetch.sort();
            fetch.dedup();
            applied += self.resync(&fetch).await?;
        }
        Ok(applied)
    }

    /// Handles a POST on the lifecycle URL.
    pub async fn handle_lifecycle(&self, body: &[u8]) -> Result<(), PresenceError> {
        let batch = parse_change_notifications(body)?;
        for item in batch.items {
            let ChangeItem::Lifecycle {
                subscription_id,
                client_state,
                event,
                ..
            } = item
            else {
                continue;
            };
            if client_state.as_deref() != Some(self.cfg.client_state.as_str()) {
                return Err(PresenceError::ClientState);
            }
            let users = {
                let mut st = self.state.lock().await;
                let idx = st
                    .subs
                    .iter()
                    .position(|s| Some(&s.id) == subscription_id.as_ref());
                match (event.clone(), idx) {
                    (LifecycleEvent::SubscriptionRemoved, Some(i)) => {
                        st.subs.remove(i);
                        Vec::new()
                    }
                    (LifecycleEvent::ReauthorizationRequired, Some(i)) => {
                        // Renew at the next reconcile.
                        if let Some(s) = st.subs.get_mut(i) {
                            s.expires_at = Instant::now();
                        }
                        Vec::new()
                    }
                    (LifecycleEvent::Missed, Some(i)) => {
                        st.subs.get(i).map(|s| s.users.clone()).unwrap_or_default()
                    }
                    _ => Vec::new(),
                }
            };
            match event {
                // Recreating resyncs the users it covers.
                LifecycleEvent::SubscriptionRemoved | LifecycleEvent::ReauthorizationRequired => {
                    self.reconcile().await?;
                }
                LifecycleEvent::Missed => {
                    if !users.is_empty() {
                        self.resync(&users).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Reconciles every `every` until the returned handle is aborted.
    pub fn spawn_maintenance(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = self.reconcile().await {
                    tracing::warn!(error = %e, "presence subscription maintenance failed");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_token_is_decoded() {
        assert_eq!(
            validation_token(Some("validationToken=Validation%3A%20Testing+client%20app")),
            Some("Validation: Testing client app".into())
        );
        assert_eq!(validation_token(Some("a=b")), None);
        assert_eq!(validation_token(None), None);
        assert_eq!(
            validation_token(Some("validationToken=%zz")),
            Some("%zz".into())
        );
    }

    #[test]
    fn sequence_numbers_compare_as_versions() {
        assert!(newer("10", "9"));
        assert!(newer("00000000000000000002", "00000000000000000001"));
        assert!(!newer("00000000000000000001", "00000000000000000001"));
        assert!(!newer("A", "B"));
    }
}
