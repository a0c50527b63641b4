//! Skills, responsibility profiles and distribution policies.

use super::values::EscalateAfter;
use crate::error::ValidationError;
use crate::ids::{PolicyId, ProfileId, SkillCategoryId, SkillId, TenantId};
use serde::{Deserialize, Serialize};

/// A named level of a levelled category (e.g. Beginner = 1 … Expert = 3).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkillLevel {
    pub value: u8,
    pub name: String,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkillCategory {
    pub id: SkillCategoryId,
    pub tenant: TenantId,
    pub name: String,
    /// Level-less categories hold traits (hard filters): a user has the skill or not.
    pub levelled: bool,
    #[serde(default)]
    pub levels: Vec<SkillLevel>,
}

impl SkillCategory {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.name.trim().is_empty() {
            return Err(ValidationError::new("name", "must not be empty"));
        }
        if !self.levelled && !self.levels.is_empty() {
            return Err(ValidationError::new(
                "levels",
                "a level-less category has no levels",
            ));
        }
        if self.levelled && self.levels.is_empty() {
            return Err(ValidationError::new(
                "levels",
                "a levelled category needs levels",
            ));
        }
        let mut values: Vec<u8> = self.levels.iter().map(|l| l.value).collect();
        values.sort_unstable();
        if values.windows(2).any(|w| w[0] == w[1]) {
            return Err(ValidationError::new(
                "levels",
                "level values must be unique",
            ));
        }
        Ok(())
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Skill {
    pub id: SkillId,
    pub tenant: TenantId,
    pub category: SkillCategoryId,
    pub name: String,
}

/// A user's skill. `level` is ignored for level-less skills (use 0).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSkill {
    pub skill: SkillId,
    #[serde(default)]
    pub level: u8,
}

/// What a responsibility profile activates.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProfileKind {
    /// Built-in: all of the user's skills, at their levels.
    OnDuty,
    /// Built-in: none; the user takes no skill-based tasks.
    OffDuty,
    /// A subset of skills with their own levels.
    Custom { skills: Vec<UserSkill> },
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponsibilityProfile {
    pub id: ProfileId,
    pub tenant: TenantId,
    pub name: String,
    pub kind: ProfileKind,
}

impl ResponsibilityProfile {
    /// The well-known id of the built-in On Duty profile.
    pub const ON_DUTY: ProfileId = ProfileId::from_u128(1);
    /// The well-known id of the built-in Off Duty profile.
    pub const OFF_DUTY: ProfileId = ProfileId::from_u128(2);

    pub fn is_on_duty_type(&self) -> bool {
        !matches!(self.kind, ProfileKind::OffDuty)
    }
}

/// One (skill, minimum level) requirement. `min_level` 0 means "has the skill at all".
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkillRequirement {
    pub skill: SkillId,
    #[serde(default)]
    pub min_level: u8,
}

/// One distribution level: all requirements must hold.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyLevel {
    pub requirements: Vec<SkillRequirement>,
    /// Time on this level before the next one applies (ignored on the last level).
    #[serde(rename = "escalate_after_secs")]
    pub escalate_after: EscalateAfter,
}

/// Ordered, cumulative levels: a task at level k may go to users matching any level 1..=k.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DistributionPolicy {
    pub id: PolicyId,
    pub tenant: TenantId,
    pub name: String,
    pub levels: Vec<PolicyLevel>,
}

impl DistributionPolicy {
    pub const MAX_LEVELS: usize = 10;

    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.levels.is_empty() || self.levels.len() > Self::MAX_LEVELS {
            return Err(ValidationError::new(
                "levels",
                format!("{} levels; 1..=10 are allowed", self.levels.len()),
            ));
        }
        Ok(())
    }

    /// The lowest (1-based) level whose requirements `skills` satisfy, if any. `skills` must be
    /// sorted by skill id.
    pub fn first_matching_level(&self, skills: &[UserSkill]) -> Option<u8> {
        self.levels
            .iter()
            .position(|lvl| level_matches(lvl, skills))
            .map(|i| (i + 1) as u8)
    }
}

fn level_matches(level: &PolicyLevel, skills: &[UserSkill]) -> bool {
    level.requirements.iter().all(|req| {
        skills
            .binary_search_by(|s| s.skill.cmp(&req.skill))
            .ok()
            .and_then(|i| skills.get(i))
            .is_some_and(|s| s.level >= req.min_level)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: u128, l: u8) -> SkillRequirement {
        SkillRequirement {
            skill: SkillId::from_u128(s),
            min_level: l,
        }
    }

    #[test]
    fn levels_are_cumulative_and_first_match_wins() {
        let p = DistributionPolicy {
            id: PolicyId::from_u128(1),
            tenant: TenantId::from_u128(1),
            name: "p".into(),
            levels: vec![
                PolicyLevel {
                    requirements: vec![req(1, 3)],
                    escalate_after: EscalateAfter::new(10).unwrap(),
                },
                PolicyLevel {
                    requirements: vec![req(1, 2)],
                    escalate_after: EscalateAfter::new(10).unwrap(),
                },
                PolicyLevel {
                    requirements: vec![req(1, 0)],
                    escalate_after: EscalateAfter::new(0).unwrap(),
                },
            ],
        };
        let us = |l| {
            vec![UserSkill {
                skill: SkillId::from_u128(1),
                level: l,
            }]
        };
        assert_eq!(p.first_matching_level(&us(3)), Some(1));
        assert_eq!(p.first_matching_level(&us(2)), Some(2));
        assert_eq!(p.first_matching_level(&us(0)), Some(3));
        assert_eq!(p.first_matching_level(&[]), None);
    }
}
