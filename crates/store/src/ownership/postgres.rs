//! Owners of resources on PostgreSQL.

use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use steward_domain::UserId;
use steward_domain::access::Resource;

use crate::Result;
use crate::ownership::{OwnershipStore, decide};
use crate::postgres::PostgresStore;

#[async_trait]
impl OwnershipStore for PostgresStore {
    async fn owner_of(&self, resource: Resource) -> Result<Option<UserId>> {
        let table = decide::table_of(resource.kind);
        let owner: Option<i64> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT user_id FROM {table} WHERE id = $1")))
                .bind(resource.id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(owner.map(UserId))
    }
}
