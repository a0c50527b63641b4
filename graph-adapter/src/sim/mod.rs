//! A Microsoft Graph + Teams phones simulator, for tests, the demo and load tests.
//!
//! ```text
//! let sim = Simulator::start(SimConfig::new("http://127.0.0.1:8080/graph/calls", bot_app_id)).await?;
//! // point the adapter at sim.graph_base_url(), sim.authority_url(), sim.openid_config_url()
//! sim.set_agent_behaviour(agent, AgentBehaviour::answer_after(Duration::from_millis(200)));
//! let call = sim.place_call(CallerSpec::user(caller, app_instance)).await?;
//! sim.press_digits(&call, "1").await;
//! assert!(sim.commands().iter().any(|c| c.path.ends_with("/answer")));
//! ```
//!
//! It serves (all under `/v1.0`) the calling actions (answer, reject, redirect, transfer,
//! playPrompt, recordResponse, subscribeToTone, cancelMediaProcessing, keepAlive, DELETE call,
//! create call, get call, list/invite/delete participants), presence (get, getPresencesByUserId,
//! subscriptions with the validation handshake, renew, delete), the OAuth2 token endpoint
//! (`/{tenant}/oauth2/v2.0/token`), an OpenID configuration
//! (`/v1/.well-known/OpenIdConfiguration`) and its JWKS (`/v1/keys`). Callbacks are the fixture
//! shapes, signed RS256 with the simulator's key (`iss`, `aud` = bot app id, `tid`), delivered
//! in order per call. Agents' phones answer after a delay, decline, ignore, are unreachable or
//! busy; callers hang up after a patience time; agents end the conversation after a talk time.
//! Faults: 429 bursts with `Retry-After`, 5xx, slow responses, lost callbacks.
//!
//! Deterministic for a seed: every call draws its ids (call, chain, participants, operations,
//! its agent legs) from its own stream, seeded by the seed and the call's ordinal, so a call's
//! ids and callbacks are the same however concurrent calls interleave; behaviour mixes and
//! patience are drawn from the seed too; delays are the configured ones.
//!
//! Codes the docs leave open (inferred): a declined invitation or leg fails with 603, busy with
//! 486, unreachable with 480/10076, no answer with 408/10057, a cancelled invitation with 487.

mod graph;
pub mod keys;
mod load;
mod phones;
mod state;

pub use load::{BehaviourMix, CallPlan, SimAgent};

use serde_json::Value;
use state::SimState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::ids::{M365TenantId, UserId};
use stratus_routing::model::{Activity, Availability};

/// How an agent's Teams client reacts to a ringing call or invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentBehaviour {
    /// Answers after `after`; ends the conversation after `talk` (never if `None`).
    Answer {
        after: Duration,
        talk: Option<Duration>,
    },
    Decline {
        after: Duration,
    },
    /// Lets it ring until the platform gives up (`SimConfig::ring_timeout`).
    Ignore,
    Unreachable,
    Busy,
}

impl AgentBehaviour {
    pub fn answer_after(after: Duration) -> Self {
        AgentBehaviour::Answer { after, talk: None }
    }
}

/// Who calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallerId {
    User { id: String, name: Option<String> },
    Phone(String),
    Anonymous,
}

/// A call to place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerSpec {
    pub tenant: Option<M365TenantId>,
    pub from: CallerId,
    /// The resource account (application instance) dialled.
    pub to_app_instance: String,
    /// Hangs up if no agent has joined by then.
    pub patience: Option<Duration>,
}

impl CallerSpec {
    pub fn phone(number: &str, app_instance: &str) -> Self {
        CallerSpec {
            tenant: None,
            from: CallerId::Phone(number.into()),
            to_app_instance: app_instance.into(),
            patience: None,
        }
    }
    pub fn user(id: UserId, app_instance: &str) -> Self {
        CallerSpec {
            tenant: None,
            from: CallerId::User {
                id: id.to_string(),
                name: None,
            },
            to_app_instance: app_instance.into(),
            patience: None,
        }
    }
    pub fn with_patience(mut self, p: Duration) -> Self {
        self.patience = Some(p);
        self
    }
}

