//! The simulator's HTTP side: Graph endpoints, token endpoint, OpenID configuration, JWKS.

use super::keys::{SIM_KEY_E, SIM_KEY_N, SIM_KID};
use super::phones;
use super::state::{
    Counters, Gate, OpRef, SimParticipant, SimState, Sub, call_url, lock, user_identity,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn router(state: Arc<SimState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// A Graph answer before it is turned into HTTP.
struct Answer {
    status: u16,
    body: Option<Value>,
    location: Option<String>,
}

fn ans(status: u16, body: Option<Value>) -> Answer {
    Answer {
        status,
        body,
        location: None,
    }
}

fn err(status: u16, code: &str, message: &str) -> Answer {
    ans(
        status,
        Some(json!({"error": {"code": code, "message": message,
            "innerError": {"request-id": "sim", "date": "2026-01-01T00:00:00"}}})),
    )
}

fn into_response(a: Answer, extra: Option<(&'static str, String)>) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = match a.body {
        Some(b) => (status, axum::Json(b)).into_response(),
        None => status.into_response(),
    };
    if let Some(l) = a.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert(header::LOCATION, l);
    }
    if let Some((k, v)) = extra
        && let Ok(v) = HeaderValue::from_str(&v)
    {
        r.headers_mut().insert(k, v);
    }
    r
}

async fn handle(
    State(s): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let segs: Vec<&str> = path.split('/').filter(|x| !x.is_empty()).collect();
    // Token endpoint, OpenID configuration and JWKS are never faulted.
    match (method.as_str(), segs.as_slice()) {
        ("POST", [_tenant, "oauth2", "v2.0", "token"]) => {
            let n = s.count_token();
            let tenant = segs.first().copied().unwrap_or("");
            return axum::Json(json!({
                "token_type": "Bearer",
                "expires_in": s.cfg.token_lifetime.as_secs(),
                "access_token": format!("sim.{tenant}.{n}"),
            }))
            .into_response();
        }
        ("GET", ["v1", ".well-known", "OpenIdConfiguration"]) => {
            return axum::Json(json!({
                "issuer": s.cfg.issuer,
                "jwks_uri": format!("{}/v1/keys", s.base),
                "id_token_signing_alg_values_supported": ["RS256"],
            }))
            .into_response();
        }
        ("GET", ["v1", "keys"]) => {
            s.jwks_fetches
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return axum::Json(json!({"keys": [{
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": SIM_KID, "n": SIM_KEY_N, "e": SIM_KEY_E,
            }]}))
            .into_response();
        }
        _ => {}
    }
    let Some(rest) = path.strip_prefix("/v1.0") else {
        return into_response(err(404, "NotFound", "unknown path"), None);
    };
    let rest = rest.to_owned();
    let parsed: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer sim."));
    let (gate, delay) = s.gate();
    let (answer, extra) = if !authorized {
        (
            err(401, "InvalidAuthenticationToken", "Access token is empty."),
            None,
        )
    } else {
        match gate {
            Gate::Throttle(after) => (
                err(429, "TooManyRequests", "Please retry again later."),
                Some(("retry-after", format!("{after}"))),
            ),
            Gate::Fail(st) => (err(st, "ServiceUnavailable", "Simulated failure."), None),
            Gate::Pass => (graph(&s, method.as_str(), &rest, &parsed).await, None),
        }
    };
    s.record(
        method.as_str(),
        &rest,
        parsed,
        answer.status,
        answer.body.as_ref(),
    );
    // A slow answer: Graph acted on the request but answers late, so a client that times
    // out cannot know whether it took effect.
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    into_response(answer, extra)
}

fn op_answer(call: &str, kind: &str, id: &str, status: &str, ctx: &str) -> Answer {
    Answer {
        status: 200,
        body: Some(
            json!({"@odata.type": format!("#microsoft.graph.{kind}"), "id": id, "status": status, "clientContext": ctx}),
        ),
        location: Some(format!("{}/operations/{id}", call_url(call))),
    }
}

fn ctx_of(b: &Value) -> String {
    b.get("clientContext")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// The user id of an invitationParticipantInfo, or its phone number.
fn target_of(p: &Value) -> Option<(bool, String)> {
    let id = &p["identity"];
    if let Some(u) = id["user"]["id"].as_str() {
        return Some((false, u.to_owned()));
    }
    id["phone"]["id"].as_str().map(|n| (true, n.to_owned()))
}

async fn graph(s: &Arc<SimState>, method: &str, path: &str, b: &Value) -> Answer {
    let segs: Vec<&str> = path.split('/').filter(|x| !x.is_empty()).collect();
    match (method, segs.as_slice()) {
        ("POST", ["communications", "calls"]) => create_call(s, b),
        ("GET", ["communications", "calls", id]) => get_call(s, id),
        ("DELETE", ["communications", "calls", id]) => {
            if !s.is_alive(id) {
                return err(404, "NotFound", "call not found");
            }
            let call = (*id).to_owned();
            let st = s.clone();
            tokio::spawn(async move {
                st.notify_state(&call, "terminating", None);
                st.end_call(
                    &call,
                    Some(super::state::result_info(
                        200,
                        7000,
                        "The call was ended by the bot.",
                    )),
                    None,
                );
            });
            ans(204, None)
        }
        ("POST", ["communications", "calls", id, action]) => call_action(s, id, action, b),
        ("GET", ["communications", "calls", id, "participants"]) => {
            let calls = lock(&s.calls);
            let Some(c) = calls.get(*id) else {
                return err(404, "NotFound", "call not found");
            };
            let list: Vec<Value> = c
                .participants
                .iter()
                .map(|p| s.participant_json(p))
                .collect();
            ans(200, Some(json!({"value": list})))
        }
        ("POST", ["communications", "calls", id, "participants", "invite"]) => invite(s, id, b),
        ("DELETE", ["communications", "calls", id, "participants", pid]) => {
            delete_participant(s, id, pid)
        }
        ("POST", ["communications", "getPresencesByUserId"]) => {
            let ids: Vec<String> = b["ids"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if ids.is_empty() || ids.len() > 650 {
                return err(400, "BadRequest", "ids must hold 1 to 650 user ids");
            }
            let v: Vec<Value> = ids.iter().map(|i| s.presence_json(i)).collect();
            ans(200, Some(json!({"value": v})))
        }
        ("GET", ["communications", "presences", id]) | ("GET", ["users", id, "presence"]) => {
            ans(200, Some(s.presence_json(id)))
        }
        ("POST", ["subscriptions"]) => create_subscription(s, b).await,
        ("PATCH", ["subscriptions", id]) => {
            let mut subs = lock(&s.subs);
            let Some(sub) = subs.get_mut(*id) else {
                return err(404, "ResourceNotFound", "subscription not found");
            };
            if let Some(e) = b["expirationDateTime"].as_str() {
                sub.expiration = e.to_owned();
            }
            ans(
                200,
                Some(
                    json!({"id": id, "expirationDateTime": sub.expiration, "clientState": sub.client_state}),
                ),
            )
        }
        ("DELETE", ["subscriptions", id]) => match lock(&s.subs).remove(*id) {
            Some(_) => ans(204, None),
            None => err(404, "ResourceNotFound", "subscription not found"),
        },
        _ => err(404, "NotFound", "unknown path"),
    }
}

fn get_call(s: &Arc<SimState>, id: &str) -> Answer {
    let calls = lock(&s.calls);
    let Some(c) = calls.get(id) else {
        return err(404, "NotFound", "call not found");
    };
    ans(
        200,
        Some(
            json!({"@odata.type": "#microsoft.graph.call", "id": id, "state": c.state,
            "direction": if c.inbound { "incoming" } else { "outgoing" },
            "callbackUri": c.callback_uri, "myParticipantId": c.my_participant_id}),
        ),
    )
}

fn call_action(s: &Arc<SimState>, id: &str, action: &str, b: &Value) -> Answer {
    let (alive, state) = {
        let calls = lock(&s.calls);
        match calls.get(id) {
            Some(c) => (true, c.state.clone()),
            None => (false, String::new()),
        }
    };
    if !alive {
        return err(404, "NotFound", "call not found");
    }
    let call = id.to_owned();
    match action {
        "answer" => {
            if state != "incoming" {
                return err(400, "BadRequest", "call is not incoming");
            }
            let Some(cb) = b["callbackUri"].as_str() else {
                return err(400, "BadRequest", "callbackUri is required");
            };
            if b["acceptedModalities"]
                .as_array()
                .is_none_or(|a| a.is_empty())
                || !b["mediaConfig"].is_object()
            {
                return err(
                    400,
                    "BadRequest",
                    "acceptedModalities and mediaConfig are required",
                );
            }
            if let Some(c) = lock(&s.calls).get_mut(id) {
                c.callback_uri = Some(cb.to_owned());
                c.state = "establishing".into();
                c.alive_at = tokio::time::Instant::now();
            }
            Counters::bump(&s.stats.answered);
            let st = s.clone();
            tokio::spawn(async move {
                st.notify_state(&call, "establishing", None);
                tokio::time::sleep(st.cfg.establish_delay).await;
                if st.is_alive(&call) {
                    st.notify_state(&call, "established", None);
                }
            });
            ans(202, None)
        }
        "reject" => {
            if state != "incoming" {
                return err(400, "BadRequest", "only an incoming call can be rejected");
            }
            let reason = b["reason"].as_str().unwrap_or("none").to_ascii_lowercase();
            if !matches!(reason.as_str(), "none" | "busy" | "forbidden") {
                return err(400, "BadRequest", "reason must be none, busy or forbidden");
            }
            if let Some(cb) = b["callbackUri"].as_str()
                && let Some(c) = lock(&s.calls).get_mut(id)
            {
                c.callback_uri = Some(cb.to_owned());
            }
            let data = json!({"@odata.type": "#microsoft.graph.call", "@odata.id": call_url(id)});
            let st = s.clone();
            tokio::spawn(async move {
                st.notify(
                    &call,
                    json!({"@odata.type": "#microsoft.graph.commsNotifications", "value": [{
                        "@odata.type": "#microsoft.graph.commsNotification", "changeType": "deleted",
                        "resourceUrl": call_url(&call), "resourceData": data}]}),
                );
                lock(&st.calls).remove(&call);
            });
            ans(202, None)
        }
        "redirect" => {
            if state != "incoming" {
                return err(400, "BadRequest", "redirect is allowed before answer only");
            }
            let targets = b["targets"].as_array().cloned().unwrap_or_default();
            if targets.is_empty() || targets.len() > 25 {
                return err(400, "BadRequest", "1 to 25 targets");
            }
            if let Some(t) = b["timeout"].as_i64()
                && !(15..=90).contains(&t)
            {
                return err(400, "BadRequest", "timeout must be 15-90");
            }
            if let Some(cb) = b["callbackUri"].as_str()
                && let Some(c) = lock(&s.calls).get_mut(id)
            {
                c.callback_uri = Some(cb.to_owned());
            }
            phones::redirect(s.clone(), call, targets);
            ans(202, None)
        }
        "transfer" => {
            let Some((phone, target)) = target_of(&b["transferTarget"]) else {
                return err(400, "BadRequest", "transferTarget.identity is required");
            };
            let group = lock(&s.calls)
                .get(id)
                .is_some_and(|c| !c.participants.is_empty());
            if group && !b["transferee"].is_object() {
                return err(400, "BadRequest", "transferee is required in a group call");
            }
            phones::transfer(s.clone(), call, phone, target);
            ans(202, None)
        }
        "playPrompt" | "recordResponse" => {
            let prompts = b["prompts"].as_array().map_or(0, Vec::len);
            let max = if action == "playPrompt" { 20 } else { 1 };
            if (action == "playPrompt" && prompts == 0) || prompts > max {
                return err(400, "BadRequest", "bad prompts");
            }
            if prompts > 0 && b["prompts"][0]["mediaInfo"]["uri"].as_str().is_none() {
                return err(400, "BadRequest", "mediaInfo.uri is required");
            }
            let ctx = ctx_of(b);
            if ctx.len() > 256 {
                return err(400, "BadRequest", "clientContext longer than 256");
            }
            let op = s.call_new_id(id);
            let kind = if action == "playPrompt" {
                "playPromptOperation"
            } else {
                "recordOperation"
            };
            if let Some(c) = lock(&s.calls).get_mut(id) {
                c.media_ops.push((op.clone(), ctx.clone(), kind));
            }
            phones::media(s.clone(), call.clone(), op.clone(), ctx.clone(), kind);
            op_answer(&call, kind, &op, "running", &ctx)
        }
        "subscribeToTone" => {
            if let Some(c) = lock(&s.calls).get_mut(id) {
                c.tones = true;
            }
            op_answer(
                &call,
                "subscribeToToneOperation",
                &s.call_new_id(id),
                "completed",
                &ctx_of(b),
            )
        }
        "cancelMediaProcessing" => {
            let ops = lock(&s.calls)
                .get_mut(id)
                .map(|c| std::mem::take(&mut c.media_ops))
                .unwrap_or_default();
            for (op, ctx, kind) in ops {
                s.notify_operation(
                    &call,
                    OpRef {
                        id: &op,
                        kind,
                        ctx: &ctx,
                    },
                    "failed",
                    super::state::result_info(
                        400,
                        8508,
                        "Action failed, the operation was cancelled.",
                    ),
                    Some(("completionReason", json!("operationCanceled"))),
                );
            }
            op_answer(
                &call,
                "cancelMediaProcessingOperation",
                &s.call_new_id(id),
                "completed",
                &ctx_of(b),
            )
        }
        "mute" | "unmute" => {
            let kind = if action == "mute" {
                "muteParticipantOperation"
            } else {
                "unmuteParticipantOperation"
            };
            op_answer(&call, kind, &s.call_new_id(id), "completed", &ctx_of(b))
        }
        "keepAlive" => {
            if let Some(c) = lock(&s.calls).get_mut(id) {
                c.alive_at = tokio::time::Instant::now();
            }
            ans(200, None)
        }
        _ => err(400, "BadRequest", "unknown action"),
    }
}

fn create_call(s: &Arc<SimState>, b: &Value) -> Answer {
    let Some(cb) = b["callbackUri"].as_str() else {
        return err(400, "BadRequest", "callbackUri is required");
    };
    let Some((phone, target)) = b["targets"].get(0).and_then(target_of) else {
        return err(400, "BadRequest", "targets are required");
    };
    if !b["mediaConfig"].is_object() {
        return err(400, "BadRequest", "mediaConfig is required");
    }
    let source_instance = b["source"]["identity"]["applicationInstance"]["id"]
        .as_str()
        .map(str::to_owned);
    if source_instance.is_some() && b["tenantId"].as_str().is_none() {
        return err(
            400,
            "BadRequest",
            "tenantId is required with an application instance",
        );
    }
    if phone && source_instance.is_none() {
        return err(
            403,
            "Forbidden",
            "PSTN calls need an application instance source",
        );
    }
    // Stratus names the caller's call in a leg's callbackUri: the leg's ids come from that
    // call's stream, and `commands_for` counts the leg's requests for it.
    let parent = cb
        .rsplit('/')
        .next()
        .filter(|p| s.is_alive(p))
        .map(str::to_owned);
    let mut rng = s.leg_rng(parent.as_deref());
    let id = super::state::guid_from(&mut rng);
    let chain = super::state::guid_from(&mut rng);
    let tenant = b["tenantId"]
        .as_str()
        .map_or_else(|| s.cfg.default_tenant.to_string(), str::to_owned);
    s.new_call(&id, &tenant, false, Some(cb.to_owned()), rng);
    let my = lock(&s.calls)
        .get_mut(&id)
        .map(|c| {
            c.leg_user = (!phone).then(|| target.clone());
            c.my_participant_id.clone()
        })
        .unwrap_or_default();
    if let Some(parent) = &parent {
        s.set_parent(&id, parent);
    }
    phones::ring_leg(s.clone(), id.clone(), target.clone(), phone);
    Answer {
        status: 201,
        body: Some(json!({
            "@odata.type": "#microsoft.graph.call", "state": "establishing", "direction": "outgoing",
            "callbackUri": cb, "callChainId": chain,
            "targets": b["targets"], "requestedModalities": ["audio"], "mediaConfig": b["mediaConfig"],
            "myParticipantId": my, "id": id, "tenantId": tenant,
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#app/calls/$entity",
        })),
        location: Some(format!("{}/v1.0{}", s.base, call_url(&id))),
    }
}

fn invite(s: &Arc<SimState>, id: &str, b: &Value) -> Answer {
    let Some(list) = b["participants"].as_array().filter(|a| !a.is_empty()) else {
        return err(400, "BadRequest", "participants are required");
    };
    let ctx = ctx_of(b);
    let op = s.call_new_id(id);
    let mut added = Vec::new();
    {
        let mut calls = lock(&s.calls);
        let Some(c) = calls.get_mut(id) else {
            return err(404, "NotFound", "call not found");
        };
        if c.state != "established" {
            return err(400, "BadRequest", "the call is not established");
        }
        for p in list {
            let Some((false, user)) = target_of(p) else {
                return err(400, "BadRequest", "only users can be invited");
            };
            let replaces = p["replacesCallId"].as_str().map(str::to_owned);
            let part = SimParticipant {
                id: super::state::guid_from(&mut c.rng),
                user: user.clone(),
                joined: false,
                invite_ctx: Some(ctx.clone()),
                op_id: Some(op.clone()),
            };
            c.participants.push(part.clone());
            added.push((part, replaces));
        }
    }
    for (p, replaces) in added {
        phones::ring_invite(s.clone(), id.to_owned(), p, replaces);
    }
    let mut a = op_answer(id, "inviteParticipantsOperation", &op, "Running", &ctx);
    if let Some(body) = a.body.as_mut() {
        body["participants"] = Value::Array(list.clone());
    }
    a
}

fn delete_participant(s: &Arc<SimState>, id: &str, pid: &str) -> Answer {
    let removed = {
        let mut calls = lock(&s.calls);
        let Some(c) = calls.get_mut(id) else {
            return err(404, "NotFound", "call not found");
        };
        let Some(pos) = c.participants.iter().position(|p| p.id == pid) else {
            return err(404, "NotFound", "participant not found");
        };
        c.participants.remove(pos)
    };
    let st = s.clone();
    let call = id.to_owned();
    tokio::spawn(async move {
        if !removed.joined
            && let (Some(op), Some(ctx)) = (&removed.op_id, &removed.invite_ctx)
        {
            // Deleting an invitee cancels the outstanding invitation.
            st.notify_operation(
                &call,
                OpRef {
                    id: op,
                    kind: "inviteParticipantsOperation",
                    ctx,
                },
                "failed",
                super::state::result_info(487, 0, "The invitation was cancelled."),
                Some((
                    "participants",
                    json!([{"identity": user_identity(&removed.user)}]),
                )),
            );
        }
        let pj = st.participant_json(&removed);
        st.notify_roster(&call, true, vec![pj]);
        if removed.joined {
            st.user_left(&removed.user);
        }
    });
    ans(204, None)
}

async fn create_subscription(s: &Arc<SimState>, b: &Value) -> Answer {
    let (Some(url), Some(resource)) = (b["notificationUrl"].as_str(), b["resource"].as_str())
    else {
        return err(
            400,
            "BadRequest",
            "notificationUrl and resource are required",
        );
    };
    let users = parse_presence_resource(resource);
    if users.is_empty() || users.len() > 650 {
        return err(400, "BadRequest", "1 to 650 presence ids");
    }
    if b["clientState"].as_str().is_some_and(|c| c.len() > 128) {
        return err(400, "BadRequest", "clientState longer than 128");
    }
    if !s.validate_endpoint(url).await {
        return err(
            400,
            "ValidationError",
            "Subscription validation request failed.",
        );
    }
    let lifecycle = b["lifecycleNotificationUrl"].as_str().map(str::to_owned);
    if let Some(l) = &lifecycle
        && l != url
        && !s.validate_endpoint(l).await
    {
        return err(
            400,
            "ValidationError",
            "Lifecycle validation request failed.",
        );
    }
    let id = s.new_id();
    let expiration = b["expirationDateTime"].as_str().unwrap_or("").to_owned();
    lock(&s.subs).insert(
        id.clone(),
        Sub {
            users,
            notification_url: url.to_owned(),
            lifecycle_url: lifecycle,
            client_state: b["clientState"].as_str().map(str::to_owned),
            expiration: expiration.clone(),
            tenant: s.cfg.default_tenant.to_string(),
        },
    );
    ans(
        201,
        Some(
            json!({"id": id, "resource": resource, "changeType": "updated",
            "clientState": b["clientState"], "notificationUrl": url, "expirationDateTime": expiration}),
        ),
    )
}

/// `communications/presences/{id}` or `/communications/presences?$filter=id in ('a','b')`.
fn parse_presence_resource(r: &str) -> Vec<String> {
    if let Some((_, list)) = r.split_once(" in (") {
        return list
            .trim_end_matches(')')
            .split(',')
            .map(|x| x.trim().trim_matches('\'').to_owned())
            .filter(|x| !x.is_empty())
            .collect();
    }
    r.rsplit('/')
        .next()
        .filter(|x| !x.is_empty() && !x.contains('?'))
        .map(|x| vec![x.to_owned()])
        .unwrap_or_default()
}
