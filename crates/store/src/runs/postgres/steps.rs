//! Run steps on PostgreSQL: appending a step with its run's totals (the
//! agent loop's durable checkpoint), reading a run's steps, and what agents
//! spent.
//!
//! Two workers may hold the same run for a while (a lease expired, the job
//! was claimed again, the first worker has not noticed yet). Both try to
//! append the same step: the run row is locked before its step count is
//! read, so the second waits, then sees the first's step and is refused as
//! stale. The primary key on (run, sequence) backs this up.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use steward_domain::{AgentId, NewEvent, NewRunStep, Run, RunId, RunStatus, RunStep, Spend, UserId};

use super::{load, load_for_worker};
use crate::postgres::connection::to_integer;
use crate::postgres::runtime_rows::{self, run_columns, step_columns};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::runs::AgentMetrics;
use crate::runs::steps;
use crate::{Entity, Result, StoreError};

/// Stores `step` (already checked) and adds it to its run's totals.
pub(crate) async fn append_step(
    transaction: &mut Transaction,
    step: NewRunStep,
    now: DateTime<Utc>,
) -> TransactionResult<Run> {
    let step = steps::storable_step(step);
    let run = load_for_worker(transaction.connection(), step.run_id).await?;
    if run.status == RunStatus::Finished {
        return Err(crate::runs::decide::run_is_finished(run.id, run.outcome).into());
    }
    steps::check_step_sequence(run.id, run.steps, step.sequence)?;
    let usage = step.usage;
    let tokens = |count: u64| i64::try_from(count).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO run_steps (run_id, sequence, user_id, agent_id, kind, name, content, input_tokens, \
         output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, model_call, time_to_first_token_micros, \
         stop_reason, error, started_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(run.id.get())
    .bind(to_integer(step.sequence))
    .bind(run.user_id.get())
    .bind(run.agent_id.get())
    .bind(step.kind.as_str())
    .bind(&step.name)
    .bind(&step.content)
    .bind(usage.map(|usage| tokens(usage.input_tokens)))
    .bind(usage.map(|usage| tokens(usage.output_tokens)))
    .bind(usage.map(|usage| tokens(usage.cache_read_tokens)))
    .bind(usage.map(|usage| tokens(usage.cache_write_tokens)))
    .bind(step.cost_usd)
    .bind(steps::made_model_call(&step))
    .bind(step.time_to_first_token.map(|wait| i64::try_from(wait.as_micros()).unwrap_or(i64::MAX)))
    .bind(&step.stop_reason)
    .bind(&step.error)
    .bind(step.started_at)
    .bind(step.finished_at)
    .execute(transaction.connection())
    .await?;
    let totals = steps::step_totals(&step);
    // RETURNING hands back the run with its new totals, so the agent loop's
    // most frequent write needs no second round trip to read the run.
    let updated = sqlx::query(concat!(
        "UPDATE runs SET input_tokens = input_tokens + $1, output_tokens = output_tokens + $2, \
         cache_read_tokens = cache_read_tokens + $3, cache_write_tokens = cache_write_tokens + $4, \
         cost_usd = cost_usd + $5, unknown_cost_calls = unknown_cost_calls + $6, model_calls = model_calls + $7, \
         tool_calls = tool_calls + $8, estimated_calls = estimated_calls + $11, steps = steps + 1, updated_at = $9, \
         call_started_sequence = NULL, call_started_model = NULL, call_started_input_tokens = NULL, \
         call_started_cost_usd = NULL, call_started_at = NULL WHERE id = $10 RETURNING ",
        run_columns!()
    ))
    .bind(totals.input_tokens)
    .bind(totals.output_tokens)
    .bind(totals.cache_read_tokens)
    .bind(totals.cache_write_tokens)
    .bind(totals.cost_usd)
    .bind(totals.unknown_cost_calls)
    .bind(totals.model_calls)
    .bind(totals.tool_calls)
    .bind(now)
    .bind(run.id.get())
    .bind(totals.estimated_calls)
    .fetch_one(transaction.connection())
    .await?;
    let updated = runtime_rows::run(&updated)?;
    transaction.record(
        run.user_id,
        now,
        NewEvent::RunStep {
            run: run.id,
            agent_id: run.agent_id,
            sequence: step.sequence,
            kind: step.kind,
            name: step.name.clone(),
            cost_usd: step.cost_usd,
            cost_unknown: totals.unknown_cost_calls > 0,
            error: step.error.clone(),
        },
    );
    Ok(updated)
}

pub(crate) async fn list_steps(connection: &mut PgConnection, user: UserId, run: RunId) -> Result<Vec<RunStep>> {
    // Not found when the run is not the user's, rather than no steps.
    load(&mut *connection, user, run).await?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        step_columns!(),
        " FROM run_steps WHERE run_id = $1 AND user_id = $2 ORDER BY sequence"
    ))
    .bind(run.get())
    .bind(user.get())
    .fetch_all(connection)
    .await?;
    Ok(rows.iter().map(runtime_rows::step).collect::<Result<_, _>>()?)
}

