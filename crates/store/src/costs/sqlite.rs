//! The costs report on SQLite: model calls by UTC day, agent and model.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, params};
use steward_domain::{AgentId, UserId};

use crate::costs::{CostEntry, CostPurpose, CostStore, count};
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::to_micros;
use crate::{Result, StoreError};

fn entries(connection: &Connection, user: UserId, since: DateTime<Utc>) -> Result<Vec<CostEntry>> {
    let mut statement = connection.prepare_cached(
        "SELECT date(finished_at / 1000000, 'unixepoch') AS day, agent_id, name AS model, count(*), \
                coalesce(sum(cost_usd), 0.0), count(*) FILTER (WHERE cost_usd IS NULL), \
                coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), 'work' AS purpose \
         FROM run_steps WHERE user_id = ?1 AND model_call = 1 AND finished_at >= ?2 \
         GROUP BY day, agent_id, name \
         UNION ALL \
         SELECT date(messages.created_at / 1000000, 'unixepoch') AS day, conversations.agent_id, NULL, \
                sum(messages.model_calls), sum(messages.cost_usd), sum(messages.unknown_cost_calls), 0, 0, 'work' \
         FROM conversations JOIN messages ON messages.conversation_id = conversations.id \
         WHERE conversations.user_id = ?1 AND conversations.agent_id IS NOT NULL \
           AND messages.model_calls > 0 AND messages.created_at >= ?2 \
         GROUP BY day, conversations.agent_id \
         UNION ALL \
         SELECT date(created_at / 1000000, 'unixepoch') AS day, agent_id, model, count(*), \
                coalesce(sum(cost_usd), 0.0), count(*) FILTER (WHERE cost_usd IS NULL), \
                coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), 'oversight' \
         FROM run_assessments WHERE user_id = ?1 AND created_at >= ?2 \
         GROUP BY day, agent_id, model \
         UNION ALL \
         SELECT date(created_at / 1000000, 'unixepoch') AS day, agent_id, model, count(*), \
                coalesce(sum(cost_usd), 0.0), count(*) FILTER (WHERE cost_usd IS NULL), \
                coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), 'oversight' \
         FROM oversight_calls WHERE user_id = ?1 AND created_at >= ?2 \
         GROUP BY day, agent_id, model \
         ORDER BY 1, 2, 3, 9 DESC",
    )?;
    let rows = statement.query_map(params![user.get(), to_micros(since)], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, f64>(4)?,
            row.get::<_, i64>(5)?,
            row.get::<_, i64>(6)?,
            row.get::<_, i64>(7)?,
            row.get::<_, String>(8)?,
        ))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (day, agent, model, calls, cost_usd, unknown, input, output, purpose) = row?;
        let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|error| StoreError::Database(format!("a cost day {day:?} is not a date: {error}")))?;
        entries.push(CostEntry {
            day,
            agent_id: AgentId(agent),
            model,
            model_calls: count(calls),
            cost_usd,
            unknown_cost_calls: count(unknown),
            input_tokens: count(input),
            output_tokens: count(output),
            purpose: CostPurpose::from_column(&purpose),
        });
    }
    Ok(entries)
}

#[async_trait]
impl CostStore for SqliteStore {
    async fn cost_entries(&self, user: UserId, since: DateTime<Utc>) -> Result<Vec<CostEntry>> {
        self.readers.read(move |connection| entries(connection, user, since)).await
    }
}
