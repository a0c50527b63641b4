//! Whole calls through the live actors.

use super::harness::*;
use std::time::Duration;
use stratus_routing::config::values::AcwTime;
use stratus_routing::config::{AcwSettings, Distribution};
use stratus_routing::port::CallEventKind;
use stratus_routing::user::UserStatus;

#[tokio::test(start_paused = true)]
async fn a_whole_inbound_call_rona_then_next_user_then_wrap_up() {
    let mut svc = service(1, Distribution::DirectConference);
    svc.acw = AcwSettings {
        enabled: true,
        time: AcwTime::new(10).unwrap(),
        early_end_allowed: true,
        extension: None,
    };
    let mut w = World::start(snapshot(svc_vec(svc), vec![user(1, &[1]), user(2, &[1])])).await;
    w.online(u(1)).await;
    w.wait(Duration::from_secs(1)).await;
    w.online(u(2)).await;

    let task = w.incoming("call-1", 1).await;
    assert_eq!(w.commands(task), ["answer"]);
    w.platform("call-1", CallEventKind::Established).await;
    // u1 has been idle longest: rung first.
    assert_eq!(w.commands(task), ["answer", "ring u1"]);
    assert_eq!(
        w.node.user_live(TENANT, u(1)).await.unwrap().status,
        UserStatus::Ringing
    );

    // No answer within the ring timeout (20 s): RONA, then the next user.
    w.wait(Duration::from_secs(20)).await;
    assert_eq!(
        w.commands(task),
        ["answer", "ring u1", "cancel u1", "ring u2"]
    );
    // Non-persistent RONA: u1 shows RONA for the cool-down (10 s by default).
    assert_eq!(
        w.node.user_live(TENANT, u(1)).await.unwrap().status,
        UserStatus::Rona
    );

    w.platform("call-1", CallEventKind::AgentJoined { user: u(2) })
        .await;
    assert_eq!(
        w.node.user_live(TENANT, u(2)).await.unwrap().status,
        UserStatus::Connected
    );
    assert_eq!(w.node.stats().connected, 1);

    // The agent leaves: the bot hangs up, the user wraps up for 10 s, then the task ends.
    w.platform("call-1", CallEventKind::AgentLeft { user: u(2) })
        .await;
    w.platform("call-1", CallEventKind::Terminated { code: 0 })
        .await;
    assert_eq!(
        w.node.user_live(TENANT, u(2)).await.unwrap().status,
        UserStatus::WrapUp
    );
    assert!(w.node.task(TENANT, task).await.is_ok());
    w.wait(Duration::from_secs(10)).await;

    assert_eq!(
        w.commands(task),
        ["answer", "ring u1", "cancel u1", "ring u2", "hangup"]
    );
    assert_eq!(
        w.events(task),
        [
            "Created",
            "AcceptedBySystem",
            "Queued",
            "Offered(u1)",
            "Rona(u1)",
            "Offered(u2)",
            "Accepted(u2)",
            "Connected(u2)",
            "WrapUp(u2)",
            "Terminated(UserAccepted)",
        ]
    );
    assert_eq!(
        w.node.user_live(TENANT, u(2)).await.unwrap().status,
        UserStatus::Idle
    );
    assert!(
        w.node.task(TENANT, task).await.is_err(),
        "an ended task is gone"
    );
    let stats = w.node.stats();
    assert_eq!(
        (stats.handled, stats.rona, stats.connected, stats.wrap_up),
        (1, 1, 0, 0)
    );
    assert!(
        w.store.live_tasks(TENANT).is_empty(),
        "the live snapshot is removed"
    );
    w.finish().await;
}

fn svc_vec(
    s: stratus_routing::config::ServiceConfig,
) -> Vec<stratus_routing::config::ServiceConfig> {
    vec![s]
}
