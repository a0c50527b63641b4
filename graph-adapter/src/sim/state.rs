//! The simulator's world: calls, participants, phones' behaviours, presence, subscriptions,
//! faults, and the ordered, signed delivery of callbacks.

use super::keys::{SIM_KEY_PEM, SIM_KID};
use super::{
    AgentBehaviour, CallerId, CallerSpec, DeliveredCallback, Fault, RecordedCommand, SimCallView,
    SimConfig, SimError,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stratus_routing::ids::UserId;
use stratus_routing::model::{Activity, Availability};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Locks, recovering from poisoning: a panicked test task must not wedge the simulator.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A media or invitation operation a notification reports on.
#[derive(Clone, Copy)]
pub(super) struct OpRef<'a> {
    pub id: &'a str,
    /// `playPromptOperation`, `inviteParticipantsOperation`, …
    pub kind: &'a str,
    pub ctx: &'a str,
}

#[derive(Clone, Debug)]
pub(super) struct SimParticipant {
    pub id: String,
    pub user: String,
    pub joined: bool,
    pub invite_ctx: Option<String>,
    pub op_id: Option<String>,
}

pub(super) struct SimCall {
    pub state: String,
    pub callback_uri: Option<String>,
    /// The caller's call (vs an agent leg created by the bot).
    pub inbound: bool,
    pub participants: Vec<SimParticipant>,
    pub tones: bool,
    /// Last answer or keepAlive: Graph ends calls not kept alive.
    pub alive_at: Instant,
    pub tone_seq: i64,
    /// Running media operations: (operation id, clientContext, kind).
    pub media_ops: Vec<(String, String, &'static str)>,
    pub my_participant_id: String,
    pub caller_participant_id: String,
    /// For an agent leg: the user it rings.
    pub leg_user: Option<String>,
    /// This call's own id stream, so its ids do not depend on how calls interleave.
    pub rng: StdRng,
    tx: mpsc::UnboundedSender<(String, Value)>,
}

pub(super) struct Sub {
    pub users: Vec<String>,
    pub notification_url: String,
    pub lifecycle_url: Option<String>,
    pub client_state: Option<String>,
    pub expiration: String,
    pub tenant: String,
}

#[derive(Default)]
struct Faults {
    throttle: u32,
    retry_after_s: f64,
    server: u32,
    server_status: u16,
    slow: u32,
    slow_delay: Duration,
}

/// What a request should suffer before being served.
pub(super) enum Gate {
    Pass,
    Throttle(f64),
    Fail(u16),
}

pub(super) struct SimState {
    pub cfg: SimConfig,
    pub base: String,
    rng: Mutex<StdRng>,
    http: reqwest::Client,
    key: EncodingKey,
    signed: Mutex<HashMap<String, (String, Instant)>>,
    pub calls: Mutex<HashMap<String, SimCall>>,
    behaviours: Mutex<HashMap<UserId, AgentBehaviour>>,
    pub presence: Mutex<HashMap<String, (Availability, Activity, u64)>>,
    presence_seq: AtomicU64,
    pub subs: Mutex<HashMap<String, Sub>>,
    faults: Mutex<Faults>,
    lose: AtomicU32,
    commands: Mutex<Vec<RecordedCommand>>,
    callbacks: Mutex<Vec<DeliveredCallback>>,
    tokens: AtomicU64,
    pub jwks_fetches: AtomicU64,
    /// Agent leg → the caller's call it was created for (the per-call callbackUri names it).
    parents: Mutex<HashMap<String, String>>,
    /// Users on a call: how many calls, and the presence to return to when the last one ends.
    in_call: Mutex<HashMap<String, (u32, Availability, Activity)>>,
    pub stats: Counters,
    /// Calls placed so far: the ordinal seeds each call's id stream.
    ordinal: AtomicU64,
    message_ids: AtomicU64,
}

/// A GUID drawn from `rng`.
pub(super) fn guid_from(rng: &mut StdRng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The id stream of the `n`th placed call under `seed`.
fn call_rng(seed: u64, n: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ (n + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// What the simulator saw happen, for load reports.
#[derive(Default)]
pub(super) struct Counters {
    pub placed: AtomicU64,
    pub refused: AtomicU64,
    pub answered: AtomicU64,
    pub agents_joined: AtomicU64,
    pub abandoned: AtomicU64,
    pub ended: AtomicU64,
    pub presence: AtomicU64,
    pub requests: AtomicU64,
    pub callbacks: AtomicU64,
}

impl Counters {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `identitySet` JSON of a caller.
fn caller_identity(c: &CallerId, tenant: &str) -> Value {
    match c {
        CallerId::User { id, name } => {
            let mut u =
                json!({"@odata.type": "#microsoft.graph.identity", "id": id, "tenantId": tenant});
            if let Some(n) = name {
                u["displayName"] = json!(n);
            }
            json!({"@odata.type": "#microsoft.graph.identitySet", "user": u})
        }
        CallerId::Phone(n) => {
            json!({"@odata.type": "#microsoft.graph.identitySet", "phone": {"@odata.type": "#microsoft.graph.identity", "id": n}})
        }
        CallerId::Anonymous => {
            json!({"@odata.type": "#microsoft.graph.identitySet", "phone": {"@odata.type": "#microsoft.graph.identity", "id": "anonymous"}})
        }
    }
}

pub(super) fn user_identity(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.identitySet",
           "user": {"@odata.type": "#microsoft.graph.identity", "id": id}})
}

pub(super) fn result_info(code: i64, subcode: i64, message: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.resultInfo", "code": code, "subcode": subcode, "message": message})
}

fn envelope(change_type: &str, resource_url: String, data: Value) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.commsNotifications",
        "value": [{
            "@odata.type": "#microsoft.graph.commsNotification",
            "changeType": change_type,
            "resource": resource_url.replacen("/communications/", "/app/", 1),
            "resourceUrl": resource_url,
            "resourceData": data,
        }]
    })
}

