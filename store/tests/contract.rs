//! The store contract: every test runs against SQLite and, when a server is configured, a fresh
//! PostgreSQL database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::sync::Arc;
use stratus_routing::config::values::{ParameterId, ParameterValue};
use stratus_routing::config::{Membership, OrgUnit, Role, Skill, UserConfig};
use stratus_routing::ids::{Guid, OrgUnitId, PartnerId, SkillCategoryId, WorkflowId};
use stratus_routing::port::{
    OpeningHours, ParameterDefinition, Partner, StoreError, TenantSnapshot, TriggerSubscription,
    Workflow,
};
use stratus_routing::task::{Outcome, OutcomeGroup, TaskEventKind, UserSessionOutcome};
use stratus_routing::time::Instant;
use stratus_routing::user::UserStatus;
use stratus_store::FullStore;

/// Sorted by id, as the store returns them.
fn normalized(mut s: TenantSnapshot) -> TenantSnapshot {
    s.services.sort_by_key(|x| x.id);
    s.users.sort_by_key(|x| x.id);
    s.skill_categories.sort_by_key(|x| x.id);
    s.skills.sort_by_key(|x| x.id);
    s.profiles.sort_by_key(|x| x.id);
    s.policies.sort_by_key(|x| x.id);
    s.not_available_reasons.sort_by_key(|x| x.id);
    s
}

#[tokio::test]
async fn configuration_round_trips() {
    for b in backends().await {
        let s = b.store.as_ref();
        let config = configuration(1);
        save_configuration(s, &config).await;
        let loaded = s.load_tenant(tenant_id(1)).await.unwrap();
        assert_eq!(loaded, normalized(config.clone()), "{}", b.name);
        assert_eq!(
            s.list_tenants().await.unwrap(),
            vec![tenant(1)],
            "{}",
            b.name
        );

        // Saving again overwrites, children included.
        let mut changed = config.clone();
        changed.tenant.name = "Renamed".into();
        changed.services[0].queue_capacity = 7;
        changed.users[0].memberships = vec![Membership {
            service: common::SUPPORT,
            role: Role::Agent,
            active: true,
        }];
        changed.users[0].skills.truncate(1);
        changed.skill_categories[0].levels.pop();
        save_configuration(s, &changed).await;
        assert_eq!(
            s.load_tenant(tenant_id(1)).await.unwrap(),
            normalized(changed.clone()),
            "{}",
            b.name
        );

        // Deleting a service takes its memberships along; deleting a user removes the user.
        s.delete_service(tenant_id(1), common::SUPPORT)
            .await
            .unwrap();
        let after = s.load_tenant(tenant_id(1)).await.unwrap();
        assert!(
            after.services.iter().all(|x| x.id != common::SUPPORT),
            "{}",
            b.name
        );
        let alice = after.users.iter().find(|u| u.id == ALICE).unwrap();
        assert!(
            alice.memberships.is_empty(),
            "{}: {:?}",
            b.name,
            alice.memberships
        );
        s.delete_user(tenant_id(1), BOB).await.unwrap();
        let after = s.load_tenant(tenant_id(1)).await.unwrap();
        assert_eq!(
            after.users.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![ALICE],
            "{}",
            b.name
        );

        assert_eq!(
            s.load_tenant(tenant_id(99)).await.unwrap_err(),
            StoreError::NotFound {
                entity: "tenant",
                id: tenant_id(99).to_string()
            },
            "{}",
            b.name
        );
        assert!(
            matches!(
                s.delete_user(tenant_id(1), BOB).await,
                Err(StoreError::NotFound { .. })
            ),
            "{}",
            b.name
        );
    }
}

