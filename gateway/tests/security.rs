#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Tried as an attacker would, on a real socket: Graph callbacks aimed at another tenant's call,
//! self-granted routing rights, guessable ids, incomplete token checks, colliding tenant ids,
//! and error bodies that say more than they should.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use stratus_gateway::auth::Role;
use stratus_gateway::config::AuthMode;
use stratus_graph::sim::{CallerSpec, SimConfig, Simulator};
use stratus_routing::config::{NotAvailableReason, ProfileKind, ResponsibilityProfile, Tenant};
use stratus_routing::ids::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/graph-fixtures");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Graph callback token for `m365`, signed by the built-in simulator's key.
fn graph_token(env: &Env, m365: M365TenantId) -> String {
    let sim = env.server.simulator.clone().unwrap();
    sim.sign(&json!({
        "iss": "https://graph.microsoft.com",
        "aud": env.server.state.config.graph.app_id,
        "tid": m365.to_string(),
        "exp": now() + 600, "nbf": now() - 10, "iat": now(),
    }))
    .unwrap()
}

async fn waiting(env: &Env, t: &Seeded) -> usize {
    let (s, live) = env
        .get(&format!("/api/v1/services/{}/live", t.service), &t.admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{live}");
    live["waiting"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_signed_for_one_tenant_cannot_touch_another_tenants_call() {
    let env = start().await;
    let a = env.tenant(1, 0).await;
    let b = env.tenant(2, 0).await;
    let sim = env.server.simulator.clone().unwrap();
    let mut spec = CallerSpec::phone("+41440000002", &format!("{}", Guid(0xa900 + 2)));
    spec.tenant = Some(b.m365);
    let call = sim.place_call(spec).await.unwrap();
    eventually("B's call queued", Duration::from_secs(10), || async {
        (waiting(&env, &b).await == 1).then_some(())
    })
    .await;

    let hang_up = fixture("notif-call-terminated.json")
        .replace("57dab8b1-894c-409a-b240-bd8beae78896", &call);
    let as_a = graph_token(&env, a.m365);
    let refused = [
        // A's token on B's call's own callback path, on A's path, and on the calling webhook.
        format!("/graph/calls/{}/{call}", b.m365),
        format!("/graph/calls/{}/{call}", a.m365),
        "/graph/calls".to_string(),
    ];
    for path in &refused {
        let r = env
            .http
            .post(format!("{}{path}", env.base))
            .bearer_auth(&as_a)
            .body(hang_up.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["message"].is_string(), "{body}");
    }
    // B's own token on a path that names A: refused too (the path is part of the binding).
    let as_b = graph_token(&env, b.m365);
    let r = env
        .http
        .post(format!("{}/graph/calls/{}/{call}", env.base, a.m365))
        .bearer_auth(&as_b)
        .body(hang_up.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        waiting(&env, &b).await,
        1,
        "B's call survived every forgery"
    );

    // The genuine notification still ends it (the test would notice a refusal of everything).
    let r = env
        .http
        .post(format!("{}/graph/calls/{}/{call}", env.base, b.m365))
        .bearer_auth(&as_b)
        .body(hang_up)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    eventually("B's call ended", Duration::from_secs(10), || async {
        (waiting(&env, &b).await == 0).then_some(())
    })
    .await;
    let (_, metrics) = env.send(reqwest::Method::GET, "/metrics", None, None).await;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("reason=\"foreign_tenant\""),
        "refusals are counted"
    );
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_call_is_created_only_in_the_tenant_of_its_token() {
    let env = start().await;
    let a = env.tenant(1, 0).await;
    let b = env.tenant(2, 0).await;
    let incoming = |call: &str| {
        fixture("notif-call-incoming-pstn-app-instance.json")
            .replace("632899f8-2ea1-4604-8413-27bd2892079f", &b.m365.to_string())
            .replace(
                "7629bdce-046c-4903-86b4-a8f718277e1a",
                &format!("{}", Guid(0xa900 + 2)),
            )
            .replace("491f0b00-ffff-4bc9-a43e-b226498ec22a", call)
    };
    let post = |token: String, body: String| {
        env.http
            .post(format!("{}/graph/calls", env.base))
            .bearer_auth(token)
            .body(body)
            .send()
    };
    // The simulator does not know these calls: Stratus taking one shows as an answer request.
    let sim = env.server.simulator.clone().unwrap();
    let answered = |call: &'static str| {
        let sim = sim.clone();
        move || {
            sim.commands()
                .iter()
                .any(|c| c.method == "POST" && c.path.ends_with(&format!("{call}/answer")))
        }
    };
    let call = "491f0b00-0000-4bc9-a43e-b226498ec22a";
    let r = post(graph_token(&env, a.m365), incoming(call))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!answered(call)(), "no task created in B (nor in A)");
    // The same notification under B's own token creates B's task, which answers the call.
    let r = post(graph_token(&env, b.m365), incoming(call))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let done = answered(call);
    eventually("B's task answering", Duration::from_secs(10), || {
        let d = done();
        async move { d.then_some(()) }
    })
    .await;
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_presence_handshake_is_answered_only_for_served_tenants() {
    let env = start().await;
    let r = env
        .http
        .post(format!(
            "{}/graph/presence/{}?validationToken=echo-me",
            env.base,
            M365TenantId::from_u128(0xdead)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.text().await.unwrap().contains("echo-me"));
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_cannot_grant_themselves_a_profile_or_another_tenants_reason() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let b = env.tenant(2, 0).await;
    let me = a.users[0];
    let profile = ResponsibilityProfile {
        id: ProfileId::from_u128(0x9f01),
        tenant: a.tenant,
        name: "Premium line".into(),
        kind: ProfileKind::Custom { skills: vec![] },
    };
    let (s, body) = env
        .post(
            "/api/v1/profiles",
            &a.admin,
            serde_json::to_value(&profile).unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let agent = token(&a.tenant.to_string(), &me.to_string(), &[Role::Agent]);
    let duty = format!("/api/v1/users/{me}/duty");
    let (s, body) = env
        .put(&duty, &agent, json!({ "profile": profile.id }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "profile");
    // A supervisor cannot put them on it either: it is not one of their profiles.
    let (s, _) = env
        .put(&duty, &a.admin, json!({ "profile": profile.id }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Built-ins are always theirs.
    let (s, body) = env
        .put(
            &duty,
            &agent,
            json!({ "profile": ResponsibilityProfile::OFF_DUTY }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    // Once assigned, the profile is theirs to take.
    let (_, mut user) = env.get(&format!("/api/v1/users/{me}"), &a.admin).await;
    user["profiles"] = json!([profile.id]);
    let (s, body) = env
        .put(&format!("/api/v1/users/{me}"), &a.admin, user)
        .await;
    assert!(s.is_success(), "{body}");
    let (s, body) = env
        .put(&duty, &agent, json!({ "profile": profile.id }))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");

    // Not-Available reasons: B's reason is refused for A's agent, A's own accepted.
    let reason = |n: u128, t: TenantId| NotAvailableReason {
        id: NotAvailableReasonId::from_u128(n),
        tenant: t,
        name: format!("Reason {n}"),
    };
    for (r, admin) in [
        (reason(0x4e01, b.tenant), &b.admin),
        (reason(0x4e02, a.tenant), &a.admin),
    ] {
        let (s, body) = env
            .post(
                "/api/v1/not-available-reasons",
                admin,
                serde_json::to_value(&r).unwrap(),
            )
            .await;
        assert!(s.is_success(), "{body}");
    }
    let na = format!("/api/v1/users/{me}/not-available");
    let (s, body) = env
        .put(
            &na,
            &agent,
            json!({ "reason": NotAvailableReasonId::from_u128(0x4e01) }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, body) = env
        .put(
            &na,
            &agent,
            json!({ "reason": NotAvailableReasonId::from_u128(0x4e02) }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_ids_are_random_not_sequential() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (s, body) = env
            .post(
                "/api/v1/tasks",
                &a.admin,
                json!({ "service": a.service, "modality": "ExternalTask" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let id: Guid = body["id"].as_str().unwrap().parse().unwrap();
        ids.push(id.0);
    }
    for w in ids.windows(2) {
        // Sequential ids differ only in their low bits; random ones in their high half too.
        assert_ne!(w[0] >> 64, w[1] >> 64, "{:x} then {:x}", w[0], w[1]);
        assert_eq!((w[1] >> 76) & 0xf, 4, "a version-4 GUID");
    }
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_whose_ids_collide_or_are_nil_are_refused() {
    let env = start().await;
    let a = env.tenant(1, 0).await;
    let tenant = |id: u128, m365: M365TenantId| Tenant {
        id: TenantId::from_u128(id),
        partner: None,
        name: "Intruder".into(),
        m365_tenant: m365,
        limits: Default::default(),
    };
    let cases = [
        // Its Microsoft 365 id is A's Stratus id: A's tokens would resolve to it.
        (
            tenant(0x9901, M365TenantId(a.tenant.0)),
            StatusCode::CONFLICT,
        ),
        // Its Stratus id is A's Microsoft 365 id.
        (
            tenant(0x3650_0001, M365TenantId::from_u128(0x9902)),
            StatusCode::CONFLICT,
        ),
        (
            tenant(0x9903, M365TenantId::default()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (tenant(0x9904, a.m365), StatusCode::CONFLICT),
    ];
    for (t, status) in cases {
        let (s, body) = env
            .post(
                "/api/v1/tenants",
                &system_admin(),
                serde_json::to_value(&t).unwrap(),
            )
            .await;
        assert_eq!(s, status, "{t:?}: {body}");
        let text = body.to_string().to_ascii_lowercase();
        assert!(
            !text.contains("unique") && !text.contains("sqlite"),
            "{body}"
        );
    }
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_roles_count_only_from_operator_tenants_in_hs256_mode() {
    let env = start().await;
    let outsider = token(
        "00000000-0000-0000-0000-00000000beef",
        "root",
        &[Role::SystemAdmin],
    );
    let (s, body) = env.get("/api/v1/tenants", &outsider).await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::UNAUTHORIZED,
        "{s} {body}"
    );
    let (s, body) = env.get("/api/v1/tenants", &system_admin()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_tokens_not_valid_yet_are_refused_and_refusals_leak_nothing() {
    let env = start().await;
    let a = env.tenant(1, 0).await;
    let sign = |claims: Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let claims = |extra: Value| {
        let mut c = json!({
            "tid": a.tenant.to_string(), "oid": "admin", "roles": ["TenantAdmin"],
            "exp": now() + 600,
        });
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let (s, body) = env
        .get(
            "/api/v1/services",
            &sign(claims(json!({ "nbf": now() + 86_400 }))),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    let (s, _) = env
        .get(
            "/api/v1/services",
            &sign(claims(json!({ "nbf": now() - 5 }))),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // A claim of the wrong type: refused without serde's words.
    let (s, body) = env
        .get("/api/v1/services", &sign(claims(json!({ "roles": 7 }))))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let text = body.to_string();
    assert!(
        !text.contains("expected") && !text.contains("invalid type"),
        "{body}"
    );
    env.server.shutdown().await;
}

/// An identity provider on loopback: the simulator's key set plays Entra ID's.
async fn jwks_env(jwks_reachable: bool) -> (Env, stratus_graph::sim::SimHandle) {
    let idp = Simulator::start(SimConfig::new("http://127.0.0.1:9/none", "idp"))
        .await
        .unwrap();
    let jwks = if jwks_reachable {
        format!("{}/v1/keys", idp.base_url())
    } else {
        "http://127.0.0.1:9/keys".to_string()
    };
    let env = start_with(|c| {
        c.auth.mode = AuthMode::Jwks;
        c.auth.jwks_url = jwks;
        c.auth.issuer = "https://login.example/{tid}/v2.0".into();
        c.auth.audience = "api://stratus".into();
        c.auth.operator_tenants = vec!["00000000-0000-0000-0000-00000000000f".into()];
    })
    .await;
    (env, idp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_tokens_need_audience_issuer_and_a_current_nbf() {
    let (env, idp) = jwks_env(true).await;
    let operator = "00000000-0000-0000-0000-00000000000f";
    let claims = |tid: &str, extra: Value| {
        let mut c = json!({
            "tid": tid, "oid": "root", "roles": ["SystemAdmin"],
            "iss": format!("https://login.example/{tid}/v2.0"),
            "aud": "api://stratus",
            "exp": now() + 600, "iat": now(),
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        idp.sign(&c).unwrap()
    };
    let e = &env;
    let get = |t: String| async move { e.get("/api/v1/tenants", &t).await };
    assert_eq!(get(claims(operator, json!({}))).await.0, StatusCode::OK);
    for (what, extra) in [
        ("no aud", json!({ "aud": null })),
        ("no iss", json!({ "iss": null })),
        ("wrong iss", json!({ "iss": "https://evil.example/v2.0" })),
        ("future nbf", json!({ "nbf": now() + 86_400 })),
        ("wrong aud", json!({ "aud": "api://another" })),
    ] {
        let (s, body) = get(claims(operator, extra)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{what}: {body}");
    }
    // A customer's admin may hold SystemAdmin in their own directory: it does not count.
    let (s, body) = get(claims("00000000-0000-0000-0000-0000000000c1", json!({}))).await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::UNAUTHORIZED,
        "{s} {body}"
    );
    env.server.shutdown().await;
    idp.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_key_fetches_are_throttled_and_never_echoed() {
    let (env, idp) = jwks_env(false).await;
    let t = idp
        .sign(&json!({
            "tid": "t", "oid": "o", "iss": "https://login.example/t/v2.0",
            "aud": "api://stratus", "exp": now() + 600,
        }))
        .unwrap();
    for _ in 0..5 {
        let (s, body) = env.get("/api/v1/tenants", &t).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(!body.to_string().contains("127.0.0.1"), "{body}");
    }
    let (_, metrics) = env.send(reqwest::Method::GET, "/metrics", None, None).await;
    let fetches: f64 = metrics
        .as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("stratus_auth_key_fetch_failures_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(fetches, 1.0, "one fetch, then the failure is remembered");
    env.server.shutdown().await;
    idp.shutdown();
}
