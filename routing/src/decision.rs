//! Decision explanations: why a task went to a user, and why the others were passed over.

use crate::availability::Exclusion;
use crate::config::{Algorithm, Distribution};
use crate::ids::{OfferId, ServiceId, TaskId, UserId};
use crate::time::Instant;
use serde::{Deserialize, Serialize};

/// The values that ranked a chosen candidate.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateScore {
    /// Preferred-user priority (1–99) when the user was chosen as a preferred user.
    pub preferred_priority: Option<u8>,
    /// The lowest policy level the user matches (skill-based services).
    pub policy_level: Option<u8>,
    pub idle_ms: u64,
    pub tasks_handled: u32,
    pub talk_time_ms: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Verdict {
    Chosen {
        offer: OfferId,
        score: CandidateScore,
    },
    Excluded(Exclusion),
    /// Eligible but ranked below the chosen ones.
    Passed {
        score: CandidateScore,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub user: UserId,
    pub verdict: Verdict,
}

/// One routing decision for one task.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    pub at: Instant,
    pub service: ServiceId,
    pub task: TaskId,
    pub distribution: Distribution,
    pub algorithm: Algorithm,
    /// The task's current policy level (skill-based services).
    pub task_level: Option<u8>,
    /// Candidates looked at, in the order they were looked at (bounded; see `more_considered`).
    pub considered: Vec<Candidate>,
    /// How many further candidates were looked at but not listed.
    pub more_considered: u32,
    /// Members never looked at because they are not selectable at all, counted by reason.
    pub not_selectable: Vec<(Exclusion, u32)>,
}

impl Decision {
    /// Maximum number of candidates listed one by one.
    pub const MAX_LISTED: usize = 25;

    pub fn chosen(&self) -> impl Iterator<Item = (UserId, OfferId)> + '_ {
        self.considered.iter().filter_map(|c| match c.verdict {
            Verdict::Chosen { offer, .. } => Some((c.user, offer)),
            _ => None,
        })
    }
}
