//! Updates of a task's data from outside the flow (Nimbus connector `PUT /v1/tasks/{id}`):
//! context parameters are upserted one event each; customer, preferred users and priority are
//! replaced.

use super::{Applied, ContextParameters, Customer, PreferredUsers, Task, TaskInput};
use crate::error::TransitionError;
use crate::model::Priority;
use crate::time::Instant;

/// What to change; `None` leaves a field as it is.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct DataUpdate {
    pub context: Option<ContextParameters>,
    pub customer: Option<Customer>,
    pub preferred: Option<PreferredUsers>,
    pub priority: Option<Priority>,
}

impl Task {
    /// Applies `update`. A terminated task refuses it (and is unchanged).
    pub fn update_data(
        &mut self,
        now: Instant,
        update: DataUpdate,
    ) -> Result<Applied, TransitionError> {
        if self.state.is_terminal() {
            return Err(TransitionError {
                task: self.id,
                state: self.state.kind(),
                input: TaskInput::Cancel,
            });
        }
        let mut out = Applied::default();
        for (id, value) in update.context.unwrap_or_default() {
            let a = self.apply(now, TaskInput::UpdateParameter { id, value })?;
            out.events.extend(a.events);
        }
        if let Some(c) = update.customer {
            self.customer = c;
        }
        if let Some(p) = update.preferred {
            self.preferred = p;
        }
        if let Some(p) = update.priority {
            self.priority = p;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::values::{ParameterId, ParameterValue};
    use crate::ids::{TaskId, TenantId};
    use crate::model::{Direction, Modality};
    use crate::task::{Outcome, TaskEventKind};

    fn task() -> Task {
        Task::new(
            Instant::ZERO,
            TaskId::from_u128(1),
            TenantId::from_u128(2),
            Modality::ExternalTask,
            Direction::None,
            Default::default(),
        )
        .0
    }

    #[test]
    fn context_parameters_are_upserted_one_event_each() {
        let mut t = task();
        let mut ctx = ContextParameters::new();
        let id = ParameterId::new("order").unwrap();
        ctx.insert(id.clone(), ParameterValue::new("42").unwrap());
        let a = t
            .update_data(
                Instant::from_secs(1),
                DataUpdate {
                    context: Some(ctx),
                    priority: Some(Priority::High),
                    ..DataUpdate::default()
                },
            )
            .unwrap();
        assert_eq!(a.events.len(), 1);
        assert_eq!(a.events[0].kind, TaskEventKind::ParameterUpdated);
        assert_eq!(t.context.get(&id).map(|v| v.as_str()), Some("42"));
        assert_eq!(t.priority, Priority::High);
    }

    #[test]
    fn a_terminated_task_refuses_updates() {
        let mut t = task();
        t.apply(
            Instant::ZERO,
            TaskInput::Disconnect {
                outcome: Outcome::Cancelled,
            },
        )
        .unwrap();
        let r = t.update_data(
            Instant::ZERO,
            DataUpdate {
                priority: Some(Priority::High),
                ..DataUpdate::default()
            },
        );
        assert!(r.is_err());
        assert_eq!(t.priority, Priority::Normal);
    }
}