fn admin_entities(
    n: u128,
) -> (
    OrgUnit,
    OrgUnit,
    Workflow,
    OpeningHours,
    ParameterDefinition,
    TriggerSubscription,
) {
    let t = tenant_id(n);
    let root = OrgUnit {
        id: OrgUnitId::from_u128(0x01),
        tenant: t,
        name: format!("Root {n}"),
        parent: None,
    };
    let child = OrgUnit {
        id: OrgUnitId::from_u128(0x02),
        tenant: t,
        name: "Child".into(),
        parent: Some(root.id),
    };
    let workflow = Workflow {
        id: WorkflowId::from_u128(0xf1),
        tenant: t,
        name: format!("Default {n}"),
        service: Some(SALES),
        definition: r#"{"steps":[{"kind":"Queue"}]}"#.into(),
    };
    let hours = OpeningHours {
        id: Guid::from_u128(0x0b),
        tenant: t,
        name: format!("Office {n}"),
        time_zone: "Europe/Zurich".into(),
        schedule: r#"{"mon":["08:00-17:00"]}"#.into(),
    };
    let parameter = ParameterDefinition {
        tenant: t,
        id: ParameterId::new("OrderNo").unwrap(),
        description: format!("Order number {n}"),
        default_value: ParameterValue::new("none").unwrap(),
    };
    let trigger = TriggerSubscription {
        id: Guid::from_u128(0x77),
        tenant: t,
        url: format!("https://hooks.example.com/{n}"),
        events: vec![TaskEventKind::Queued, TaskEventKind::Terminated],
        secret: Some("s3cret".into()),
        active: true,
    };
    (root, child, workflow, hours, parameter, trigger)
}

async fn save_admin_entities(s: &dyn FullStore, n: u128) {
    let (root, child, workflow, hours, parameter, trigger) = admin_entities(n);
    s.save_org_unit(root).await.unwrap();
    s.save_org_unit(child).await.unwrap();
    s.save_workflow(workflow).await.unwrap();
    s.save_opening_hours(hours).await.unwrap();
    s.save_parameter(parameter).await.unwrap();
    s.save_trigger_subscription(trigger).await.unwrap();
}