async fn ensure_agent_exists(connection: &mut PgConnection, user: UserId, agent: AgentId) -> Result<()> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM agents WHERE id = $1 AND user_id = $2")
        .bind(agent.get())
        .bind(user.get())
        .fetch_optional(connection)
        .await?;
    exists.map(drop).ok_or_else(|| StoreError::not_found(Entity::Agent, agent))
}

/// The agent's model calls since `since`: its runs' steps by the time they
/// finished, the replies in its conversations (its chat, its actions'
/// threads, the setup chat that created it) by the time they were stored,
/// the guardian's looks at its runs and the oversight calls made about its
/// work (duplicate checks): oversight spends its budget too.
async fn sum_spend(
    connection: &mut PgConnection,
    user: UserId,
    agent: AgentId,
    since: Option<DateTime<Utc>>,
) -> Result<Spend> {
    let (cost_usd, unknown_cost_calls): (f64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(cost_usd), 0)::double precision, coalesce(sum(unknown_cost_calls), 0)::bigint FROM ( \
           SELECT sum(cost_usd) AS cost_usd, count(*) FILTER (WHERE cost_usd IS NULL) AS unknown_cost_calls \
           FROM run_steps WHERE user_id = $1 AND agent_id = $2 AND model_call \
             AND ($3::timestamptz IS NULL OR finished_at >= $3) \
           UNION ALL \
           SELECT sum(messages.cost_usd), sum(messages.unknown_cost_calls) \
           FROM conversations JOIN messages ON messages.conversation_id = conversations.id \
           WHERE conversations.user_id = $1 AND conversations.agent_id = $2 AND messages.model_calls > 0 \
             AND ($3::timestamptz IS NULL OR messages.created_at >= $3) \
           UNION ALL \
           SELECT sum(cost_usd), count(*) FILTER (WHERE cost_usd IS NULL) FROM run_assessments \
           WHERE user_id = $1 AND agent_id = $2 AND ($3::timestamptz IS NULL OR created_at >= $3) \
           UNION ALL \
           SELECT sum(cost_usd), count(*) FILTER (WHERE cost_usd IS NULL) \
           FROM oversight_calls WHERE user_id = $1 AND agent_id = $2 \
             AND ($3::timestamptz IS NULL OR created_at >= $3)) AS spent",
    )
    .bind(user.get())
    .bind(agent.get())
    .bind(since)
    .fetch_one(connection)
    .await?;
    Ok(Spend { cost_usd, unknown_cost_calls: u64::try_from(unknown_cost_calls).unwrap_or(0) })
}

pub(crate) async fn spend(
    connection: &mut PgConnection,
    user: UserId,
    agent: AgentId,
    since: Option<DateTime<Utc>>,
) -> Result<Spend> {
    ensure_agent_exists(&mut *connection, user, agent).await?;
    sum_spend(connection, user, agent, since).await
}

pub(crate) async fn metrics(
    connection: &mut PgConnection,
    user: UserId,
    agent: AgentId,
    today: DateTime<Utc>,
) -> Result<AgentMetrics> {
    ensure_agent_exists(&mut *connection, user, agent).await?;
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM runs WHERE user_id = $1 AND agent_id = $2")
        .bind(user.get())
        .bind(agent.get())
        .fetch_one(&mut *connection)
        .await?;
    // Dismissed actions were never going to be done, so they are not counted.
    let (actions_total, actions_completed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state <> 'dismissed'), count(*) FILTER (WHERE state = 'completed') \
         FROM actions WHERE user_id = $1 AND agent_id = $2",
    )
    .bind(user.get())
    .bind(agent.get())
    .fetch_one(&mut *connection)
    .await?;
    let count = |value: i64| u64::try_from(value).unwrap_or(0);
    Ok(AgentMetrics {
        spend_total: sum_spend(&mut *connection, user, agent, None).await?,
        spend_today: sum_spend(connection, user, agent, Some(today)).await?,
        runs: count(runs),
        actions_total: count(actions_total),
        actions_completed: count(actions_completed),
    })
}
