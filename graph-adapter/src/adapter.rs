//! [`GraphAdapter`]: the `CallControl` port over Graph, plus the calling-webhook entry point
//! that validates, parses and maps Graph's callbacks into domain events.

use crate::auth::{CallbackAuthError, CallbackValidator};
use crate::client::{GraphClient, GraphError, GraphRequest};
use crate::events::{CallEventSink, CallRegistry, FollowUp};
use crate::parse::{
    self, ParseError, PartyId, PartyKind, PresenceReading, RosterEntry, parse_call_resource,
    parse_calling,
};
use crate::wire::requests::{self as rq, MediaRef, Party, RecordOptions};
use reqwest::Method;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use stratus_routing::ids::{M365TenantId, OfferId, UserId};
use stratus_routing::port::{
    BoxFuture, CallAction, CallCommand, CallControl, CallControlError, Prompt, RejectReason,
    RingMode,
};
use stratus_routing::task::TransferTarget;
use tracing::Instrument;

/// Adapter settings.
#[derive(Clone, Debug)]
pub struct AdapterConfig {
    /// Per-call callbacks go to `{callback_base_url}/{m365 tenant}/{call id}`
    /// (the gateway's `POST /graph/calls/{tenant}/{call}`).
    pub callback_base_url: String,
    /// A text-to-speech endpoint for `Prompt::Text` (`{tts_url}?text=…`); service-hosted media
    /// only plays audio files, so without it text prompts are refused.
    pub tts_url: Option<String>,
}

/// Where a callback was posted, and who owns the calls Stratus knows beyond the adapter's own
/// registry (calls restored after a restart), so a callback is checked against its call's tenant.
#[derive(Default)]
pub struct CallbackRoute<'a> {
    /// The `{tenant}` of a per-call callback path.
    pub tenant: Option<&'a str>,
    /// The `{call}` of a per-call callback path.
    pub call: Option<&'a str>,
    /// The Microsoft 365 tenant of a live call by Graph call id, when the caller knows it.
    pub owner: Option<&'a CallOwner<'a>>,
}

/// The Microsoft 365 tenant of a call by its Graph id, if known.
pub type CallOwner<'a> = dyn Fn(&str) -> Option<M365TenantId> + Sync + 'a;

/// Why a callback was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] CallbackAuthError),
    #[error("unreadable: {0}")]
    Unreadable(#[from] ParseError),
    /// The token's tenant, the path's tenant, the body's tenant or the tenant the call was
    /// first seen in disagree: one tenant's callback must never touch another's call.
    #[error("foreign call: {0}")]
    Foreign(String),
}

impl CallbackError {
    /// 403 for auth failures; an unreadable payload is logged and acknowledged with 202 so
    /// Graph does not retry it forever.
    pub fn http_status(&self) -> u16 {
        match self {
            CallbackError::Unauthorized(e) => e.http_status(),
            CallbackError::Unreadable(_) => 202,
            CallbackError::Foreign(_) => 403,
        }
    }

    /// What the sender is told (the full error is logged).
    pub fn public_reason(&self) -> &'static str {
        match self {
            CallbackError::Unauthorized(e) => e.public_reason(),
            CallbackError::Unreadable(_) => "unreadable notification",
            CallbackError::Foreign(_) => {
                "the notification names a tenant or call its token may not act on"
            }
        }
    }
}

struct Inner {
    client: GraphClient,
    registry: CallRegistry,
    validator: Arc<CallbackValidator>,
    sink: Arc<dyn CallEventSink>,
    cfg: AdapterConfig,
}

/// The Graph side of Stratus. Cheap to clone; implements [`CallControl`].
#[derive(Clone)]
pub struct GraphAdapter {
    inner: Arc<Inner>,
}

fn calls_path(call: &str) -> String {
    format!("/communications/calls/{call}")
}

/// A stable GUID-shaped id for a prompt URL, so Graph caches the same file under one id.
fn resource_id(uri: &str) -> String {
    let mut a = std::hash::DefaultHasher::new();
    uri.hash(&mut a);
    let mut b = std::hash::DefaultHasher::new();
    (uri, "stratus").hash(&mut b);
    let v = (u128::from(a.finish()) << 64) | u128::from(b.finish());
    stratus_routing::ids::Guid(v).to_string()
}

fn percent_encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