#[tokio::test]
async fn administration_entities_round_trip() {
    for b in backends().await {
        let s = b.store.as_ref();
        let partner = Partner {
            id: PartnerId::from_u128(0xa1),
            name: "Reseller".into(),
        };
        s.save_partner(partner.clone()).await.unwrap();
        assert_eq!(
            s.list_partners().await.unwrap(),
            vec![partner],
            "{}",
            b.name
        );

        save_configuration(s, &configuration(1)).await;
        save_admin_entities(s, 1).await;
        let (root, child, workflow, hours, parameter, trigger) = admin_entities(1);
        let t = tenant_id(1);
        assert_eq!(
            s.list_org_units(t).await.unwrap(),
            vec![root.clone(), child.clone()],
            "{}",
            b.name
        );
        assert_eq!(
            s.list_workflows(t).await.unwrap(),
            vec![workflow.clone()],
            "{}",
            b.name
        );
        assert_eq!(
            s.list_opening_hours(t).await.unwrap(),
            vec![hours.clone()],
            "{}",
            b.name
        );
        assert_eq!(
            s.list_parameters(t).await.unwrap(),
            vec![parameter.clone()],
            "{}",
            b.name
        );
        assert_eq!(
            s.list_trigger_subscriptions(t).await.unwrap(),
            vec![trigger.clone()],
            "{}",
            b.name
        );

        // The webhook outbox: queued, due, failed (rescheduled), delivered.
        let first = s
            .enqueue_webhook(t, trigger.id, "{\"n\":1}".into(), Instant::from_millis(100))
            .await
            .unwrap();
        let second = s
            .enqueue_webhook(t, trigger.id, "{\"n\":2}".into(), Instant::from_millis(200))
            .await
            .unwrap();
        assert!(second > first, "{}", b.name);
        let due = s
            .due_webhooks(t, Instant::from_millis(150), 10)
            .await
            .unwrap();
        assert_eq!(
            due.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![first],
            "{}",
            b.name
        );
        assert_eq!(
            (
                due[0].payload.as_str(),
                due[0].attempts,
                due[0].subscription
            ),
            ("{\"n\":1}", 0, trigger.id)
        );
        s.webhook_failed(t, first, "503".into(), Instant::from_millis(1_000))
            .await
            .unwrap();
        let due = s
            .due_webhooks(t, Instant::from_millis(500), 10)
            .await
            .unwrap();
        assert_eq!(
            due.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![second],
            "{}",
            b.name
        );
        let due = s
            .due_webhooks(t, Instant::from_millis(1_000), 10)
            .await
            .unwrap();
        assert_eq!(due.len(), 2, "{}", b.name);
        let retried = due.iter().find(|d| d.id == first).unwrap();
        assert_eq!(
            (retried.attempts, retried.last_error.as_deref()),
            (1, Some("503")),
            "{}",
            b.name
        );
        s.webhook_delivered(t, first, Instant::from_millis(1_001))
            .await
            .unwrap();
        let due = s
            .due_webhooks(t, Instant::from_millis(5_000), 1)
            .await
            .unwrap();
        assert_eq!(
            due.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![second],
            "{}",
            b.name
        );

        // Deletes, and NotFound for what is not there.
        s.delete_org_unit(t, child.id).await.unwrap();
        s.delete_workflow(t, workflow.id).await.unwrap();
        s.delete_opening_hours(t, hours.id).await.unwrap();
        s.delete_parameter(t, parameter.id.clone()).await.unwrap();
        s.delete_trigger_subscription(t, trigger.id).await.unwrap();
        assert_eq!(s.list_org_units(t).await.unwrap(), vec![root], "{}", b.name);
        assert!(s.list_workflows(t).await.unwrap().is_empty(), "{}", b.name);
        assert!(
            s.list_opening_hours(t).await.unwrap().is_empty(),
            "{}",
            b.name
        );
        assert!(s.list_parameters(t).await.unwrap().is_empty(), "{}", b.name);
        assert!(
            s.list_trigger_subscriptions(t).await.unwrap().is_empty(),
            "{}",
            b.name
        );
        // The outbox went with its subscription.
        assert!(
            s.due_webhooks(t, Instant::from_millis(5_000), 10)
                .await
                .unwrap()
                .is_empty(),
            "{}",
            b.name
        );
        assert!(
            matches!(
                s.delete_workflow(t, workflow.id).await,
                Err(StoreError::NotFound { .. })
            ),
            "{}",
            b.name
        );

        // Deleting configuration entities.
        s.delete_user(t, ALICE).await.unwrap();
        s.delete_service(t, SALES).await.unwrap();
        s.delete_policy(t, POLICY).await.unwrap();
        s.delete_profile(t, CUSTOM_PROFILE).await.unwrap();
        s.delete_not_available_reason(t, LUNCH).await.unwrap();
        s.delete_skill(t, VIP).await.unwrap();
        let left = s.load_tenant(t).await.unwrap();
        assert!(
            left.policies.is_empty() && left.not_available_reasons.is_empty(),
            "{}",
            b.name
        );
        assert_eq!(left.profiles.len(), 2, "{}", b.name);
        assert!(left.skills.iter().all(|x| x.id != VIP), "{}", b.name);
        s.delete_skill(t, GERMAN).await.unwrap();
        s.delete_skill(t, ENGLISH).await.unwrap();
        s.delete_skill_category(t, common::CATEGORY).await.unwrap();
        let left = s.load_tenant(t).await.unwrap();
        assert_eq!(
            left.skill_categories
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>(),
            vec![common::TRAITS],
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn runtime_data_and_reporting_facts_round_trip() {
    for b in backends().await {
        let s = b.store.as_ref();
        save_configuration(s, &configuration(1)).await;
        let t = tenant_id(1);

        // Live tasks: snapshot, newer snapshot, stale snapshot ignored, removal.
        let mut snap = live_task(t, task_id(1), 3);
        s.snapshot_live_task(snap.clone()).await.unwrap();
        s.snapshot_live_task(live_task(t, task_id(2), 1))
            .await
            .unwrap();
        assert_eq!(
            s.load_live_tasks(t).await.unwrap(),
            vec![snap.clone(), live_task(t, task_id(2), 1)],
            "{}",
            b.name
        );
        snap.seq = 5;
        snap.state = stratus_routing::task::TaskStateKind::Offered;
        s.snapshot_live_task(snap.clone()).await.unwrap();
        s.snapshot_live_task(live_task(t, task_id(1), 4))
            .await
            .unwrap();
        assert_eq!(
            s.load_live_tasks(t).await.unwrap()[0],
            snap,
            "{}: a stale snapshot replaced a newer one",
            b.name
        );
        s.remove_live_task(t, task_id(2)).await.unwrap();
        s.remove_live_task(t, task_id(2)).await.unwrap();
        assert_eq!(
            s.load_live_tasks(t).await.unwrap(),
            vec![snap],
            "{}",
            b.name
        );

        // The event log, replays included.
        let events = vec![
            event(t, task_id(1), 1, TaskEventKind::Queued, 10),
            event(t, task_id(1), 2, TaskEventKind::ParameterUpdated, 11),
            event(t, task_id(1), 3, TaskEventKind::Terminated, 12),
        ];
        s.append_events(events.clone()).await.unwrap();
        s.append_events(events[1..].to_vec()).await.unwrap();
        assert_eq!(
            s.task_events(t, task_id(1)).await.unwrap(),
            events,
            "{}",
            b.name
        );
        assert!(
            s.task_events(t, task_id(2)).await.unwrap().is_empty(),
            "{}",
            b.name
        );

        // Service sessions and the unified session they fold into (a transfer: two services).
        let first = service_session(
            t,
            task_id(1),
            0,
            SALES,
            1_000,
            5_000,
            Outcome::UserInternalTransferSuccess,
        );
        let second = service_session(
            t,
            task_id(1),
            1,
            common::SUPPORT,
            5_000,
            9_000,
            Outcome::UserAccepted,
        );
        let other = service_session(
            t,
            task_id(2),
            0,
            SALES,
            2_000,
            3_000,
            Outcome::CustomerHangupInQueue,
        );
        s.record_service_sessions(vec![second.clone(), other.clone()])
            .await
            .unwrap();
        s.record_service_sessions(vec![first.clone(), second.clone()])
            .await
            .unwrap();
        assert_eq!(
            s.service_sessions(t, Some(task_id(1))).await.unwrap(),
            vec![first.clone(), second.clone()],
            "{}",
            b.name
        );
        assert_eq!(
            s.service_sessions(t, None).await.unwrap(),
            vec![first, other, second],
            "{}",
            b.name
        );
        let unified = s.unified_sessions(t, Some(task_id(1))).await.unwrap();
        assert_eq!(unified.len(), 1, "{}", b.name);
        let u = &unified[0];
        assert_eq!(
            (
                u.first_service,
                u.last_service,
                u.outcome,
                u.service_sessions
            ),
            (SALES, common::SUPPORT, Outcome::UserAccepted, 2),
            "{}",
            b.name
        );
        assert_eq!(
            (u.started_at, u.ended_at),
            (Instant::from_millis(1_000), Instant::from_millis(9_000)),
            "{}",
            b.name
        );
        assert_eq!(
            s.unified_sessions(t, None).await.unwrap().len(),
            2,
            "{}",
            b.name
        );

        // User sessions and user states.
        let us = vec![
            user_session(t, task_id(1), 1, ALICE, UserSessionOutcome::Rona),
            user_session(t, task_id(1), 2, BOB, UserSessionOutcome::Accepted),
            user_session(t, task_id(2), 3, BOB, UserSessionOutcome::LostRace),
        ];
        s.record_user_sessions(us.clone()).await.unwrap();
        s.record_user_sessions(us[..1].to_vec()).await.unwrap();
        assert_eq!(
            s.user_sessions(t, Some(task_id(1))).await.unwrap(),
            us[..2].to_vec(),
            "{}",
            b.name
        );
        assert_eq!(s.user_sessions(t, None).await.unwrap(), us, "{}", b.name);
        let states = vec![
            user_state(t, ALICE, 0, 100, UserStatus::Idle),
            user_state(t, ALICE, 100, 200, UserStatus::Ringing),
            user_state(t, BOB, 50, 300, UserStatus::NotAvailableReason),
            user_state(t, ALICE, 200, 400, UserStatus::WrapUp),
        ];
        s.record_user_states(states.clone()).await.unwrap();
        s.record_user_states(states.clone()).await.unwrap();
        let window = s
            .user_states(
                t,
                None,
                Instant::from_millis(100),
                Instant::from_millis(250),
            )
            .await
            .unwrap();
        assert_eq!(
            window,
            vec![states[2].clone(), states[1].clone(), states[3].clone()],
            "{}",
            b.name
        );
        let alice = s
            .user_states(t, Some(ALICE), Instant::ZERO, Instant::from_millis(1_000))
            .await
            .unwrap();
        assert_eq!(
            alice,
            vec![states[0].clone(), states[1].clone(), states[3].clone()],
            "{}",
            b.name
        );

        // Outcomes and groups: the documented ids and names, ours from 8.
        let outcomes = s.outcomes(t).await.unwrap();
        assert_eq!(outcomes.len(), Outcome::ALL.len(), "{}", b.name);
        for (stored, o) in outcomes.iter().zip(Outcome::ALL) {
            assert_eq!(
                (
                    stored.id,
                    stored.name.as_str(),
                    stored.group,
                    stored.means_handled
                ),
                (o.id(), o.name(), o.group(), o.means_handled())
            );
        }
        assert_eq!(
            (outcomes[3].id, outcomes[3].name.as_str()),
            (4, "Customer Hangup In Queue"),
            "{}",
            b.name
        );
        let groups = s.outcome_groups(t).await.unwrap();
        assert_eq!(
            groups
                .iter()
                .map(|g| (g.id, g.name.clone()))
                .collect::<Vec<_>>(),
            OutcomeGroup::ALL
                .iter()
                .map(|g| (g.id(), g.name().to_owned()))
                .collect::<Vec<_>>(),
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn retention_forgets_context_of_long_ended_tasks_and_keeps_facts() {
    for b in backends().await {
        let s = b.store.as_ref();
        save_configuration(s, &configuration(1)).await;
        let t = tenant_id(1);
        let day = 24 * 3600 * 1000;
        let now = 100 * day;
        // Task 1 ended 31 days ago, task 2 ended 29 days ago, task 3 is still running.
        for (task, end) in [(1, now - 31 * day), (2, now - 29 * day)] {
            s.append_events(vec![
                event(
                    t,
                    task_id(task),
                    1,
                    TaskEventKind::ParameterUpdated,
                    end - 5,
                ),
                event(t, task_id(task), 2, TaskEventKind::Terminated, end),
            ])
            .await
            .unwrap();
        }
        s.append_events(vec![event(
            t,
            task_id(3),
            1,
            TaskEventKind::ParameterUpdated,
            now - 40 * day,
        )])
        .await
        .unwrap();
        let fact = service_session(
            t,
            task_id(1),
            0,
            SALES,
            now - 32 * day,
            now - 31 * day,
            Outcome::UserAccepted,
        );
        s.record_service_sessions(vec![fact.clone()]).await.unwrap();

        let purged = stratus_store::purge_expired_context(s, 30, Instant::from_millis(now))
            .await
            .unwrap();
        assert_eq!(purged, 1, "{}", b.name);
        let old = s.task_events(t, task_id(1)).await.unwrap();
        assert_eq!(
            (old.len(), old[0].parameter.as_ref()),
            (2, None),
            "{}",
            b.name
        );
        for task in [2, 3] {
            let kept = s.task_events(t, task_id(task)).await.unwrap();
            assert!(
                kept[0].parameter.is_some(),
                "{}: task {task} lost its context",
                b.name
            );
        }
        assert_eq!(
            s.service_sessions(t, None).await.unwrap(),
            vec![fact],
            "{}",
            b.name
        );
        assert_eq!(
            stratus_store::purge_expired_context(s, 30, Instant::from_millis(now))
                .await
                .unwrap(),
            0,
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn no_query_of_one_tenant_returns_another_tenants_rows() {
    for b in backends().await {
        let s = b.store.as_ref();
        // Both tenants use the very same entity ids; only names differ.
        for n in [1, 2] {
            save_configuration(s, &configuration(n)).await;
            save_admin_entities(s, n).await;
            let t = tenant_id(n);
            s.snapshot_live_task(live_task(t, task_id(1), n as u64))
                .await
                .unwrap();
            s.append_events(vec![event(
                t,
                task_id(1),
                1,
                TaskEventKind::Queued,
                n as u64,
            )])
            .await
            .unwrap();
            s.record_service_sessions(vec![service_session(
                t,
                task_id(1),
                0,
                SALES,
                0,
                n as u64,
                Outcome::UserAccepted,
            )])
            .await
            .unwrap();
            s.record_user_sessions(vec![user_session(
                t,
                task_id(1),
                1,
                ALICE,
                UserSessionOutcome::Accepted,
            )])
            .await
            .unwrap();
            s.record_user_states(vec![user_state(t, ALICE, 0, 10, UserStatus::Idle)])
                .await
                .unwrap();
            let (_, _, _, _, _, trigger) = admin_entities(n);
            s.enqueue_webhook(t, trigger.id, format!("tenant {n}"), Instant::ZERO)
                .await
                .unwrap();
        }
        for (n, other) in [(1, 2), (2, 1)] {
            let t = tenant_id(n);
            let mine = |x: &dyn std::fmt::Debug| {
                let text = format!("{x:?}");
                assert!(
                    !text.contains(&tenant_id(other).to_string()),
                    "{}: tenant {n} saw tenant {other}: {text}",
                    b.name
                );
            };
            let snapshot = s.load_tenant(t).await.unwrap();
            assert_eq!(snapshot, normalized(configuration(n)), "{}", b.name);
            mine(&snapshot);
            mine(&s.list_org_units(t).await.unwrap());
            mine(&s.list_workflows(t).await.unwrap());
            mine(&s.list_opening_hours(t).await.unwrap());
            let params = s.list_parameters(t).await.unwrap();
            assert_eq!(params.len(), 1, "{}", b.name);
            assert_eq!(
                params[0].description,
                format!("Order number {n}"),
                "{}",
                b.name
            );
            mine(&s.list_trigger_subscriptions(t).await.unwrap());
            let live = s.load_live_tasks(t).await.unwrap();
            assert_eq!(
                live.iter().map(|l| l.seq).collect::<Vec<_>>(),
                vec![n as u64],
                "{}",
                b.name
            );
            mine(&live);
            mine(&s.task_events(t, task_id(1)).await.unwrap());
            mine(&s.service_sessions(t, None).await.unwrap());
            mine(&s.service_sessions(t, Some(task_id(1))).await.unwrap());
            mine(&s.unified_sessions(t, None).await.unwrap());
            mine(&s.user_sessions(t, None).await.unwrap());
            mine(
                &s.user_states(t, None, Instant::ZERO, Instant::from_millis(100))
                    .await
                    .unwrap(),
            );
            let due = s
                .due_webhooks(t, Instant::from_millis(1), 10)
                .await
                .unwrap();
            assert_eq!(
                due.iter().map(|d| d.payload.clone()).collect::<Vec<_>>(),
                vec![format!("tenant {n}")],
                "{}",
                b.name
            );
            mine(&due);
            assert_eq!(
                s.outcomes(t).await.unwrap().len(),
                Outcome::ALL.len(),
                "{}",
                b.name
            );
        }
        // Deleting in tenant 1 leaves tenant 2's row with the same id alone.
        s.delete_user(tenant_id(1), ALICE).await.unwrap();
        assert!(
            s.load_tenant(tenant_id(2))
                .await
                .unwrap()
                .users
                .iter()
                .any(|u| u.id == ALICE),
            "{}",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_lose_nothing() {
    for b in backends().await {
        save_configuration(b.store.as_ref(), &configuration(1)).await;
        let t = tenant_id(1);
        let writers: Vec<_> = (0..16u128)
            .map(|w| {
                let store: Arc<dyn FullStore> = Arc::clone(&b.store);
                tokio::spawn(async move {
                    for i in 0..10u128 {
                        let n = w * 100 + i;
                        let mut user = UserConfig {
                            id: stratus_routing::ids::UserId::from_u128(0x1000 + n),
                            upn: format!("user{n}@example.com"),
                            ..configuration(1).users[1].clone()
                        };
                        user.memberships = vec![Membership {
                            service: SALES,
                            role: Role::Agent,
                            active: true,
                        }];
                        store.save_user(user).await.unwrap();
                        store
                            .save_skill(Skill {
                                id: stratus_routing::ids::SkillId::from_u128(0x2000 + n),
                                tenant: t,
                                category: common::TRAITS,
                                name: format!("s{n}"),
                            })
                            .await
                            .unwrap();
                        store
                            .append_events(
                                (1..=5)
                                    .map(|seq| {
                                        event(t, task_id(n), seq, TaskEventKind::Queued, seq)
                                    })
                                    .collect(),
                            )
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        let s = b.store.as_ref();
        let snapshot = s.load_tenant(t).await.unwrap();
        assert_eq!(snapshot.users.len(), 2 + 160, "{}", b.name);
        assert_eq!(snapshot.skills.len(), 3 + 160, "{}", b.name);
        assert!(
            snapshot
                .users
                .iter()
                .filter(|u| u.upn.starts_with("user"))
                .all(|u| u.memberships.len() == 1),
            "{}",
            b.name
        );
        for w in 0..16u128 {
            for i in 0..10u128 {
                assert_eq!(
                    s.task_events(t, task_id(w * 100 + i)).await.unwrap().len(),
                    5,
                    "{}",
                    b.name
                );
            }
        }
    }
}

#[tokio::test]
async fn bad_data_is_a_typed_constraint_error_and_changes_nothing() {
    for b in backends().await {
        let s = b.store.as_ref();
        save_configuration(s, &configuration(1)).await;
        let t = tenant_id(1);
        let constraint = |r: Result<(), StoreError>, what: &str| {
            assert!(
                matches!(r, Err(StoreError::Constraint(_))),
                "{}: {what}: {r:?}",
                b.name
            );
        };
        constraint(
            s.save_skill(Skill {
                id: stratus_routing::ids::SkillId::from_u128(0x99),
                tenant: t,
                category: SkillCategoryId::from_u128(0xdead),
                name: "x".into(),
            })
            .await,
            "skill in an unknown category",
        );
        // A user whose second membership names an unknown service: nothing of it is stored.
        let mut ghost = configuration(1).users[1].clone();
        ghost.id = stratus_routing::ids::UserId::from_u128(0x6057);
        ghost.memberships = vec![
            Membership {
                service: SALES,
                role: Role::Agent,
                active: true,
            },
            Membership {
                service: stratus_routing::ids::ServiceId::from_u128(0xdead),
                role: Role::Agent,
                active: true,
            },
        ];
        constraint(
            s.save_user(ghost.clone()).await,
            "membership of an unknown service",
        );
        assert!(
            s.load_tenant(t)
                .await
                .unwrap()
                .users
                .iter()
                .all(|u| u.id != ghost.id),
            "{}: half a user was stored",
            b.name
        );
        constraint(
            s.delete_policy(t, POLICY).await,
            "deleting a policy a service uses",
        );
        constraint(
            s.delete_skill_category(t, common::CATEGORY).await,
            "deleting a category that has skills",
        );
        constraint(
            s.append_events(vec![event(
                tenant_id(404),
                task_id(1),
                1,
                TaskEventKind::Queued,
                1,
            )])
            .await,
            "an event of an unknown tenant",
        );
        constraint(
            s.record_service_sessions(vec![service_session(
                tenant_id(404),
                task_id(1),
                0,
                SALES,
                0,
                1,
                Outcome::UserAccepted,
            )])
            .await,
            "a fact of an unknown tenant",
        );
        let mut child = admin_entities(1).1;
        child.parent = Some(OrgUnitId::from_u128(0xdead));
        constraint(
            s.save_org_unit(child).await,
            "an org unit under an unknown parent",
        );
        // The configuration is intact.
        assert_eq!(
            s.load_tenant(t).await.unwrap(),
            normalized(configuration(1)),
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn open_picks_the_back_end_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("by-url.db").display());
    let store = stratus_store::open(&url).await.unwrap();
    store.save_tenant(tenant(1)).await.unwrap();
    drop(store);
    // Reopening the file finds the data (and runs no migration twice).
    let again = stratus_store::open(dir.path().join("by-url.db").to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(again.list_tenants().await.unwrap(), vec![tenant(1)]);
    let memory = stratus_store::open("sqlite::memory:").await.unwrap();
    memory.save_tenant(tenant(2)).await.unwrap();
    assert_eq!(memory.list_tenants().await.unwrap(), vec![tenant(2)]);
    assert!(matches!(
        stratus_store::open("mysql://localhost/x").await,
        Err(StoreError::Other(_))
    ));
    if let Some(url) = pg_url() {
        let db = fresh_pg_database(&url).await;
        let pg = stratus_store::open(&db).await.unwrap();
        pg.save_tenant(tenant(3)).await.unwrap();
        let as_store: Arc<dyn stratus_routing::port::Store> = pg;
        assert_eq!(as_store.list_tenants().await.unwrap(), vec![tenant(3)]);
    }
}

#[tokio::test]
async fn outcomes_added_since_a_tenant_was_saved_reach_it_at_the_next_start() {
    for b in backends().await {
        b.store.save_tenant(tenant(1)).await.unwrap();
        // As if the tenant had been saved by a version that knew one outcome less.
        let delete = "DELETE FROM outcomes WHERE id = 15";
        if b.name == "postgres" {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&b.url)
                .await
                .unwrap();
            sqlx::query(delete).execute(&mut c).await.unwrap();
        } else {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&b.url)
                .await
                .unwrap();
            sqlx::query(delete).execute(&mut c).await.unwrap();
        }
        assert_eq!(
            b.store.outcomes(tenant_id(1)).await.unwrap().len(),
            Outcome::ALL.len() - 1,
            "{}",
            b.name
        );
        let restarted = stratus_store::open(&b.url).await.unwrap();
        assert_eq!(
            restarted.outcomes(tenant_id(1)).await.unwrap().len(),
            Outcome::ALL.len(),
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn a_restored_task_continues_after_the_last_stored_event_and_service_session() {
    for b in backends().await {
        let s = b.store.as_ref();
        save_configuration(s, &configuration(1)).await;
        let t = tenant_id(1);
        // The snapshot lags: it says seq 3, while events up to 7 and the first service session
        // (a transfer followed) were stored after it.
        s.snapshot_live_task(live_task(t, task_id(1), 3))
            .await
            .unwrap();
        let events: Vec<_> = (1..=7)
            .map(|n| {
                event(
                    t,
                    task_id(1),
                    n,
                    TaskEventKind::Queued,
                    1_700_000_000_000 + n,
                )
            })
            .collect();
        s.append_events(events).await.unwrap();
        s.record_service_sessions(vec![service_session(
            t,
            task_id(1),
            0,
            SALES,
            1_700_000_000_000,
            1_700_000_001_000,
            Outcome::UserInternalTransferSuccess,
        )])
        .await
        .unwrap();
        let live = s.load_live_tasks(t).await.unwrap();
        assert_eq!(
            live[0].seq, 7,
            "{}: numbering continues after the stored events",
            b.name
        );
        assert_eq!(
            live[0].session_index, 1,
            "{}: the next service session",
            b.name
        );
    }
}

#[tokio::test]
async fn a_microsoft_365_tenant_and_a_resource_account_are_bound_once() {
    for b in backends().await {
        let s = b.store.as_ref();
        let mut first = configuration(1).tenant;
        first.m365_tenant = stratus_routing::ids::M365TenantId::from_u128(0xb0_0001);
        s.save_tenant(first.clone()).await.unwrap();
        let mut second = configuration(2).tenant;
        second.m365_tenant = first.m365_tenant;
        let e = s.save_tenant(second).await.unwrap_err();
        assert!(matches!(e, StoreError::Constraint(_)), "{}: {e:?}", b.name);
    }
}
