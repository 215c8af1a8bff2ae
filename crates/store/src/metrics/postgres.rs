//! The metrics snapshot on PostgreSQL, in one read-only pass of queries.

use async_trait::async_trait;
use steward_domain::AgentId;

use crate::Result;
use crate::metrics::{MetricsSnapshot, MetricsStore, ModelUsage, count};
use crate::postgres::PostgresStore;

type ModelRow = (i64, String, String, i64, i64, i64, i64, i64, i64, f64, i64);

#[async_trait]
impl MetricsStore for PostgresStore {
    async fn metrics_snapshot(&self) -> Result<MetricsSnapshot> {
        let mut connection = self.pool.acquire().await?;
        let jobs: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT state, queue, count(*)::bigint FROM jobs GROUP BY state, queue ORDER BY state, queue",
        )
        .fetch_all(&mut *connection)
        .await?;
        let steps: Vec<(String, i64)> =
            sqlx::query_as("SELECT kind, count(*)::bigint FROM run_steps GROUP BY kind ORDER BY kind")
                .fetch_all(&mut *connection)
                .await?;
        let models: Vec<ModelRow> = sqlx::query_as(
            "SELECT run_steps.agent_id, agents.name, run_steps.name, count(*)::bigint, \
                    (count(*) FILTER (WHERE stop_reason = 'interrupted'))::bigint, \
                    coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, \
                    coalesce(sum(cache_read_tokens), 0)::bigint, coalesce(sum(cache_write_tokens), 0)::bigint, \
                    coalesce(sum(cost_usd), 0)::double precision, (count(*) FILTER (WHERE cost_usd IS NULL))::bigint \
             FROM run_steps JOIN agents ON agents.id = run_steps.agent_id \
             WHERE model_call GROUP BY run_steps.agent_id, agents.name, run_steps.name ORDER BY 1, 3",
        )
        .fetch_all(&mut *connection)
        .await?;
        let tools: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT name, count(*)::bigint, (count(*) FILTER (WHERE error IS NOT NULL))::bigint FROM run_steps \
             WHERE kind = 'tool_call' GROUP BY name ORDER BY name",
        )
        .fetch_all(&mut *connection)
        .await?;
        Ok(MetricsSnapshot {
            jobs: jobs.into_iter().map(|(state, queue, jobs)| (state, queue, count(jobs))).collect(),
            steps: steps.into_iter().map(|(kind, steps)| (kind, count(steps))).collect(),
            models: models
                .into_iter()
                .map(|row| ModelUsage {
                    agent_id: AgentId(row.0),
                    agent_name: row.1,
                    model: row.2,
                    calls: count(row.3),
                    estimated_calls: count(row.4),
                    input_tokens: count(row.5),
                    output_tokens: count(row.6),
                    cache_read_tokens: count(row.7),
                    cache_write_tokens: count(row.8),
                    cost_usd: row.9,
                    unknown_cost_calls: count(row.10),
                })
                .collect(),
            tools: tools.into_iter().map(|(tool, calls, errors)| (tool, count(calls), count(errors))).collect(),
        })
    }
}
