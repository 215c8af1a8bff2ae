//! The person side of the queue on PostgreSQL: cancel, retry, and reading
//! jobs.

use crate::ownership::{list_condition, list_parameter};
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::{PgConnection, Row};
use steward_domain::access::Owners;
use steward_domain::event::{CancelCause, RetryCause};
use steward_domain::job::cancel_reason;
use steward_domain::{Event, Job, JobChange, JobEvent, JobId, JobState, UserId};

use crate::jobs::postgres::dependents::{cancel_dependents, restore_dependents};
use crate::jobs::{JobCounts, JobFilter, listing};
use crate::postgres::connection::{could_be_stored, to_integer};
use crate::postgres::rows::{self, event_columns, job_columns};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::{Entity, Result, StoreError, rules};

/// The most jobs one page lists.
const MAX_PAGE: usize = 1000;

pub(crate) async fn load(connection: &mut PgConnection, user: UserId, id: JobId) -> Result<Job> {
    let row = sqlx::query(concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1 AND user_id = $2"))
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(&mut *connection)
        .await?;
    with_dependencies(connection, row.as_ref(), id).await
}

/// Loads the job and locks it until commit, so a worker settling it, a
/// claimer or another person's cancel or retry waits (or skips it) instead
/// of acting on the state read here.
async fn load_for_update(connection: &mut PgConnection, user: UserId, id: JobId) -> TransactionResult<Job> {
    let row = sqlx::query(concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1 AND user_id = $2 FOR UPDATE"))
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(&mut *connection)
        .await?;
    Ok(with_dependencies(connection, row.as_ref(), id).await?)
}

async fn with_dependencies(
    connection: &mut PgConnection,
    row: Option<&sqlx::postgres::PgRow>,
    id: JobId,
) -> Result<Job> {
    let job = rows::job(row.ok_or_else(|| StoreError::not_found(Entity::Job, id))?)?;
    let mut jobs = [job];
    rows::load_dependencies(connection, &mut jobs).await?;
    let [job] = jobs;
    Ok(job)
}

pub(crate) async fn cancel(
    transaction: &mut Transaction,
    user: UserId,
    id: JobId,
    now: DateTime<Utc>,
) -> TransactionResult<Job> {
    let job = load_for_update(transaction.connection(), user, id).await?;
    rules::check_cancellable(id, job.state)?;
    sqlx::query(
        "UPDATE jobs SET state = 'cancelled', state_reason = $1, lease_owner = NULL, lease_expires_at = NULL, \
         finished_at = $2, updated_at = $2 WHERE id = $3",
    )
    .bind(cancel_reason::REQUESTED)
    .bind(now)
    .bind(id.get())
    .execute(transaction.connection())
    .await?;
    let change = JobChange::Cancelled { from: job.state, cause: CancelCause::Requested { attempt: job.attempts } };
    transaction.record(user, now, JobEvent { job: id, change });
    cancel_dependents(transaction, id, now).await?;
    Ok(load(transaction.connection(), user, id).await?)
}

pub(crate) async fn retry(
    transaction: &mut Transaction,
    user: UserId,
    id: JobId,
    now: DateTime<Utc>,
) -> TransactionResult<Job> {
    let job = load_for_update(transaction.connection(), user, id).await?;
    rules::check_retriable(id, job.state)?;
    // Share-locked: a dependency completing concurrently must be counted
    // after its commit, or this job would wait for it forever.
    let dependencies: Vec<(i64, String)> = sqlx::query_as(
        "SELECT j.id, j.state FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on_id \
         WHERE d.job_id = $1 ORDER BY j.id FOR SHARE OF j",
    )
    .bind(id.get())
    .fetch_all(transaction.connection())
    .await?;
    let mut pending = 0u32;
    for (dependency, state) in &dependencies {
        let state: JobState = state.parse()?;
        rules::check_dependency_of_retry(id, JobId(*dependency), state)?;
        if state != JobState::Completed {
            pending += 1;
        }
    }
    let state = if pending > 0 { JobState::Blocked } else { JobState::Queued };
    sqlx::query(
        "UPDATE jobs SET state = $1, attempts = 0, pending_dependencies = $2, run_at = $3, state_reason = NULL, \
         finished_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 WHERE id = $4",
    )
    .bind(state.as_str())
    .bind(to_integer(pending))
    .bind(now)
    .bind(id.get())
    .execute(transaction.connection())
    .await?;
    if state == JobState::Queued {
        transaction.jobs_became_ready();
    }
    let cause = RetryCause::Requested { previous_attempts: job.attempts, last_error: job.last_error };
    transaction.record(
        user,
        now,
        JobEvent { job: id, change: JobChange::Retried { from: job.state, to: state, cause } },
    );
    restore_dependents(transaction, id, now).await?;
    Ok(load(transaction.connection(), user, id).await?)
}

/// One page of jobs, newest first: one query per way into the table that
/// the requested states need (see [`crate::jobs::listing`]).
pub(crate) async fn list(connection: &mut PgConnection, owners: Owners, filter: &JobFilter) -> Result<Vec<Job>> {
    if !could_be_stored(filter.queue.as_deref()) || !could_be_stored(filter.kind.as_deref()) {
        return Ok(Vec::new());
    }
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let mut pages = Vec::new();
    for path in listing::state_paths(&filter.states) {
        let states: Vec<&str> = path.states.iter().map(|state| state.as_str()).collect();
        let rows = sqlx::query(AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE {owner} AND {condition} AND state = ANY($2) \
                  AND ($3::text IS NULL OR queue = $3) AND ($4::text IS NULL OR kind = $4) \
                  AND ($5::bigint IS NULL OR id < $5) \
                  ORDER BY id DESC LIMIT $6"
            ),
            owner = list_condition(owners, "$1::bigint"),
            condition = path.condition
        )))
        .bind(list_parameter(owners))
        .bind(states)
        .bind(filter.queue.as_deref())
        .bind(filter.kind.as_deref())
        .bind(filter.before.map(JobId::get))
        .bind(limit as i64)
        .fetch_all(&mut *connection)
        .await?;
        pages.push(rows.iter().map(rows::job).collect::<Result<Vec<Job>, _>>()?);
    }
    let mut jobs = listing::newest_first(pages, limit);
    rows::load_dependencies(connection, &mut jobs).await?;
    Ok(jobs)
}