fn party_of(p: &PartyId) -> Option<Party> {
    let id = p.id.clone()?;
    Some(match p.kind {
        PartyKind::User => Party::User {
            id,
            display_name: p.display_name.clone(),
        },
        PartyKind::Phone => Party::Phone(id),
        PartyKind::ApplicationInstance => Party::ApplicationInstance {
            id,
            display_name: p.display_name.clone(),
        },
        PartyKind::Application => Party::Application {
            id,
            display_name: p.display_name.clone(),
        },
        _ => return None,
    })
}

fn user_party(u: UserId) -> Party {
    Party::User {
        id: u.to_string(),
        display_name: None,
    }
}

fn ok_if_gone(r: Result<(), GraphError>) -> Result<(), GraphError> {
    match r {
        Err(GraphError::NotFound) => Ok(()),
        o => o,
    }
}

impl GraphAdapter {
    pub fn new(
        client: GraphClient,
        validator: Arc<CallbackValidator>,
        sink: Arc<dyn CallEventSink>,
        cfg: AdapterConfig,
    ) -> Self {
        GraphAdapter {
            inner: Arc::new(Inner {
                client,
                registry: CallRegistry::new(),
                validator,
                sink,
                cfg,
            }),
        }
    }

    pub fn client(&self) -> &GraphClient {
        &self.inner.client
    }

    pub fn registry(&self) -> &CallRegistry {
        &self.inner.registry
    }

    /// The per-call callback URL Stratus gives Graph.
    pub fn callback_uri(&self, tenant: M365TenantId, call: &str) -> String {
        format!(
            "{}/{}/{}",
            self.inner.cfg.callback_base_url.trim_end_matches('/'),
            tenant,
            call
        )
    }

