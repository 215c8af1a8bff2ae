//! Who owns a resource: the one question the server asks before an
//! administrator acts on a resource named by id (`domain::access` decides
//! whose data a request reaches; every other query stays scoped by user).

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::UserId;
use steward_domain::access::Resource;

use crate::Result;

#[async_trait]
pub trait OwnershipStore {
    /// The user who owns `resource`, or `None` when there is no such one.
    async fn owner_of(&self, resource: Resource) -> Result<Option<UserId>>;
}
