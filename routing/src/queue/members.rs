//! The queue's view of its members' availability, with an index of selectable users ordered by
//! idle time so that a longest-idle decision does not scan every member.

use crate::availability::{Exclusion, UserAvailability, base_exclusion};
use crate::config::{DistributionPolicy, ServiceConfig};
use crate::ids::{OfferId, UserId};
use crate::time::Instant;
use std::collections::{BTreeMap, BTreeSet, HashMap, btree_set};
use std::iter::Peekable;

#[derive(Clone, PartialEq, Debug)]
pub(crate) struct Member {
    pub avail: UserAvailability,
    /// Presence, duty or flag exclusion for this service.
    pub base: Option<Exclusion>,
    /// The lowest policy level the user's active skills match.
    pub level: Option<u8>,
    /// A lease asked of this user and not yet settled.
    pub pending: Option<OfferId>,
    /// Position in the service's ordered list (Ordered, RoundRobin).
    pub order: u32,
    /// The user refused a lease judging on this availability version, newer than the view:
    /// left out until that version (already on its way) arrives.
    pub awaiting: u64,
}

impl Member {
    /// The index bucket: the member's policy level (members without one share the last bucket).
    fn level_bucket(&self) -> u8 {
        self.level.unwrap_or(u8::MAX)
    }

    /// Why the member is outside the selectable index, if it is.
    pub fn bucket(&self) -> Option<Exclusion> {
        self.base
            .or(self.pending.map(|_| Exclusion::PendingOffer))
            .or((self.avail.version < self.awaiting).then_some(Exclusion::AwaitingUpdate))
    }
}

/// Kinds of exclusions counted for explanations (index into `excluded`).
const BUCKETS: usize = 6;
fn bucket_index(e: Exclusion) -> usize {
    match e {
        Exclusion::Presence(_) => 0,
        Exclusion::Duty => 1,
        Exclusion::Flag(_) => 2,
        Exclusion::PendingOffer | Exclusion::AwaitingUpdate => 3,
        Exclusion::Capacity | Exclusion::Limit => 4,
        Exclusion::SkillLevel | Exclusion::SkippedForTask => 5,
    }
}

#[derive(Clone, PartialEq, Debug, Default)]
pub(crate) struct Members {
    pub by_id: HashMap<UserId, Member>,
    /// Selectable (base) and not pending, per policy level, each ordered by idle time then id. Per
    /// level so that a decision never walks past users below the task's level.
    idle: BTreeMap<u8, BTreeSet<(Instant, UserId)>>,
    idle_len: usize,
    /// Members outside the index, counted per bucket; the exclusion kept is the last seen.
    excluded: [(u32, Option<Exclusion>); BUCKETS],
}

impl Members {
    fn unindex(&mut self, id: UserId) {
        if let Some(m) = self.by_id.get(&id) {
            match m.bucket() {
                None => {
                    let bucket = m.level_bucket();
                    if let Some(set) = self.idle.get_mut(&bucket)
                        && set.remove(&(m.avail.idle_since, id))
                    {
                        self.idle_len -= 1;
                    }
                }
                Some(e) => {
                    let b = &mut self.excluded[bucket_index(e)];
                    b.0 = b.0.saturating_sub(1);
                }
            }
        }
    }

    fn index(&mut self, id: UserId) {
        if let Some(m) = self.by_id.get(&id) {
            match m.bucket() {
                None => {
                    if self
                        .idle
                        .entry(m.level_bucket())
                        .or_default()
                        .insert((m.avail.idle_since, id))
                    {
                        self.idle_len += 1;
                    }
                }
                Some(e) => {
                    let b = &mut self.excluded[bucket_index(e)];
                    b.0 += 1;
                    b.1 = Some(e);
                }
            }
        }
    }

    /// Applies a fresh availability. Returns false for a stale one or a non-member.
    pub fn update(
        &mut self,
        a: UserAvailability,
        config: &ServiceConfig,
        policy: Option<&DistributionPolicy>,
    ) -> bool {
        let id = a.user;
        if a.membership(config.id).is_none() {
            self.remove(id);
            return false;
        }
        if self
            .by_id
            .get(&id)
            .is_some_and(|m| m.avail.version > a.version)
        {
            return false;
        }
        self.unindex(id);
        let base = base_exclusion(&a, config);
        let level = policy.and_then(|p| p.first_matching_level(&a.skills));
        let order = config
            .ordered_users
            .iter()
            .position(|u| *u == id)
            .map_or(u32::MAX, |i| i as u32);
        match self.by_id.get_mut(&id) {
            Some(m) => {
                m.avail = a;
                m.base = base;
                m.level = level;
                m.order = order;
            }
            None => {
                self.by_id.insert(
                    id,
                    Member {
                        avail: a,
                        base,
                        level,
                        pending: None,
                        order,
                        awaiting: 0,
                    },
                );
            }
        }
        self.index(id);
        true
    }

