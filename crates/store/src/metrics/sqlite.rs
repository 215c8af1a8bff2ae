//! The metrics snapshot on SQLite, read on a reader connection.

use async_trait::async_trait;
use rusqlite::Connection;
use steward_domain::AgentId;

use crate::Result;
use crate::metrics::{MetricsSnapshot, MetricsStore, ModelUsage, count};
use crate::sqlite::SqliteStore;

fn snapshot(connection: &Connection) -> Result<MetricsSnapshot> {
    let jobs = connection
        .prepare_cached("SELECT state, queue, count(*) FROM jobs GROUP BY state, queue ORDER BY state, queue")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, count(row.get(2)?))))?
        .collect::<rusqlite::Result<_>>()?;
    let steps = connection
        .prepare_cached("SELECT kind, count(*) FROM run_steps GROUP BY kind ORDER BY kind")?
        .query_map([], |row| Ok((row.get(0)?, count(row.get(1)?))))?
        .collect::<rusqlite::Result<_>>()?;
    let models = connection
        .prepare_cached(
            "SELECT run_steps.agent_id, agents.name, run_steps.name, count(*), \
                    count(*) FILTER (WHERE stop_reason = 'interrupted'), \
                    coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), \
                    coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0), \
                    coalesce(sum(cost_usd), 0.0), count(*) FILTER (WHERE cost_usd IS NULL) \
             FROM run_steps JOIN agents ON agents.id = run_steps.agent_id \
             WHERE model_call = 1 GROUP BY run_steps.agent_id, run_steps.name ORDER BY 1, 3",
        )?
        .query_map([], |row| {
            Ok(ModelUsage {
                agent_id: AgentId(row.get(0)?),
                agent_name: row.get(1)?,
                model: row.get(2)?,
                calls: count(row.get(3)?),
                estimated_calls: count(row.get(4)?),
                input_tokens: count(row.get(5)?),
                output_tokens: count(row.get(6)?),
                cache_read_tokens: count(row.get(7)?),
                cache_write_tokens: count(row.get(8)?),
                cost_usd: row.get(9)?,
                unknown_cost_calls: count(row.get(10)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let tools = connection
        .prepare_cached(
            "SELECT name, count(*), count(*) FILTER (WHERE error IS NOT NULL) FROM run_steps \
             WHERE kind = 'tool_call' GROUP BY name ORDER BY name",
        )?
        .query_map([], |row| Ok((row.get(0)?, count(row.get(1)?), count(row.get(2)?))))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(MetricsSnapshot { jobs, steps, models, tools })
}

#[async_trait]
impl MetricsStore for SqliteStore {
    async fn metrics_snapshot(&self) -> Result<MetricsSnapshot> {
        self.readers.read(snapshot).await
    }
}