/// A fault to inject into the next Graph requests (token, OpenID and JWKS endpoints excluded).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The next `count` requests get 429 with `Retry-After: retry_after_s`.
    Throttle { count: u32, retry_after_s: f64 },
    /// The next `count` requests get `status` (5xx).
    ServerError { count: u32, status: u16 },
    /// The next `count` requests are acted on but answered `delay` late (a client that
    /// times out cannot tell whether they took effect).
    Slow { count: u32, delay: Duration },
    /// The next `count` callbacks are dropped.
    LoseCallbacks { count: u32 },
}

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub bind: SocketAddr,
    /// The bot's calling webhook: where incoming calls are delivered.
    pub calling_webhook: String,
    /// The bot's app id (`aud` of callback tokens).
    pub bot_app_id: String,
    /// `iss` of callback tokens.
    pub issuer: String,
    /// Tenant of calls placed without one.
    pub default_tenant: M365TenantId,
    /// Between answer and `established`.
    pub establish_delay: Duration,
    /// How long a prompt plays.
    pub prompt_duration: Duration,
    /// An unanswered invitation or leg fails with 408/10057 after this.
    pub ring_timeout: Duration,
    /// For agents without an explicit behaviour.
    pub default_behaviour: AgentBehaviour,
    pub token_lifetime: Duration,
    /// An answered call without a keepAlive for this long ends with 408/8537.
    pub keep_alive_timeout: Duration,
    /// Agents known from the start (behaviour and presence).
    pub agents: Vec<SimAgent>,
    /// Teams shows an agent Busy / InACall while on a call, and their earlier presence after.
    pub presence_follows_calls: bool,
    /// Every this often, one agent not on a call (drawn from the seed) steps Away or comes
    /// back Available: presence traffic for demos and load tests.
    pub presence_churn: Option<Duration>,
    /// Keep every request and callback for [`SimHandle::commands`] and
    /// [`SimHandle::callbacks`] (tests); long load runs turn it off and read [`SimStats`].
    pub keep_records: bool,
}

impl SimConfig {
    pub fn new(calling_webhook: impl Into<String>, bot_app_id: impl Into<String>) -> Self {
        SimConfig {
            seed: 1,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            calling_webhook: calling_webhook.into(),
            bot_app_id: bot_app_id.into(),
            issuer: "https://graph.microsoft.com".into(),
            default_tenant: M365TenantId::from_u128(0x5eed),
            establish_delay: Duration::from_millis(10),
            prompt_duration: Duration::from_millis(100),
            ring_timeout: Duration::from_secs(60),
            default_behaviour: AgentBehaviour::answer_after(Duration::from_millis(200)),
            token_lifetime: Duration::from_secs(3599),
            keep_alive_timeout: Duration::from_secs(45 * 60),
            agents: Vec::new(),
            presence_follows_calls: true,
            presence_churn: None,
            keep_records: true,
        }
    }
}

/// One Graph request the simulator received.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedCommand {
    pub method: String,
    /// Path under `/v1.0`, e.g. `/communications/calls/{id}/answer`.
    pub path: String,
    pub body: Value,
    /// The status answered.
    pub status: u16,
    /// The caller's call this request concerns (an agent leg's requests count for the call the
    /// leg was created for); `None` for presence, subscriptions and the like.
    pub call: Option<String>,
}

/// Counts of what happened in the simulator, for load reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Incoming calls delivered to the calling webhook.
    pub calls_placed: u64,
    /// Of those, refused by the webhook (non-2xx) or not delivered.
    pub calls_refused: u64,
    /// `answer` requests accepted.
    pub calls_answered: u64,
    /// Agents' phones that connected (joined a call or answered a leg).
    pub agents_joined: u64,
    /// Callers who hung up because no agent joined within their patience.
    pub callers_abandoned: u64,
    /// Calls and legs that ended.
    pub calls_ended: u64,
    /// Calls and legs still up.
    pub calls_live: u64,
    /// Presence changes of agents (calls and churn).
    pub presence_changes: u64,
    /// Graph requests served (token, OpenID and JWKS requests excluded).
    pub graph_requests: u64,
    /// Callbacks and change notifications sent (or dropped by a fault).
    pub callbacks_sent: u64,
}

/// One callback the simulator delivered (or dropped).
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveredCallback {
    pub url: String,
    pub body: Value,
    /// The receiver's status; `None` if dropped by a fault or unreachable.
    pub status: Option<u16>,
}

/// A live call as the simulator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimCallView {
    pub id: String,
    pub state: String,
    /// Users connected to the call (joined participants).
    pub joined_users: Vec<String>,
    /// Users invited and still ringing.
    pub ringing_users: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("bind: {0}")]
    Bind(std::io::Error),
    #[error("key: {0}")]
    Key(String),
    #[error("callback delivery failed: {0}")]
    Delivery(String),
}

/// Starts simulators.
pub struct Simulator;

impl Simulator {
    /// Binds, serves in a background task, and returns the handle.
    pub async fn start(cfg: SimConfig) -> Result<SimHandle, SimError> {
        let listener = tokio::net::TcpListener::bind(cfg.bind)
            .await
            .map_err(SimError::Bind)?;
        let addr = listener.local_addr().map_err(SimError::Bind)?;
        let agents = cfg.agents.clone();
        let state = Arc::new(SimState::new(cfg, format!("http://{addr}"))?);
        for a in &agents {
            // Nobody has subscribed yet: nothing to notify.
            state.set_behaviour(a.user, a.behaviour.clone());
            state.set_presence(a.user, a.availability, a.activity).await;
        }
        phones::expire_silent_calls(Arc::downgrade(&state));
        if let Some(every) = state.cfg.presence_churn {
            phones::churn_presence(Arc::downgrade(&state), every);
        }
        let app = graph::router(state.clone());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let r = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "graph simulator stopped");
            }
        });
        Ok(SimHandle {
            state,
            addr,
            stop: Arc::new(std::sync::Mutex::new(Some(stop_tx))),
        })
    }
}

