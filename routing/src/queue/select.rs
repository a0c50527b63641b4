//! Candidate selection: preferred users first, then the service's algorithm over the users who
//! satisfy the task's current policy level.

use super::QueuedTask;
use super::members::{Member, Members};
use crate::availability::{Exclusion, capacity_exclusion};
use crate::config::Algorithm;
use crate::decision::{Candidate, CandidateScore, Verdict};
use crate::ids::UserId;
use crate::time::Instant;

pub(crate) struct Selection {
    pub chosen: Vec<(UserId, CandidateScore)>,
    pub considered: Vec<Candidate>,
    pub more_considered: u32,
}

impl Selection {
    fn note(&mut self, user: UserId, verdict: Verdict) {
        if self.considered.len() < crate::decision::Decision::MAX_LISTED {
            self.considered.push(Candidate { user, verdict });
        } else {
            self.more_considered += 1;
        }
    }
}

fn score(m: &Member, now: Instant, preferred: Option<u8>) -> CandidateScore {
    CandidateScore {
        preferred_priority: preferred,
        policy_level: m.level,
        idle_ms: now.since(m.avail.idle_since).as_millis() as u64,
        tasks_handled: m.avail.tasks_handled,
        talk_time_ms: m.avail.talk_time.as_millis() as u64,
    }
}

/// The task-specific part of the predicate for a member already known to be selectable.
fn task_exclusion(m: &Member, task: &QueuedTask, skill_based: bool) -> Option<Exclusion> {
    if task.skip.contains(&m.avail.user) {
        return Some(Exclusion::SkippedForTask);
    }
    if let Some(e) = capacity_exclusion(&m.avail, task.modality) {
        return Some(e);
    }
    if skill_based && m.level.is_none_or(|l| Some(l) > task.level) {
        return Some(Exclusion::SkillLevel);
    }
    None
}

/// How to pick: the service's algorithm and the state it carries between decisions.
pub(crate) struct Picker<'a> {
    pub algorithm: Algorithm,
    pub skill_based: bool,
    /// Order index of the user offered last (RoundRobin).
    pub rr_cursor: u32,
    /// xorshift state (Random).
    pub rng: &'a mut u64,
}

/// Picks up to `want` users for `task`. Pure over the members view.
pub(crate) fn select(
    members: &Members,
    task: &QueuedTask,
    picker: Picker<'_>,
    want: usize,
    now: Instant,
) -> Selection {
    let Picker {
        algorithm,
        skill_based,
        rr_cursor,
        rng,
    } = picker;
    let mut sel = Selection {
        chosen: Vec::new(),
        considered: Vec::new(),
        more_considered: 0,
    };
    if want == 0 {
        return sel;
    }
    // Preferred users, in priority order, while they are selectable.
    for p in task.preferred.iter() {
        if sel.chosen.len() >= want {
            return sel;
        }
        let Some(m) = members.by_id.get(&p.user) else {
            continue;
        };
        let ex = m.bucket().or_else(|| task_exclusion(m, task, skill_based));
        match ex {
            None => {
                let s = score(m, now, Some(p.priority));
                sel.chosen.push((p.user, s));
            }
            Some(e) => sel.note(p.user, Verdict::Excluded(e)),
        }
    }
    let taken = |sel: &Selection, u: UserId| sel.chosen.iter().any(|(c, _)| *c == u);

    // Skill-based: only users at or below the task's level are walked at all; a few of the others
    // are named in the explanation (their count is in the decision's `not_selectable`).
    let max_level = if skill_based {
        Some(task.level.unwrap_or(0))
    } else {
        None
    };
    if let Some(max) = max_level {
        for u in members.above_level(max, 5).1 {
            sel.note(u, Verdict::Excluded(Exclusion::SkillLevel));
        }
    }
    if algorithm == Algorithm::LongestIdle {
        // The idle index is already in order: stop at the first `want` eligible users.
        for (_, u) in members.idle_iter(max_level) {
            if sel.chosen.len() >= want {
                break;
            }
            if taken(&sel, *u) {
                continue;
            }
            let Some(m) = members.by_id.get(u) else {
                continue;
            };
            match task_exclusion(m, task, skill_based) {
                None => sel.chosen.push((*u, score(m, now, None))),
                Some(e) => sel.note(*u, Verdict::Excluded(e)),
            }
        }
        return sel;
    }

    // Other algorithms rank every eligible user.
    let mut eligible: Vec<&Member> = Vec::new();
    for (_, u) in members.idle_iter(max_level) {
        if taken(&sel, *u) {
            continue;
        }
        let Some(m) = members.by_id.get(u) else {
            continue;
        };
        match task_exclusion(m, task, skill_based) {
            None => eligible.push(m),
            Some(e) => sel.note(*u, Verdict::Excluded(e)),
        }
    }
    let key_idle = |m: &Member| (m.avail.idle_since, m.avail.user);
    match algorithm {
        Algorithm::LongestIdle => {}
        Algorithm::FewestTasks => eligible.sort_by_key(|m| (m.avail.tasks_handled, key_idle(m))),
        Algorithm::LeastTalkTime => eligible.sort_by_key(|m| (m.avail.talk_time, key_idle(m))),
        Algorithm::Ordered => eligible.sort_by_key(|m| (m.order, m.avail.user)),
        Algorithm::RoundRobin => {
            // Continue after the last user offered, wrapping around the ordered list.
            eligible.sort_by_key(|m| (m.order <= rr_cursor, m.order, m.avail.user));
        }
        Algorithm::Random => {
            eligible.sort_by_key(|m| m.avail.user);
            // Fisher–Yates with a xorshift generator: deterministic for a given seed.
            for i in (1..eligible.len()).rev() {
                *rng ^= *rng << 13;
                *rng ^= *rng >> 7;
                *rng ^= *rng << 17;
                let j = (*rng % (i as u64 + 1)) as usize;
                eligible.swap(i, j);
            }
        }
    }
    for m in eligible {
        let s = score(m, now, None);
        if sel.chosen.len() < want {
            sel.chosen.push((m.avail.user, s));
        } else {
            sel.note(m.avail.user, Verdict::Passed { score: s });
        }
    }
    sel
}
