//! The liveness oracle (DESIGN §3.2), written from the design's words rather than the code's
//! helpers: at a quiescent point, no task waits while a user who could take it is idle, except
//! for the documented, bounded pauses (RONA cool-down, busy hold, agent-pull bid window).

use super::Center;
use crate::config::{Assignment, Distribution, ProfileKind, Role, ServiceConfig, UserSkill};
use crate::ids::{TaskId, UserId};
use crate::model::{Activity, Availability, Modality};
use crate::task::TaskState;
use crate::time::Instant;
use crate::user::UserMachine;
use std::time::Duration;

/// How long Teams' "busy" holds a user back for the task that rang them (the documented pause).
const BUSY_PAUSE: Duration = Duration::from_secs(30);

/// Facts the simulation observed, kept for the oracle (never read from the machines' state).
#[derive(Clone, Default, Debug)]
pub(crate) struct Observed {
    /// (task, user, when Teams said busy): the task may leave that user alone for a while.
    pub busy: Vec<(TaskId, UserId, Instant)>,
}

impl Observed {
    pub fn on_busy(&mut self, task: TaskId, user: UserId, at: Instant) {
        self.busy.retain(|b| !(b.0 == task && b.1 == user));
        self.busy.push((task, user, at));
    }

    /// The pause is bounded by 30 s; a presence change may end it sooner, never later.
    fn held(&self, task: TaskId, user: UserId, now: Instant) -> bool {
        self.busy
            .iter()
            .any(|b| b.0 == task && b.1 == user && now < b.2 + BUSY_PAUSE)
    }
}

/// Presence as DESIGN §3.2 states it: Offline, DND and in a call never; Busy and Away by opt-in.
fn presence_allows(m: &UserMachine, c: &ServiceConfig) -> bool {
    let p = m.presence();
    if matches!(
        p.activity,
        Activity::InACall
            | Activity::InAConferenceCall
            | Activity::DoNotDisturb
            | Activity::Presenting
            | Activity::UrgentInterruptionsOnly
    ) {
        return false;
    }
    match p.availability {
        Availability::Available | Availability::AvailableIdle => true,
        Availability::Busy | Availability::BusyIdle => c.busy_selectable,
        Availability::Away | Availability::BeRightBack => c.away_selectable,
        Availability::DoNotDisturb | Availability::Offline | Availability::PresenceUnknown => false,
    }
}

/// Teams-based: an active member. Skill-based: an agent or owner whose profile is not Off Duty.
fn takes_part(m: &UserMachine, c: &ServiceConfig) -> bool {
    let Some(ms) = m.config().memberships.iter().find(|x| x.service == c.id) else {
        return false;
    };
    match c.assignment {
        Assignment::TeamsBased => ms.active,
        Assignment::SkillBased => {
            !matches!(m.profile().kind, ProfileKind::OffDuty)
                && matches!(ms.role, Role::Agent | Role::Owner)
        }
        Assignment::None => false,
    }
}

fn active_skills(m: &UserMachine) -> Vec<UserSkill> {
    match &m.profile().kind {
        ProfileKind::OnDuty => m.config().skills.clone(),
        ProfileKind::OffDuty => Vec::new(),
        ProfileKind::Custom { skills } => skills.clone(),
    }
}

/// Blocking flags and capacity: not ringing, not wrapping up, not in RONA, no Not-Available
/// reason, and a free slot for the modality (a connected call counts against call capacity and,
/// without multitasking, blocks every other modality).
fn free_for(m: &UserMachine, modality: Modality, multitasking: bool) -> bool {
    if m.leases().iter().any(|l| l.ringing)
        || m.acw_until().is_some()
        || m.rona_until().is_some()
        || m.not_available_reason().is_some()
    {
        return false;
    }
    let in_a_call = m.leases().iter().any(|l| l.modality == Modality::Call);
    if modality != Modality::Call && in_a_call && !multitasking {
        return false;
    }
    let held = m.leases().iter().filter(|l| l.modality == modality).count();
    held < usize::from(m.config().capacity.of(modality))
}

impl Center {
    /// Policy level a task has reached after waiting since `since` (1-based; widening over time).
    fn level_reached(&self, service: &ServiceConfig, since: Instant) -> Option<(usize, usize)> {
        let q = self.queues.get(&service.id)?;
        let policy = q.policy()?;
        let mut at = since;
        let mut level = 1;
        for (i, l) in policy.levels.iter().enumerate() {
            level = i + 1;
            if i + 1 == policy.levels.len() {
                break;
            }
            at = at + l.escalate_after.duration();
            if self.now < at {
                break;
            }
        }
        Some((level, policy.levels.len()))
    }

    /// The lowest policy level whose every requirement the user's active skills meet.
    fn user_level(&self, service: &ServiceConfig, m: &UserMachine) -> Option<usize> {
        let policy = self.queues.get(&service.id)?.policy()?;
        let skills = active_skills(m);
        policy.levels.iter().position(|l| {
            l.requirements.iter().all(|r| {
                skills
                    .iter()
                    .any(|s| s.skill == r.skill && s.level >= r.min_level)
            })
        })
    }

    /// Checks the liveness invariant now; every breach becomes a violation.
    pub(crate) fn check_liveness(&mut self) {
        let mut found = Vec::new();
        for call in self.calls.values() {
            let task = call.task();
            let (service, offers) = match task.state() {
                TaskState::Queued { service } => (*service, 0),
                TaskState::Offered { service, offers } => (*service, offers.len()),
                _ => continue,
            };
            let Some(c) = self.queues.get(&service).map(|q| q.config().clone()) else {
                continue;
            };
            let room = match c.distribution {
                Distribution::Broadcast { batch } => usize::from(batch.max(1)),
                Distribution::Direct | Distribution::DirectConference => 1,
                Distribution::Pickup => 0, // agents pull: nothing is pushed
            };
            let Some(since) = task.queued_at() else {
                continue;
            };
            // Past its maximum wait the task only finishes the ring in progress.
            if offers >= room || self.now >= since + c.max_queue_time.duration() {
                continue;
            }
            // A lease asked of a user in an open bid window is answered when it closes: the
            // task is inside that (millisecond) pause.
            if self.users.values().any(|m| {
                m.bid_window_open() && m.config().memberships.iter().any(|x| x.service == c.id)
            }) {
                continue;
            }
            let level = self.level_reached(&c, since);
            for m in self.users.values() {
                let u = m.id();
                if !presence_allows(m, &c)
                    || !takes_part(m, &c)
                    || !free_for(m, task.modality, c.multitasking)
                    || self.observed.held(task.id, u, self.now)
                    || task.pending_offers().iter().any(|p| p.user == u)
                {
                    continue;
                }
                if let Some((task_level, _)) = level {
                    match self.user_level(&c, m) {
                        Some(l) if l < task_level => {}
                        _ => continue,
                    }
                }
                found.push(format!(
                    "liveness at {:?}: task {} waits in {} ({:?}) while user {u} is idle and selectable",
                    self.now,
                    task.id,
                    c.id,
                    task.state().kind()
                ));
            }
        }
        self.violations
            .extend(found.into_iter().map(super::Violation));
    }
}
