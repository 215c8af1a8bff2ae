//! Nodes on SQLite: one process holds the file, so there is one node at a
//! time, recorded the same way for `steward nodes` to read alike.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crate::Result;
use crate::nodes::{FORGET_AFTER, Node, NodeBeat, NodeStore, decide};
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::{from_micros, millis, to_micros};

fn nodes(connection: &Connection, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<Node>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, address, lease_ms, started_at, heartbeat_at, stopped_at, \
                (SELECT count(*) FROM jobs WHERE jobs.state = 'running' AND jobs.lease_owner = nodes.id) \
         FROM nodes",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, i64>(4)?,
            row.get::<_, Option<i64>>(5)?,
            row.get::<_, i64>(6)?,
        ))
    })?;
    let mut nodes = Vec::new();
    for row in rows {
        let (id, address, lease_ms, started_at, heartbeat_at, stopped_at, running) = row?;
        let (heartbeat_at, stopped_at) = (from_micros(heartbeat_at), stopped_at.map(from_micros));
        nodes.push(Node {
            id,
            address,
            started_at: from_micros(started_at),
            heartbeat_at,
            stopped_at,
            state: decide::state(heartbeat_at, stopped_at, millis(lease_ms), now),
            running_jobs: u64::try_from(running).unwrap_or(0),
        });
    }
    nodes.sort_by(|a, b| a.state.cmp(&b.state).then(b.heartbeat_at.cmp(&a.heartbeat_at)));
    Ok(nodes)
}

#[async_trait]
impl NodeStore for SqliteStore {
    async fn beat_node(&self, beat: NodeBeat) -> Result<()> {
        let now = self.now();
        self.writer
            .write(move |connection, _effects| {
                let lease_ms = i64::try_from(beat.lease.as_millis()).unwrap_or(i64::MAX).max(1);
                connection.execute(
                    "INSERT INTO nodes (id, address, lease_ms, started_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (id) DO UPDATE SET address = excluded.address, lease_ms = excluded.lease_ms, \
                         heartbeat_at = excluded.heartbeat_at, stopped_at = NULL",
                    params![beat.id, beat.address, lease_ms, to_micros(beat.started_at), to_micros(now)],
                )?;
                connection
                    .execute("DELETE FROM nodes WHERE heartbeat_at < ?1", params![to_micros(now - FORGET_AFTER)])?;
                Ok(())
            })
            .await
    }

    async fn stop_node(&self, id: &str) -> Result<()> {
        let now = self.now();
        let id = id.to_string();
        self.writer
            .write(move |connection, _effects| {
                connection.execute("UPDATE nodes SET stopped_at = ?1 WHERE id = ?2", params![to_micros(now), id])?;
                Ok(())
            })
            .await
    }

    async fn list_nodes(&self) -> Result<Vec<Node>> {
        let now = self.now();
        self.readers.read(move |connection| nodes(connection, now)).await
    }
}