    /// Entry point for the calling webhook (no path binding). See [`Self::handle_callback_at`].
    pub async fn handle_callback(
        &self,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<usize, CallbackError> {
        self.handle_callback_at(authorization, body, &CallbackRoute::default())
            .await
    }

    /// Entry point for both the calling webhook and per-call callbacks: validates the token
    /// (`Authorization` header value), checks that every notification belongs to the token's
    /// tenant (and to the per-call path it was posted to), then parses the body and publishes
    /// the mapped events. Nothing is published unless every item passes. Returns how many
    /// events were published. Answer 202 on `Ok`, and [`CallbackError::http_status`] otherwise.
    /// Checks a callback's token alone, so the caller can refuse an anonymous sender before
    /// reading its body.
    pub async fn authorize(&self, authorization: Option<&str>) -> Result<(), CallbackError> {
        self.inner.validator.validate(authorization).await?;
        Ok(())
    }

    pub async fn handle_callback_at(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        route: &CallbackRoute<'_>,
    ) -> Result<usize, CallbackError> {
        let claims = self.inner.validator.validate(authorization).await?;
        let span = tracing::debug_span!("graph_callback", m365_tenant = %claims.tenant);
        let _in_span = span.enter();
        let notes = parse_calling(body).inspect_err(|e| {
            tracing::warn!(error = %e, "unreadable calling notification");
        })?;
        self.check_binding(claims.tenant, route, &notes)
            .inspect_err(|e| tracing::warn!(error = %e, "callback refused: tenant mismatch"))?;
        let mut n_events = 0;
        for n in notes {
            tracing::trace!(call = %n.call_id, "calling notification");
            let (events, follow) = self.inner.registry.on_notification(Some(claims.tenant), n);
            n_events += events.len();
            for e in events {
                self.inner.sink.publish(e);
            }
            self.spawn_follow_ups(follow);
        }
        Ok(n_events)
    }

    /// Every notification must belong to the token's tenant: an incoming call names no other
    /// tenant in its body; a known call was first seen in this tenant; a per-call path names
    /// this tenant and this call (or one of its legs).
    fn check_binding(
        &self,
        tid: M365TenantId,
        route: &CallbackRoute<'_>,
        notes: &[parse::Notification],
    ) -> Result<(), CallbackError> {
        let foreign = |m: String| Err(CallbackError::Foreign(m));
        if let Some(path_tenant) = route.tenant
            && path_tenant.parse::<M365TenantId>().ok() != Some(tid)
        {
            return foreign(format!(
                "the path names tenant {path_tenant:?}, the token {tid}"
            ));
        }
        let registry = &self.inner.registry;
        for n in notes {
            if let parse::NotificationKind::Incoming(i) = &n.kind
                && let Some(body_tenant) = i.tenant_id.as_deref()
                && body_tenant.parse::<M365TenantId>().ok() != Some(tid)
            {
                return foreign(format!(
                    "incoming call {} names tenant {body_tenant:?}, the token {tid}",
                    n.call_id
                ));
            }
            let owner = registry
                .owner(&n.call_id)
                .or_else(|| route.owner.and_then(|f| f(&n.call_id)));
            if owner.is_some_and(|o| o != tid) {
                return foreign(format!("call {} belongs to another tenant", n.call_id));
            }
            // An id the registry has not seen yet (a leg overtaking its 201) cannot be placed.
            let elsewhere = |path_call: &str| match registry.caller_call_of_leg(&n.call_id) {
                Some(caller) => caller != path_call,
                None => n.call_id != path_call && registry.knows(&n.call_id),
            };
            if let Some(path_call) = route.call
                && elsewhere(path_call)
            {
                return foreign(format!(
                    "call {} posted to the callback of call {path_call}",
                    n.call_id
                ));
            }
        }
        Ok(())
    }

    fn spawn_follow_ups(&self, follow: Vec<FollowUp>) {
        for f in follow {
            let FollowUp::RemoveParticipant {
                tenant: Some(tenant),
                call,
                participant_id,
            } = f
            else {
                continue;
            };
            let me = self.clone();
            tokio::spawn(async move {
                if let Err(e) = me.delete_participant(tenant, &call, &participant_id).await {
                    tracing::warn!(error = %e, %call, "could not remove a late joiner");
                }
            });
        }
    }

    async fn post(
        &self,
        op: &'static str,
        tenant: M365TenantId,
        path: String,
        body: Option<serde_json::Value>,
        idempotent: bool,
    ) -> Result<Vec<u8>, GraphError> {
        let r = self
            .inner
            .client
            .send(GraphRequest {
                operation: op,
                tenant,
                method: Method::POST,
                path,
                body,
                idempotent,
            })
            .await?;
        Ok(r.body)
    }

    async fn delete(
        &self,
        op: &'static str,
        tenant: M365TenantId,
        path: String,
    ) -> Result<(), GraphError> {
        self.inner
            .client
            .send(GraphRequest {
                operation: op,
                tenant,
                method: Method::DELETE,
                path,
                body: None,
                idempotent: true,
            })
            .await
            .map(|_| ())
    }

    fn media(&self, p: &Prompt) -> Result<MediaRef, CallControlError> {
        let uri = match p {
            Prompt::Audio(u) => u.clone(),
            Prompt::Text(t) => match &self.inner.cfg.tts_url {
                Some(base) => format!("{base}?text={}", percent_encode(t)),
                None => {
                    return Err(CallControlError::Unsupported(
                        "text prompts need a TTS URL (service-hosted media plays files)".into(),
                    ));
                }
            },
        };
        Ok(MediaRef {
            resource_id: resource_id(&uri),
            uri,
        })
    }

    // ------------------------------------------------------------------ raw Graph operations

    /// `POST /calls/{id}/answer` with service-hosted media.
    pub async fn answer(
        &self,
        tenant: M365TenantId,
        call: &str,
        prefetch: &[MediaRef],
    ) -> Result<(), GraphError> {
        let body = rq::answer(&self.callback_uri(tenant, call), prefetch);
        self.post(
            "answer",
            tenant,
            format!("{}/answer", calls_path(call)),
            Some(body),
            false,
        )
        .await
        .map(|_| ())
    }

    /// `POST /calls/{id}/playPrompt`; returns the operation id.
    pub async fn play_prompt(
        &self,
        tenant: M365TenantId,
        call: &str,
        prompts: &[MediaRef],
        client_context: &str,
    ) -> Result<Option<String>, GraphError> {
        let b = self
            .post(
                "playPrompt",
                tenant,
                format!("{}/playPrompt", calls_path(call)),
                Some(rq::play_prompt(prompts, client_context)),
                false,
            )
            .await?;
        Ok(parse::parse_operation_response(&b).ok().and_then(|o| o.id))
    }

    /// `POST /calls/{id}/recordResponse`; returns the operation id.
    pub async fn record_response(
        &self,
        tenant: M365TenantId,
        call: &str,
        opts: &RecordOptions,
        client_context: &str,
    ) -> Result<Option<String>, GraphError> {
        let b = self
            .post(
                "recordResponse",
                tenant,
                format!("{}/recordResponse", calls_path(call)),
                Some(rq::record_response(opts, client_context)),
                false,
            )
            .await?;
        Ok(parse::parse_operation_response(&b).ok().and_then(|o| o.id))
    }

    /// `POST /calls/{id}/subscribeToTone` (repeatable: idempotent).
    pub async fn subscribe_to_tone(
        &self,
        tenant: M365TenantId,
        call: &str,
    ) -> Result<(), GraphError> {
        self.post(
            "subscribeToTone",
            tenant,
            format!("{}/subscribeToTone", calls_path(call)),
            Some(rq::client_context(call)),
            true,
        )
        .await
        .map(|_| ())
    }

    /// `POST /calls/{id}/cancelMediaProcessing`.
    pub async fn cancel_media(&self, tenant: M365TenantId, call: &str) -> Result<(), GraphError> {
        self.post(
            "cancelMediaProcessing",
            tenant,
            format!("{}/cancelMediaProcessing", calls_path(call)),
            Some(rq::client_context(call)),
            true,
        )
        .await
        .map(|_| ())
    }

    /// `POST /calls/{id}/redirect` (before answer only; the bot loses the call).
    pub async fn redirect(
        &self,
        tenant: M365TenantId,
        call: &str,
        targets: &[Party],
        timeout_s: Option<u32>,
    ) -> Result<(), GraphError> {
        let body = rq::redirect(targets, &self.callback_uri(tenant, call), timeout_s);
        self.post(
            "redirect",
            tenant,
            format!("{}/redirect", calls_path(call)),
            Some(body),
            false,
        )
        .await
        .map(|_| ())
    }

    /// `POST /calls/{id}/reject`.
    pub async fn reject(
        &self,
        tenant: M365TenantId,
        call: &str,
        reason: RejectReason,
    ) -> Result<(), GraphError> {
        let r = match reason {
            RejectReason::Busy => "busy",
            RejectReason::None => "none",
            RejectReason::Forbidden => "forbidden",
        };
        self.post(
            "reject",
            tenant,
            format!("{}/reject", calls_path(call)),
            Some(rq::reject(r)),
            false,
        )
        .await
        .map(|_| ())
    }

    /// `POST /calls/{id}/keepAlive`.
    pub async fn keep_alive(&self, tenant: M365TenantId, call: &str) -> Result<(), GraphError> {
        self.post(
            "keepAlive",
            tenant,
            format!("{}/keepAlive", calls_path(call)),
            None,
            true,
        )
        .await
        .map(|_| ())
    }

    /// `DELETE /calls/{id}`.
    pub async fn hang_up(&self, tenant: M365TenantId, call: &str) -> Result<(), GraphError> {
        self.delete("deleteCall", tenant, calls_path(call)).await
    }

    /// `POST /calls/{id}/transfer` (blind, or consultative with `replaces_call_id`).
    pub async fn transfer(
        &self,
        tenant: M365TenantId,
        call: &str,
        target: &Party,
        replaces_call_id: Option<&str>,
    ) -> Result<(), GraphError> {
        let f = self.inner.registry.facts(call);
        let caller = f.caller.as_ref().and_then(party_of);
        let transferee = match (f.group, &caller, &f.caller_participant_id) {
            (true, Some(c), Some(pid)) => Some((c, pid.as_str())),
            _ => None,
        };
        let body = rq::transfer(target, replaces_call_id, transferee, Some(call));
        self.inner.registry.set_transferring(call, true);
        let r = self
            .post(
                "transfer",
                tenant,
                format!("{}/transfer", calls_path(call)),
                Some(body),
                false,
            )
            .await;
        if r.is_err() {
            self.inner.registry.set_transferring(call, false);
        }
        r.map(|_| ())
    }

    /// `POST /communications/calls`: a P2P leg to a user; returns the new call id.
    pub async fn create_leg(
        &self,
        tenant: M365TenantId,
        caller_call: &str,
        user: UserId,
    ) -> Result<String, GraphError> {
        let f = self.inner.registry.facts(caller_call);
        // Ring from the resource account the caller dialled, so the agent sees the service.
        let source = f
            .target
            .as_ref()
            .filter(|t| t.kind == PartyKind::ApplicationInstance)
            .and_then(party_of);
        let t = tenant.to_string();
        let body = rq::create_call(
            &self.callback_uri(tenant, caller_call),
            &user_party(user),
            source.as_ref(),
            source.as_ref().map(|_| t.as_str()),
        );
        let b = self
            .post(
                "createCall",
                tenant,
                "/communications/calls".into(),
                Some(body),
                false,
            )
            .await?;
        parse_call_resource(&b)
            .map(|c| c.id)
            .map_err(|e| GraphError::BadResponse(e.to_string()))
    }

    /// `POST /calls/{id}/participants/invite`.
    pub async fn invite(
        &self,
        tenant: M365TenantId,
        call: &str,
        who: &[(Party, Option<String>)],
        client_context: &str,
    ) -> Result<(), GraphError> {
        self.post(
            "invite",
            tenant,
            format!("{}/participants/invite", calls_path(call)),
            Some(rq::invite(who, client_context)),
            false,
        )
        .await
        .map(|_| ())
    }

    /// `DELETE /calls/{id}/participants/{pid}`: removes a participant, or cancels a pending
    /// invitation.
    pub async fn delete_participant(
        &self,
        tenant: M365TenantId,
        call: &str,
        participant_id: &str,
    ) -> Result<(), GraphError> {
        ok_if_gone(
            self.delete(
                "deleteParticipant",
                tenant,
                format!("{}/participants/{participant_id}", calls_path(call)),
            )
            .await,
        )
    }

    /// `GET /calls/{id}`: the call as Graph sees it now (state after a lost callback, or when
    /// a restarted call actor rebuilds its state).
    pub async fn get_call(
        &self,
        tenant: M365TenantId,
        call: &str,
    ) -> Result<parse::CallInfo, GraphError> {
        let r = self
            .inner
            .client
            .send(GraphRequest {
                operation: "getCall",
                tenant,
                method: Method::GET,
                path: calls_path(call),
                body: None,
                idempotent: true,
            })
            .await?;
        parse_call_resource(&r.body).map_err(|e| GraphError::BadResponse(e.to_string()))
    }

    /// `GET /calls/{id}/participants`.
    pub async fn list_participants(
        &self,
        tenant: M365TenantId,
        call: &str,
    ) -> Result<Vec<RosterEntry>, GraphError> {
        let r = self
            .inner
            .client
            .send(GraphRequest {
                operation: "listParticipants",
                tenant,
                method: Method::GET,
                path: format!("{}/participants", calls_path(call)),
                body: None,
                idempotent: true,
            })
            .await?;
        parse::parse_participants(&r.body).map_err(|e| GraphError::BadResponse(e.to_string()))
    }

    /// `POST /communications/getPresencesByUserId`, in chunks of 650 ids.
    pub async fn get_presences(
        &self,
        tenant: M365TenantId,
        users: &[String],
    ) -> Result<Vec<PresenceReading>, GraphError> {
        let mut out = Vec::with_capacity(users.len());
        for chunk in users.chunks(650) {
            let b = self
                .post(
                    "getPresencesByUserId",
                    tenant,
                    "/communications/getPresencesByUserId".into(),
                    Some(rq::get_presences(chunk)),
                    true, // a read
                )
                .await?;
            out.extend(
                parse::parse_presences(&b).map_err(|e| GraphError::BadResponse(e.to_string()))?,
            );
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ the port

    async fn run(&self, cmd: CallCommand) -> Result<(), CallControlError> {
        let t = cmd.m365_tenant;
        let call = cmd.call.as_str();
        let reg = &self.inner.registry;
        match cmd.action {
            CallAction::Answer { prefetch } => {
                // Pre-fetching only saves time later: a prompt that cannot be played must not
                // keep the call from being answered (playing it fails on its own).
                let media: Vec<_> = prefetch.iter().filter_map(|p| self.media(p).ok()).collect();
                self.answer(t, call, &media).await?;
            }
            CallAction::PlayPrompt { prompt } => {
                let m = self.media(&prompt)?;
                self.play_prompt(t, call, &[m], call).await?;
            }
            CallAction::CollectDigits { prompt, .. } => {
                // Digit counting and the timeout are the core's; Graph only streams tones.
                if !reg.facts(call).tones_subscribed {
                    self.subscribe_to_tone(t, call).await?;
                    reg.set_tones_subscribed(call);
                }
                if let Some(p) = prompt {
                    let m = self.media(&p)?;
                    self.play_prompt(t, call, &[m], call).await?;
                }
            }
            CallAction::CancelMedia => self.cancel_media(t, call).await?,
            CallAction::RingAgent {
                offer,
                user,
                mode: RingMode::Invite,
            } => {
                let ctx = invite_context(offer, user);
                reg.register_invite(call, user, offer, &ctx);
                if let Err(e) = self
                    .invite(t, call, &[(user_party(user), None)], &ctx)
                    .await
                {
                    reg.invite_not_sent(call, &ctx);
                    return Err(e.into());
                }
            }
            CallAction::RingAgent {
                offer,
                user,
                mode: RingMode::Leg,
            } => {
                let leg = self.create_leg(t, call, user).await?;
                let (events, follow) = reg.register_leg(call, &leg, user, offer);
                for e in events {
                    self.inner.sink.publish(e);
                }
                self.spawn_follow_ups(follow);
            }
            CallAction::CancelRing { offer, user } => {
                if let Some(leg) = reg.leg_of(call, offer) {
                    reg.settle_leg(&leg, false);
                    ok_if_gone(self.hang_up(t, &leg).await)?;
                    return Ok(());
                }
                match reg.cancel_invite(call, user, offer) {
                    Some(pid) => self.delete_participant(t, call, &pid).await?,
                    None => {
                        // The roster has not named the invitee yet: look it up. If it is still
                        // unknown, the registry removes the participant if it joins later.
                        if let Ok(list) = self.list_participants(t, call).await {
                            let uid = user.to_string();
                            if let Some(pid) = list.iter().find_map(|p| {
                                (p.who
                                    .id
                                    .as_deref()
                                    .is_some_and(|i| i.eq_ignore_ascii_case(&uid)))
                                .then(|| p.participant_id.clone())
                                .flatten()
                            }) {
                                reg.set_participant(call, user, &pid);
                                self.delete_participant(t, call, &pid).await?;
                            }
                        }
                    }
                }
            }
            CallAction::RemoveAgent { offer, user } => {
                let pid = reg.remove_agent(call, user, offer).ok_or_else(|| {
                    CallControlError::Rejected {
                        status: 404,
                        message: format!("{user} is not a known participant"),
                    }
                })?;
                self.delete_participant(t, call, &pid).await?;
            }
            CallAction::Bridge { offer, user } => {
                let leg = reg
                    .leg_of(call, offer)
                    .ok_or_else(|| CallControlError::Rejected {
                        status: 404,
                        message: format!("no leg for {offer}"),
                    })?;
                reg.settle_leg(&leg, true);
                let ctx = invite_context(offer, user);
                reg.register_invite(call, user, offer, &ctx);
                if let Err(e) = self
                    .invite(t, call, &[(user_party(user), Some(leg.clone()))], &ctx)
                    .await
                {
                    reg.invite_not_sent(call, &ctx);
                    return Err(e.into());
                }
            }
            CallAction::Transfer { target } => {
                let party = match target {
                    TransferTarget::External(n) => Party::Phone(n),
                    TransferTarget::User(u) => Party::User {
                        id: u,
                        display_name: None,
                    },
                    TransferTarget::Service(_) => {
                        return Err(CallControlError::Unsupported(
                            "a transfer to a service stays inside Stratus".into(),
                        ));
                    }
                };
                self.transfer(t, call, &party, None).await?;
            }
            CallAction::Reject { reason } => self.reject(t, call, reason).await?,
            CallAction::HangUp => ok_if_gone(self.hang_up(t, call).await)?,
            CallAction::KeepAlive => self.keep_alive(t, call).await?,
        }
        Ok(())
    }
}

fn invite_context(offer: OfferId, user: UserId) -> String {
    format!("{offer}/{user}")
}

impl CallControl for GraphAdapter {
    fn execute(&self, cmd: CallCommand) -> BoxFuture<'_, Result<(), CallControlError>> {
        let span = tracing::info_span!(
            "graph_command",
            tenant = %cmd.tenant,
            m365_tenant = %cmd.m365_tenant,
            task = %cmd.task,
            call = %cmd.call,
            action = cmd.action.name(),
        );
        Box::pin(
            async move {
                let r = self.run(cmd).await;
                if let Err(e) = &r {
                    tracing::debug!(error = %e, "graph command failed");
                }
                r
            }
            .instrument(span),
        )
    }
}
