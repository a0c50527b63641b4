//! A call flow that does not start from the beginning: a waiting call restored after a restart,
//! and updates of the task's data while the call runs.

use super::{CallEffect, CallFlow, CallTimer, Phase};
use crate::config::ServiceConfig;
use crate::error::TransitionError;
use crate::task::{Applied, DataUpdate, Task, TaskState};
use crate::time::Instant;

impl CallFlow {
    /// A call whose task (see `Task::restore_waiting`) waits in the queue of `service`. The
    /// returned effects re-arm the keep-alive; the runtime enqueues the task again itself.
    pub fn restored(
        now: Instant,
        task: Task,
        service: ServiceConfig,
    ) -> (CallFlow, Vec<CallEffect>) {
        let phase = match task.state() {
            TaskState::Queued { .. } | TaskState::Offered { .. } => Phase::Queued,
            _ => Phase::Answering,
        };
        let flow = CallFlow {
            task,
            service,
            phase,
            ringing: Vec::new(),
            answered: Vec::new(),
            unacknowledged: Vec::new(),
            keep_alive_epoch: 1,
        };
        // The first keep-alive goes out at once: it is how a call that ended while Stratus was
        // down is found out (the platform answers that it is gone), before anyone is rung.
        let effects = vec![CallEffect::ArmTimer {
            timer: CallTimer::KeepAlive { epoch: 1 },
            at: now,
        }];
        (flow, effects)
    }

    /// Changes the task's data (context, customer, preferred users, priority).
    pub fn update_task(
        &mut self,
        now: Instant,
        update: DataUpdate,
    ) -> Result<Vec<CallEffect>, TransitionError> {
        let applied = self.task.update_data(now, update)?;
        if applied == Applied::default() {
            return Ok(Vec::new());
        }
        Ok(vec![CallEffect::Task(Box::new(applied))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::CallInput;
    use crate::ids::{OfferId, ServiceId, TaskId, TenantId, UserId};
    use crate::model::{Direction, Modality, Priority};
    use crate::port::{CallAction, LiveTaskSnapshot};
    use crate::task::TaskStateKind;
    use std::time::Duration;

    #[test]
    fn a_restored_call_takes_offers_again() {
        let service = ServiceConfig {
            id: ServiceId::from_u128(3),
            ..ServiceConfig::default()
        };
        let snap = LiveTaskSnapshot {
            tenant: TenantId::from_u128(1),
            task: TaskId::from_u128(2),
            call: None,
            service: Some(service.id),
            modality: Modality::Call,
            direction: Direction::Inbound,
            priority: Priority::Normal,
            state: TaskStateKind::Queued,
            created_at: Instant::from_secs(1),
            queued_at: Some(Instant::from_secs(2)),
            connected_user: None,
            system: Default::default(),
            context: Default::default(),
            preferred: Default::default(),
            customer: Default::default(),
            seq: 3,
            session_index: 0,
        };
        let now = Instant::from_secs(5);
        let task =
            Task::restore_waiting(now, &snap, Duration::from_secs(60), Duration::from_secs(20))
                .unwrap();
        let (mut flow, effects) = CallFlow::restored(now, task, service);
        assert!(matches!(
            effects.as_slice(),
            [CallEffect::ArmTimer {
                timer: CallTimer::KeepAlive { epoch: 1 },
                ..
            }]
        ));
        let offer = OfferId(9);
        let user = UserId::from_u128(4);
        let out = flow
            .handle(
                now,
                CallInput::Offer {
                    offer,
                    user,
                    level: None,
                    ring_timeout: Duration::from_secs(20),
                    distribution: Default::default(),
                },
            )
            .unwrap();
        assert!(out.iter().any(|e| matches!(
            e,
            CallEffect::Command(CallAction::RingAgent { offer: o, .. }) if *o == offer
        )));
    }
}
