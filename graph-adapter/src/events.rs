//! Mapping parsed notifications to domain [`CallEvent`]s. A small registry remembers, per
//! caller call, which invitation and participant belongs to which user and offer, and which
//! P2P leg (Direct) belongs to which caller call, so roster and leg notifications become
//! `AgentJoined`, `LegEstablished`, `AgentFailed`… on the caller's call.

use crate::parse::{
    CallState, Notification, NotificationKind, OperationKind, OperationStatus, Outcome, PartyId,
    PartyKind, Tone,
};
use dashmap::DashMap;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use stratus_routing::ids::{CallId, M365TenantId, OfferId, UserId};
use stratus_routing::port::{CallEvent, CallEventKind, CallerInfo, LegFailure};
use tokio::time::Instant;

/// Where mapped events go (the gateway hands them to the call actors).
pub trait CallEventSink: Send + Sync + 'static {
    fn publish(&self, event: CallEvent);
}

impl CallEventSink for tokio::sync::mpsc::UnboundedSender<CallEvent> {
    fn publish(&self, event: CallEvent) {
        // A closed receiver means the node is shutting down: nothing left to tell.
        let _ = self.send(event);
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum InviteState {
    Ringing,
    Joined,
    /// Stratus cancelled it (RONA, lost race): a late join is removed, a failure is silent.
    Cancelled,
    Failed,
    /// Removed by Stratus or left.
    Gone,
}

#[derive(Clone, Debug)]
struct Invite {
    offer: OfferId,
    user: UserId,
    context: String,
    participant_id: Option<String>,
    state: InviteState,
}

#[derive(Clone, Debug)]
struct LegRef {
    offer: OfferId,
    leg: String,
}

#[derive(Clone, Debug, Default)]
struct CallCtx {
    m365: Option<M365TenantId>,
    target: Option<PartyId>,
    caller: Option<PartyId>,
    caller_participant_id: Option<String>,
    invites: Vec<Invite>,
    legs: Vec<LegRef>,
    last_tone_seq: Option<i64>,
    tones_subscribed: bool,
    transferring: bool,
    established: bool,
}

#[derive(Clone, Debug)]
struct Leg {
    caller_call: String,
    user: UserId,
    established: bool,
    bridged: bool,
    cancelled: bool,
}

/// Work the mapper cannot do itself (it never does I/O).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowUp {
    /// An invitation Stratus had cancelled was answered anyway: remove that participant.
    RemoveParticipant {
        tenant: Option<M365TenantId>,
        call: String,
        participant_id: String,
    },
}

/// What the command side needs to know about a caller call.
#[derive(Clone, Debug, Default)]
pub struct CallFacts {
    pub target: Option<PartyId>,
    pub caller: Option<PartyId>,
    pub caller_participant_id: Option<String>,
    /// Someone was invited: the call is a group call now (transfer needs `transferee`).
    pub group: bool,
    pub tones_subscribed: bool,
}

const ORPHAN_TTL: Duration = Duration::from_secs(30);
const ORPHAN_MAX: usize = 4096;

/// Per-call mapping state. Cheap operations only; never held across I/O.
#[derive(Default)]
pub struct CallRegistry {
    calls: DashMap<String, CallCtx>,
    legs: DashMap<String, Leg>,
    /// Notifications for call ids not known yet: a leg's first notification can overtake the
    /// 201 of `POST /communications/calls`. Replayed when the leg is registered.
    orphans: Mutex<VecDeque<(Instant, Option<M365TenantId>, Notification)>>,
}

fn user_of(p: &PartyId) -> Option<UserId> {
    if p.kind != PartyKind::User {
        return None;
    }
    p.id.as_deref().and_then(|s| s.parse().ok())
}

/// The failure cause from a leg's or invitation's `resultInfo`. Graph documents no decline
/// code; 603 (decline) and 486 (busy) follow SIP, as the simulator does (inferred).
pub fn leg_failure(o: Option<&Outcome>) -> LegFailure {
    match o.map(|o| (o.code, o.subcode)) {
        Some((603, _)) => LegFailure::Declined,
        Some((486, _)) => LegFailure::Busy,
        Some((480, _)) | Some((404, _)) | Some((410, _)) => LegFailure::Unreachable,
        Some((408, _)) | Some((487, _)) => LegFailure::NoAnswer,
        Some((c, _)) => LegFailure::Other(u16::try_from(c).unwrap_or(0)),
        None => LegFailure::Other(0),
    }
}

fn code16(o: Option<&Outcome>) -> u16 {
    o.map_or(0, |o| u16::try_from(o.code).unwrap_or(0))
}

fn caller_info(p: Option<&PartyId>) -> CallerInfo {
    let Some(p) = p else {
        return CallerInfo {
            anonymous: true,
            ..CallerInfo::default()
        };
    };
    let mut c = CallerInfo {
        display_name: p.display_name.clone(),
        ..CallerInfo::default()
    };
    match p.kind {
        PartyKind::Phone => {
            c.number = p.id.clone();
            c.anonymous =
                p.id.as_deref()
                    .is_none_or(|n| n.eq_ignore_ascii_case("anonymous"));
        }
        PartyKind::Encrypted | PartyKind::Unknown => c.anonymous = true,
        _ => c.id = p.id.clone(),
    }
    c
}

impl CallRegistry {
    pub fn new() -> Self {
        CallRegistry::default()
    }