pub(crate) async fn count(connection: &mut PgConnection, owners: Owners, filter: &JobFilter) -> Result<JobCounts> {
    let mut counts: JobCounts = JobState::ALL.into_iter().map(|state| (state, 0)).collect();
    if !could_be_stored(filter.queue.as_deref()) || !could_be_stored(filter.kind.as_deref()) {
        return Ok(counts);
    }
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT state, count(*) FROM jobs WHERE {owner} AND ($2::text IS NULL OR queue = $2) \
         AND ($3::text IS NULL OR kind = $3) GROUP BY state",
        owner = list_condition(owners, "$1::bigint")
    )))
    .bind(list_parameter(owners))
    .bind(filter.queue.as_deref())
    .bind(filter.kind.as_deref())
    .fetch_all(connection)
    .await?;
    for row in &rows {
        let state: JobState = rows::parsed(row, 0)?;
        let count: i64 = row.try_get(1)?;
        counts.insert(state, u64::try_from(count).unwrap_or(0));
    }
    Ok(counts)
}

pub(crate) async fn events(connection: &mut PgConnection, user: UserId, id: JobId) -> Result<Vec<Event>> {
    // Existence check first, so a missing job is "not found", not "no events".
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE id = $1 AND user_id = $2")
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(&mut *connection)
        .await?;
    if exists.is_none() {
        return Err(StoreError::not_found(Entity::Job, id));
    }
    let rows = sqlx::query(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE subject = 'job' AND subject_id = $1 AND user_id = $2 ORDER BY id"
    ))
    .bind(id.get())
    .bind(user.get())
    .fetch_all(connection)
    .await?;
    Ok(rows.iter().map(rows::event).collect::<Result<_, _>>()?)
}
