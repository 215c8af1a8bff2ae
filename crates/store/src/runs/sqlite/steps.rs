//! Run steps on SQLite: appending a step with its run's totals (the agent
//! loop's durable checkpoint), reading a run's steps, and what agents spent.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::{AgentId, NewEvent, NewRunStep, Run, RunId, RunStatus, RunStep, Spend, UserId};

use super::{load, load_for_worker};
use crate::actions::sqlite::agent_status;
use crate::events::sqlite::append;
use crate::runs::AgentMetrics;
use crate::runs::steps;
use crate::sqlite::connection::to_micros;
use crate::sqlite::runtime_rows::{self, RUN_COLUMNS, STEP_COLUMNS};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError};

/// Stores `step` (already checked) and adds it to its run's totals.
pub(crate) fn append_step(
    connection: &Connection,
    effects: &mut Effects,
    step: NewRunStep,
    now: DateTime<Utc>,
) -> Result<Run> {
    let step = steps::storable_step(step);
    let run = load_for_worker(connection, step.run_id)?;
    if run.status == RunStatus::Finished {
        return Err(crate::runs::decide::run_is_finished(run.id, run.outcome));
    }
    steps::check_step_sequence(run.id, run.steps, step.sequence)?;
    let usage = step.usage;
    let tokens = |count: u64| i64::try_from(count).unwrap_or(i64::MAX);
    connection
        .prepare_cached(
            "INSERT INTO run_steps (run_id, sequence, user_id, agent_id, kind, name, content, input_tokens, \
             output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, model_call, time_to_first_token_micros, \
             stop_reason, error, started_at, finished_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )?
        .execute(params![
            run.id.get(),
            step.sequence,
            run.user_id.get(),
            run.agent_id.get(),
            step.kind.as_str(),
            step.name,
            serde_json::to_string(&step.content)?,
            usage.map(|usage| tokens(usage.input_tokens)),
            usage.map(|usage| tokens(usage.output_tokens)),
            usage.map(|usage| tokens(usage.cache_read_tokens)),
            usage.map(|usage| tokens(usage.cache_write_tokens)),
            step.cost_usd,
            steps::made_model_call(&step),
            step.time_to_first_token.map(|wait| i64::try_from(wait.as_micros()).unwrap_or(i64::MAX)),
            step.stop_reason,
            step.error,
            to_micros(step.started_at),
            to_micros(step.finished_at),
        ])?;
    let totals = steps::step_totals(&step);
    // RETURNING hands back the run with its new totals, so the agent loop's
    // most frequent write needs no second read of the run.
    let updated = connection
        .prepare_cached(&format!(
            "UPDATE runs SET input_tokens = input_tokens + ?1, output_tokens = output_tokens + ?2, \
             cache_read_tokens = cache_read_tokens + ?3, cache_write_tokens = cache_write_tokens + ?4, \
             cost_usd = cost_usd + ?5, unknown_cost_calls = unknown_cost_calls + ?6, \
             model_calls = model_calls + ?7, tool_calls = tool_calls + ?8, estimated_calls = estimated_calls + ?11, \
             steps = steps + 1, updated_at = ?9, call_started_sequence = NULL, call_started_model = NULL, \
             call_started_input_tokens = NULL, call_started_cost_usd = NULL, call_started_at = NULL \
             WHERE id = ?10 RETURNING {RUN_COLUMNS}"
        ))?
        .query_row(
            params![
                totals.input_tokens,
                totals.output_tokens,
                totals.cache_read_tokens,
                totals.cache_write_tokens,
                totals.cost_usd,
                totals.unknown_cost_calls,
                totals.model_calls,
                totals.tool_calls,
                to_micros(now),
                run.id.get(),
                totals.estimated_calls,
            ],
            runtime_rows::run,
        )?;
    append(
        connection,
        effects,
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
    )?;
    Ok(updated)
}

pub(crate) fn list_steps(connection: &Connection, user: UserId, run: RunId) -> Result<Vec<RunStep>> {
    // Not found when the run is not the user's, rather than no steps.
    load(connection, user, run)?;
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {STEP_COLUMNS} FROM run_steps WHERE run_id = ?1 AND user_id = ?2 ORDER BY sequence"
    ))?;
    let steps =
        statement.query_map(params![run.get(), user.get()], runtime_rows::step)?.collect::<rusqlite::Result<_>>()?;
    Ok(steps)
}

