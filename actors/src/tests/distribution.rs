//! Broadcast and persistent RONA through the live actors.

use super::harness::*;
use std::time::Duration;
use stratus_routing::config::Distribution;
use stratus_routing::config::values::RonaResetTime;
use stratus_routing::port::CallEventKind;
use stratus_routing::user::UserStatus;

#[tokio::test(start_paused = true)]
async fn broadcast_first_answer_wins_and_the_other_legs_are_cancelled() {
    let svc = service(1, Distribution::Broadcast { batch: 3 });
    let users = vec![user(1, &[1]), user(2, &[1]), user(3, &[1])];
    let mut w = World::start(snapshot(vec![svc], users)).await;
    for n in 1..=3 {
        w.online(u(n)).await;
        w.wait(Duration::from_secs(1)).await;
    }
    let task = w.incoming("call-b", 1).await;
    w.platform("call-b", CallEventKind::Established).await;
    assert_eq!(
        w.commands(task),
        ["answer", "ring u1", "ring u2", "ring u3"]
    );

    w.platform("call-b", CallEventKind::AgentJoined { user: u(2) })
        .await;
    assert_eq!(
        w.commands(task),
        [
            "answer",
            "ring u1",
            "ring u2",
            "ring u3",
            "cancel u1",
            "cancel u3"
        ]
    );
    for (n, status) in [
        (1, UserStatus::Idle),
        (2, UserStatus::Connected),
        (3, UserStatus::Idle),
    ] {
        let live = w.node.user_live(TENANT, u(n)).await.unwrap();
        assert_eq!(live.status, status, "u{n}");
    }

    // Without wrap-up the task ends with the conversation; the platform's later end of the
    // call finds no task.
    w.platform("call-b", CallEventKind::AgentLeft { user: u(2) })
        .await;
    assert!(
        w.node
            .call_event(stratus_routing::port::CallEvent {
                call: stratus_routing::ids::CallId::new("call-b"),
                kind: CallEventKind::Terminated { code: 0 },
            })
            .is_err()
    );
    assert_eq!(
        w.events(task),
        [
            "Created",
            "AcceptedBySystem",
            "Queued",
            "Offered(u1)",
            "Offered(u2)",
            "Offered(u3)",
            "Accepted(u2)",
            "Connected(u2)",
            "Terminated(UserAccepted)",
        ]
    );
    // Broadcast never causes RONA.
    assert_eq!(w.node.stats().rona, 0);
    assert_eq!(w.node.stats().handled, 1);
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn persistent_rona_is_reset_by_its_timer() {
    let mut svc = service(1, Distribution::DirectConference);
    svc.persistent_rona = true;
    svc.rona_reset = RonaResetTime::new(30).unwrap();
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    let first = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.wait(Duration::from_secs(20)).await;
    let live = w.node.user_live(TENANT, u(1)).await.unwrap();
    assert_eq!(live.status, UserStatus::Rona);
    assert!(live.rona_until_ms.is_some());

    // In RONA the user gets nothing, not even a new call.
    let second = w.incoming("call-2", 1).await;
    w.platform("call-2", CallEventKind::Established).await;
    w.wait(Duration::from_secs(28)).await;
    assert_eq!(
        w.node.user_live(TENANT, u(1)).await.unwrap().status,
        UserStatus::Rona
    );
    assert_eq!(w.commands(second), ["answer"]);

    // The reset timer clears it: the user is selectable again and gets the call waiting longest,
    // the one they missed (nobody is excluded for a task's life).
    w.wait(Duration::from_secs(2)).await;
    assert_eq!(
        w.commands(first),
        ["answer", "ring u1", "cancel u1", "ring u1"]
    );
    assert_eq!(w.commands(second), ["answer"]);
    w.platform("call-1", CallEventKind::Terminated { code: 0 })
        .await;
    w.platform("call-2", CallEventKind::Terminated { code: 0 })
        .await;
    assert_eq!(w.node.stats().abandoned, 2);
    w.finish().await;
}