    /// The Microsoft 365 tenant a call (or the caller call of a leg) was first seen in.
    pub fn owner(&self, call: &str) -> Option<M365TenantId> {
        let caller = self.caller_call_of_leg(call);
        let call = caller.as_deref().unwrap_or(call);
        self.calls.get(call).and_then(|c| c.m365)
    }

    /// Whether the call has been seen (as a caller call).
    pub fn knows(&self, call: &str) -> bool {
        self.calls.contains_key(call)
    }

    /// The caller call a P2P leg belongs to.
    pub fn caller_call_of_leg(&self, leg: &str) -> Option<String> {
        self.legs.get(leg).map(|l| l.caller_call.clone())
    }

    /// Facts about a caller call for the command side.
    pub fn facts(&self, call: &str) -> CallFacts {
        self.calls
            .get(call)
            .map_or_else(CallFacts::default, |c| CallFacts {
                target: c.target.clone(),
                caller: c.caller.clone(),
                caller_participant_id: c.caller_participant_id.clone(),
                group: !c.invites.is_empty(),
                tones_subscribed: c.tones_subscribed,
            })
    }

    pub fn set_tones_subscribed(&self, call: &str) {
        self.calls
            .entry(call.to_owned())
            .or_default()
            .tones_subscribed = true;
    }

    pub fn set_transferring(&self, call: &str, on: bool) {
        self.calls.entry(call.to_owned()).or_default().transferring = on;
    }

    /// Records an invitation before it is sent, so a fast answer can be matched.
    pub fn register_invite(&self, call: &str, user: UserId, offer: OfferId, context: &str) {
        let mut c = self.calls.entry(call.to_owned()).or_default();
        c.invites.push(Invite {
            offer,
            user,
            context: context.to_owned(),
            participant_id: None,
            state: InviteState::Ringing,
        });
    }

    /// The invitation could not even be sent.
    pub fn invite_not_sent(&self, call: &str, context: &str) {
        if let Some(mut c) = self.calls.get_mut(call) {
            c.invites.retain(|i| i.context != context);
        }
    }

    /// Marks the user's ringing invitation for `offer` cancelled; returns its participant id if
    /// the roster told it already.
    pub fn cancel_invite(&self, call: &str, user: UserId, offer: OfferId) -> Option<String> {
        let mut c = self.calls.get_mut(call)?;
        let inv = c
            .invites
            .iter_mut()
            .rev()
            .find(|i| i.user == user && i.offer == offer)?;
        if inv.state == InviteState::Ringing {
            inv.state = InviteState::Cancelled;
        }
        inv.participant_id.clone()
    }