/// Control of a running simulator. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    state: Arc<SimState>,
    addr: SocketAddr,
    stop: Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:{port}`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The Graph base (`{base}/v1.0`) for the client.
    pub fn graph_base_url(&self) -> String {
        format!("{}/v1.0", self.base_url())
    }
    /// The OAuth2 authority for the token cache.
    pub fn authority_url(&self) -> String {
        self.base_url()
    }
    /// The OpenID configuration naming the JWKS the callbacks are signed with.
    pub fn openid_config_url(&self) -> String {
        format!("{}/v1/.well-known/OpenIdConfiguration", self.base_url())
    }

    /// Places a call: an incoming-call notification goes to the calling webhook. Returns the
    /// call id once the webhook answered.
    pub async fn place_call(&self, spec: CallerSpec) -> Result<String, SimError> {
        self.state.place_call(spec).await
    }

    pub fn set_agent_behaviour(&self, user: UserId, b: AgentBehaviour) {
        self.state.set_behaviour(user, b);
    }

    /// Adds agents (behaviour and presence; subscribers are notified of the presence).
    pub async fn add_agents(&self, agents: &[SimAgent]) {
        for a in agents {
            self.state.set_behaviour(a.user, a.behaviour.clone());
            self.state
                .set_presence(a.user, a.availability, a.activity)
                .await;
        }
    }

    /// Available agents whose behaviours are drawn from `mix` with the simulator's seeded RNG.
    pub fn agents_from_mix(&self, users: &[UserId], mix: &BehaviourMix) -> Vec<SimAgent> {
        self.state.with_rng(|rng| {
            users
                .iter()
                .map(|u| SimAgent::available(*u, mix.pick(rng)))
                .collect()
        })
    }

    /// Places `plan.calls` calls at `plan.per_second`, each at its own instant (a slow webhook
    /// does not delay the next caller). Returns each call's id or why it failed, in order.
    pub async fn place_calls(&self, plan: CallPlan) -> Vec<Result<String, SimError>> {
        load::place_calls(self.state.clone(), plan).await
    }

    /// The caller presses keys; each becomes a tone notification (if subscribed to tones).
    pub async fn press_digits(&self, call: &str, digits: &str) {
        self.state.press_digits(call, digits);
    }

    /// The caller hangs up now.
    pub async fn hang_up_caller(&self, call: &str) {
        self.state.caller_hangs_up(call, 200, 4097);
    }

    /// Changes a user's presence; subscriptions covering the user are notified.
    pub async fn set_presence(&self, user: UserId, a: Availability, act: Activity) {
        self.state.set_presence(user, a, act).await;
    }

    /// Removes a subscription, as Graph does, with a `subscriptionRemoved` lifecycle event.
    pub async fn remove_subscription(&self, id: &str) {
        self.state.remove_subscription(id).await;
    }

    /// Sends a lifecycle event (`missed`, `reauthorizationRequired`) for a subscription;
    /// returns the receiver's status (`None`: no such subscription or unreachable).
    pub async fn lifecycle_event(&self, id: &str, event: &str) -> Option<u16> {
        self.state.lifecycle_event(id, event).await
    }

    /// Ids of the live presence subscriptions with the users they cover.
    pub fn subscriptions(&self) -> Vec<(String, Vec<String>)> {
        self.state.subscription_list()
    }

    pub fn inject(&self, f: Fault) {
        self.state.inject(f);
    }

    /// Every Graph request received so far, in arrival order.
    pub fn commands(&self) -> Vec<RecordedCommand> {
        self.state.commands()
    }

    /// The Graph requests concerning one caller's call, its agent legs included, in order.
    pub fn commands_for(&self, call: &str) -> Vec<RecordedCommand> {
        self.state.commands_for(call)
    }

    pub fn stats(&self) -> SimStats {
        self.state.snapshot()
    }

    /// Every callback sent so far.
    pub fn callbacks(&self) -> Vec<DeliveredCallback> {
        self.state.callbacks()
    }

    pub fn token_requests(&self) -> u64 {
        self.state.token_requests()
    }

    /// How often the JWKS was read (key caching is observable).
    pub fn jwks_fetches(&self) -> u64 {
        self.state
            .jwks_fetches
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn call(&self, id: &str) -> Option<SimCallView> {
        self.state.view(id)
    }

    /// Signs arbitrary claims with the simulator's published key (tests of the validator).
    pub fn sign(&self, claims: &Value) -> Result<String, SimError> {
        self.state.sign_claims(claims)
    }

    /// Stops serving.
    pub fn shutdown(&self) {
        if let Ok(mut s) = self.stop.lock()
            && let Some(tx) = s.take()
        {
            let _ = tx.send(());
        }
    }
}
