//! The queue's view of its members' availability, with an index of selectable users ordered by
//! idle time so that a longest-idle decision does not scan every member.

use crate::availability::{Exclusion, UserAvailability, base_exclusion};
use crate::config::{DistributionPolicy, ServiceConfig};
use crate::ids::{OfferId, UserId};
use crate::time::Instant;
use std::collections::{BTreeSet, HashMap};

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
}

impl Member {
    /// Why the member is outside the selectable index, if it is.
    pub fn bucket(&self) -> Option<Exclusion> {
        self.base.or(self.pending.map(|_| Exclusion::PendingOffer))
    }
}

/// Kinds of exclusions counted for explanations (index into `excluded`).
const BUCKETS: usize = 6;
fn bucket_index(e: Exclusion) -> usize {
    match e {
        Exclusion::Presence(_) => 0,
        Exclusion::Duty => 1,
        Exclusion::Flag(_) => 2,
        Exclusion::PendingOffer => 3,
        Exclusion::Capacity | Exclusion::Limit => 4,
        Exclusion::SkillLevel | Exclusion::SkippedForTask => 5,
    }
}

#[derive(Clone, PartialEq, Debug, Default)]
pub(crate) struct Members {
    pub by_id: HashMap<UserId, Member>,
    /// Selectable (base) and not pending, ordered by idle time then id.
    pub idle: BTreeSet<(Instant, UserId)>,
    /// Members outside the index, counted per bucket; the exclusion kept is the last seen.
    excluded: [(u32, Option<Exclusion>); BUCKETS],
}

impl Members {
    fn unindex(&mut self, id: UserId) {
        if let Some(m) = self.by_id.get(&id) {
            match m.bucket() {
                None => {
                    self.idle.remove(&(m.avail.idle_since, id));
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
                    self.idle.insert((m.avail.idle_since, id));
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

    /// Re-derives every member's exclusion and level after a configuration change.
    pub fn rebuild(&mut self, config: &ServiceConfig, policy: Option<&DistributionPolicy>) {
        let all: Vec<UserAvailability> = self.by_id.values().map(|m| m.avail.clone()).collect();
        let pending: Vec<(UserId, Option<OfferId>)> =
            self.by_id.iter().map(|(k, m)| (*k, m.pending)).collect();
        *self = Members::default();
        for a in all {
            self.update(a, config, policy);
        }
        for (id, p) in pending {
            if p.is_some() {
                self.set_pending(id, p);
            }
        }
    }

    /// Not-selectable members by reason, for explanations.
    pub fn excluded_counts(&self) -> Vec<(Exclusion, u32)> {
        self.excluded
            .iter()
            .filter_map(|(n, e)| e.filter(|_| *n > 0).map(|e| (e, *n)))
            .collect()
    }
}