    /// Marks a joined agent removed; returns the participant id to delete.
    pub fn remove_agent(&self, call: &str, user: UserId, offer: OfferId) -> Option<String> {
        let mut c = self.calls.get_mut(call)?;
        let inv = c
            .invites
            .iter_mut()
            .rev()
            .find(|i| i.user == user && (i.offer == offer || i.state == InviteState::Joined))?;
        inv.state = InviteState::Gone;
        inv.participant_id.clone()
    }

    /// Records the participant id found by listing participants.
    pub fn set_participant(&self, call: &str, user: UserId, participant_id: &str) {
        if let Some(mut c) = self.calls.get_mut(call)
            && let Some(i) = c.invites.iter_mut().rev().find(|i| i.user == user)
        {
            i.participant_id = Some(participant_id.to_owned());
        }
    }

    /// The leg rung for `offer` on `call`, if any.
    pub fn leg_of(&self, call: &str, offer: OfferId) -> Option<String> {
        self.calls.get(call).and_then(|c| {
            c.legs
                .iter()
                .rev()
                .find(|l| l.offer == offer)
                .map(|l| l.leg.clone())
        })
    }

    /// Marks a leg cancelled (RONA) or bridged; later notifications on it are then silent.
    pub fn settle_leg(&self, leg: &str, bridged: bool) {
        if let Some(mut l) = self.legs.get_mut(leg) {
            if bridged {
                l.bridged = true;
            } else {
                l.cancelled = true;
            }
        }
    }

    /// Registers a Direct leg and returns the events of notifications that overtook it.
    pub fn register_leg(
        &self,
        caller_call: &str,
        leg: &str,
        user: UserId,
        offer: OfferId,
    ) -> (Vec<CallEvent>, Vec<FollowUp>) {
        self.legs.insert(
            leg.to_owned(),
            Leg {
                caller_call: caller_call.to_owned(),
                user,
                established: false,
                bridged: false,
                cancelled: false,
            },
        );
        self.calls
            .entry(caller_call.to_owned())
            .or_default()
            .legs
            .push(LegRef {
                offer,
                leg: leg.to_owned(),
            });
        let mine: Vec<(Option<M365TenantId>, Notification)> = match self.orphans.lock() {
            Ok(mut q) => {
                let (m, rest): (Vec<_>, Vec<_>) =
                    q.drain(..).partition(|(_, _, n)| n.call_id == leg);
                q.extend(rest);
                m.into_iter().map(|(_, t, n)| (t, n)).collect()
            }
            Err(_) => Vec::new(),
        };
        let owner = self.owner(caller_call);
        let mut events = Vec::new();
        let mut follow = Vec::new();
        for (t, n) in mine {
            if owner.is_some() && t != owner {
                tracing::warn!(
                    leg,
                    "a notification for this leg came from another tenant: dropped"
                );
                continue;
            }
            let (e, f) = self.on_notification(t, n);
            events.extend(e);
            follow.extend(f);
        }
        (events, follow)
    }

    /// Maps one notification. `tid` is the tenant from the callback token.
    pub fn on_notification(
        &self,
        tid: Option<M365TenantId>,
        n: Notification,
    ) -> (Vec<CallEvent>, Vec<FollowUp>) {
        if self.legs.contains_key(&n.call_id) {
            return (self.on_leg(n), Vec::new());
        }
        let known = self.calls.contains_key(&n.call_id);
        if !known && !matches!(n.kind, NotificationKind::Incoming(_)) {
            self.keep_orphan(tid, &n);
        }
        self.on_call(tid, n)
    }

    fn keep_orphan(&self, tid: Option<M365TenantId>, n: &Notification) {
        if let Ok(mut q) = self.orphans.lock() {
            let now = Instant::now();
            while q
                .front()
                .is_some_and(|(t, _, _)| now.duration_since(*t) > ORPHAN_TTL)
                || q.len() >= ORPHAN_MAX
            {
                q.pop_front();
            }
            q.push_back((now, tid, n.clone()));
        }
    }

