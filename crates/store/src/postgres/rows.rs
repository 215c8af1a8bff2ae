//! Reading rows into domain types. The column lists are macros so queries
//! can be assembled with `concat!` into static strings (prepared once per
//! connection, no dynamic SQL), and each list sits next to the function
//! that reads it, so the two cannot drift apart.

use std::str::FromStr;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use steward_domain::{Action, ActionId, Agent, AgentId, Budget, Event, EventId, EventSubject, Job, JobId, UserId};

use super::connection::{from_integer, from_millis};
use crate::rules::StoredLimits;

macro_rules! job_columns {
    () => {
        "id, user_id, queue, kind, payload, priority, state, run_at, attempts, max_attempts, timeout_ms, \
         idempotency_key, pending_dependencies, lease_owner, lease_expires_at, result, last_error, state_reason, \
         created_at, updated_at, started_at, finished_at"
    };
}

macro_rules! agent_columns {
    () => {
        "id, user_id, name, goal, success_criteria, timeline, status, model, instructions, created_at, updated_at, \
         tools, max_steps, max_tokens, max_cost_usd, max_wall_secs, budget_daily_usd, budget_total_usd"
    };
}

macro_rules! action_columns {
    () => {
        "id, user_id, agent_id, title, description, priority, mode, scheduled_for, state, state_reason, job_id, \
         created_at, updated_at"
    };
}

macro_rules! event_columns {
    () => {
        "id, user_id, occurred_at, kind, subject, subject_id, data, actor_user_id, actor_token_id"
    };
}

pub(crate) use {action_columns, agent_columns, event_columns, job_columns};

/// A row of `job_columns!()`; `depends_on` is filled by [`load_dependencies`].
pub(crate) fn job(row: &PgRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        id: JobId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        queue: row.try_get(2)?,
        kind: row.try_get(3)?,
        payload: row.try_get(4)?,
        priority: row.try_get(5)?,
        state: parsed(row, 6)?,
        run_at: row.try_get(7)?,
        attempts: from_integer(row.try_get(8)?),
        max_attempts: from_integer(row.try_get(9)?),
        timeout: from_millis(row.try_get(10)?),
        idempotency_key: row.try_get(11)?,
        depends_on: Vec::new(),
        pending_dependencies: from_integer(row.try_get(12)?),
        lease_owner: row.try_get(13)?,
        lease_expires_at: row.try_get(14)?,
        result: row.try_get(15)?,
        last_error: row.try_get(16)?,
        state_reason: row.try_get(17)?,
        created_at: row.try_get(18)?,
        updated_at: row.try_get(19)?,
        started_at: row.try_get(20)?,
        finished_at: row.try_get(21)?,
    })
}

/// Fills `depends_on` of each job, in dependency id order.
pub(crate) async fn load_dependencies(connection: &mut PgConnection, jobs: &mut [Job]) -> Result<(), sqlx::Error> {
    if jobs.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = jobs.iter().map(|job| job.id.get()).collect();
    let edges: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT job_id, depends_on_id FROM job_dependencies WHERE job_id = ANY($1) ORDER BY job_id, depends_on_id",
    )
    .bind(ids)
    .fetch_all(connection)
    .await?;
    for (job_id, depends_on) in edges {
        if let Some(job) = jobs.iter_mut().find(|job| job.id.get() == job_id) {
            job.depends_on.push(JobId(depends_on));
        }
    }
    Ok(())
}

pub(crate) fn agent(row: &PgRow) -> Result<Agent, sqlx::Error> {
    let criteria: serde_json::Value = row.try_get(4)?;
    Ok(Agent {
        id: AgentId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        name: row.try_get(2)?,
        goal: row.try_get(3)?,
        success_criteria: serde_json::from_value(criteria).map_err(|error| decode_error(4, error))?,
        timeline: row.try_get(5)?,
        status: parsed(row, 6)?,
        model: row.try_get(7)?,
        instructions: row.try_get(8)?,
        created_at: row.try_get(9)?,
        updated_at: row.try_get(10)?,
        tools: row
            .try_get::<Option<serde_json::Value>, _>(11)?
            .map(|tools| serde_json::from_value(tools).map_err(|error| decode_error(11, error)))
            .transpose()?,
        limits: StoredLimits {
            max_steps: row.try_get::<Option<i32>, _>(12)?.map(from_integer),
            max_tokens: row.try_get(13)?,
            max_cost_usd: row.try_get(14)?,
            max_wall_secs: row.try_get(15)?,
        }
        .into_limits(),
        budget: Budget { daily_usd: row.try_get(16)?, total_usd: row.try_get(17)? },
    })
}

pub(crate) fn action(row: &PgRow) -> Result<Action, sqlx::Error> {
    Ok(Action {
        id: ActionId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        agent_id: AgentId(row.try_get(2)?),
        title: row.try_get(3)?,
        description: row.try_get(4)?,
        priority: parsed(row, 5)?,
        mode: parsed(row, 6)?,
        scheduled_for: row.try_get(7)?,
        state: parsed(row, 8)?,
        state_reason: row.try_get(9)?,
        job_id: row.try_get::<Option<i64>, _>(10)?.map(JobId),
        created_at: row.try_get(11)?,
        updated_at: row.try_get(12)?,
    })
}

pub(crate) fn event(row: &PgRow) -> Result<Event, sqlx::Error> {
    let subject: String = row.try_get(4)?;
    let (actor_user, actor_token): (Option<i64>, Option<i64>) = (row.try_get(7)?, row.try_get(8)?);
    Ok(Event {
        id: EventId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        occurred_at: row.try_get(2)?,
        kind: row.try_get(3)?,
        subject: EventSubject::parse(&subject)
            .ok_or_else(|| decode_error(4, format!("unknown event subject {subject:?}")))?,
        subject_id: row.try_get(5)?,
        data: row.try_get(6)?,
        actor: actor_user.map(|user| steward_domain::access::Actor { user: UserId(user), token_id: actor_token }),
    })
}

/// A text column holding one of a domain enum's names.
pub(crate) fn parsed<T>(row: &PgRow, index: usize) -> Result<T, sqlx::Error>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let text: String = row.try_get(index)?;
    text.parse().map_err(|error: T::Err| decode_error(index, error.to_string()))
}

pub(crate) fn decode_error(index: usize, error: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: index.to_string(), source: error.to_string().into() }
}
