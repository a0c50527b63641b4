#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]
//! Loopback harness: the simulator plays Graph, a small axum receiver plays the Stratus
//! webhook and feeds the adapter, whose events land in a channel the test reads.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::sync::Arc;
use std::time::Duration;
use stratus_graph::adapter::{AdapterConfig, GraphAdapter};
use stratus_graph::auth::{CallbackAuthConfig, CallbackValidator, TokenCache, TokenConfig};
use stratus_graph::client::{Backoff, ClientConfig, GraphClient};
use stratus_graph::sim::{SimConfig, SimHandle, Simulator};
use stratus_routing::ids::{CallId, M365TenantId, OfferId, TaskId, TenantId, UserId};
use stratus_routing::port::{
    CallAction, CallCommand, CallControl, CallControlError, CallEvent, CallEventKind,
};
use tokio::sync::mpsc;

pub const BOT_APP_ID: &str = "0efc74f7-41c3-47a4-8775-7259bfef4241";
pub const APP_INSTANCE: &str = "7629bdce-046c-4903-86b4-a8f718277e1a";

pub struct Env {
    pub sim: SimHandle,
    pub adapter: GraphAdapter,
    pub events: mpsc::UnboundedReceiver<CallEvent>,
    pub webhook: String,
}

async fn receive(State(a): State<GraphAdapter>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match a.handle_callback(auth.as_deref(), &body).await {
        Ok(_) => StatusCode::ACCEPTED,
        Err(e) => StatusCode::from_u16(e.http_status()).unwrap(),
    }
}

pub fn client_config(graph: String) -> ClientConfig {
    let mut c = ClientConfig::new(graph);
    c.backoff = Backoff {
        base: Duration::from_millis(20),
        max: Duration::from_millis(200),
    };
    c.request_timeout = Duration::from_secs(5);
    c
}

pub async fn env(tune: impl FnOnce(&mut SimConfig)) -> Env {
    env_with(tune, |_| {}).await
}

/// A listener for the Stratus side's webhook, and its calling-webhook URL.
pub async fn bind_webhook() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = format!("http://{}/graph/calls", listener.local_addr().unwrap());
    (listener, webhook)
}

/// An adapter talking to the Graph at `graph`/`authority`/`openid`, serving its webhook on
/// `listener`; the events it maps land in the returned channel.
pub fn serve_adapter(
    listener: tokio::net::TcpListener,
    webhook: &str,
    (graph, authority, openid): (String, String, String),
    client: ClientConfig,
) -> (GraphAdapter, mpsc::UnboundedReceiver<CallEvent>) {
    let http = reqwest::Client::new();
    let tokens = Arc::new(TokenCache::new(
        http.clone(),
        TokenConfig::new(authority, BOT_APP_ID),
    ));
    let mut client = client;
    client.graph_base_url = graph;
    let client = GraphClient::new(http.clone(), client, tokens);
    let validator = Arc::new(CallbackValidator::new(
        http.clone(),
        CallbackAuthConfig::new(openid, BOT_APP_ID),
    ));
    let (tx, rx) = mpsc::unbounded_channel();
    let adapter = GraphAdapter::new(
        client,
        validator,
        Arc::new(tx),
        AdapterConfig {
            callback_base_url: webhook.to_owned(),
            tts_url: None,
        },
    );
    let app = Router::new()
        .route("/graph/calls", post(receive))
        .route("/graph/calls/{tenant}/{call}", post(receive))
        .with_state(adapter.clone());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (adapter, rx)
}

pub async fn env_with(
    tune: impl FnOnce(&mut SimConfig),
    tune_client: impl FnOnce(&mut ClientConfig),
) -> Env {
    let (listener, webhook) = bind_webhook().await;
    let mut cfg = SimConfig::new(webhook.clone(), BOT_APP_ID);
    tune(&mut cfg);
    let sim = Simulator::start(cfg).await.unwrap();
    let mut client = client_config(sim.graph_base_url());
    tune_client(&mut client);
    let (adapter, rx) = serve_adapter(
        listener,
        &webhook,
        (
            sim.graph_base_url(),
            sim.authority_url(),
            sim.openid_config_url(),
        ),
        client,
    );
    Env {
        sim,
        adapter,
        events: rx,
        webhook,
    }
}

/// A PSTN caller dialling the test resource account.
pub fn pstn() -> stratus_graph::sim::CallerSpec {
    stratus_graph::sim::CallerSpec::phone("+41445550100", APP_INSTANCE)
}

pub fn user(n: u128) -> UserId {
    UserId::from_u128(0xa9e7_0000 + n)
}

impl Env {
    /// The next event, within 5 s.
    pub async fn next(&mut self) -> CallEvent {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .expect("no event within 5 s")
            .expect("event channel closed")
    }

    /// Skips events until one matches, within 5 s; returns it.
    pub async fn until(&mut self, what: &str, f: impl Fn(&CallEvent) -> bool) -> CallEvent {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Some(e)) if f(&e) => return e,
                Ok(Some(_)) => continue,
                _ => panic!("no {what} within 5 s"),
            }
        }
    }

    /// Nothing arrives for `d`.
    pub async fn quiet(&mut self, d: Duration) -> Vec<CallEvent> {
        let mut v = Vec::new();
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            v.push(e);
        }
        v
    }

    pub async fn run(
        &self,
        call: &CallId,
        tenant: M365TenantId,
        action: CallAction,
    ) -> Result<(), CallControlError> {
        self.adapter
            .execute(CallCommand {
                tenant: TenantId::from_u128(1),
                m365_tenant: tenant,
                call: call.clone(),
                task: TaskId::from_u128(1),
                action,
            })
            .await
    }

    /// Places a call from a PSTN number, answers it, waits for Established.
    pub async fn answered_call(
        &mut self,
        spec: stratus_graph::sim::CallerSpec,
    ) -> (CallId, M365TenantId) {
        let id = self.sim.place_call(spec).await.unwrap();
        let e = self.next().await;
        let CallEventKind::Incoming {
            m365_tenant,
            target,
            ..
        } = e.kind
        else {
            panic!("{e:?}")
        };
        assert_eq!(e.call.as_str(), id);
        assert_eq!(target, APP_INSTANCE);
        let call = e.call;
        self.run(&call, m365_tenant, CallAction::Answer { prefetch: vec![] })
            .await
            .unwrap();
        let e = self
            .until("Established", |e| e.kind == CallEventKind::Established)
            .await;
        assert_eq!(e.call, call);
        (call, m365_tenant)
    }

    pub fn commands_matching(
        &self,
        method: &str,
        suffix: &str,
    ) -> Vec<stratus_graph::sim::RecordedCommand> {
        self.sim
            .commands()
            .into_iter()
            .filter(|c| c.method == method && c.path.ends_with(suffix))
            .collect()
    }
}

pub fn offer(n: u64) -> OfferId {
    OfferId(n)
}

/// Polls `f` until true, within 5 s.
pub async fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !f() {
        if tokio::time::Instant::now() > deadline {
            panic!("not {what} within 5 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
