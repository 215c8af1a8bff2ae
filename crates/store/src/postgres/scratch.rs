//! A schema that exists for one test run or benchmark: created on a
//! PostgreSQL server under a random name, reached through a URL whose
//! `search_path` points at it, and dropped when no longer needed.

use rand::Rng;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::{Result, StoreError};

#[derive(Debug)]
pub struct ScratchSchema {
    server_url: String,
    schema: String,
    /// Connects to the schema (the server URL plus `options=-c search_path=…`).
    pub url: String,
}

impl ScratchSchema {
    /// Creates `<prefix>_<random>` on the server at `server_url`.
    pub async fn create(server_url: &str, prefix: &str) -> Result<ScratchSchema> {
        if !prefix.chars().all(|c| c.is_ascii_lowercase() || c == '_') || prefix.is_empty() {
            return Err(StoreError::invalid("prefix", "use lowercase letters and '_'"));
        }
        let schema = format!("{prefix}_{:016x}", rand::rng().random::<u64>());
        let mut connection = PgConnection::connect(server_url)
            .await
            .map_err(|error| StoreError::Database(format!("cannot connect to PostgreSQL: {error}")))?;
        // The name is built above from checked characters, never user input.
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut connection).await?;
        connection.close().await.ok();
        let separator = if server_url.contains('?') { '&' } else { '?' };
        let url = format!("{server_url}{separator}options=-c%20search_path%3D{schema}");
        Ok(ScratchSchema { server_url: server_url.to_string(), schema, url })
    }

    pub fn name(&self) -> &str {
        &self.schema
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(self) -> Result<()> {
        let mut connection = PgConnection::connect(&self.server_url)
            .await
            .map_err(|error| StoreError::Database(format!("cannot connect to PostgreSQL: {error}")))?;
        sqlx::query(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)))
            .execute(&mut connection)
            .await?;
        connection.close().await.ok();
        Ok(())
    }
}
