//! Scripts for the people on the phones: agents answering, declining or ignoring; callers
//! running out of patience; media playing; transfers ringing their target.

use super::AgentBehaviour;
use super::state::{
    Counters, OpRef, SimParticipant, SimState, call_url, lock, result_info, user_identity,
};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A failure: (delay, code, subcode, message) for behaviours that do not answer [inferred codes].
fn failure(s: &SimState, b: &AgentBehaviour) -> Option<(Duration, i64, i64, &'static str)> {
    match b {
        AgentBehaviour::Answer { .. } => None,
        AgentBehaviour::Decline { after } => Some((*after, 603, 10003, "The callee declined.")),
        AgentBehaviour::Busy => {
            Some((Duration::from_millis(20), 486, 10004, "The callee is busy."))
        }
        AgentBehaviour::Unreachable => Some((
            Duration::from_millis(20),
            480,
            10076,
            "The callee couldn't be reached.",
        )),
        AgentBehaviour::Ignore => Some((
            s.cfg.ring_timeout,
            408,
            10057,
            "No signalling from the callee endpoints.",
        )),
    }
}

pub(super) fn caller_patience(s: Arc<SimState>, call: String, patience: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(patience).await;
        let connected = lock(&s.calls)
            .get(&call)
            .is_some_and(|c| c.participants.iter().any(|p| p.joined));
        if !connected && s.is_alive(&call) {
            Counters::bump(&s.stats.abandoned);
            s.caller_hangs_up(&call, 200, 4097);
        }
    });
}

pub(super) fn media(s: Arc<SimState>, call: String, op: String, ctx: String, kind: &'static str) {
    tokio::spawn(async move {
        let d = if kind == "recordOperation" {
            s.cfg.prompt_duration * 2
        } else {
            s.cfg.prompt_duration
        };
        tokio::time::sleep(d).await;
        let still_running = lock(&s.calls).get_mut(&call).is_some_and(|c| {
            let before = c.media_ops.len();
            c.media_ops.retain(|(o, _, _)| *o != op);
            c.media_ops.len() != before
        });
        if !still_running {
            return; // cancelled or call gone
        }
        if kind == "recordOperation" {
            s.notify_operation(
                &call,
                OpRef {
                    id: &op,
                    kind,
                    ctx: &ctx,
                },
                "completed",
                result_info(200, 8515, "Action completed, max record duration reached."),
                Some((
                    "recordingLocation",
                    json!(format!("{}/recordings/{op}", s.base)),
                )),
            );
        } else {
            s.notify_operation(
                &call,
                OpRef {
                    id: &op,
                    kind,
                    ctx: &ctx,
                },
                "completed",
                result_info(200, 0, "Action completed successfully."),
                None,
            );
        }
    });
}

/// An agent's phone rings for an invitation into `call` (or, with `replaces`, the agent's P2P
/// leg is moved into it).
pub(super) fn ring_invite(
    s: Arc<SimState>,
    call: String,
    p: SimParticipant,
    replaces: Option<String>,
) {
    tokio::spawn(async move {
        let behaviour = s.behaviour(&p.user);
        let ctx = p.invite_ctx.clone().unwrap_or_default();
        let op = p.op_id.clone().unwrap_or_default();
        if let Some(leg) = replaces {
            // The agent is already talking on the leg: it moves over at once.
            // Joined before the leg ends, so the agent's presence does not flap.
            join(&s, &call, &p.id, &op, &ctx);
            if s.is_alive(&leg) {
                s.end_call(
                    &leg,
                    Some(result_info(200, 7015, "Replaced.")),
                    Some("AppTransferred"),
                );
            }
            talk_then_leave(&s, &call, &p.id, &behaviour).await;
            return;
        }
        let pj = s.participant_json(&p);
        s.notify_roster(&call, false, vec![pj]);
        if let Some((after, code, sub, msg)) = failure(&s, &behaviour) {
            tokio::time::sleep(after).await;
            let pending = lock(&s.calls).get_mut(&call).and_then(|c| {
                let pos = c
                    .participants
                    .iter()
                    .position(|x| x.id == p.id && !x.joined)?;
                Some(c.participants.remove(pos))
            });
            if let Some(gone) = pending {
                s.notify_operation(
                    &call,
                    OpRef {
                        id: &op,
                        kind: "inviteParticipantsOperation",
                        ctx: &ctx,
                    },
                    "failed",
                    result_info(code, sub, msg),
                    Some((
                        "participants",
                        json!([{"identity": user_identity(&gone.user)}]),
                    )),
                );
                let pj = s.participant_json(&gone);
                s.notify_roster(&call, true, vec![pj]);
            }
            return;
        }
        if let AgentBehaviour::Answer { after, .. } = behaviour {
            tokio::time::sleep(after).await;
        }
        if join(&s, &call, &p.id, &op, &ctx) {
            talk_then_leave(&s, &call, &p.id, &behaviour).await;
        }
    });
}

/// Marks the participant joined and tells the bot; false if the invitation is gone.
fn join(s: &Arc<SimState>, call: &str, pid: &str, op: &str, ctx: &str) -> bool {
    let joined = lock(&s.calls).get_mut(call).and_then(|c| {
        let p = c.participants.iter_mut().find(|x| x.id == pid)?;
        p.joined = true;
        Some(p.clone())
    });
    let Some(p) = joined else { return false };
    s.user_joined(&p.user);
    let pj = s.participant_json(&p);
    s.notify_roster(call, false, vec![pj]);
    s.notify_operation(
        call,
        OpRef {
            id: op,
            kind: "inviteParticipantsOperation",
            ctx,
        },
        "completed",
        result_info(200, 0, "Action completed successfully."),
        Some((
            "participants",
            json!([{"identity": user_identity(&p.user)}]),
        )),
    );
    true
}

