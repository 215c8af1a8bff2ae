//! Owners of resources on SQLite.

use async_trait::async_trait;
use rusqlite::params;
use steward_domain::UserId;
use steward_domain::access::Resource;

use crate::Result;
use crate::ownership::{OwnershipStore, decide};
use crate::sqlite::SqliteStore;
use crate::sqlite::rows::optional;

#[async_trait]
impl OwnershipStore for SqliteStore {
    async fn owner_of(&self, resource: Resource) -> Result<Option<UserId>> {
        self.readers
            .read(move |connection| {
                let table = decide::table_of(resource.kind);
                let mut statement = connection.prepare_cached(&format!("SELECT user_id FROM {table} WHERE id = ?1"))?;
                Ok(optional(statement.query_row(params![resource.id], |row| row.get(0)))?.map(UserId))
            })
            .await
    }
}
