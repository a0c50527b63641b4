//! Task data: system parameters, custom context parameters, preferred users, customer.

use crate::config::values::{ParameterId, ParameterValue};
use crate::error::ValidationError;
use crate::ids::{CallId, ServiceId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Read-only facts about a task, set by the system.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemParameters {
    pub caller_id: Option<String>,
    pub caller_number: Option<String>,
    pub caller_upn: Option<String>,
    pub anonymous: bool,
    pub service: Option<ServiceId>,
    pub call_chain_id: Option<String>,
    pub call_id: Option<CallId>,
    pub reference_id: Option<String>,
}

/// Custom context parameters (`CustomContextParameters.<ID>`), product limits enforced by the
/// value types.
pub type ContextParameters = BTreeMap<ParameterId, ParameterValue>;

/// A user the task should go to first. Lower `priority` number = tried earlier (1–99).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreferredUser {
    pub user: UserId,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99))]
    pub priority: u8,
}

/// At most 10 preferred users, kept sorted by priority (stable for equal priorities).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<PreferredUser>", into = "Vec<PreferredUser>")]
pub struct PreferredUsers(Vec<PreferredUser>);

impl PreferredUsers {
    pub const MAX: usize = 10;

    pub fn new(mut users: Vec<PreferredUser>) -> Result<Self, ValidationError> {
        if users.len() > Self::MAX {
            return Err(ValidationError::new(
                "preferred_users",
                format!("{} users; at most 10 are allowed", users.len()),
            ));
        }
        for (i, u) in users.iter().enumerate() {
            if !(1..=99).contains(&u.priority) {
                return Err(ValidationError::new(
                    format!("preferred_users[{i}].priority"),
                    format!("{} is out of range 1..=99", u.priority),
                ));
            }
        }
        users.sort_by_key(|u| u.priority);
        Ok(PreferredUsers(users))
    }

    pub fn iter(&self) -> impl Iterator<Item = &PreferredUser> {
        self.0.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn contains(&self, user: UserId) -> bool {
        self.0.iter().any(|p| p.user == user)
    }
}

impl TryFrom<Vec<PreferredUser>> for PreferredUsers {
    type Error = ValidationError;
    fn try_from(v: Vec<PreferredUser>) -> Result<Self, ValidationError> {
        PreferredUsers::new(v)
    }
}
impl From<PreferredUsers> for Vec<PreferredUser> {
    fn from(p: PreferredUsers) -> Self {
        p.0
    }
}

/// Customer information, the connector's `Customer` object.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub street_address: Option<String>,
    pub post_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub primary_tel_number: Option<String>,
    pub upn: Option<String>,
    pub email: Option<String>,
    pub custom_fields: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u128, prio: u8) -> PreferredUser {
        PreferredUser {
            user: UserId::from_u128(n),
            priority: prio,
        }
    }

    #[test]
    fn preferred_users_are_limited_and_sorted() {
        assert!(PreferredUsers::new((0..10).map(|i| p(i, 5)).collect()).is_ok());
        let e = PreferredUsers::new((0..11).map(|i| p(i, 5)).collect()).unwrap_err();
        assert_eq!(e.field, "preferred_users");
        assert_eq!(
            PreferredUsers::new(vec![p(1, 0)]).unwrap_err().field,
            "preferred_users[0].priority"
        );
        assert!(PreferredUsers::new(vec![p(1, 100)]).is_err());
        let s = PreferredUsers::new(vec![p(1, 50), p(2, 1), p(3, 50)]).unwrap();
        let order: Vec<u128> = s.iter().map(|u| u.user.0.0).collect();
        assert_eq!(order, vec![2, 1, 3]);
    }
}