async fn talk_then_leave(s: &Arc<SimState>, call: &str, pid: &str, b: &AgentBehaviour) {
    let AgentBehaviour::Answer {
        talk: Some(talk), ..
    } = b
    else {
        return;
    };
    tokio::time::sleep(*talk).await;
    let left = lock(&s.calls).get_mut(call).and_then(|c| {
        let pos = c.participants.iter().position(|x| x.id == pid)?;
        Some(c.participants.remove(pos))
    });
    if let Some(p) = left {
        let pj = s.participant_json(&p);
        s.notify_roster(call, true, vec![pj]);
        s.user_left(&p.user);
    }
}

/// The target of `POST /communications/calls` rings.
pub(super) fn ring_leg(s: Arc<SimState>, leg: String, user: String, phone: bool) {
    tokio::spawn(async move {
        s.notify_state(&leg, "establishing", None);
        let behaviour = if phone {
            AgentBehaviour::answer_after(Duration::from_millis(50))
        } else {
            s.behaviour(&user)
        };
        if let Some((after, code, sub, msg)) = failure(&s, &behaviour) {
            tokio::time::sleep(after).await;
            if s.is_alive(&leg) {
                s.end_call(&leg, Some(result_info(code, sub, msg)), None);
            }
            return;
        }
        if let AgentBehaviour::Answer { after, talk } = behaviour {
            tokio::time::sleep(after).await;
            if !s.is_alive(&leg) {
                return;
            }
            s.notify_state(&leg, "established", None);
            if !phone {
                s.user_joined(&user);
            }
            if let Some(t) = talk {
                tokio::time::sleep(t).await;
                if s.is_alive(&leg) {
                    s.end_call(
                        &leg,
                        Some(result_info(
                            200,
                            4521,
                            "The other participant ended the call.",
                        )),
                        None,
                    );
                }
            }
        }
    });
}

pub(super) fn transfer(s: Arc<SimState>, call: String, phone: bool, target: String) {
    tokio::spawn(async move {
        s.notify_state(&call, "transferring", None);
        let behaviour = if phone {
            AgentBehaviour::answer_after(Duration::from_millis(50))
        } else {
            s.behaviour(&target)
        };
        if let Some((after, _, _, _)) = failure(&s, &behaviour) {
            tokio::time::sleep(after).await;
            if s.is_alive(&call) {
                // Documented failure shape: back to established with 500/7000.
                s.notify_state(
                    &call,
                    "established",
                    Some(result_info(500, 7000, "Transfer failed.")),
                );
            }
            return;
        }
        if let AgentBehaviour::Answer { after, .. } = behaviour {
            tokio::time::sleep(after).await;
        }
        if s.is_alive(&call) {
            s.notify_state(&call, "transferAccepted", None);
            s.end_call(
                &call,
                Some(result_info(0, 7015, "GracefulTransferCompleted")),
                None,
            );
        }
    });
}

pub(super) fn redirect(s: Arc<SimState>, call: String, targets: Vec<serde_json::Value>) {
    tokio::spawn(async move {
        s.notify_state(&call, "redirecting", None);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let first = targets.first().map(|t| t["identity"].clone());
        let data = json!({"@odata.type": "#microsoft.graph.call", "state": "terminated", "id": call,
            "answeredBy": {"@odata.type": "#microsoft.graph.participantInfo", "identity": first, "endpointType": "default"}});
        s.notify(
            &call,
            json!({"@odata.type": "#microsoft.graph.commsNotifications", "value": [{
                "@odata.type": "#microsoft.graph.commsNotification", "changeType": "deleted",
                "resourceUrl": call_url(&call), "resourceData": data}]}),
        );
        lock(&s.calls).remove(&call);
    });
}

/// Ends answered calls whose bot sent no keepAlive within `keep_alive_timeout` (408/8537), as
/// Graph does after 45 minutes. Stops when the simulator is gone.
pub(super) fn expire_silent_calls(s: std::sync::Weak<SimState>) {
    tokio::spawn(async move {
        let Some(every) = s.upgrade().map(|st| {
            (st.cfg.keep_alive_timeout / 4)
                .clamp(Duration::from_millis(10), Duration::from_secs(30))
        }) else {
            return;
        };
        loop {
            tokio::time::sleep(every).await;
            let Some(st) = s.upgrade() else { return };
            let limit = st.cfg.keep_alive_timeout;
            let silent: Vec<String> = lock(&st.calls)
                .iter()
                .filter(|(_, c)| {
                    c.inbound && c.state == "established" && c.alive_at.elapsed() >= limit
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in silent {
                st.end_call(
                    &id,
                    Some(result_info(408, 8537, "The call was not kept alive.")),
                    None,
                );
            }
        }
    });
}

/// Steps one agent Away or back every `every` (see `SimConfig::presence_churn`).
pub(super) fn churn_presence(s: std::sync::Weak<SimState>, every: Duration) {
    tokio::spawn(async move {
        let every = every.max(Duration::from_millis(1));
        loop {
            tokio::time::sleep(every).await;
            let Some(st) = s.upgrade() else { return };
            st.churn_one();
        }
    });
}
