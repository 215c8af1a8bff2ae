//! The costs report on PostgreSQL: model calls by UTC day, agent and model.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use steward_domain::{AgentId, UserId};

use crate::Result;
use crate::costs::{CostEntry, CostPurpose, CostStore, count};
use crate::postgres::PostgresStore;

type Row = (NaiveDate, i64, Option<String>, i64, f64, i64, i64, i64, String);

#[async_trait]
impl CostStore for PostgresStore {
    async fn cost_entries(&self, user: UserId, since: DateTime<Utc>) -> Result<Vec<CostEntry>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT (finished_at AT TIME ZONE 'UTC')::date AS day, agent_id, name AS model, count(*)::bigint, \
                    coalesce(sum(cost_usd), 0)::double precision, \
                    (count(*) FILTER (WHERE cost_usd IS NULL))::bigint, \
                    coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, 'work'::text \
             FROM run_steps WHERE user_id = $1 AND model_call AND finished_at >= $2 \
             GROUP BY 1, agent_id, name \
             UNION ALL \
             SELECT (messages.created_at AT TIME ZONE 'UTC')::date, conversations.agent_id, NULL, \
                    sum(messages.model_calls)::bigint, sum(messages.cost_usd)::double precision, \
                    sum(messages.unknown_cost_calls)::bigint, 0::bigint, 0::bigint, 'work'::text \
             FROM conversations JOIN messages ON messages.conversation_id = conversations.id \
             WHERE conversations.user_id = $1 AND conversations.agent_id IS NOT NULL \
               AND messages.model_calls > 0 AND messages.created_at >= $2 \
             GROUP BY 1, conversations.agent_id \
             UNION ALL \
             SELECT (created_at AT TIME ZONE 'UTC')::date, agent_id, model, count(*)::bigint, \
                    coalesce(sum(cost_usd), 0)::double precision, \
                    (count(*) FILTER (WHERE cost_usd IS NULL))::bigint, \
                    coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, 'oversight'::text \
             FROM run_assessments WHERE user_id = $1 AND created_at >= $2 \
             GROUP BY 1, agent_id, model \
             UNION ALL \
             SELECT (created_at AT TIME ZONE 'UTC')::date, agent_id, model, count(*)::bigint, \
                    coalesce(sum(cost_usd), 0)::double precision, \
                    (count(*) FILTER (WHERE cost_usd IS NULL))::bigint, \
                    coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, 'oversight'::text \
             FROM oversight_calls WHERE user_id = $1 AND created_at >= $2 \
             GROUP BY 1, agent_id, model \
             ORDER BY 1, 2, 3 NULLS FIRST, 9 DESC",
        )
        .bind(user.get())
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(day, agent, model, calls, cost_usd, unknown, input, output, purpose)| CostEntry {
                day,
                agent_id: AgentId(agent),
                model,
                model_calls: count(calls),
                cost_usd,
                unknown_cost_calls: count(unknown),
                input_tokens: count(input),
                output_tokens: count(output),
                purpose: CostPurpose::from_column(&purpose),
            })
            .collect())
    }
}
