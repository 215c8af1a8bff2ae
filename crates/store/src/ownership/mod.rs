//! Who owns a resource: the one question the server asks before an
//! administrator acts on a resource named by id (`domain::access` decides
//! whose data a request reaches; every other query stays scoped by user) —
//! and the condition a list query keeps its owners' rows with.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::UserId;
use steward_domain::access::{Owners, Resource};

use crate::Result;

#[async_trait]
pub trait OwnershipStore {
    /// The user who owns `resource`, or `None` when there is no such one.
    async fn owner_of(&self, resource: Resource) -> Result<Option<UserId>>;
}

/// The condition of a list query that keeps `owners`' rows, the user id
/// bound at `parameter` (`?1`, `$1::bigint`) either way so the parameters
/// stay numbered alike: `user_id = ?1` for one user (the index on
/// `user_id` serves it), always true for everyone.
pub(crate) fn list_condition(owners: Owners, parameter: &str) -> String {
    match owners {
        Owners::One(_) => format!("user_id = {parameter}"),
        Owners::Everyone => format!("{parameter} IS NOT NULL"),
    }
}

/// The value bound at the parameter of [`list_condition`].
pub(crate) fn list_parameter(owners: Owners) -> i64 {
    match owners {
        Owners::One(user) => user.get(),
        Owners::Everyone => 0,
    }
}
