//! Rebuilding a user after its runtime lost it: the tasks it is connected to, as the live calls
//! know them, are taken back as connected leases, so capacity and the Connected flag hold again.

use super::{Acw, Rona, UserEffect, UserMachine, UserTimer};
use crate::ids::{NotAvailableReasonId, TaskId};
use crate::offer::Lease;
use crate::time::Instant;
use std::time::Duration;

/// What a rebuilt user keeps of its lost self (the runtime keeps a copy outside the actor):
/// RONA (persistent, or a cool-down still running), wrap-up and the Not-Available reason.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Carried {
    pub not_available: Option<NotAvailableReasonId>,
    /// (until, persistent)
    pub rona: Option<(Instant, bool)>,
    pub acw: Option<CarriedAcw>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CarriedAcw {
    pub tasks: Vec<TaskId>,
    pub until: Instant,
    pub early_end_allowed: bool,
    pub extension: Option<Duration>,
}

impl UserMachine {
    /// The state a rebuilt user must not lose.
    pub fn carried(&self) -> Carried {
        Carried {
            not_available: self.nar,
            rona: self.rona.map(|r| (r.until, r.persistent)),
            acw: self.acw.as_ref().map(|a| CarriedAcw {
                tasks: a.tasks.clone(),
                until: a.until,
                early_end_allowed: a.early_end_allowed,
                extension: a.extension,
            }),
        }
    }

    /// Takes back what the lost self carried; its timers are armed again (one already due
    /// fires at once, so an ACW that ended meanwhile ends now and its tasks hear of it).
    pub fn restore_carried(&mut self, now: Instant, c: &Carried) -> Vec<UserEffect> {
        let mut out = Vec::new();
        self.nar = c.not_available;
        if let Some((until, persistent)) = c.rona {
            let epoch = self.next_epoch();
            self.rona = Some(Rona {
                until,
                epoch,
                persistent,
            });
            out.push(UserEffect::ArmTimer {
                timer: UserTimer::RonaReset { epoch },
                at: until,
            });
        }
        if let Some(a) = &c.acw {
            let epoch = self.next_epoch();
            self.acw = Some(Acw {
                tasks: a.tasks.clone(),
                until: a.until,
                epoch,
                early_end_allowed: a.early_end_allowed,
                extension: a.extension,
            });
            out.push(UserEffect::ArmTimer {
                timer: UserTimer::AcwEnd { epoch },
                at: a.until,
            });
        }
        if *c != Carried::default() {
            self.changed(now, &mut out);
        }
        out
    }

    /// Takes back connected leases (ringing ones are not restored: their calls withdrew them).
    /// Leases already held, or of another user, are ignored. No timer is armed.
    pub fn restore_connected(&mut self, now: Instant, leases: &[Lease]) -> Vec<UserEffect> {
        let mut out = Vec::new();
        let mut changed = false;
        for l in leases {
            if l.ringing
                || l.user != self.config.id
                || self.leases.iter().any(|h| h.offer == l.offer)
            {
                continue;
            }
            self.leases.push(*l);
            changed = true;
        }
        if changed {
            self.changed(now, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{
        AcwSettings, Assignment, Capacity, ProfileKind, ResponsibilityProfile, UserConfig,
    };
    use crate::ids::{OfferId, ServiceId, TaskId, TenantId, UserId};
    use crate::model::{Activity, Availability, Modality, Presence};
    use crate::offer::LeaseTerms;
    use crate::user::{UserInput, UserStatus};
    use std::time::Duration;

    fn machine() -> UserMachine {
        let config = UserConfig {
            id: UserId::from_u128(1),
            tenant: TenantId::from_u128(2),
            upn: "a@b".into(),
            display_name: "A".into(),
            memberships: Vec::new(),
            skills: Vec::new(),
            profiles: Vec::new(),
            active_profile: ResponsibilityProfile::ON_DUTY,
            not_available_reasons: Vec::new(),
            capacity: Capacity::default(),
        };
        let profile = ResponsibilityProfile {
            id: ResponsibilityProfile::ON_DUTY,
            tenant: config.tenant,
            name: "On Duty".into(),
            kind: ProfileKind::OnDuty,
        };
        let mut m = UserMachine::new(Instant::ZERO, config, profile, Duration::ZERO);
        m.handle(
            Instant::ZERO,
            UserInput::Presence(Presence {
                availability: Availability::Available,
                activity: Activity::Available,
                sequence: 1,
            }),
        );
        m
    }

    fn lease(offer: u64, ringing: bool) -> Lease {
        Lease {
            offer: OfferId(offer),
            service: ServiceId::from_u128(3),
            task: TaskId::from_u128(4),
            user: UserId::from_u128(1),
            modality: Modality::Call,
            ringing,
            deadline: Instant::ZERO,
            terms: LeaseTerms {
                assignment: Assignment::TeamsBased,
                busy_selectable: false,
                away_selectable: false,
                applies_rona: true,
                persistent_rona: None,
                rona_cooldown: Duration::from_secs(10),
                acw: AcwSettings::default(),
                multitasking: false,
            },
            connected_at: Some(Instant::ZERO),
        }
    }

    #[test]
    fn a_restored_connected_lease_blocks_the_user_and_ends_with_its_task() {
        let mut m = machine();
        assert_eq!(m.status(), UserStatus::Idle);
        let out = m.restore_connected(Instant::from_secs(1), &[lease(7, false), lease(8, true)]);
        assert!(out.iter().any(|e| matches!(e, UserEffect::Availability(_))));
        assert_eq!(m.status(), UserStatus::Connected);
        assert_eq!(m.leases().len(), 1, "a ringing lease is not restored");
        // Restoring twice changes nothing.
        assert!(
            m.restore_connected(Instant::from_secs(1), &[lease(7, false)])
                .is_empty()
        );
        m.handle(
            Instant::from_secs(2),
            UserInput::TaskEnded {
                offer: OfferId(7),
                acw: AcwSettings::default(),
            },
        );
        assert_eq!(m.status(), UserStatus::Idle);
    }
}
