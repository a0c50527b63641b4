#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end with the real `stratus` binary on loopback: the Graph simulator (in this test
//! process) plays Microsoft Graph and the agents' Teams phones; the tenant is configured through
//! the REST API; 200 calls go through two services (one Teams-based, one skill-based with a
//! two-level policy) with RONA and ACW. Every call must reach a terminal state, its events and
//! sessions must be in the store, and the Graph commands seen by the simulator must be the
//! expected ones.

use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use stratus_gateway::auth::{Role, mint};
use stratus_graph::sim::{AgentBehaviour, CallerSpec, SimConfig, Simulator};
use stratus_routing::config::values::*;
use stratus_routing::config::*;
use stratus_routing::ids::*;
use stratus_routing::model::{Activity, Availability};
use stratus_routing::task::{Outcome, TaskEventKind, UserSessionOutcome};

const SECRET: &str = "e2e-secret-0123456789abcdef";
const BOT: &str = "0efc74f7-41c3-47a4-8775-7259bfef4241";
const CALLS: usize = 200;
const AGENTS: u128 = 24;
/// Agents who never answer: every offer to them ends in RONA.
const SILENT: [u128; 2] = [3, 14];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Stratus(Child);

impl Stratus {
    /// `kill -TERM`: a graceful shutdown that flushes the store writer.
    fn stop(mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..300 {
            if let Ok(Some(status)) = self.0.try_wait() {
                assert!(status.success(), "stratus exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("stratus did not stop within 15 s of SIGTERM");
    }
}

impl Drop for Stratus {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

fn skill(n: u128) -> SkillId {
    SkillId::from_u128(0x5c11 + n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_through_two_services_with_skills_rona_and_acw() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e2e.db");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    let mut sim_cfg = SimConfig::new(format!("{base}/graph/calls"), BOT);
    sim_cfg.seed = 17;
    sim_cfg.default_behaviour = AgentBehaviour::Answer {
        after: Duration::from_millis(300),
        talk: Some(Duration::from_millis(1500)),
    };
    let sim = Simulator::start(sim_cfg).await.unwrap();
    let m365 = M365TenantId::from_u128(0xe2e0_0001);

    let child = Command::new(env!("CARGO_BIN_EXE_stratus"))
        .arg("serve")
        .env("STRATUS_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "STRATUS_DATABASE__URL",
            format!("sqlite://{}", db.display()),
        )
        .env("STRATUS_AUTH__HS256_SECRET", SECRET)
        .env("STRATUS_AUTH__OPERATOR_TENANTS", "[\"system\"]")
        .env("STRATUS_GRAPH__MODE", "microsoft")
        .env("STRATUS_GRAPH__BASE_URL", sim.graph_base_url())
        .env("STRATUS_GRAPH__AUTHORITY", sim.authority_url())
        .env("STRATUS_GRAPH__OPENID_CONFIG_URL", sim.openid_config_url())
        .env(
            "STRATUS_GRAPH__CALLBACK_ISSUER",
            "https://graph.microsoft.com",
        )
        .env("STRATUS_GRAPH__APP_ID", BOT)
        .env("STRATUS_GRAPH__CLIENT_SECRET", "sim-secret")
        .env("STRATUS_GRAPH__CLIENT_STATE", "e2e-client-state")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stratus = Stratus(child);
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..400 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == StatusCode::OK
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "stratus did not become ready");

    // ---- configure the tenant through the REST API ----
    let tenant = TenantId::from_u128(0xe2e);
    let send = |token: String, path: &'static str, body: Value| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            assert!(s.is_success(), "{path}: {s} {}", r.text().await.unwrap());
        }
    };
    let root = mint(
        SECRET,
        "system",
        "root",
        &[Role::SystemAdmin],
        Duration::from_secs(3600),
    )
    .unwrap();
    let admin = mint(
        SECRET,
        &tenant.to_string(),
        "admin",
        &[Role::TenantAdmin],
        Duration::from_secs(3600),
    )
    .unwrap();
    let t = Tenant {
        id: tenant,
        partner: None,
        name: "E2E".into(),
        m365_tenant: m365,
        limits: TenantLimits::default(),
    };
    send(root, "/api/v1/tenants", serde_json::to_value(&t).unwrap()).await;
    let category = SkillCategoryId::from_u128(0xca7);
    let cat = SkillCategory {
        id: category,
        tenant,
        name: "Language".into(),
        levelled: true,
        levels: vec![
            SkillLevel {
                value: 1,
                name: "Basic".into(),
            },
            SkillLevel {
                value: 2,
                name: "Fluent".into(),
            },
        ],
    };
    send(
        admin.clone(),
        "/api/v1/skill-categories",
        serde_json::to_value(&cat).unwrap(),
    )
    .await;
    let german = Skill {
        id: skill(1),
        tenant,
        category,
        name: "German".into(),
    };
    send(
        admin.clone(),
        "/api/v1/skills",
        serde_json::to_value(&german).unwrap(),
    )
    .await;
    let policy = DistributionPolicy {
        id: PolicyId::from_u128(0x9011),
        tenant,
        name: "Fluent first".into(),
        levels: vec![
            PolicyLevel {
                requirements: vec![SkillRequirement {
                    skill: skill(1),
                    min_level: 2,
                }],
                escalate_after: EscalateAfter::new(2).unwrap(),
            },
            PolicyLevel {
                requirements: vec![SkillRequirement {
                    skill: skill(1),
                    min_level: 1,
                }],
                escalate_after: EscalateAfter::new(0).unwrap(),
            },
        ],
    };
    send(
        admin.clone(),
        "/api/v1/policies",
        serde_json::to_value(&policy).unwrap(),
    )
    .await;
    let teams = ServiceId::from_u128(0x5e01);
    let skills = ServiceId::from_u128(0x5e02);
    let app = |s: ServiceId| format!("{}", Guid(0xa000 + s.0.0));
    let acw = AcwSettings {
        enabled: true,
        time: AcwTime::new(1).unwrap(),
        early_end_allowed: true,
        extension: None,
    };
    for (id, assignment, pol) in [
        (teams, Assignment::TeamsBased, None),
        (skills, Assignment::SkillBased, Some(policy.id)),
    ] {
        let s = ServiceConfig {
            id,
            tenant,
            name: format!("svc-{}", id.0.0),
            app_instance_id: Some(app(id)),
            assignment,
            policy: pol,
            ring_timeout: RingTimeout::new(5).unwrap(),
            acw,
            max_queue_time: MaxQueueTime::new(600).unwrap(),
            ..ServiceConfig::default()
        };
        send(
            admin.clone(),
            "/api/v1/services",
            serde_json::to_value(&s).unwrap(),
        )
        .await;
    }
    let user = |n: u128| UserId::from_u128(0xa6e0_0000 + n);
    for n in 1..=AGENTS {
        // Odd agents serve the Teams-based service, even ones the skill-based one, every
        // fourth both; half of the skill agents are fluent.
        let mut memberships = Vec::new();
        if n % 2 == 1 || n % 4 == 0 {
            memberships.push(Membership {
                service: teams,
                role: stratus_routing::config::Role::Member,
                active: true,
            });
        }
        if n % 2 == 0 {
            memberships.push(Membership {
                service: skills,
                role: stratus_routing::config::Role::Agent,
                active: true,
            });
        }
        let u = UserConfig {
            id: user(n),
            tenant,
            upn: format!("agent{n}@e2e.example"),
            display_name: format!("Agent {n}"),
            memberships,
            skills: vec![UserSkill {
                skill: skill(1),
                level: if n % 4 == 0 { 2 } else { 1 },
            }],
            profiles: vec![],
            active_profile: ResponsibilityProfile::ON_DUTY,
            not_available_reasons: vec![],
            capacity: Capacity::default(),
        };
        send(
            admin.clone(),
            "/api/v1/users",
            serde_json::to_value(&u).unwrap(),
        )
        .await;
        if SILENT.contains(&n) {
            sim.set_agent_behaviour(user(n), AgentBehaviour::Ignore);
        }
        sim.set_presence(user(n), Availability::Available, Activity::Available)
            .await;
    }
    // Presence reaches the user actors through the subscriptions Stratus made at the simulator.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut idle = 0;
        for n in 1..=AGENTS {
            let r = http
                .get(format!("{base}/api/v1/users/{}/live", user(n)))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap();
            idle += usize::from(v["status"] == "Idle");
        }
        if idle == AGENTS as usize {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {idle} agents idle"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // ---- 200 calls at 25 calls/s ----
    let mut calls = Vec::new();
    for i in 0..CALLS {
        let service = if i % 2 == 0 { teams } else { skills };
        let mut spec = CallerSpec::phone(&format!("+41440000{i:03}"), &app(service));
        spec.tenant = Some(m365);
        calls.push(sim.place_call(spec).await.unwrap());
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let live = calls
            .iter()
            .filter(|c| sim.call(c).is_some_and(|v| v.state != "terminated"))
            .count();
        if live == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{live} calls still live"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let the last ACW end and the writer flush, then stop gracefully.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from /metrics"))
    };
    assert_eq!(value("stratus_tasks_created_total"), CALLS as f64);
    assert_eq!(value("stratus_tasks_handled_total"), CALLS as f64);
    assert!(value("stratus_enqueue_to_offer_seconds_count") >= CALLS as f64);
    stratus.stop();

    // ---- the Graph commands the simulator saw ----
    let commands = sim.commands();
    let count = |method: &str, suffix: &str| {
        commands
            .iter()
            .filter(|c| c.method == method && c.path.ends_with(suffix))
            .count()
    };
    assert_eq!(count("POST", "/answer"), CALLS, "one answer per call");
    let invites = count("POST", "/participants/invite");
    assert!(
        invites >= CALLS,
        "every call needs an invitation: {invites}"
    );
    let answered: BTreeSet<&str> = commands
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/answer"))
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(answered.len(), CALLS, "no call answered twice");

    // ---- what the store holds ----
    let store = stratus_store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let sessions = store.service_sessions(tenant, None).await.unwrap();
    let tasks: BTreeSet<TaskId> = sessions.iter().map(|s| s.task).collect();
    assert_eq!(tasks.len(), CALLS, "one task per call");
    assert_eq!(
        sessions.len(),
        CALLS,
        "one service session per call (no transfers)"
    );
    let by_service: BTreeMap<ServiceId, usize> =
        sessions.iter().fold(BTreeMap::new(), |mut m, s| {
            *m.entry(s.service).or_default() += 1;
            m
        });
    assert_eq!(by_service.get(&teams), Some(&(CALLS / 2)));
    assert_eq!(by_service.get(&skills), Some(&(CALLS / 2)));
    let handled = sessions
        .iter()
        .filter(|s| s.outcome == Outcome::UserAccepted)
        .count();
    assert_eq!(
        handled,
        CALLS,
        "every caller was connected: {:?}",
        sessions
            .iter()
            .map(|s| format!("{:?}", s.outcome))
            .collect::<BTreeSet<_>>()
    );
    assert!(
        sessions.iter().all(|s| s.acw_ms > 0),
        "ACW recorded for every handled call"
    );
    for s in sessions.iter().filter(|s| s.service == skills) {
        let agent = s.user.unwrap();
        assert!(
            agent.0.0 % 2 == 0,
            "a skill task went to a non-member {agent}"
        );
        assert!(s.policy_level.is_some(), "the policy level is recorded");
    }
    for task in &tasks {
        let events = store.task_events(tenant, *task).await.unwrap();
        let kinds: Vec<TaskEventKind> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds.first(),
            Some(&TaskEventKind::Created),
            "{task}: {kinds:?}"
        );
        assert_eq!(
            kinds.last(),
            Some(&TaskEventKind::Terminated),
            "{task}: {kinds:?}"
        );
        assert!(
            kinds.contains(&TaskEventKind::Connected),
            "{task}: {kinds:?}"
        );
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "{task}: gaps in {seqs:?}"
        );
    }
    let user_sessions = store.user_sessions(tenant, None).await.unwrap();
    let rona: Vec<_> = user_sessions
        .iter()
        .filter(|u| u.outcome == UserSessionOutcome::Rona)
        .collect();
    assert!(!rona.is_empty(), "the silent agents caused RONA");
    assert!(
        rona.iter()
            .all(|u| SILENT.iter().any(|n| u.user == user(*n))),
        "RONA only for agents who did not answer"
    );
    // Every offer was one invitation: answered (one per call) or withdrawn on RONA.
    let cancels = commands
        .iter()
        .filter(|c| c.method == "DELETE" && c.path.contains("/participants/"))
        .count();
    assert_eq!(cancels, rona.len(), "one withdrawn invitation per RONA");
    assert_eq!(
        invites,
        CALLS + rona.len(),
        "no invitation beyond the offers made"
    );
    let accepted = user_sessions
        .iter()
        .filter(|u| u.outcome == UserSessionOutcome::Accepted)
        .count();
    assert_eq!(accepted, CALLS);
    // Per call: answered first, then invitations, never a second answer.
    for call in &calls {
        let log = sim.commands_for(call);
        assert!(
            log.first().is_some_and(|c| c.path.ends_with("/answer")),
            "{call}: {log:?}"
        );
        assert!(
            log.iter().any(|c| c.path.ends_with("/participants/invite")),
            "{call}: {log:?}"
        );
        assert_eq!(
            log.iter().filter(|c| c.path.ends_with("/answer")).count(),
            1,
            "{call}"
        );
    }
}
