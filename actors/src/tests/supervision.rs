//! Actor failures: rebuilt from durable truth, isolated, counted.

use super::harness::*;
use crate::shared::{ServiceMsg, TaskMsg, UserMsg};
use std::time::Duration;
use stratus_routing::config::Distribution;
use stratus_routing::port::CallEventKind;
use stratus_routing::user::UserStatus;

#[tokio::test(start_paused = true)]
async fn a_user_actor_that_panics_while_holding_an_offer_is_rebuilt_not_ringing() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1]), user(2, &[1])])).await;
    w.online(u(1)).await;
    w.wait(Duration::from_secs(1)).await;
    w.online(u(2)).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    assert_eq!(w.commands(task), ["answer", "ring u1"]);

    let shared = w.node.shared(TENANT).unwrap();
    let actor = shared.user(u(1)).unwrap();
    actor.cast(UserMsg::Crash).unwrap();
    w.settle().await;
    // The ring is withdrawn at once and the task goes to the other user.
    assert_eq!(
        w.commands(task),
        ["answer", "ring u1", "cancel u1", "ring u2"]
    );
    w.wait(Duration::from_millis(100)).await; // past the restart backoff
    let live = w.node.user_live(TENANT, u(1)).await.unwrap();
    assert_eq!(
        live.status,
        UserStatus::Idle,
        "the rebuilt user is not left ringing"
    );
    assert!(live.leases.is_empty());
    assert_ne!(shared.user(u(1)).unwrap().get_id(), actor.get_id());

    // No task lost, no second offer to anyone: u2 answers; u1 is never rung again for it.
    w.platform("call-1", CallEventKind::AgentJoined { user: u(2) })
        .await;
    assert!(w.node.task(TENANT, task).await.unwrap().ringing.is_empty());
    w.wait(Duration::from_secs(60)).await;
    assert_eq!(
        w.commands(task),
        ["answer", "ring u1", "cancel u1", "ring u2"]
    );
    // The rebuilt user (presence kept from Teams) takes the next call.
    let next = w.incoming("call-2", 1).await;
    w.platform("call-2", CallEventKind::Established).await;
    assert_eq!(w.commands(next), ["answer", "ring u1"]);
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_call_actor_affects_no_other_call_and_a_waiting_call_is_requeued() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    let connected = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.platform("call-1", CallEventKind::AgentJoined { user: u(1) })
        .await;
    let waiting = w.incoming("call-2", 1).await;
    w.platform("call-2", CallEventKind::Established).await;
    assert_eq!(w.node.stats().waiting, 1);

    // The waiting call's actor dies: it is rebuilt from its snapshot and waits again.
    let shared = w.node.shared(TENANT).unwrap();
    shared.task(waiting).unwrap().cast(TaskMsg::Crash).unwrap();
    w.wait(Duration::from_millis(100)).await;
    let live = w.node.task(TENANT, waiting).await.unwrap();
    assert_eq!(live.service, Some(s(1)));
    let svc = w.node.service_live(TENANT, s(1)).await.unwrap();
    assert_eq!(svc.waiting.len(), 1);
    assert_eq!(svc.waiting[0].task, waiting);

    // The other call never noticed: it ends normally, and the waiting one is then offered.
    w.platform("call-1", CallEventKind::AgentLeft { user: u(1) })
        .await;
    assert_eq!(
        w.events(connected).last().unwrap(),
        "Terminated(UserAccepted)"
    );
    // Rebuilt, the call was checked on at once (a keep-alive), then rung.
    assert_eq!(w.commands(waiting), ["answer", "KeepAlive", "ring u1"]);
    assert_eq!(w.node.stats().waiting, 0);
    assert_eq!(w.node.stats().ringing, 1);
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_call_actor_dying_while_it_rings_an_agent_withdraws_that_ring() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    assert_eq!(w.commands(task), ["answer", "ring u1"]);
    let shared = w.node.shared(TENANT).unwrap();
    shared.task(task).unwrap().cast(TaskMsg::Crash).unwrap();
    w.wait(Duration::from_millis(100)).await;
    // The old invitation is withdrawn on the platform; the rebuilt task may ring again, but the
    // agent is never rung twice at once.
    let log = w.commands(task);
    assert!(
        log[2..].first().is_some_and(|c| c == "cancel u1"),
        "{log:?}"
    );
    rings_one_at_a_time(&log);
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_service_actor_rebuilds_its_queue_from_the_live_calls() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    let shared = w.node.shared(TENANT).unwrap();
    shared
        .service(s(1))
        .unwrap()
        .cast(ServiceMsg::Crash)
        .unwrap();
    w.wait(Duration::from_millis(100)).await;
    let live = w.node.service_live(TENANT, s(1)).await.unwrap();
    assert_eq!(
        live.waiting.len(),
        1,
        "the waiting call is back in the rebuilt queue"
    );
    // The member view was rebuilt too: the user coming online gets the call.
    w.online(u(1)).await;
    assert_eq!(w.commands(task), ["answer", "ring u1"]);
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_service_rebuilt_while_a_call_rings_never_rings_a_second_agent() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1]), user(2, &[1])])).await;
    w.online(u(1)).await;
    w.online(u(2)).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    let first = w.commands(task);
    assert_eq!(first.len(), 2, "{first:?}"); // answer, ring one agent
    let shared = w.node.shared(TENANT).unwrap();
    shared
        .service(s(1))
        .unwrap()
        .cast(ServiceMsg::Crash)
        .unwrap();
    w.wait(Duration::from_millis(200)).await;
    // Whatever the rebuilt queue decides, at no point do two agents ring for the call.
    let ringing = rings_one_at_a_time(&w.commands(task));
    assert_eq!(
        ringing,
        1,
        "the call rings someone again: {:?}",
        w.commands(task)
    );
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_child_failing_over_and_over_is_given_up_after_the_intensity_limit() {
    let svc = service(1, Distribution::DirectConference);
    let w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    let shared = w.node.shared(TENANT).unwrap();
    for _ in 0..11 {
        if let Some(a) = shared.user(u(1)) {
            a.cast(UserMsg::Crash).unwrap();
        }
        w.wait(Duration::from_secs(6)).await; // past the longest backoff
    }
    // 10 restarts within the window, then given up: the user is gone, the tenant runs on.
    assert!(shared.user(u(1)).is_none());
    assert!(w.node.service_live(TENANT, s(1)).await.is_ok());
    w.finish_expecting(11).await;
}