    pub fn remove(&mut self, id: UserId) -> Option<Member> {
        self.unindex(id);
        self.by_id.remove(&id)
    }

    pub fn set_pending(&mut self, id: UserId, pending: Option<OfferId>) {
        self.unindex(id);
        if let Some(m) = self.by_id.get_mut(&id) {
            m.pending = pending;
        }
        self.index(id);
    }

    /// A user refused a lease judging on availability `version`. A newer version than the view
    /// is on its way (every version is published): the member waits for it rather than being
    /// asked again on a stale view. A refusal on the view's own version means the user changed
    /// nothing the view shows: the member waits for their next change.
    pub fn await_update(&mut self, id: UserId, version: u64) {
        self.unindex(id);
        if let Some(m) = self.by_id.get_mut(&id) {
            m.awaiting = if m.avail.version < version {
                version
            } else {
                version.saturating_add(1)
            };
        }
        self.index(id);
    }

    /// Re-derives every member's exclusion and level after a configuration change.
    pub fn rebuild(&mut self, config: &ServiceConfig, policy: Option<&DistributionPolicy>) {
        let all: Vec<UserAvailability> = self.by_id.values().map(|m| m.avail.clone()).collect();
        let pending: Vec<(UserId, Option<OfferId>, u64)> = self
            .by_id
            .iter()
            .map(|(k, m)| (*k, m.pending, m.awaiting))
            .collect();
        *self = Members::default();
        for a in all {
            self.update(a, config, policy);
        }
        for (id, p, awaiting) in pending {
            if p.is_some() {
                self.set_pending(id, p);
            }
            if awaiting > 0 {
                self.unindex(id);
                if let Some(m) = self.by_id.get_mut(&id) {
                    m.awaiting = awaiting;
                }
                self.index(id);
            }
        }
    }

    /// Number of members in the selectable index.
    pub fn idle_len(&self) -> usize {
        self.idle_len
    }

    /// Selectable members in longest-idle order. `max_level`: only members whose policy level is
    /// at most this (skill-based services); `None`: everyone.
    pub fn idle_iter(&self, max_level: Option<u8>) -> IdleIter<'_> {
        let heads = self
            .idle
            .iter()
            .filter(|(bucket, _)| max_level.is_none_or(|m| **bucket <= m))
            .map(|(_, set)| set.iter().peekable())
            .collect();
        IdleIter { heads }
    }

    /// Selectable members whose policy level is above `max_level`: how many, and a few of them in
    /// idle order (explanations name them without walking them all).
    pub fn above_level(&self, max_level: u8, sample: usize) -> (u32, Vec<UserId>) {
        let mut count = 0u32;
        let mut users = Vec::new();
        for (_, set) in self.idle.range(max_level.saturating_add(1)..) {
            count += set.len() as u32;
            users.extend(
                set.iter()
                    .take(sample.saturating_sub(users.len()))
                    .map(|(_, u)| *u),
            );
        }
        (count, users)
    }

    /// Not-selectable members by reason, for explanations.
    pub fn excluded_counts(&self) -> Vec<(Exclusion, u32)> {
        self.excluded
            .iter()
            .filter_map(|(n, e)| e.filter(|_| *n > 0).map(|e| (e, *n)))
            .collect()
    }
}

/// A merge of the per-level idle indexes, in idle order.
pub(crate) struct IdleIter<'a> {
    heads: Vec<Peekable<btree_set::Iter<'a, (Instant, UserId)>>>,
}

impl<'a> Iterator for IdleIter<'a> {
    type Item = &'a (Instant, UserId);

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<usize> = None;
        for i in 0..self.heads.len() {
            let Some(head) = self.heads.get_mut(i).and_then(|h| h.peek().copied()) else {
                continue;
            };
            let better = match best
                .and_then(|b| self.heads.get_mut(b))
                .and_then(|h| h.peek().copied())
            {
                Some(cur) => head < cur,
                None => true,
            };
            if better {
                best = Some(i);
            }
        }
        best.and_then(|b| self.heads.get_mut(b))
            .and_then(|h| h.next())
    }
}