pub(super) fn call_url(id: &str) -> String {
    format!("/communications/calls/{id}")
}

impl SimState {
    pub fn new(cfg: SimConfig, base: String) -> Result<Self, SimError> {
        let key = EncodingKey::from_rsa_pem(SIM_KEY_PEM.as_bytes())
            .map_err(|e| SimError::Key(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SimError::Key(e.to_string()))?;
        Ok(SimState {
            rng: Mutex::new(StdRng::seed_from_u64(cfg.seed)),
            cfg,
            base,
            http,
            key,
            signed: Mutex::new(HashMap::new()),
            calls: Mutex::new(HashMap::new()),
            behaviours: Mutex::new(HashMap::new()),
            presence: Mutex::new(HashMap::new()),
            presence_seq: AtomicU64::new(0),
            subs: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::default()),
            lose: AtomicU32::new(0),
            commands: Mutex::new(Vec::new()),
            callbacks: Mutex::new(Vec::new()),
            tokens: AtomicU64::new(0),
            jwks_fetches: AtomicU64::new(0),
            parents: Mutex::new(HashMap::new()),
            in_call: Mutex::new(HashMap::new()),
            stats: Counters::default(),
            ordinal: AtomicU64::new(0),
            message_ids: AtomicU64::new(0),
        })
    }

    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut lock(&self.rng))
    }

    pub fn snapshot(&self) -> super::SimStats {
        let c = &self.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        super::SimStats {
            calls_placed: get(&c.placed),
            calls_refused: get(&c.refused),
            calls_answered: get(&c.answered),
            agents_joined: get(&c.agents_joined),
            callers_abandoned: get(&c.abandoned),
            calls_ended: get(&c.ended),
            calls_live: u64::try_from(lock(&self.calls).len()).unwrap_or(u64::MAX),
            presence_changes: get(&c.presence),
            graph_requests: get(&c.requests),
            callbacks_sent: get(&c.callbacks),
        }
    }

    /// A fresh GUID from the seeded RNG (for what belongs to no call).
    pub fn new_id(&self) -> String {
        guid_from(&mut lock(&self.rng))
    }

    /// A fresh GUID from `call`'s own stream.
    pub fn call_new_id(&self, call: &str) -> String {
        match lock(&self.calls).get_mut(call) {
            Some(c) => guid_from(&mut c.rng),
            None => self.new_id(),
        }
    }

    /// A seed for a leg created on behalf of `parent` (from the parent's stream when known).
    pub fn leg_rng(&self, parent: Option<&str>) -> StdRng {
        let seed = match parent.and_then(|p| lock(&self.calls).get_mut(p).map(|c| c.rng.random())) {
            Some(s) => s,
            None => lock(&self.rng).random(),
        };
        StdRng::seed_from_u64(seed)
    }

    pub fn behaviour(&self, user: &str) -> AgentBehaviour {
        user.parse::<UserId>()
            .ok()
            .and_then(|u| lock(&self.behaviours).get(&u).cloned())
            .unwrap_or_else(|| self.cfg.default_behaviour.clone())
    }

    pub fn set_behaviour(&self, user: UserId, b: AgentBehaviour) {
        lock(&self.behaviours).insert(user, b);
    }

    // ------------------------------------------------------------------ faults and records

    pub fn inject(&self, f: Fault) {
        let mut g = lock(&self.faults);
        match f {
            Fault::Throttle {
                count,
                retry_after_s,
            } => {
                g.throttle = count;
                g.retry_after_s = retry_after_s;
            }
            Fault::ServerError { count, status } => {
                g.server = count;
                g.server_status = status;
            }
            Fault::Slow { count, delay } => {
                g.slow = count;
                g.slow_delay = delay;
            }
            Fault::LoseCallbacks { count } => self.lose.store(count, Ordering::SeqCst),
        }
    }

    /// Decides the fault for the next request; returns the delay to apply too.
    pub fn gate(&self) -> (Gate, Duration) {
        let mut g = lock(&self.faults);
        let delay = if g.slow > 0 {
            g.slow -= 1;
            g.slow_delay
        } else {
            Duration::ZERO
        };
        if g.throttle > 0 {
            g.throttle -= 1;
            return (Gate::Throttle(g.retry_after_s), delay);
        }
        if g.server > 0 {
            g.server -= 1;
            return (Gate::Fail(g.server_status), delay);
        }
        (Gate::Pass, delay)
    }

    pub fn record(
        &self,
        method: &str,
        path: &str,
        body: Value,
        status: u16,
        answer: Option<&Value>,
    ) {
        Counters::bump(&self.stats.requests);
        if !self.cfg.keep_records {
            return;
        }
        let call = self.call_of(path, answer);
        lock(&self.commands).push(RecordedCommand {
            method: method.to_owned(),
            path: path.to_owned(),
            body,
            status,
            call,
        });
    }

    /// The caller's call a request concerns: the call in its path, or the leg it created,
    /// mapped to the call the leg was created for.
    fn call_of(&self, path: &str, answer: Option<&Value>) -> Option<String> {
        let mut segs = path.split('/').filter(|x| !x.is_empty());
        let id = match (segs.next(), segs.next(), segs.next()) {
            (Some("communications"), Some("calls"), Some(id)) => id.to_owned(),
            (Some("communications"), Some("calls"), None) => {
                answer.and_then(|a| a["id"].as_str()).map(str::to_owned)?
            }
            _ => return None,
        };
        Some(lock(&self.parents).get(&id).cloned().unwrap_or(id))
    }

    fn keep_callback(&self, c: DeliveredCallback) {
        Counters::bump(&self.stats.callbacks);
        if self.cfg.keep_records {
            lock(&self.callbacks).push(c);
        }
    }

    /// Remembers that `leg` was created for `parent`.
    pub fn set_parent(&self, leg: &str, parent: &str) {
        lock(&self.parents).insert(leg.to_owned(), parent.to_owned());
    }

    /// Every request concerning `call` (its legs included), in arrival order.
    pub fn commands_for(&self, call: &str) -> Vec<RecordedCommand> {
        lock(&self.commands)
            .iter()
            .filter(|c| c.call.as_deref() == Some(call))
            .cloned()
            .collect()
    }

    pub fn commands(&self) -> Vec<RecordedCommand> {
        lock(&self.commands).clone()
    }

    pub fn callbacks(&self) -> Vec<DeliveredCallback> {
        lock(&self.callbacks).clone()
    }

    pub fn count_token(&self) -> u64 {
        self.tokens.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn token_requests(&self) -> u64 {
        self.tokens.load(Ordering::SeqCst)
    }

    // ------------------------------------------------------------------ signing and delivery

    pub fn sign_claims(&self, claims: &Value) -> Result<String, SimError> {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(SIM_KID.to_owned());
        jsonwebtoken::encode(&h, claims, &self.key).map_err(|e| SimError::Key(e.to_string()))
    }

    /// A callback token for `tenant`, reused for a few minutes (signing is not free).
    fn callback_token(&self, tenant: &str) -> Result<String, SimError> {
        let now = Instant::now();
        if let Some((t, at)) = lock(&self.signed).get(tenant)
            && now.duration_since(*at) < Duration::from_secs(300)
        {
            return Ok(t.clone());
        }
        let iat = unix_now();
        let t = self.sign_claims(&json!({
            "aud": self.cfg.bot_app_id, "iss": self.cfg.issuer,
            "iat": iat, "nbf": iat, "exp": iat + 3600, "tid": tenant,
        }))?;
        lock(&self.signed).insert(tenant.to_owned(), (t.clone(), now));
        Ok(t)
    }

    async fn deliver(&self, tenant: &str, url: &str, body: Value) -> Option<u16> {
        let dropped = self
            .lose
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let status = if dropped {
            None
        } else {
            match self.callback_token(tenant) {
                Ok(token) => self
                    .http
                    .post(url)
                    .bearer_auth(token)
                    .header("User-Agent", "Microsoft-Skype/3.0,(Calling/1.0)")
                    .header(
                        "X-Microsoft-Skype-Message-ID",
                        format!("{:032x}", self.message_ids.fetch_add(1, Ordering::Relaxed)),
                    )
                    .json(&body)
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status().as_u16()),
                Err(_) => None,
            }
        };
        self.keep_callback(DeliveredCallback {
            url: url.to_owned(),
            body,
            status,
        });
        status
    }

    /// Queues a notification for the call, delivered in order.
    pub fn notify(&self, call: &str, body: Value) {
        let calls = lock(&self.calls);
        if let Some(c) = calls.get(call) {
            let url = c
                .callback_uri
                .clone()
                .unwrap_or_else(|| self.cfg.calling_webhook.clone());
            let _ = c.tx.send((url, body));
        }
    }

    pub fn notify_state(&self, call: &str, state: &str, result: Option<Value>) {
        let mut data = json!({"@odata.type": "#microsoft.graph.call", "@odata.id": call_url(call), "state": state, "id": call});
        if let Some(r) = result {
            data["resultInfo"] = r;
        }
        if let Some(c) = lock(&self.calls).get_mut(call) {
            c.state = state.to_owned();
        }
        self.notify(call, envelope("updated", call_url(call), data));
    }

    /// Sends the final `deleted` notification and forgets the call; whoever was on it is off
    /// the phone.
    pub fn end_call(
        self: &Arc<Self>,
        call: &str,
        result: Option<Value>,
        termination_reason: Option<&str>,
    ) {
        let mut data = json!({"@odata.type": "#microsoft.graph.call", "@odata.id": call_url(call), "state": "terminated", "id": call});
        if let Some(r) = result {
            data["resultInfo"] = r;
        }
        if let Some(t) = termination_reason {
            data["terminationReason"] = json!(t);
        }
        self.notify(call, envelope("deleted", call_url(call), data));
        let gone = lock(&self.calls).remove(call);
        if let Some(c) = gone {
            Counters::bump(&self.stats.ended);
            let mut users: Vec<String> = c
                .participants
                .iter()
                .filter(|p| p.joined)
                .map(|p| p.user.clone())
                .collect();
            if c.state == "established"
                && let Some(u) = c.leg_user
            {
                users.push(u);
            }
            for u in users {
                self.user_left(&u);
            }
        }
    }

    pub fn notify_operation(
        &self,
        call: &str,
        op: OpRef<'_>,
        status: &str,
        result: Value,
        extra: Option<(&str, Value)>,
    ) {
        let (op_id, odata_type, ctx) = (op.id, op.kind, op.ctx);
        let url = format!("{}/operations/{op_id}", call_url(call));
        let mut data = json!({
            "@odata.type": format!("#microsoft.graph.{odata_type}"),
            "@odata.id": url, "id": op_id, "status": status,
            "clientContext": ctx, "resultInfo": result,
        });
        if let Some((k, v)) = extra {
            data[k] = v;
        }
        self.notify(call, envelope("deleted", url, data));
    }

    pub fn participant_json(&self, p: &SimParticipant) -> Value {
        let media = if p.joined {
            json!([{"@odata.type": "#microsoft.graph.mediaStream", "mediaType": "audio", "sourceId": "1", "direction": "sendReceive", "serverMuted": false}])
        } else {
            json!([])
        };
        json!({
            "@odata.type": "#microsoft.graph.participant",
            "id": p.id,
            "info": {"@odata.type": "#microsoft.graph.participantInfo", "identity": user_identity(&p.user)},
            "mediaStreams": media, "isMuted": false, "isInLobby": false,
        })
    }

    pub fn notify_roster(&self, call: &str, removed: bool, participants: Vec<Value>) {
        let url = format!("{}/participants", call_url(call));
        let ct = if removed { "deleted" } else { "updated" };
        self.notify(call, envelope(ct, url, Value::Array(participants)));
    }

    fn spawn_delivery(self: &Arc<Self>, tenant: String) -> mpsc::UnboundedSender<(String, Value)> {
        let (tx, mut rx) = mpsc::unbounded_channel::<(String, Value)>();
        let me = self.clone();
        tokio::spawn(async move {
            while let Some((url, body)) = rx.recv().await {
                me.deliver(&tenant, &url, body).await;
            }
        });
        tx
    }

    // ------------------------------------------------------------------ calls

    pub fn new_call(
        self: &Arc<Self>,
        id: &str,
        tenant: &str,
        inbound: bool,
        callback_uri: Option<String>,
        mut rng: StdRng,
    ) {
        let tx = self.spawn_delivery(tenant.to_owned());
        let c = SimCall {
            state: if inbound { "incoming" } else { "establishing" }.into(),
            callback_uri,
            inbound,
            participants: Vec::new(),
            tones: false,
            alive_at: Instant::now(),
            tone_seq: 0,
            media_ops: Vec::new(),
            my_participant_id: guid_from(&mut rng),
            caller_participant_id: guid_from(&mut rng),
            leg_user: None,
            rng,
            tx,
        };
        lock(&self.calls).insert(id.to_owned(), c);
    }

    /// The next call ordinal (callers are numbered in the order they are placed).
    pub fn next_ordinal(&self) -> u64 {
        self.ordinal.fetch_add(1, Ordering::SeqCst)
    }

    pub async fn place_call(self: &Arc<Self>, spec: CallerSpec) -> Result<String, SimError> {
        let n = self.next_ordinal();
        self.place_numbered_call(spec, n).await
    }

    /// Places the `n`th call: its ids come from its own stream, so they are the same for a
    /// seed however calls interleave.
    pub async fn place_numbered_call(
        self: &Arc<Self>,
        spec: CallerSpec,
        n: u64,
    ) -> Result<String, SimError> {
        let mut rng = call_rng(self.cfg.seed, n);
        let id = guid_from(&mut rng);
        let chain = guid_from(&mut rng);
        let tenant = spec.tenant.unwrap_or(self.cfg.default_tenant).to_string();
        let patience = spec.patience;
        self.new_call(&id, &tenant, true, None, rng);
        let (my_pid, caller_pid) = {
            let calls = lock(&self.calls);
            calls.get(&id).map_or((String::new(), String::new()), |c| {
                (c.my_participant_id.clone(), c.caller_participant_id.clone())
            })
        };
        let data = json!({
            "@odata.type": "#microsoft.graph.call",
            "@odata.id": call_url(&id),
            "state": "incoming", "direction": "incoming",
            "source": {"@odata.type": "#microsoft.graph.participantInfo", "id": caller_pid,
                       "identity": caller_identity(&spec.from, &tenant), "endpointType": "default", "region": "amer"},
            "targets": [{"@odata.type": "#microsoft.graph.invitationParticipantInfo",
                         "identity": {"@odata.type": "#microsoft.graph.identitySet",
                                      "applicationInstance": {"@odata.type": "#microsoft.graph.identity", "id": spec.to_app_instance, "tenantId": tenant}},
                         "endpointType": "default", "id": my_pid}],
            "requestedModalities": ["audio"],
            "tenantId": tenant, "myParticipantId": my_pid, "callChainId": chain,
            "incomingContext": {"@odata.type": "#microsoft.graph.incomingContext", "sourceParticipantId": caller_pid, "observedParticipantId": caller_pid},
            "id": id,
        });
        // Delivered directly (not queued) so the caller learns whether the bot took it.
        let status = self
            .deliver(
                &tenant,
                &self.cfg.calling_webhook,
                envelope("created", call_url(&id), data),
            )
            .await;
        if let Some(p) = patience {
            super::phones::caller_patience(self.clone(), id.clone(), p);
        }
        Counters::bump(&self.stats.placed);
        if !status.is_some_and(|s| (200..300).contains(&s)) {
            // Nobody took the call: it fails for the caller, and Graph forgets it.
            lock(&self.calls).remove(&id);
        }
        match status {
            Some(s) if (200..300).contains(&s) => Ok(id),
            Some(s) => {
                Counters::bump(&self.stats.refused);
                Err(SimError::Delivery(format!("webhook answered {s}")))
            }
            None => {
                Counters::bump(&self.stats.refused);
                Err(SimError::Delivery("webhook unreachable or dropped".into()))
            }
        }
    }

    pub fn is_alive(&self, call: &str) -> bool {
        lock(&self.calls).contains_key(call)
    }

    /// The caller leaves: the call ends for everyone (200/4097 P2P; 200/5007 once it became
    /// a group call, "group-call initiator left").
    pub fn caller_hangs_up(self: &Arc<Self>, call: &str, code: i64, subcode: i64) {
        let group = lock(&self.calls)
            .get(call)
            .is_some_and(|c| !c.participants.is_empty());
        let (c, s) = if group && subcode == 4097 {
            (code, 5007)
        } else {
            (code, subcode)
        };
        if self.is_alive(call) {
            self.end_call(
                call,
                Some(result_info(c, s, "The call was ended by the caller.")),
                None,
            );
        }
    }

    pub fn press_digits(&self, call: &str, digits: &str) {
        for d in digits.chars() {
            let Some(tone) = crate::parse::Tone::wire_name(d) else {
                continue;
            };
            let seq = {
                let mut calls = lock(&self.calls);
                let Some(c) = calls.get_mut(call) else { return };
                if !c.tones {
                    continue;
                }
                c.tone_seq += 1;
                c.tone_seq
            };
            let data = json!({"@odata.type": "#microsoft.graph.call", "state": "established", "id": call,
                "toneInfo": {"@odata.type": "#microsoft.graph.toneInfo", "sequenceId": seq, "tone": tone}});
            self.notify(call, envelope("updated", call_url(call), data));
        }
    }

    pub fn view(&self, id: &str) -> Option<SimCallView> {
        let calls = lock(&self.calls);
        let c = calls.get(id)?;
        Some(SimCallView {
            id: id.to_owned(),
            state: c.state.clone(),
            joined_users: c
                .participants
                .iter()
                .filter(|p| p.joined)
                .map(|p| p.user.clone())
                .collect(),
            ringing_users: c
                .participants
                .iter()
                .filter(|p| !p.joined)
                .map(|p| p.user.clone())
                .collect(),
        })
    }

    // ------------------------------------------------------------------ presence

    pub fn presence_json(&self, id: &str) -> Value {
        let (a, act, seq) = lock(&self.presence).get(id).copied().unwrap_or((
            Availability::Offline,
            Activity::Offline,
            0,
        ));
        json!({
            "id": id,
            "availability": format!("{a:?}"),
            "activity": format!("{act:?}"),
            // Zero-padded so the lexicographic order is the numeric one, as documented.
            "sequenceNumber": format!("{seq:020}"),
        })
    }

    /// Records a presence change and returns the notifications it causes (basic ones: the
    /// receiver reads the values back, as with real Graph).
    fn change_presence(&self, id: &str, a: Availability, act: Activity) -> Vec<(String, Value)> {
        let seq = self.presence_seq.fetch_add(1, Ordering::SeqCst) + 1;
        Counters::bump(&self.stats.presence);
        lock(&self.presence).insert(id.to_owned(), (a, act, seq));
        lock(&self.subs)
            .iter()
            .filter(|(_, s)| s.users.iter().any(|u| u.eq_ignore_ascii_case(id)))
            .map(|(sid, s)| {
                (
                    s.notification_url.clone(),
                    json!({"value": [{
                        "subscriptionId": sid, "clientState": s.client_state,
                        "changeType": "updated", "tenantId": s.tenant,
                        "resource": format!("communications/presences/{id}"),
                        "subscriptionExpirationDateTime": s.expiration,
                        "resourceData": {"@odata.id": format!("users/{id}/presence"), "@odata.type": "#microsoft.graph.presence", "id": id},
                        "organizationId": s.tenant,
                    }]}),
                )
            })
            .collect()
    }

    async fn deliver_presence(&self, targets: Vec<(String, Value)>) {
        for (url, body) in targets {
            let dropped = self
                .lose
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let status = if dropped {
                None
            } else {
                self.http
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status().as_u16())
            };
            self.keep_callback(DeliveredCallback { url, body, status });
        }
    }

    /// Changes a user's presence and waits until the subscribers were told.
    pub async fn set_presence(&self, user: UserId, a: Availability, act: Activity) {
        let targets = self.change_presence(&user.to_string(), a, act);
        self.deliver_presence(targets).await;
    }

    fn set_presence_soon(self: &Arc<Self>, id: &str, a: Availability, act: Activity) {
        let targets = self.change_presence(id, a, act);
        if !targets.is_empty() {
            let me = self.clone();
            tokio::spawn(async move { me.deliver_presence(targets).await });
        }
    }

    /// One agent not on a call steps Away, or comes back Available.
    pub fn churn_one(self: &Arc<Self>) {
        let mut agents: Vec<UserId> = lock(&self.behaviours).keys().copied().collect();
        agents.sort_unstable();
        let busy = lock(&self.in_call);
        agents.retain(|u| !busy.contains_key(&u.to_string()));
        drop(busy);
        if agents.is_empty() {
            return;
        }
        let i = self.with_rng(|r| r.random_range(0..agents.len()));
        let Some(id) = agents.get(i).map(ToString::to_string) else {
            return;
        };
        let now = lock(&self.presence).get(&id).map(|p| p.0);
        let (a, act) = if now == Some(Availability::Available) {
            (Availability::Away, Activity::Away)
        } else {
            (Availability::Available, Activity::Available)
        };
        self.set_presence_soon(&id, a, act);
    }

    /// An agent's phone connected: Teams shows them Busy / InACall.
    pub fn user_joined(self: &Arc<Self>, user: &str) {
        Counters::bump(&self.stats.agents_joined);
        if !self.cfg.presence_follows_calls {
            return;
        }
        let id = user.to_ascii_lowercase();
        let first = {
            let mut m = lock(&self.in_call);
            let (rest_a, rest_act) = lock(&self.presence)
                .get(&id)
                .map_or((Availability::Available, Activity::Available), |p| {
                    (p.0, p.1)
                });
            let e = m.entry(id.clone()).or_insert((0, rest_a, rest_act));
            e.0 += 1;
            e.0 == 1
        };
        if first {
            self.set_presence_soon(&id, Availability::Busy, Activity::InACall);
        }
    }

    /// An agent's phone left a call: back to the presence before it, once off every call.
    pub fn user_left(self: &Arc<Self>, user: &str) {
        if !self.cfg.presence_follows_calls {
            return;
        }
        let id = user.to_ascii_lowercase();
        let back = {
            let mut m = lock(&self.in_call);
            match m.get_mut(&id) {
                Some(e) if e.0 > 1 => {
                    e.0 -= 1;
                    None
                }
                Some(_) => m.remove(&id).map(|(_, a, act)| (a, act)),
                None => None,
            }
        };
        if let Some((a, act)) = back {
            self.set_presence_soon(&id, a, act);
        }
    }

    pub async fn remove_subscription(&self, id: &str) {
        let Some(s) = lock(&self.subs).remove(id) else {
            return;
        };
        let url = s.lifecycle_url.unwrap_or(s.notification_url);
        let body = json!({"value": [{
            "subscriptionId": id, "subscriptionExpirationDateTime": s.expiration,
            "tenantId": s.tenant, "clientState": s.client_state, "lifecycleEvent": "subscriptionRemoved",
        }]});
        let status = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        self.keep_callback(DeliveredCallback { url, body, status });
    }

    pub async fn lifecycle_event(&self, id: &str, event: &str) -> Option<u16> {
        let (url, body) = {
            let subs = lock(&self.subs);
            let s = subs.get(id)?;
            (
                s.lifecycle_url
                    .clone()
                    .unwrap_or(s.notification_url.clone()),
                json!({"value": [{
                    "subscriptionId": id, "subscriptionExpirationDateTime": s.expiration,
                    "tenantId": s.tenant, "clientState": s.client_state, "lifecycleEvent": event,
                }]}),
            )
        };
        let status = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        self.keep_callback(DeliveredCallback { url, body, status });
        status
    }

    pub fn subscription_list(&self) -> Vec<(String, Vec<String>)> {
        let mut v: Vec<_> = lock(&self.subs)
            .iter()
            .map(|(k, s)| (k.clone(), s.users.clone()))
            .collect();
        v.sort();
        v
    }

    /// The validation handshake: Graph POSTs `?validationToken=` and expects it back verbatim.
    pub async fn validate_endpoint(&self, url: &str) -> bool {
        let token = format!("Validation: {}", self.new_id());
        let r = self
            .http
            .post(url)
            .query(&[("validationToken", token.as_str())])
            .header("Content-Type", "text/plain; charset=utf-8")
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 200 => {
                let ct_ok = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("text/plain"));
                ct_ok && r.text().await.is_ok_and(|b| b == token)
            }
            _ => false,
        }
    }
}
