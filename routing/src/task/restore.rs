//! Rebuilding a waiting task from its live snapshot after a restart (of the node or of the
//! task's actor): the task is Queued again in its service, keeps its creation and queue times,
//! and numbers its next event after the snapshot's last one.

use super::{SessionClock, Task, TaskState};
use crate::port::LiveTaskSnapshot;
use crate::time::Instant;
use std::time::Duration;

impl Task {
    /// A task waiting in `snapshot.service` since `snapshot.queued_at` (or `now` when unknown).
    /// Returns `None` when the snapshot names no service. Offers it had are gone with the
    /// restart; the queue offers the task afresh.
    pub fn restore_waiting(
        now: Instant,
        snapshot: &LiveTaskSnapshot,
        max_wait: Duration,
        sla: Duration,
    ) -> Option<Task> {
        let service = snapshot.service?;
        let queued_at = snapshot.queued_at.unwrap_or(now);
        let mut clock = SessionClock::new(snapshot.created_at, snapshot.session_index);
        clock.service = Some(service);
        clock.entered_state_at = queued_at;
        clock.queued_once = true;
        clock.queued_at = Some(queued_at);
        clock.max_wait = max_wait;
        clock.sla = sla;
        Some(Task {
            id: snapshot.task,
            tenant: snapshot.tenant,
            modality: snapshot.modality,
            direction: snapshot.direction,
            priority: snapshot.priority,
            created_at: snapshot.created_at,
            system: snapshot.system.clone(),
            context: snapshot.context.clone(),
            preferred: snapshot.preferred.clone(),
            customer: snapshot.customer.clone(),
            service_chain: vec![service],
            state: TaskState::Queued { service },
            outcome: None,
            seq: snapshot.seq,
            clock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OfferId, ServiceId, TaskId, TenantId, UserId};
    use crate::model::{Direction, Modality, Priority};
    use crate::task::{TaskEventKind, TaskInput, TaskStateKind};

    fn snapshot() -> LiveTaskSnapshot {
        LiveTaskSnapshot {
            tenant: TenantId::from_u128(1),
            task: TaskId::from_u128(2),
            call: None,
            service: Some(ServiceId::from_u128(3)),
            modality: Modality::Call,
            direction: Direction::Inbound,
            priority: Priority::High,
            state: TaskStateKind::Offered,
            created_at: Instant::from_secs(100),
            queued_at: Some(Instant::from_secs(110)),
            connected_user: None,
            system: Default::default(),
            context: Default::default(),
            preferred: Default::default(),
            customer: Default::default(),
            seq: 7,
            session_index: 1,
        }
    }

    #[test]
    fn a_restored_task_waits_again_and_continues_its_event_numbers() {
        let now = Instant::from_secs(130);
        let mut t = Task::restore_waiting(
            now,
            &snapshot(),
            Duration::from_secs(60),
            Duration::from_secs(20),
        )
        .unwrap();
        assert_eq!(t.state().kind(), TaskStateKind::Queued);
        assert_eq!(t.priority, Priority::High);
        assert_eq!(t.queued_at(), Some(Instant::from_secs(110)));
        assert_eq!(t.queue_deadline(), Some(Instant::from_secs(170)));
        let offer = OfferId(1);
        let user = UserId::from_u128(9);
        let a = t
            .apply(
                now,
                TaskInput::Offer {
                    offer,
                    user,
                    level: None,
                },
            )
            .unwrap();
        assert_eq!(a.events[0].seq, 8);
        assert_eq!(a.events[0].kind, TaskEventKind::Offered);
    }

    #[test]
    fn a_snapshot_without_a_service_cannot_wait() {
        let mut s = snapshot();
        s.service = None;
        assert!(Task::restore_waiting(Instant::ZERO, &s, Duration::ZERO, Duration::ZERO).is_none());
    }
}
