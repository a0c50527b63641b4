//! Fixtures for routing scenarios: small ids, services, users, and a compact rendering of what
//! the simulation did, so that scenarios read as "events in, effects out".
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;
use stratus_routing::config::*;
use stratus_routing::ids::*;
use stratus_routing::model::*;
use stratus_routing::port::{CallAction, CallEventKind};
use stratus_routing::sim::{Center, Trace};
use stratus_routing::task::TaskEventKind;
use stratus_routing::time::Instant;

pub const TENANT: TenantId = TenantId::from_u128(0xA);

pub fn s(n: u128) -> ServiceId {
    ServiceId::from_u128(0x5000 + n)
}
pub fn u(n: u128) -> UserId {
    UserId::from_u128(0x1000 + n)
}
pub fn t(n: u128) -> TaskId {
    TaskId::from_u128(0x7000 + n)
}
pub fn skill(n: u128) -> SkillId {
    SkillId::from_u128(0x3000 + n)
}

/// Short names for traces.
pub fn name_user(id: UserId) -> String {
    format!("u{}", id.0.0 - 0x1000)
}

pub fn service(n: u128, distribution: Distribution, algorithm: Algorithm) -> ServiceConfig {
    ServiceConfig {
        id: s(n),
        tenant: TENANT,
        name: format!("service {n}"),
        display_name: format!("Service {n}"),
        distribution,
        algorithm,
        ..ServiceConfig::default()
    }
}

pub fn user(n: u128, services: &[u128]) -> UserConfig {
    UserConfig {
        id: u(n),
        tenant: TENANT,
        upn: format!("user{n}@example.com"),
        display_name: format!("User {n}"),
        memberships: services
            .iter()
            .map(|sv| Membership {
                service: s(*sv),
                role: Role::Agent,
                active: true,
            })
            .collect(),
        skills: Vec::new(),
        profiles: Vec::new(),
        active_profile: ResponsibilityProfile::ON_DUTY,
        not_available_reasons: Vec::new(),
        capacity: Capacity::default(),
    }
}

pub fn on_duty() -> ResponsibilityProfile {
    ResponsibilityProfile {
        id: ResponsibilityProfile::ON_DUTY,
        tenant: TENANT,
        name: "On Duty".into(),
        kind: ProfileKind::OnDuty,
    }
}
pub fn off_duty() -> ResponsibilityProfile {
    ResponsibilityProfile {
        id: ResponsibilityProfile::OFF_DUTY,
        tenant: TENANT,
        name: "Off Duty".into(),
        kind: ProfileKind::OffDuty,
    }
}

pub fn presence(availability: Availability, seq: u64) -> Presence {
    let activity = match availability {
        Availability::Available | Availability::AvailableIdle => Activity::Available,
        Availability::Busy | Availability::BusyIdle => Activity::Busy,
        Availability::Away | Availability::BeRightBack => Activity::Away,
        Availability::DoNotDisturb => Activity::DoNotDisturb,
        Availability::Offline | Availability::PresenceUnknown => Activity::Offline,
    };
    Presence {
        availability,
        activity,
        sequence: seq,
    }
}

pub struct World {
    pub c: Center,
    seq: u64,
}

impl World {
    pub fn new() -> Self {
        World {
            c: Center::new(TENANT, TenantLimits::default(), Duration::ZERO),
            seq: 0,
        }
    }
    pub fn with_bid_window(window: Duration) -> Self {
        World {
            c: Center::new(TENANT, TenantLimits::default(), window),
            seq: 0,
        }
    }
    pub fn service(&mut self, cfg: ServiceConfig) -> &mut Self {
        self.c.add_service(cfg, None);
        self
    }
    pub fn skill_service(&mut self, cfg: ServiceConfig, policy: DistributionPolicy) -> &mut Self {
        self.c.add_service(cfg, Some(policy));
        self
    }
    /// Adds a user and brings them online (Available), one second apart so idle order is known.
    pub fn agent(&mut self, cfg: UserConfig) -> &mut Self {
        let id = cfg.id;
        self.c.add_user(cfg, on_duty());
        self.set_presence(id, Availability::Available);
        self.c.advance(Duration::from_secs(1));
        self
    }
    pub fn set_presence(&mut self, user: UserId, a: Availability) {
        self.seq += 1;
        self.c.presence(user, presence(a, self.seq));
    }
    /// A call arrives, is answered and established; with no welcome prompt it is queued at once.
    pub fn call(&mut self, task: TaskId, service: ServiceId) {
        self.c.incoming_call(task, service);
        self.c.platform(task, CallEventKind::Established);
    }
    pub fn call_with(&mut self, task: TaskId, service: ServiceId, p: Priority) {
        self.c.incoming_call_with(task, service, p);
        self.c.platform(task, CallEventKind::Established);
    }
    pub fn join(&mut self, task: TaskId, user: UserId) {
        self.c.platform(task, CallEventKind::AgentJoined { user });
    }
    pub fn advance(&mut self, secs: u64) {
        self.c.advance(Duration::from_secs(secs));
    }
    pub fn now(&self) -> Instant {
        self.c.now()
    }

    /// Users currently rung for a task.
    pub fn ringing(&self, task: TaskId) -> Vec<String> {
        self.c
            .call(task)
            .map(|c| c.ringing().map(|(_, u)| name_user(u)).collect())
            .unwrap_or_default()
    }

    /// Compact trace of one task: commands and events in order.
    pub fn story(&self, task: TaskId) -> Vec<String> {
        self.c
            .trace
            .iter()
            .filter_map(|tr| match tr {
                Trace::Command { task: k, action } if *k == task => Some(match action {
                    CallAction::Answer { .. } => "answer".to_string(),
                    CallAction::PlayPrompt { .. } => "play".to_string(),
                    CallAction::RingAgent { user, .. } => format!("ring {}", name_user(*user)),
                    CallAction::CancelRing { user, .. } => format!("cancel {}", name_user(*user)),
                    CallAction::RemoveAgent { user, .. } => format!("remove {}", name_user(*user)),
                    CallAction::Bridge { user, .. } => format!("bridge {}", name_user(*user)),
                    CallAction::HangUp => "hangup".to_string(),
                    other => format!("{other:?}"),
                }),
                Trace::Event(e) if e.task == task => Some(match (e.kind, e.user) {
                    (TaskEventKind::Terminated, _) => {
                        format!("#Terminated({:?})", e.outcome.unwrap())
                    }
                    (k, Some(u)) => format!("#{k:?}({})", name_user(u)),
                    (k, None) => format!("#{k:?}"),
                }),
                _ => None,
            })
            .collect()
    }

    pub fn assert_clean(&self) {
        assert!(
            self.c.violations.is_empty(),
            "invariants broken: {:?}",
            self.c.violations
        );
    }
}
