//! Candidate selection: preferred users first, then the service's algorithm over the users who
//! satisfy the task's current policy level.

use super::QueuedTask;
use super::members::{Member, Members};
use crate::availability::{Exclusion, blocked_by_a_call, capacity_exclusion};
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
fn task_exclusion(
    m: &Member,
    task: &QueuedTask,
    (skill_based, multitasking): (bool, bool),
    now: Instant,
) -> Option<Exclusion> {
    if task.held_back(&m.avail, now) {
        return Some(Exclusion::SkippedForTask);
    }
    if blocked_by_a_call(&m.avail, task.modality, multitasking) {
        return Some(Exclusion::Flag(crate::availability::Flag::Connected));
    }
    if let Some(e) = capacity_exclusion(&m.avail, task.modality) {
        return Some(e);
    }
    if skill_based && m.level.is_none_or(|l| Some(l) > task.level) {
        return Some(Exclusion::SkillLevel);
    }
    None
}

/// An eligible user this task already rang, kept until the never-rung ones are exhausted:
/// ordered by (rings of this task, preferred before the algorithm, rank within those).
struct Rung {
    rings: u32,
    tier: u8,
    rank: usize,
    user: UserId,
    score: CandidateScore,
}

/// How to pick: the service's algorithm and the state it carries between decisions.
pub(crate) struct Picker<'a> {
    pub algorithm: Algorithm,
    pub skill_based: bool,
    /// A connected call does not block the service's other modalities.
    pub multitasking: bool,
    /// Order index of the user offered last (RoundRobin).
    pub rr_cursor: u32,
    /// xorshift state (Random).
    pub rng: &'a mut u64,
}

/// Picks up to `want` users for `task`. Pure over the members view. Candidate order: the rings
/// of this task first (never rung before rung once, and so on), then preferred users by
/// priority, then the service's algorithm.
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
        multitasking,
        rr_cursor,
        rng,
    } = picker;
    let rules = (skill_based, multitasking);
    let mut sel = Selection {
        chosen: Vec::new(),
        considered: Vec::new(),
        more_considered: 0,
    };
    if want == 0 {
        return sel;
    }
    let mut rung: Vec<Rung> = Vec::new();
    // Preferred users, in priority order, while they are selectable.
    for (rank, p) in task.preferred.iter().enumerate() {
        let Some(m) = members.by_id.get(&p.user) else {
            continue;
        };
        let ex = m.bucket().or_else(|| task_exclusion(m, task, rules, now));
        match ex {
            None => {
                let s = score(m, now, Some(p.priority));
                offer_or_defer(&mut sel, &mut rung, task, want, (0, rank), p.user, s);
            }
            Some(e) => sel.note(p.user, Verdict::Excluded(e)),
        }
    }
    let taken = |sel: &Selection, rung: &[Rung], u: UserId| {
        sel.chosen.iter().any(|(c, _)| *c == u) || rung.iter().any(|r| r.user == u)
    };

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
        // The idle index is already in order: stop at the first `want` never-rung users.
        for (rank, (_, u)) in members.idle_iter(max_level).enumerate() {
            if sel.chosen.len() >= want {
                break;
            }
            if taken(&sel, &rung, *u) {
                continue;
            }
            let Some(m) = members.by_id.get(u) else {
                continue;
            };
            match task_exclusion(m, task, rules, now) {
                None => {
                    let s = score(m, now, None);
                    offer_or_defer(&mut sel, &mut rung, task, want, (1, rank), *u, s);
                }
                Some(e) => sel.note(*u, Verdict::Excluded(e)),
            }
        }
        take_rung(&mut sel, rung, want);
        return sel;
    }

    // Other algorithms rank every eligible user.
    let mut eligible: Vec<&Member> = Vec::new();
    for (_, u) in members.idle_iter(max_level) {
        if taken(&sel, &rung, *u) {
            continue;
        }
        let Some(m) = members.by_id.get(u) else {
            continue;
        };
        match task_exclusion(m, task, rules, now) {
            None => eligible.push(m),
            Some(e) => sel.note(*u, Verdict::Excluded(e)),
        }
    }
    rank(&mut eligible, algorithm, rr_cursor, rng);
    for (rank, m) in eligible.into_iter().enumerate() {
        let s = score(m, now, None);
        offer_or_defer(&mut sel, &mut rung, task, want, (1, rank), m.avail.user, s);
    }
    take_rung(&mut sel, rung, want);
    sel
}

/// An eligible user: chosen at once if this task never rang them (and room is left), deferred
/// behind the never-rung ones otherwise.
fn offer_or_defer(
    sel: &mut Selection,
    rung: &mut Vec<Rung>,
    task: &QueuedTask,
    want: usize,
    (tier, rank): (u8, usize),
    user: UserId,
    score: CandidateScore,
) {
    let rings = task.rings_of(user);
    if rings == 0 && sel.chosen.len() < want {
        sel.chosen.push((user, score));
    } else if rings == 0 {
        sel.note(user, Verdict::Passed { score });
    } else {
        rung.push(Rung {
            rings,
            tier,
            rank,
            user,
            score,
        });
    }
}

/// Fills what is left of `want` with the users this task rang fewest times.
fn take_rung(sel: &mut Selection, mut rung: Vec<Rung>, want: usize) {
    rung.sort_by_key(|r| (r.rings, r.tier, r.rank));
    for r in rung {
        if sel.chosen.len() < want {
            sel.chosen.push((r.user, r.score));
        } else {
            sel.note(r.user, Verdict::Passed { score: r.score });
        }
    }
}

/// Orders eligible users by the service's algorithm (LongestIdle is the index order already).
fn rank(eligible: &mut [&Member], algorithm: Algorithm, rr_cursor: u32, rng: &mut u64) {
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
}
