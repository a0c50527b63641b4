//! Supervisor and agent commands, and reconciliation with the store after configuration writes.

use super::harness::*;
use crate::{ActorsError, UserCommand};
use std::time::Duration;
use stratus_routing::config::{Distribution, NotAvailableReason, ResponsibilityProfile};
use stratus_routing::ids::{NotAvailableReasonId, ProfileId};
use stratus_routing::port::{CallEventKind, Store};
use stratus_routing::user::UserStatus;

#[tokio::test(start_paused = true)]
async fn commands_change_the_user_and_duty_changes_are_saved() {
    let svc = service(1, Distribution::DirectConference);
    let reason = NotAvailableReasonId::from_u128(0x77);
    let mut snap = snapshot(vec![svc], vec![user(1, &[1])]);
    snap.not_available_reasons.push(NotAvailableReason {
        id: reason,
        tenant: TENANT,
        name: "Lunch".into(),
    });
    let mut w = World::start(snap).await;
    w.online(u(1)).await;
    let node = w.node.clone();

    node.user_command(
        TENANT,
        u(1),
        UserCommand::SetActive {
            service: s(1),
            active: false,
        },
    )
    .await
    .unwrap();
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    assert_eq!(
        w.commands(task),
        ["answer"],
        "an inactive member gets nothing"
    );
    let saved = w.store.load_tenant(TENANT).await.unwrap();
    assert!(!saved.users[0].memberships[0].active);

    // A reason the tenant does not have (another tenant's) is refused.
    let foreign = NotAvailableReasonId::from_u128(0x78);
    let refused = node
        .user_command(TENANT, u(1), UserCommand::SetNotAvailable(Some(foreign)))
        .await;
    assert!(
        matches!(refused, Err(ActorsError::Invalid { ref field, .. }) if field == "reason"),
        "{refused:?}"
    );
    node.user_command(TENANT, u(1), UserCommand::SetNotAvailable(Some(reason)))
        .await
        .unwrap();
    assert_eq!(
        node.user_live(TENANT, u(1)).await.unwrap().status,
        UserStatus::NotAvailableReason
    );
    node.user_command(TENANT, u(1), UserCommand::SetNotAvailable(None))
        .await
        .unwrap();
    node.user_command(
        TENANT,
        u(1),
        UserCommand::SetActive {
            service: s(1),
            active: true,
        },
    )
    .await
    .unwrap();
    w.settle().await;
    assert_eq!(w.commands(task), ["answer", "ring u1"]);

    // Refusals are values: nothing to end, unknown profile, not a member, unknown user.
    assert!(matches!(
        node.user_command(TENANT, u(1), UserCommand::EndAcw).await,
        Err(ActorsError::Rejected(_))
    ));
    assert!(matches!(
        node.user_command(
            TENANT,
            u(1),
            UserCommand::SetProfile(ProfileId::from_u128(0xdead))
        )
        .await,
        Err(ActorsError::Invalid { .. })
    ));
    assert!(matches!(
        node.user_command(
            TENANT,
            u(1),
            UserCommand::SetActive {
                service: s(9),
                active: true
            }
        )
        .await,
        Err(ActorsError::Invalid { .. })
    ));
    assert!(matches!(
        node.user_command(TENANT, u(9), UserCommand::ResetRona)
            .await,
        Err(ActorsError::UnknownUser)
    ));
    node.user_command(
        TENANT,
        u(1),
        UserCommand::SetProfile(ResponsibilityProfile::OFF_DUTY),
    )
    .await
    .unwrap();
    assert_eq!(
        node.user_live(TENANT, u(1)).await.unwrap().active_profile,
        ResponsibilityProfile::OFF_DUTY
    );
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn load_tenant_reconciles_added_changed_and_removed_services_and_users() {
    let w = World::start(snapshot(
        vec![service(1, Distribution::DirectConference)],
        vec![user(1, &[1]), user(2, &[1])],
    ))
    .await;
    // REST writes: a new service with a new member, user 2 removed, service 1 renamed.
    w.store
        .save_service(service(2, Distribution::DirectConference))
        .await
        .unwrap();
    w.store.save_user(user(3, &[2])).await.unwrap();
    w.store.delete_user(TENANT, u(2)).await.unwrap();
    let mut renamed = service(1, Distribution::Broadcast { batch: 2 });
    renamed.name = "renamed".into();
    w.store.save_service(renamed).await.unwrap();
    w.node.load_tenant(TENANT).await.unwrap();
    w.settle().await;

    assert!(matches!(
        w.node.user_live(TENANT, u(2)).await,
        Err(ActorsError::UnknownUser)
    ));
    let mut w = w;
    w.online(u(3)).await;
    let task = w.incoming("call-2", 2).await;
    w.platform("call-2", CallEventKind::Established).await;
    assert_eq!(w.commands(task), ["answer", "ring u3"]);
    // Service 1 now broadcasts: a call rings its remaining member.
    w.online(u(1)).await;
    let other = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    assert_eq!(w.commands(other), ["answer", "ring u1"]);
    assert_eq!(
        w.node
            .service_live(TENANT, s(1))
            .await
            .unwrap()
            .users_by_status,
        [(UserStatus::Ringing, 1)]
    );
    w.wait(Duration::from_secs(1)).await;
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_removed_service_ends_its_waiting_calls() {
    let w = World::start(snapshot(
        vec![service(1, Distribution::DirectConference)],
        vec![user(1, &[1])],
    ))
    .await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.store.delete_service(TENANT, s(1)).await.unwrap();
    w.node.load_tenant(TENANT).await.unwrap();
    w.settle().await;
    assert_eq!(w.commands(task), ["answer", "hangup"]);
    assert_eq!(w.events(task).last().unwrap(), "Terminated(QueueTimeout)");
    assert!(matches!(
        w.node.service_live(TENANT, s(1)).await,
        Err(ActorsError::UnknownService)
    ));
    w.finish().await;
}
