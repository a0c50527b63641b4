#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The REST API on a real socket: auth on every endpoint, tenant isolation on every resource,
//! roles, validation errors that name the field, the OpenAPI document, and a task's life.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use stratus_gateway::api::ENDPOINTS;
use stratus_gateway::auth::{Claims, Role};
use stratus_routing::ids::*;

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap()
}

fn expired_token(t: TenantId) -> String {
    let claims = Claims {
        tid: t.to_string(),
        oid: "admin".into(),
        roles: vec!["TenantAdmin".into()],
        exp: 1_000,
        iat: 0,
        iss: None,
        aud: None,
        nbf: None,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn forged_token(t: TenantId) -> String {
    stratus_gateway::auth::mint(
        "another-secret-entirely-0000",
        &t.to_string(),
        "admin",
        &[Role::SystemAdmin],
        Duration::from_secs(600),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_a_missing_expired_or_forged_token() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let id = a.service.to_string();
    let expired = expired_token(a.tenant);
    let forged = forged_token(a.tenant);
    for e in ENDPOINTS {
        let path = e.path.replace("{id}", &id);
        let body = e.has_body.then(|| json!({}));
        for (what, token) in [
            ("missing", None),
            ("expired", Some(expired.as_str())),
            ("forged", Some(forged.as_str())),
            ("garbage", Some("not-a-jwt")),
        ] {
            let (s, b) = env.send(method(e.method), &path, token, body.clone()).await;
            assert_eq!(
                s,
                StatusCode::UNAUTHORIZED,
                "{} {path} with a {what} token: {b}",
                e.method
            );
            assert_eq!(b["error"]["code"], "unauthorized", "{b}");
        }
    }
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_tenant_a_never_sees_anything_of_tenant_b() {
    let env = start().await;
    let a = env.tenant(1, 2).await;
    let b = env.tenant(2, 2).await;
    // B gets a task, so task endpoints have something to hide.
    let (s, created) = env
        .post(
            "/api/v1/tasks",
            &b.admin,
            json!({ "service": b.service, "modality": "ExternalTask" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let b_task = created["id"].as_str().unwrap().to_string();
    let token_a = all_roles(a.tenant, a.users[0]);

    for e in ENDPOINTS.iter().filter(|e| e.path.contains("{id}")) {
        let id = if e.path.starts_with("/api/v1/tasks") {
            b_task.clone()
        } else if e.path.starts_with("/api/v1/users") {
            b.users[0].to_string()
        } else {
            b.service.to_string()
        };
        let path = e.path.replace("{id}", &id);
        let body = e.has_body.then(|| match e.path {
            "/api/v1/users/{id}/duty" => json!({ "profile": "00000000-0000-0000-0000-000000000001" }),
            "/api/v1/users/{id}/active" => json!({ "service": b.service, "active": false }),
            "/api/v1/users/{id}/not-available" => json!({ "reason": null }),
            "/api/v1/users/{id}/memberships" => json!([]),
            "/api/v1/tasks/{id}" => json!({ "priority": "High" }),
            "/api/v1/services/{id}/pickup" => json!({}),
            "/api/v1/services/{id}" => json!({ "name": "stolen" }),
            _ => json!({ "id": id, "tenant": b.tenant, "name": "stolen", "upn": "x@y", "display_name": "x" }),
        });
        let (s, body) = env
            .send(method(e.method), &path, Some(&token_a), body)
            .await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{} {path} as tenant A: {body}",
            e.method
        );
    }
    // Lists hold only A's own rows.
    for list in ["/api/v1/services", "/api/v1/users"] {
        let (s, rows) = env.get(list, &token_a).await;
        assert_eq!(s, StatusCode::OK);
        let text = rows.to_string();
        assert!(
            !text.contains(&b.service.to_string()),
            "{list} leaks B's service"
        );
        assert!(
            !text.contains(&b.users[0].to_string()),
            "{list} leaks B's user"
        );
        assert!(
            text.contains(&a.service.to_string()) || list.ends_with("users"),
            "{text}"
        );
    }
    // B's data is intact.
    let (s, svc) = env
        .get(&format!("/api/v1/services/{}", b.service), &b.admin)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(svc["name"], "stolen");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_enforced_per_endpoint() {
    let env = start().await;
    let a = env.tenant(1, 2).await;
    let agent = token(
        &a.tenant.to_string(),
        &a.users[0].to_string(),
        &[Role::Agent],
    );
    let (s, b) = env
        .post("/api/v1/services", &agent, json!({ "name": "mine" }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["error"]["code"], "forbidden");
    // An agent may read and change their own state, not a colleague's.
    let (s, _) = env
        .get(&format!("/api/v1/users/{}/live", a.users[0]), &agent)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .get(&format!("/api/v1/users/{}/live", a.users[1]), &agent)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let off = json!({ "profile": "00000000-0000-0000-0000-000000000002" });
    let (s, _) = env
        .put(
            &format!("/api/v1/users/{}/duty", a.users[1]),
            &agent,
            off.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let supervisor = token(&a.tenant.to_string(), "sup", &[Role::Supervisor]);
    let (s, b) = env
        .put(
            &format!("/api/v1/users/{}/duty", a.users[1]),
            &supervisor,
            off,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    // Only system admins create tenants.
    let (s, _) = env
        .post("/api/v1/tenants", &a.admin, json!({ "name": "x" }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_4xx_naming_the_field_and_changes_nothing() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let path = format!("/api/v1/services/{}", a.service);
    let (_, before) = env.get(&path, &a.admin).await;

    let (s, b) = env
        .put(
            &path,
            &a.admin,
            json!({ "name": "x", "ring_timeout_secs": 2 }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ring_timeout"),
        "{b}"
    );

    let r = env
        .http
        .put(format!("{}{path}", env.base))
        .bearer_auth(&a.admin)
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "bad_request");

    let (s, b) = env.get("/api/v1/services/not-a-guid", &a.admin).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, _) = env
        .get(&format!("/api/v1/services/{}", Guid(0xdead)), &a.admin)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = env
        .post("/api/v1/tasks", &a.admin, json!({ "service": a.service, "preferred_users": (0..11).map(|i| json!({"user": Guid(i + 1), "priority": 5})).collect::<Vec<_>>() }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("preferred_users"),
        "{b}"
    );
    let (s, b) = env
        .post(
            "/api/v1/tasks",
            &a.admin,
            json!({ "service": a.service, "context": { "Note": "a\u{0}b" } }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a NUL character: {b}");
    let long_id = "p".repeat(65);
    let (s, b) = env
        .post(
            "/api/v1/tasks",
            &a.admin,
            json!({ "service": a.service, "context": { long_id: "v" } }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    // A duplicate resource account is a conflict.
    let dup = json!({ "name": "dup", "app_instance_id": before["app_instance_id"] });
    let (s, b) = env.post("/api/v1/services", &a.admin, dup).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    let (s, b) = env.post("/api/v1/nope", &a.admin, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

    let (_, after) = env.get(&path, &a.admin).await;
    assert_eq!(before, after, "a refused write changed the service");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_endpoint() {
    let env = start().await;
    let (s, doc) = env
        .send(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    for e in ENDPOINTS {
        let op = &doc["paths"][e.path][e.method.to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from the document",
            e.method,
            e.path
        );
        assert!(op["responses"]["401"].is_object());
        let ok = match (e.method, e.path.contains("{id}")) {
            ("POST", true) if e.path.ends_with("/pickup") => "202",
            ("DELETE", _) | ("POST", true) => "204",
            ("POST", false) => "201",
            _ => "",
        };
        if !ok.is_empty() {
            assert!(
                op["responses"][ok].is_object(),
                "{} {}: {}",
                e.method,
                e.path,
                op["responses"]
            );
        }
    }
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_need_no_token() {
    let env = start().await;
    for p in ["/healthz", "/readyz"] {
        let (s, b) = env.send(Method::GET, p, None, None).await;
        assert_eq!(s, StatusCode::OK, "{p}: {b}");
    }
    let text = env
        .http
        .get(format!("{}/metrics", env.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("# TYPE"), "{text}");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_task_is_offered_accepted_completed_and_recorded() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let agent_id = a.users[0];
    let sim = env.server.simulator.clone().unwrap();
    sim.set_presence(
        agent_id,
        stratus_routing::model::Availability::Available,
        stratus_routing::model::Activity::Available,
    )
    .await;
    let agent = token(&a.tenant.to_string(), &agent_id.to_string(), &[Role::Agent]);
    let user_live = format!("/api/v1/users/{agent_id}/live");
    eventually("the agent idle", Duration::from_secs(10), || async {
        let (_, b) = env.get(&user_live, &agent).await;
        (b["status"] == "Idle").then_some(())
    })
    .await;

    let (s, created) = env
        .post(
            "/api/v1/tasks",
            &a.admin,
            json!({ "service": a.service, "context": { "OrderId": "A-17" }, "reference_id": "crm-1" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let task = created["id"].as_str().unwrap().to_string();
    let (s, view) = env.get(&format!("/api/v1/tasks/{task}"), &a.admin).await;
    assert_eq!(s, StatusCode::OK, "{view}");
    assert_eq!(view["context"]["OrderId"], "A-17");

    eventually(
        "the task offered to the agent",
        Duration::from_secs(10),
        || async {
            let (_, b) = env.get(&format!("/api/v1/tasks/{task}"), &a.admin).await;
            (b["ringing"].as_array().is_some_and(|r| r.len() == 1)).then_some(())
        },
    )
    .await;
    // The offered agent sees the task and its context (what the caller wants).
    let (s, b) = env.get(&format!("/api/v1/tasks/{task}"), &agent).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["context"]["OrderId"], "A-17");
    let (s, d) = env
        .get(&format!("/api/v1/tasks/{task}/decisions"), &a.admin)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(d.as_array().is_some_and(|d| !d.is_empty()), "{d}");
    let (s, b) = env
        .put(
            &format!("/api/v1/tasks/{task}"),
            &a.admin,
            json!({ "context": { "Note": "vip" } }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");

    let (s, b) = env
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{task}/accept"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    let (_, b) = env.get(&format!("/api/v1/tasks/{task}"), &a.admin).await;
    assert_eq!(b["context"]["Note"], "vip");
    assert_eq!(b["context"]["OrderId"], "A-17");
    let (s, b) = env
        .send(
            Method::POST,
            &format!("/api/v1/tasks/{task}/complete"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");

    let events = eventually(
        "the task's events stored",
        Duration::from_secs(15),
        || async {
            let (s, b) = env
                .get(&format!("/api/v1/tasks/{task}/events"), &a.admin)
                .await;
            let done = s == StatusCode::OK
                && b.as_array()
                    .is_some_and(|e| e.iter().any(|e| e["kind"] == "Terminated"));
            done.then_some(b)
        },
    )
    .await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    // An ended task is history: it can be read, not changed.
    let (s, b) = env
        .put(
            &format!("/api/v1/tasks/{task}"),
            &a.admin,
            json!({ "priority": "High" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    let (s, b) = env.get(&format!("/api/v1/tasks/{task}"), &a.admin).await;
    assert_eq!(
        (s, b["live"].clone()),
        (StatusCode::OK, json!(false)),
        "{b}"
    );
    for k in ["Created", "Queued", "Offered", "Connected", "Terminated"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_tokens_are_checked_against_the_configured_jwks() {
    // The simulator publishes an RS256 key at its JWKS URL: it plays the identity provider here.
    let idp = stratus_graph::sim::Simulator::start(stratus_graph::sim::SimConfig::new(
        "http://127.0.0.1:9/unused",
        "idp",
    ))
    .await
    .unwrap();
    let openid: Value = reqwest::get(idp.openid_config_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks_url = openid["jwks_uri"].as_str().unwrap().to_string();
    let operator = "0000000a-0000-0000-0000-00000000000a";
    let env = start_with(|c| {
        c.auth.mode = stratus_gateway::config::AuthMode::Jwks;
        c.auth.jwks_url = jwks_url;
        c.auth.audience = "api://stratus".into();
        c.auth.issuer = "https://idp.example/{tid}/v2.0".into();
        c.auth.operator_tenants = vec![operator.into()];
    })
    .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |tid: &str, roles: &[&str], aud: &str, exp: u64| json!({ "tid": tid, "oid": "someone", "roles": roles, "aud": aud, "exp": exp, "iat": now, "iss": format!("https://idp.example/{tid}/v2.0") });
    let root = idp
        .sign(&claims(
            operator,
            &["SystemAdmin"],
            "api://stratus",
            now + 600,
        ))
        .unwrap();
    let customer_tenant = stratus_routing::config::Tenant {
        id: TenantId::from_u128(0xc057),
        partner: None,
        name: "Customer".into(),
        m365_tenant: M365TenantId::from_u128(0xc0570000),
        limits: Default::default(),
    };
    let (s, b) = env
        .post(
            "/api/v1/tenants",
            &root,
            serde_json::to_value(&customer_tenant).unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let customer = customer_tenant.m365_tenant.to_string();

    // A customer's own admin is a tenant admin, never an operator, whatever app role they gave themselves.
    let admin = idp
        .sign(&claims(
            &customer,
            &["TenantAdmin", "SystemAdmin"],
            "api://stratus",
            now + 600,
        ))
        .unwrap();
    let (s, b) = env.get("/api/v1/services", &admin).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = env.get("/api/v1/tenants", &admin).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    // Loose spellings are for development tokens only.
    let loose = idp
        .sign(&claims(&customer, &["admin"], "api://stratus", now + 600))
        .unwrap();
    let (s, b) = env.get("/api/v1/services", &loose).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");

    let mut wrong_issuer = claims(&customer, &["TenantAdmin"], "api://stratus", now + 600);
    wrong_issuer["iss"] = json!("https://elsewhere.example/v2.0");
    for (what, token) in [
        (
            "wrong audience",
            idp.sign(&claims(
                &customer,
                &["TenantAdmin"],
                "api://other",
                now + 600,
            ))
            .unwrap(),
        ),
        (
            "expired",
            idp.sign(&claims(
                &customer,
                &["TenantAdmin"],
                "api://stratus",
                now - 600,
            ))
            .unwrap(),
        ),
        ("wrong issuer", idp.sign(&wrong_issuer).unwrap()),
        (
            "HS256 in RS256 mode",
            token(&customer, "root", &[Role::TenantAdmin]),
        ),
    ] {
        let (s, b) = env.get("/api/v1/services", &token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{what}: {b}");
    }
    env.server.shutdown().await;
    idp.shutdown();
}

/// The tenant-level roles an endpoint grants, read from its documented roles (before `;`, which
/// starts the "on themselves" exception).
fn granted(e: &stratus_gateway::api::Endpoint) -> Vec<Role> {
    let listed = e.roles.split(';').next().unwrap_or("");
    [
        Role::TenantAdmin,
        Role::ServiceOwner,
        Role::Supervisor,
        Role::Agent,
    ]
    .into_iter()
    .filter(|r| listed.split(',').any(|x| x.trim() == r.as_str()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_every_role_it_does_not_grant() {
    let env = start().await;
    let a = env.tenant(1, 2).await;
    let (_, created) = env
        .post("/api/v1/tasks", &a.admin, json!({ "service": a.service }))
        .await;
    let task = created["id"].as_str().unwrap().to_string();
    let mut refused = 0;
    for e in ENDPOINTS {
        let id = if e.path.starts_with("/api/v1/tasks") {
            task.clone()
        } else if e.path.starts_with("/api/v1/users") {
            a.users[1].to_string()
        } else {
            a.service.to_string()
        };
        let path = e.path.replace("{id}", &id);
        let grants = granted(e);
        for role in [
            Role::TenantAdmin,
            Role::ServiceOwner,
            Role::Supervisor,
            Role::Agent,
        ] {
            if grants.contains(&role)
                || e.roles.starts_with("SystemAdmin")
                    && role == Role::TenantAdmin
                    && e.method == "GET"
                    && e.path.ends_with("tenants")
            {
                continue;
            }
            // The caller is user 0, never the user the path names: no "on themselves".
            let t = token(&a.tenant.to_string(), &a.users[0].to_string(), &[role]);
            let (s, b) = env
                .send(
                    method(e.method),
                    &path,
                    Some(&t),
                    e.has_body.then(|| json!({})),
                )
                .await;
            assert_eq!(
                s,
                StatusCode::FORBIDDEN,
                "{} {} as {role:?}: {b}",
                e.method,
                e.path
            );
            assert_eq!(b["error"]["code"], "forbidden");
            refused += 1;
        }
    }
    assert!(refused > 60, "only {refused} refusals checked");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_owner_changes_only_the_services_they_own() {
    let env = start().await;
    let a = env.tenant(1, 2).await;
    let other = stratus_routing::config::ServiceConfig {
        id: ServiceId::from_u128(0x5eee),
        name: "Other".into(),
        ..Default::default()
    };
    let (s, _) = env
        .post(
            "/api/v1/services",
            &a.admin,
            serde_json::to_value(&other).unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // User 0 owns the tenant's first service.
    let owner = a.users[0];
    let (s, b) = env
        .put(
            &format!("/api/v1/users/{owner}/memberships"),
            &a.admin,
            json!([{ "service": a.service, "role": "Owner", "active": true }]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let t = token(
        &a.tenant.to_string(),
        &owner.to_string(),
        &[Role::ServiceOwner],
    );
    let (s, b) = env
        .put(
            &format!("/api/v1/services/{}", a.service),
            &t,
            json!({ "name": "Renamed" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = env
        .put(
            &format!("/api/v1/services/{}", other.id),
            &t,
            json!({ "name": "Hijacked" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    // Nor may the owner make themselves an owner of the other service.
    let grab = json!([{ "service": a.service, "role": "Owner", "active": true }, { "service": other.id, "role": "Owner", "active": true }]);
    let (s, b) = env
        .put(&format!("/api/v1/users/{owner}/memberships"), &t, grab)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = env
        .post("/api/v1/tasks", &t, json!({ "service": other.id }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_admins_act_only_in_their_partners_tenants() {
    let env = start().await;
    let partner = "00000000-0000-0000-0000-0000000000aa";
    let mut mine = stratus_routing::config::Tenant {
        id: TenantId::from_u128(0x7a01),
        partner: Some(partner.parse().unwrap()),
        name: "Partner's".into(),
        m365_tenant: M365TenantId::from_u128(0x3a01),
        limits: Default::default(),
    };
    let (s, b) = env
        .post(
            "/api/v1/tenants",
            &system_admin(),
            serde_json::to_value(&mine).unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let other = env.tenant(2, 1).await;
    let p = token(partner, "partner-admin", &[Role::PartnerAdmin]);
    let (s, list) = env.get("/api/v1/tenants", &p).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], mine.id.to_string());
    let in_tenant = |t: TenantId| {
        env.http
            .get(format!("{}/api/v1/services", env.base))
            .bearer_auth(&p)
            .header("stratus-tenant", t.to_string())
    };
    let r = in_tenant(mine.id).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = in_tenant(other.tenant).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Creating tenants stays with system admins.
    mine.id = TenantId::from_u128(0x7a02);
    mine.m365_tenant = M365TenantId::from_u128(0x3a02);
    let (s, _) = env
        .post("/api/v1/tenants", &p, serde_json::to_value(&mine).unwrap())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Anyone else using the header is refused.
    let r = env
        .http
        .get(format!("{}/api/v1/services", env.base))
        .bearer_auth(&other.admin)
        .header("stratus-tenant", mine.id.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_of_another_tenant_in_a_body_are_refused() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let b = env.tenant(2, 1).await;
    let user = a.users[0];
    let (s, r) = env
        .put(
            &format!("/api/v1/users/{user}/memberships"),
            &a.admin,
            json!([{ "service": b.service, "role": "Member", "active": true }]),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["error"]["field"], "memberships[0].service");
    let (s, r) = env
        .post("/api/v1/tasks", &a.admin, json!({ "service": b.service }))
        .await;
    assert!(
        s == StatusCode::NOT_FOUND || s == StatusCode::UNPROCESSABLE_ENTITY,
        "{s} {r}"
    );
    let (s, r) = env
        .post("/api/v1/tasks", &a.admin, json!({ "service": a.service, "preferred_users": [{ "user": b.users[0], "priority": 1 }] }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["error"]["field"], "preferred_users[0].user");
    let (s, r) = env
        .put(
            &format!("/api/v1/users/{user}/active"),
            &a.admin,
            json!({ "service": b.service, "active": false }),
        )
        .await;
    assert!(s.is_client_error(), "{s} {r}");
    // B is untouched.
    let (_, svc) = env
        .get(&format!("/api/v1/services/{}/live", b.service), &b.admin)
        .await;
    assert_eq!(svc["waiting"].as_array().map(Vec::len), Some(0), "{svc}");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_field_and_are_always_json() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let path = format!("/api/v1/services/{}", a.service);
    let (s, b) = env
        .put(&path, &a.admin, json!({ "acw": { "seconds": 0 } }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "acw.seconds", "{b}");
    let user = json!({ "id": Guid(0x77), "tenant": a.tenant, "display_name": "No UPN" });
    let (s, b) = env.post("/api/v1/users", &a.admin, user).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "upn", "{b}");
    // axum's own refusals are JSON too: a method the path does not serve, a bad path.
    let r = env
        .http
        .patch(format!("{}{path}", env.base))
        .bearer_auth(&a.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "method_not_allowed");
    let r = env
        .http
        .get(format!("{}/api/v1/services/%FF", env.base))
        .bearer_auth(&a.admin)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let b: Value = r.json().await.unwrap();
    assert!(b["error"]["message"].is_string(), "{b}");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_require_a_scrape_token_and_render_explicit_buckets() {
    let env = start_with(|c| c.auth.metrics_token = Some("scrape-token-0123456789".into())).await;
    let url = format!("{}/metrics", env.base);
    let r = env.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = env
        .http
        .get(&url)
        .bearer_auth("wrong-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Traffic so a latency histogram exists.
    let _ = env.get("/api/v1/services", &system_admin()).await;
    let text = env
        .http
        .get(&url)
        .bearer_auth("scrape-token-0123456789")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("stratus_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains("le=\"0.005\""), "explicit buckets: {text}");
    env.server.shutdown().await;
}