    fn on_leg(&self, n: Notification) -> Vec<CallEvent> {
        let Some(mut leg) = self.legs.get_mut(&n.call_id) else {
            return Vec::new();
        };
        let call = CallId::new(leg.caller_call.clone());
        let user = leg.user;
        let silent = leg.bridged || leg.cancelled;
        match n.kind {
            NotificationKind::StateChanged {
                state: CallState::Established,
                ..
            } if !leg.established => {
                leg.established = true;
                if silent {
                    return Vec::new();
                }
                vec![CallEvent {
                    call,
                    kind: CallEventKind::LegEstablished { user },
                }]
            }
            NotificationKind::Deleted { result, .. } => {
                let established = leg.established;
                drop(leg);
                self.legs.remove(&n.call_id);
                if silent {
                    return Vec::new();
                }
                let kind = if established {
                    CallEventKind::AgentLeft { user }
                } else {
                    CallEventKind::AgentFailed {
                        user,
                        cause: leg_failure(result.as_ref()),
                    }
                };
                vec![CallEvent { call, kind }]
            }
            _ => Vec::new(),
        }
    }

    fn on_call(
        &self,
        tid: Option<M365TenantId>,
        n: Notification,
    ) -> (Vec<CallEvent>, Vec<FollowUp>) {
        let call = CallId::new(n.call_id.clone());
        let ev = |kind| CallEvent {
            call: call.clone(),
            kind,
        };
        match n.kind {
            NotificationKind::Incoming(i) => {
                // Created only in the tenant of the token, never in one the body names.
                let Some(m365) = tid else {
                    tracing::warn!(call = %n.call_id, "incoming call without tenant");
                    return (Vec::new(), Vec::new());
                };
                let target = i
                    .targets
                    .iter()
                    .find(|t| t.kind == PartyKind::ApplicationInstance)
                    .or_else(|| i.targets.first())
                    .cloned();
                let kind = CallEventKind::Incoming {
                    m365_tenant: m365,
                    target: target
                        .as_ref()
                        .and_then(|t| t.id.clone())
                        .unwrap_or_default(),
                    caller: caller_info(i.source.as_ref()),
                    call_chain_id: i.call_chain_id.clone(),
                };
                self.calls.insert(
                    n.call_id.clone(),
                    CallCtx {
                        m365: Some(m365),
                        target,
                        caller: i.source.clone(),
                        caller_participant_id: i.source_participant_id.clone(),
                        ..CallCtx::default()
                    },
                );
                (vec![ev(kind)], Vec::new())
            }
            NotificationKind::StateChanged { state, result } => {
                let mut c = self.calls.entry(n.call_id.clone()).or_default();
                // The tenant is stored when the call is first seen.
                c.m365 = c.m365.or(tid);
                let out = match state {
                    CallState::Established if result.as_ref().is_some_and(|r| r.code >= 400) => {
                        c.transferring = false;
                        vec![ev(CallEventKind::TransferFailed {
                            code: code16(result.as_ref()),
                        })]
                    }
                    CallState::Established if !c.established => {
                        c.established = true;
                        vec![ev(CallEventKind::Established)]
                    }
                    CallState::TransferAccepted => vec![ev(CallEventKind::TransferAccepted)],
                    _ => Vec::new(),
                };
                (out, Vec::new())
            }
            NotificationKind::Tone { tone, sequence_id } => {
                let mut c = self.calls.entry(n.call_id.clone()).or_default();
                // The tenant is stored when the call is first seen.
                c.m365 = c.m365.or(tid);
                if let (Some(s), Some(last)) = (sequence_id, c.last_tone_seq)
                    && s <= last
                {
                    return (Vec::new(), Vec::new()); // duplicate or late
                }
                if sequence_id.is_some() {
                    c.last_tone_seq = sequence_id;
                }
                match tone {
                    Tone::Digit(d) => (vec![ev(CallEventKind::Tone { digit: d })], Vec::new()),
                    Tone::Flash => (Vec::new(), Vec::new()),
                }
            }
            NotificationKind::Deleted {
                result,
                termination_reason,
                ..
            } => {
                let ctx = self.calls.remove(&n.call_id).map(|(_, c)| c);
                let transferred = termination_reason
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case("AppTransferred"))
                    || result.as_ref().is_some_and(|r| r.subcode == 7015)
                    || ctx.as_ref().is_some_and(|c| c.transferring);
                let kind = if transferred {
                    CallEventKind::TransferCompleted
                } else {
                    CallEventKind::Terminated {
                        code: code16(result.as_ref()),
                    }
                };
                (vec![ev(kind)], Vec::new())
            }
            NotificationKind::OperationFinished(op) => {
                let failed = op.status == Some(OperationStatus::Failed);
                match op.kind {
                    OperationKind::PlayPrompt => {
                        let cancelled = op.result.as_ref().is_some_and(|r| r.subcode == 8508)
                            || op
                                .completion_reason
                                .as_deref()
                                .is_some_and(|r| r.eq_ignore_ascii_case("operationCanceled"));
                        if cancelled {
                            (Vec::new(), Vec::new())
                        } else {
                            (vec![ev(CallEventKind::PromptDone)], Vec::new())
                        }
                    }
                    OperationKind::InviteParticipants => {
                        let Some(mut c) = self.calls.get_mut(&n.call_id) else {
                            return (Vec::new(), Vec::new());
                        };
                        let Some(inv) = c
                            .invites
                            .iter_mut()
                            .find(|i| op.client_context.as_deref() == Some(i.context.as_str()))
                        else {
                            return (Vec::new(), Vec::new());
                        };
                        match (failed, inv.state) {
                            (true, InviteState::Ringing) => {
                                inv.state = InviteState::Failed;
                                let kind = CallEventKind::AgentFailed {
                                    user: inv.user,
                                    cause: leg_failure(op.result.as_ref()),
                                };
                                (vec![ev(kind)], Vec::new())
                            }
                            // Completed means the invitee joined; the roster usually said so.
                            (false, InviteState::Ringing)
                                if op.status == Some(OperationStatus::Completed) =>
                            {
                                inv.state = InviteState::Joined;
                                let kind = CallEventKind::AgentJoined { user: inv.user };
                                (vec![ev(kind)], Vec::new())
                            }
                            _ => (Vec::new(), Vec::new()),
                        }
                    }
                    _ => (Vec::new(), Vec::new()),
                }
            }
            NotificationKind::Roster {
                participants,
                removed,
            } => {
                let Some(mut c) = self.calls.get_mut(&n.call_id) else {
                    return (Vec::new(), Vec::new());
                };
                let tenant = c.m365.or(tid);
                let mut out = Vec::new();
                let mut follow = Vec::new();
                for p in participants {
                    if c.caller
                        .as_ref()
                        .is_some_and(|cl| cl.id.is_some() && cl.id == p.who.id)
                        && p.participant_id.is_some()
                    {
                        c.caller_participant_id = p.participant_id.clone();
                        continue;
                    }
                    let Some(user) = user_of(&p.who) else {
                        continue;
                    };
                    let Some(inv) = c.invites.iter_mut().rev().find(|i| i.user == user) else {
                        continue;
                    };
                    if p.participant_id.is_some() {
                        inv.participant_id = p.participant_id.clone();
                    }
                    if removed {
                        if inv.state == InviteState::Joined {
                            inv.state = InviteState::Gone;
                            out.push(ev(CallEventKind::AgentLeft { user }));
                        }
                        continue;
                    }
                    if !p.has_media || p.in_lobby {
                        continue; // still being invited
                    }
                    match inv.state {
                        InviteState::Ringing => {
                            inv.state = InviteState::Joined;
                            out.push(ev(CallEventKind::AgentJoined { user }));
                        }
                        InviteState::Cancelled => {
                            inv.state = InviteState::Gone;
                            if let Some(pid) = &p.participant_id {
                                follow.push(FollowUp::RemoveParticipant {
                                    tenant,
                                    call: n.call_id.clone(),
                                    participant_id: pid.clone(),
                                });
                            }
                        }
                        _ => {}
                    }
                }
                (out, follow)
            }
            NotificationKind::Ignored { .. } => (Vec::new(), Vec::new()),
        }
    }

    /// Number of live caller calls tracked (for metrics and leak tests).
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }
}