fn ensure_agent_exists(connection: &Connection, user: UserId, agent: AgentId) -> Result<()> {
    match agent_status(connection, user, agent)? {
        Some(_) => Ok(()),
        None => Err(StoreError::not_found(Entity::Agent, agent)),
    }
}

/// The agent's model calls since `since`: its runs' steps by the time they
/// finished, the replies in its conversations (its chat, its actions'
/// threads, the setup chat that created it) by the time they were stored,
/// the guardian's looks at its runs and the oversight calls made about its
/// work (duplicate checks): oversight spends its budget too.
fn sum_spend(connection: &Connection, user: UserId, agent: AgentId, since: Option<DateTime<Utc>>) -> Result<Spend> {
    let (cost_usd, unknown_cost_calls): (f64, i64) = connection
        .prepare_cached(
            "SELECT coalesce(sum(cost_usd), 0.0), coalesce(sum(unknown_cost_calls), 0) FROM ( \
               SELECT coalesce(sum(cost_usd), 0.0) AS cost_usd, count(*) FILTER (WHERE cost_usd IS NULL) \
                 AS unknown_cost_calls FROM run_steps \
               WHERE user_id = ?1 AND agent_id = ?2 AND model_call = 1 AND (?3 IS NULL OR finished_at >= ?3) \
               UNION ALL \
               SELECT coalesce(sum(messages.cost_usd), 0.0), coalesce(sum(messages.unknown_cost_calls), 0) \
               FROM conversations JOIN messages ON messages.conversation_id = conversations.id \
               WHERE conversations.user_id = ?1 AND conversations.agent_id = ?2 AND messages.model_calls > 0 \
                 AND (?3 IS NULL OR messages.created_at >= ?3) \
               UNION ALL \
               SELECT coalesce(sum(cost_usd), 0.0), count(*) FILTER (WHERE cost_usd IS NULL) FROM run_assessments \
               WHERE user_id = ?1 AND agent_id = ?2 AND (?3 IS NULL OR created_at >= ?3) \
               UNION ALL \
               SELECT coalesce(sum(cost_usd), 0.0), count(*) FILTER (WHERE cost_usd IS NULL) \
               FROM oversight_calls WHERE user_id = ?1 AND agent_id = ?2 AND (?3 IS NULL OR created_at >= ?3))",
        )?
        .query_row(params![user.get(), agent.get(), since.map(to_micros)], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(Spend { cost_usd, unknown_cost_calls: u64::try_from(unknown_cost_calls).unwrap_or(0) })
}

pub(crate) fn spend(
    connection: &Connection,
    user: UserId,
    agent: AgentId,
    since: Option<DateTime<Utc>>,
) -> Result<Spend> {
    ensure_agent_exists(connection, user, agent)?;
    sum_spend(connection, user, agent, since)
}

pub(crate) fn metrics(
    connection: &Connection,
    user: UserId,
    agent: AgentId,
    today: DateTime<Utc>,
) -> Result<AgentMetrics> {
    ensure_agent_exists(connection, user, agent)?;
    let runs: i64 = connection
        .prepare_cached("SELECT count(*) FROM runs WHERE user_id = ?1 AND agent_id = ?2")?
        .query_row(params![user.get(), agent.get()], |row| row.get(0))?;
    // Dismissed actions were never going to be done, so they are not counted.
    let (actions_total, actions_completed): (i64, i64) = connection
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE state <> 'dismissed'), count(*) FILTER (WHERE state = 'completed') \
             FROM actions WHERE user_id = ?1 AND agent_id = ?2",
        )?
        .query_row(params![user.get(), agent.get()], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let count = |value: i64| u64::try_from(value).unwrap_or(0);
    Ok(AgentMetrics {
        spend_total: sum_spend(connection, user, agent, None)?,
        spend_today: sum_spend(connection, user, agent, Some(today))?,
        runs: count(runs),
        actions_total: count(actions_total),
        actions_completed: count(actions_completed),
    })
}