#[tokio::test(start_paused = true)]
async fn a_service_given_up_ends_its_waiting_calls_and_refuses_new_ones() {
    let svc = service(1, Distribution::DirectConference);
    let w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    let shared = w.node.shared(TENANT).unwrap();
    for _ in 0..11 {
        if let Some(a) = shared.service(s(1)) {
            a.cast(ServiceMsg::Crash).unwrap();
        }
        w.wait(Duration::from_secs(6)).await; // past the longest backoff
    }
    assert!(shared.service(s(1)).is_none(), "given up");
    // The waiting caller is not held forever by a queue that no longer exists…
    assert!(
        w.events(task).last().unwrap().starts_with("Terminated"),
        "{:?}",
        w.events(task)
    );
    // …and a new call for the service is refused at the door, so the gateway rejects it.
    let e = w.node.call_event(stratus_routing::port::CallEvent {
        call: stratus_routing::ids::CallId::new("call-2"),
        kind: CallEventKind::Incoming {
            m365_tenant: M365,
            target: app(1),
            caller: Default::default(),
            call_chain_id: None,
        },
    });
    assert!(
        matches!(e, Err(crate::ActorsError::UnknownService)),
        "{e:?}"
    );
    w.finish_expecting(11).await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_tenant_is_rebuilt_with_its_waiting_calls_and_routes_again() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.node.crash_tenant(TENANT);
    w.wait(Duration::from_secs(6)).await; // past the longest backoff
    // Rebuilt: the waiting call is queued again and still reachable by its call id…
    let live = w.node.service_live(TENANT, s(1)).await.unwrap();
    assert_eq!(live.waiting.len(), 1);
    assert_eq!(live.waiting[0].task, task);
    // …and the user coming online gets it.
    w.online(u(1)).await;
    assert!(
        w.commands(task).iter().any(|c| c == "ring u1"),
        "{:?}",
        w.commands(task)
    );
    w.platform("call-1", CallEventKind::AgentJoined { user: u(1) })
        .await;
    w.platform("call-1", CallEventKind::AgentLeft { user: u(1) })
        .await;
    assert_eq!(w.events(task).last().unwrap(), "Terminated(UserAccepted)");
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_and_stops_every_actor() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    let task = w.incoming("call-1", 1).await;
    let shared = w.node.shared(TENANT).unwrap();
    let actors = [
        shared.user(u(1)).unwrap().get_cell(),
        shared.service(s(1)).unwrap().get_cell(),
        shared.task(task).unwrap().get_cell(),
    ];
    // A message already queued is still handled before the stop.
    w.node
        .call_event(stratus_routing::port::CallEvent {
            call: stratus_routing::ids::CallId::new("call-1"),
            kind: CallEventKind::Established,
        })
        .unwrap();
    let node = w.node.clone();
    node.shutdown().await;
    for a in actors {
        assert_eq!(a.get_status(), ractor::ActorStatus::Stopped);
    }
    assert_eq!(
        w.events(task)[..3],
        ["Created", "AcceptedBySystem", "Queued"]
    );
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_user_rebuilt_while_on_a_call_is_still_connected_and_a_lost_wrap_up_ends() {
    let mut svc = service(1, Distribution::DirectConference);
    svc.acw = acw_30s();
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.platform("call-1", CallEventKind::AgentJoined { user: u(1) })
        .await;
    let shared = w.node.shared(TENANT).unwrap();
    shared.user(u(1)).unwrap().cast(UserMsg::Crash).unwrap();
    w.wait(Duration::from_millis(100)).await;
    // Rebuilt from the live call: connected, so a second call is not offered to them.
    let live = w.node.user_live(TENANT, u(1)).await.unwrap();
    assert_eq!(live.status, UserStatus::Connected);
    assert_eq!(live.leases, [(task, s(1), false)]);
    let second = w.incoming("call-2", 1).await;
    w.platform("call-2", CallEventKind::Established).await;
    assert_eq!(w.commands(second), ["answer"]);

    // The conversation ends: wrap-up runs on the rebuilt user.
    w.platform("call-1", CallEventKind::AgentLeft { user: u(1) })
        .await;
    assert_eq!(
        w.node.user_live(TENANT, u(1)).await.unwrap().status,
        UserStatus::WrapUp
    );
    // The user actor dies again, in wrap-up: the rebuilt user is still wrapping up (the wrap-up
    // is carried over), and its end still ends the task.
    shared.user(u(1)).unwrap().cast(UserMsg::Crash).unwrap();
    w.wait(Duration::from_millis(500)).await;
    assert_eq!(
        w.node.user_live(TENANT, u(1)).await.unwrap().status,
        UserStatus::WrapUp
    );
    assert_eq!(w.commands(second), ["answer"]);
    w.wait(Duration::from_secs(30)).await;
    assert_eq!(w.events(task).last().unwrap(), "Terminated(UserAccepted)");
    // Free again, the user takes the waiting call.
    assert_eq!(w.commands(second), ["answer", "ring u1"]);
    w.finish_expecting(2).await;
}

#[tokio::test(start_paused = true)]
async fn a_user_rebuilt_keeps_its_persistent_rona() {
    let mut svc = service(1, Distribution::DirectConference);
    svc.persistent_rona = true;
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    let _first = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.wait(Duration::from_secs(20)).await; // missed: persistent RONA (10 min)
    let before = w.node.user_live(TENANT, u(1)).await.unwrap();
    assert_eq!(before.status, UserStatus::Rona);
    let shared = w.node.shared(TENANT).unwrap();
    shared.user(u(1)).unwrap().cast(UserMsg::Crash).unwrap();
    w.wait(Duration::from_millis(100)).await;
    let after = w.node.user_live(TENANT, u(1)).await.unwrap();
    assert_eq!(after.status, UserStatus::Rona, "RONA survives the rebuild");
    assert_eq!(after.rona_until_ms, before.rona_until_ms);
    let second = w.incoming("call-2", 1).await;
    w.platform("call-2", CallEventKind::Established).await;
    assert_eq!(
        w.commands(second),
        ["answer"],
        "nothing reaches a user in RONA"
    );
    w.platform("call-1", CallEventKind::Terminated { code: 0 })
        .await;
    w.platform("call-2", CallEventKind::Terminated { code: 0 })
        .await;
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_conversation_ending_while_its_user_actor_is_down_still_ends_the_task() {
    let mut svc = service(1, Distribution::DirectConference);
    svc.acw = acw_30s();
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.platform("call-1", CallEventKind::AgentJoined { user: u(1) })
        .await;
    let shared = w.node.shared(TENANT).unwrap();
    shared.user(u(1)).unwrap().cast(UserMsg::Crash).unwrap();
    // The agent hangs up before the user actor is back (no wait: inside the restart backoff).
    w.platform("call-1", CallEventKind::AgentLeft { user: u(1) })
        .await;
    w.wait(Duration::from_secs(5)).await;
    assert_eq!(w.events(task).last().unwrap(), "Terminated(UserAccepted)");
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_call_whose_actor_fails_for_good_before_queueing_is_hung_up() {
    let svc = service(1, Distribution::DirectConference);
    let config = crate::NodeConfig {
        restart: crate::RestartPolicy {
            max_restarts: 0,
            ..crate::RestartPolicy::default()
        },
        bid_window: Duration::ZERO,
        ..crate::NodeConfig::default()
    };
    let w = World::start_with(snapshot(vec![svc], vec![user(1, &[1])]), config).await;
    let task = w.incoming("call-1", 1).await;
    let shared = w.node.shared(TENANT).unwrap();
    shared.task(task).unwrap().cast(TaskMsg::Crash).unwrap();
    w.settle().await;
    assert_eq!(w.commands(task), ["answer", "hangup"]);
    assert!(matches!(
        w.node.task(TENANT, task).await,
        Err(crate::ActorsError::UnknownTask)
    ));
    w.finish_expecting(1).await;
}

#[tokio::test(start_paused = true)]
async fn a_user_dying_while_a_task_is_queued_does_not_strand_the_task() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1]), user(2, &[1])])).await;
    w.online(u(1)).await;
    w.wait(Duration::from_secs(1)).await;
    w.online(u(2)).await;
    let task = w.incoming("call-1", 1).await;
    // u1 dies while the task is being queued: a request meant for it fails or dies with it.
    let shared = w.node.shared(TENANT).unwrap();
    shared.user(u(1)).unwrap().cast(UserMsg::Crash).unwrap();
    w.node
        .call_event(stratus_routing::port::CallEvent {
            call: stratus_routing::ids::CallId::new("call-1"),
            kind: CallEventKind::Established,
        })
        .unwrap();
    w.settle().await;
    assert_eq!(w.commands(task), ["answer", "ring u2"]);
    w.finish_expecting(1).await;
}

/// Replays a task's commands: never two agents rung at once. Returns how many ring at the end.
fn rings_one_at_a_time(log: &[String]) -> i32 {
    let mut ringing = 0i32;
    for c in log {
        ringing += i32::from(c.starts_with("ring")) - i32::from(c.starts_with("cancel"));
        assert!(ringing <= 1, "two agents rung at once: {log:?}");
    }
    ringing
}

fn acw_30s() -> stratus_routing::config::AcwSettings {
    stratus_routing::config::AcwSettings {
        enabled: true,
        time: stratus_routing::config::values::AcwTime::new(30).unwrap(),
        early_end_allowed: true,
        extension: None,
    }
}
