//! Nodes on PostgreSQL: any number of processes beat into one table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::Result;
use crate::nodes::{FORGET_AFTER, Node, NodeBeat, NodeStore, decide};
use crate::postgres::PostgresStore;
use crate::postgres::connection::from_millis;
use crate::postgres::transaction::Begin;

#[async_trait]
impl NodeStore for PostgresStore {
    async fn beat_node(&self, beat: NodeBeat) -> Result<()> {
        let now = self.now();
        self.write(Begin::LeaseRenewal, |transaction| {
            let beat = beat.clone();
            Box::pin(async move {
                let lease_ms = i64::try_from(beat.lease.as_millis()).unwrap_or(i64::MAX).max(1);
                sqlx::query(
                    "INSERT INTO nodes (id, address, lease_ms, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET address = excluded.address, lease_ms = excluded.lease_ms, \
                         heartbeat_at = excluded.heartbeat_at, stopped_at = NULL",
                )
                .bind(&beat.id)
                .bind(&beat.address)
                .bind(lease_ms)
                .bind(beat.started_at)
                .bind(now)
                .execute(transaction.connection())
                .await?;
                sqlx::query("DELETE FROM nodes WHERE heartbeat_at < $1")
                    .bind(now - FORGET_AFTER)
                    .execute(transaction.connection())
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn stop_node(&self, id: &str) -> Result<()> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let id = id.to_string();
            Box::pin(async move {
                sqlx::query("UPDATE nodes SET stopped_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(transaction.connection())
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn list_nodes(&self) -> Result<Vec<Node>> {
        let now = self.now();
        let rows = sqlx::query(
            "SELECT id, address, lease_ms, started_at, heartbeat_at, stopped_at, \
                    (SELECT count(*) FROM jobs WHERE jobs.state = 'running' AND jobs.lease_owner = nodes.id) \
             FROM nodes",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut nodes = Vec::with_capacity(rows.len());
        for row in &rows {
            let heartbeat_at: DateTime<Utc> = row.try_get(4)?;
            let stopped_at: Option<DateTime<Utc>> = row.try_get(5)?;
            let lease = from_millis(row.try_get(2)?);
            nodes.push(Node {
                id: row.try_get(0)?,
                address: row.try_get(1)?,
                started_at: row.try_get(3)?,
                heartbeat_at,
                stopped_at,
                state: decide::state(heartbeat_at, stopped_at, lease, now),
                running_jobs: u64::try_from(row.try_get::<i64, _>(6)?).unwrap_or(0),
            });
        }
        nodes.sort_by(|a, b| a.state.cmp(&b.state).then(b.heartbeat_at.cmp(&a.heartbeat_at)));
        Ok(nodes)
    }
}
