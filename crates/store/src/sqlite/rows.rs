//! Reading rows into domain types. Column lists live next to the functions
//! that read them, so the two cannot drift apart.

use std::str::FromStr;

use rusqlite::types::Type;
use rusqlite::{Connection, Row};
use serde_json::Value;
use steward_domain::{Action, ActionId, Agent, AgentId, Budget, Event, EventId, EventSubject, Job, JobId, UserId};

use super::connection::{from_micros, millis};
use crate::Result;
use crate::rules::StoredLimits;

pub(crate) const JOB_COLUMNS: &str = "id, user_id, queue, kind, payload, priority, state, run_at, attempts, \
     max_attempts, timeout_ms, idempotency_key, pending_dependencies, lease_owner, lease_expires_at, result, \
     last_error, state_reason, created_at, updated_at, started_at, finished_at";

pub(crate) fn job(row: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: JobId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        queue: row.get(2)?,
        kind: row.get(3)?,
        payload: json(row, 4)?,
        priority: row.get(5)?,
        state: parsed(row, 6)?,
        run_at: from_micros(row.get(7)?),
        attempts: row.get(8)?,
        max_attempts: row.get(9)?,
        timeout: millis(row.get(10)?),
        idempotency_key: row.get(11)?,
        depends_on: Vec::new(),
        pending_dependencies: row.get(12)?,
        lease_owner: row.get(13)?,
        lease_expires_at: row.get::<_, Option<i64>>(14)?.map(from_micros),
        result: optional_json(row, 15)?,
        last_error: row.get(16)?,
        state_reason: row.get(17)?,
        created_at: from_micros(row.get(18)?),
        updated_at: from_micros(row.get(19)?),
        started_at: row.get::<_, Option<i64>>(20)?.map(from_micros),
        finished_at: row.get::<_, Option<i64>>(21)?.map(from_micros),
    })
}

/// Fills `depends_on` of each job.
pub(crate) fn load_dependencies(connection: &Connection, jobs: &mut [Job]) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = jobs.iter().map(|job| job.id.get()).collect();
    let ids = serde_json::to_string(&ids)?;
    let mut statement = connection.prepare_cached(
        "SELECT job_id, depends_on_id FROM job_dependencies \
         WHERE job_id IN (SELECT value FROM json_each(?1)) ORDER BY job_id, depends_on_id",
    )?;
    let mut rows = statement.query([ids])?;
    while let Some(row) = rows.next()? {
        let job_id = JobId(row.get(0)?);
        let depends_on = JobId(row.get(1)?);
        if let Some(job) = jobs.iter_mut().find(|job| job.id == job_id) {
            job.depends_on.push(depends_on);
        }
    }
    Ok(())
}

pub(crate) const AGENT_COLUMNS: &str = "id, user_id, name, goal, success_criteria, timeline, status, model, \
     instructions, created_at, updated_at, tools, max_steps, max_tokens, max_cost_usd, max_wall_secs, \
     budget_daily_usd, budget_total_usd";

pub(crate) fn agent(row: &Row<'_>) -> rusqlite::Result<Agent> {
    let criteria: Value = json(row, 4)?;
    Ok(Agent {
        id: AgentId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        name: row.get(2)?,
        goal: row.get(3)?,
        success_criteria: serde_json::from_value(criteria).map_err(|error| conversion_error(4, error))?,
        timeline: row.get(5)?,
        status: parsed(row, 6)?,
        model: row.get(7)?,
        instructions: row.get(8)?,
        created_at: from_micros(row.get(9)?),
        updated_at: from_micros(row.get(10)?),
        tools: optional_json(row, 11)?
            .map(|tools| serde_json::from_value(tools).map_err(|error| conversion_error(11, error)))
            .transpose()?,
        limits: StoredLimits {
            max_steps: row.get(12)?,
            max_tokens: row.get(13)?,
            max_cost_usd: row.get(14)?,
            max_wall_secs: row.get(15)?,
        }
        .into_limits(),
        budget: Budget { daily_usd: row.get(16)?, total_usd: row.get(17)? },
    })
}

pub(crate) const ACTION_COLUMNS: &str = "id, user_id, agent_id, title, description, priority, mode, scheduled_for, \
     state, state_reason, job_id, created_at, updated_at";

pub(crate) fn action(row: &Row<'_>) -> rusqlite::Result<Action> {
    Ok(Action {
        id: ActionId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        agent_id: AgentId(row.get(2)?),
        title: row.get(3)?,
        description: row.get(4)?,
        priority: parsed(row, 5)?,
        mode: parsed(row, 6)?,
        scheduled_for: row.get::<_, Option<i64>>(7)?.map(from_micros),
        state: parsed(row, 8)?,
        state_reason: row.get(9)?,
        job_id: row.get::<_, Option<i64>>(10)?.map(JobId),
        created_at: from_micros(row.get(11)?),
        updated_at: from_micros(row.get(12)?),
    })
}

pub(crate) const EVENT_COLUMNS: &str =
    "id, user_id, occurred_at, kind, subject, subject_id, data, actor_user_id, actor_token_id";

/// Who made a change, from its event's two columns.
fn actor(user: Option<i64>, token_id: Option<i64>) -> Option<steward_domain::access::Actor> {
    user.map(|user| steward_domain::access::Actor { user: UserId(user), token_id })
}

pub(crate) fn event(row: &Row<'_>) -> rusqlite::Result<Event> {
    let subject: String = row.get(4)?;
    Ok(Event {
        id: EventId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        occurred_at: from_micros(row.get(2)?),
        kind: row.get(3)?,
        subject: EventSubject::parse(&subject)
            .ok_or_else(|| conversion_error(4, format!("unknown event subject {subject:?}")))?,
        subject_id: row.get(5)?,
        data: json(row, 6)?,
        actor: actor(row.get(7)?, row.get(8)?),
    })
}

pub(crate) fn parsed<T>(row: &Row<'_>, index: usize) -> rusqlite::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let text: String = row.get(index)?;
    text.parse().map_err(|error: T::Err| conversion_error(index, error.to_string()))
}

pub(crate) fn json(row: &Row<'_>, index: usize) -> rusqlite::Result<Value> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|error| conversion_error(index, error))
}

pub(crate) fn optional_json(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Value>> {
    let text: Option<String> = row.get(index)?;
    text.map(|text| serde_json::from_str(&text).map_err(|error| conversion_error(index, error))).transpose()
}

pub(crate) fn conversion_error(
    index: usize,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, error.into())
}

/// Runs `statement` expecting at most one row.
pub(crate) fn optional<T>(result: rusqlite::Result<T>) -> rusqlite::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(error) => Err(error),
    }
}
