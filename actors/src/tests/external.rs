//! External tasks (no call) through the live actors, and task queries, updates and cancels.

use super::harness::*;
use crate::{ActorsError, NewTask, TaskAction, TaskUpdate};
use std::time::Duration;
use stratus_routing::config::Distribution;
use stratus_routing::config::values::{ParameterId, ParameterValue};
use stratus_routing::model::{Modality, Priority};
use stratus_routing::task::{ContextParameters, TaskStateKind};
use stratus_routing::user::UserStatus;

fn new_task(service: u128) -> NewTask {
    NewTask {
        service: s(service),
        modality: Modality::ExternalTask,
        priority: None,
        context: ContextParameters::new(),
        customer: Default::default(),
        preferred: Default::default(),
        system: Default::default(),
    }
}

#[tokio::test(start_paused = true)]
async fn an_external_task_is_offered_declined_accepted_and_completed() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1]), user(2, &[1])])).await;
    w.online(u(1)).await;
    w.wait(Duration::from_secs(1)).await;
    w.online(u(2)).await;
    let task = w.node.create_task(TENANT, new_task(1)).await.unwrap();
    w.settle().await;
    let live = w.node.task(TENANT, task).await.unwrap();
    assert_eq!(live.ringing, [u(1)]);
    assert_eq!(live.task.state().kind(), TaskStateKind::Offered);

    // Only the offered user may answer.
    let wrong = w
        .node
        .task_action(TENANT, task, u(2), TaskAction::Accept)
        .await;
    assert!(matches!(wrong, Err(ActorsError::Rejected(_))));
    w.node
        .task_action(TENANT, task, u(1), TaskAction::Decline)
        .await
        .unwrap();
    w.settle().await;
    assert_eq!(w.node.task(TENANT, task).await.unwrap().ringing, [u(2)]);
    w.node
        .task_action(TENANT, task, u(2), TaskAction::Accept)
        .await
        .unwrap();
    assert_eq!(
        w.node.user_live(TENANT, u(2)).await.unwrap().status,
        UserStatus::Connected
    );
    w.node
        .task_action(TENANT, task, u(2), TaskAction::Complete)
        .await
        .unwrap();
    w.settle().await;
    assert_eq!(
        w.events(task),
        [
            "Created",
            "Queued",
            "Offered(u1)",
            "Declined(u1)",
            "Offered(u2)",
            "Accepted(u2)",
            "Connected(u2)",
            "Terminated(UserAccepted)",
        ]
    );
    assert!(matches!(
        w.node.task(TENANT, task).await,
        Err(ActorsError::UnknownTask)
    ));
    // Decisions stay queryable after the end.
    let decisions = w.node.decisions(TENANT, task).await.unwrap();
    assert_eq!(decisions.len(), 2);
    assert!(
        w.calls.commands().is_empty(),
        "an external task sends no call commands"
    );
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_waiting_task_is_updated_and_cancelled() {
    let svc = service(1, Distribution::DirectConference);
    let w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    let first = w.node.create_task(TENANT, new_task(1)).await.unwrap();
    let second = w.node.create_task(TENANT, new_task(1)).await.unwrap();
    w.settle().await;
    let order = |l: crate::ServiceLive| l.waiting.iter().map(|t| t.task).collect::<Vec<_>>();
    assert_eq!(
        order(w.node.service_live(TENANT, s(1)).await.unwrap()),
        [first, second]
    );

    let mut ctx = ContextParameters::new();
    ctx.insert(
        ParameterId::new("order").unwrap(),
        ParameterValue::new("A-17").unwrap(),
    );
    w.node
        .update_task(
            TENANT,
            second,
            TaskUpdate {
                context: Some(ctx),
                priority: Some(Priority::High),
                ..TaskUpdate::default()
            },
        )
        .await
        .unwrap();
    w.settle().await;
    // The higher priority moves it ahead; the parameter is on the task and in its events.
    assert_eq!(
        order(w.node.service_live(TENANT, s(1)).await.unwrap()),
        [second, first]
    );
    let live = w.node.task(TENANT, second).await.unwrap();
    assert_eq!(live.task.priority, Priority::High);
    assert_eq!(live.task.context.len(), 1);
    assert!(w.events(second).contains(&"ParameterUpdated".to_string()));

    w.node.cancel_task(TENANT, first).await.unwrap();
    w.settle().await;
    assert_eq!(
        order(w.node.service_live(TENANT, s(1)).await.unwrap()),
        [second]
    );
    assert_eq!(w.events(first).last().unwrap(), "Terminated(Cancelled)");
    assert!(matches!(
        w.node.cancel_task(TENANT, first).await,
        Err(ActorsError::UnknownTask)
    ));
    let call = w
        .node
        .create_task(
            TENANT,
            NewTask {
                modality: Modality::Call,
                ..new_task(1)
            },
        )
        .await;
    assert!(matches!(call, Err(ActorsError::Invalid { .. })));
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_restarted_node_requeues_the_waiting_tasks_from_their_snapshots() {
    let svc = service(1, Distribution::DirectConference);
    let w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    let task = w.node.create_task(TENANT, new_task(1)).await.unwrap();
    let call = w.incoming("call-1", 1).await;
    w.platform("call-1", stratus_routing::port::CallEventKind::Established)
        .await;
    assert_eq!(w.store.live_tasks(TENANT).len(), 2);
    let store = w.store.clone();
    w.finish().await;

    let mut w = World::start_on(store, crate::NodeConfig::default()).await;
    w.settle().await;
    let live = w.node.service_live(TENANT, s(1)).await.unwrap();
    assert_eq!(live.waiting.len(), 2);
    assert_eq!(w.node.stats().waiting, 2);
    w.online(u(1)).await;
    w.wait(Duration::from_millis(10)).await; // the bid window
    // The external task waited longer: it is offered first; the call waits (one ring at a time).
    assert_eq!(w.node.task(TENANT, task).await.unwrap().ringing, [u(1)]);
    // The restored call was only checked on (a keep-alive at once), not rung.
    assert_eq!(w.commands(call), ["KeepAlive"]);
    // Accepted, it takes the user's external-task capacity only: the call rings next.
    w.node
        .task_action(TENANT, task, u(1), TaskAction::Accept)
        .await
        .unwrap();
    w.wait(Duration::from_millis(10)).await; // the bid window
    assert_eq!(w.commands(call), ["KeepAlive", "ring u1"]);
    w.finish().await;
}
