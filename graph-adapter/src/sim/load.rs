//! Populations for demos and load tests: agents with behaviours drawn from a mix, and callers
//! placed at a steady rate.

use super::state::SimState;
use super::{AgentBehaviour, CallerSpec, SimError};
use rand::Rng;
use rand::rngs::StdRng;
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::ids::{M365TenantId, UserId};
use stratus_routing::model::{Activity, Availability};
use tokio::time::Instant;

/// An agent the simulator plays: how their phone reacts and their presence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimAgent {
    pub user: UserId,
    pub behaviour: AgentBehaviour,
    pub availability: Availability,
    pub activity: Activity,
}

impl SimAgent {
    /// An agent shown Available.
    pub fn available(user: UserId, behaviour: AgentBehaviour) -> Self {
        SimAgent {
            user,
            behaviour,
            availability: Availability::Available,
            activity: Activity::Available,
        }
    }
}

/// Shares of behaviours among agents, in percent; the rest answer. Delays are drawn uniformly
/// from their ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct BehaviourMix {
    pub answer_after: (Duration, Duration),
    /// Talk time before the agent hangs up (`None`: they stay until the call ends).
    pub talk: Option<(Duration, Duration)>,
    pub decline_pct: u8,
    pub ignore_pct: u8,
    pub busy_pct: u8,
    pub unreachable_pct: u8,
}

impl Default for BehaviourMix {
    fn default() -> Self {
        BehaviourMix {
            answer_after: (Duration::from_secs(1), Duration::from_secs(4)),
            talk: Some((Duration::from_secs(20), Duration::from_secs(90))),
            decline_pct: 0,
            ignore_pct: 0,
            busy_pct: 0,
            unreachable_pct: 0,
        }
    }
}

fn between(rng: &mut StdRng, (lo, hi): (Duration, Duration)) -> Duration {
    if hi <= lo {
        return lo;
    }
    let span = u64::try_from((hi - lo).as_millis()).unwrap_or(u64::MAX);
    lo + Duration::from_millis(rng.random_range(0..=span))
}

impl BehaviourMix {
    /// Draws one agent's behaviour.
    pub fn pick(&self, rng: &mut StdRng) -> AgentBehaviour {
        let roll: u32 = rng.random_range(0..100);
        let mut edge = 0u32;
        let mut hit = |pct: u8| {
            edge += u32::from(pct);
            roll < edge
        };
        if hit(self.decline_pct) {
            AgentBehaviour::Decline {
                after: between(rng, self.answer_after),
            }
        } else if hit(self.ignore_pct) {
            AgentBehaviour::Ignore
        } else if hit(self.busy_pct) {
            AgentBehaviour::Busy
        } else if hit(self.unreachable_pct) {
            AgentBehaviour::Unreachable
        } else {
            AgentBehaviour::Answer {
                after: between(rng, self.answer_after),
                talk: self.talk.map(|t| between(rng, t)),
            }
        }
    }
}

/// A batch of callers.
#[derive(Clone, Debug, PartialEq)]
pub struct CallPlan {
    pub calls: u32,
    pub per_second: f64,
    /// Resource accounts dialled, in turn.
    pub app_instances: Vec<String>,
    /// `None`: the simulator's default tenant.
    pub tenant: Option<M365TenantId>,
    /// Each caller's patience, drawn from this range (`None`: they wait until served).
    pub patience: Option<(Duration, Duration)>,
}

impl CallPlan {
    pub fn new(calls: u32, per_second: f64, app_instance: impl Into<String>) -> Self {
        CallPlan {
            calls,
            per_second,
            app_instances: vec![app_instance.into()],
            tenant: None,
            patience: None,
        }
    }
}

pub(super) async fn place_calls(s: Arc<SimState>, plan: CallPlan) -> Vec<Result<String, SimError>> {
    if plan.app_instances.is_empty() {
        return Vec::new();
    }
    let gap = if plan.per_second > 0.0 && plan.per_second.is_finite() {
        Duration::from_secs_f64(1.0 / plan.per_second)
    } else {
        Duration::ZERO
    };
    let start = Instant::now();
    let mut jobs = Vec::with_capacity(usize::try_from(plan.calls).unwrap_or(0));
    for i in 0..plan.calls {
        let idx = usize::try_from(i).unwrap_or(0) % plan.app_instances.len();
        let target = plan.app_instances.get(idx).cloned().unwrap_or_default();
        let mut spec = CallerSpec::phone(&format!("+1555{:07}", i % 10_000_000), &target);
        spec.tenant = plan.tenant;
        spec.patience = plan.patience.map(|p| s.with_rng(|r| between(r, p)));
        // Numbered here, in order, so each call's ids depend on the seed alone.
        let n = s.next_ordinal();
        tokio::time::sleep_until(start + gap * i).await;
        let st = s.clone();
        jobs.push(tokio::spawn(async move {
            st.place_numbered_call(spec, n).await
        }));
    }
    let mut out = Vec::with_capacity(jobs.len());
    for j in jobs {
        out.push(
            j.await
                .unwrap_or_else(|e| Err(SimError::Delivery(format!("caller task: {e}")))),
        );
    }
    out
}
