//! The worker side of the queue on SQLite: claiming jobs under a lease,
//! settling attempts, heartbeats, releasing at shutdown, and reclaiming the
//! jobs of workers that stopped renewing their leases.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ToSql, params, params_from_iter};
use steward_domain::{DeathReason, JobChange, JobEvent, JobId, JobState, UserId};

use crate::QueueSettings;
use crate::events::sqlite::{EventBatch, append};
use crate::jobs::decide;
use crate::jobs::sqlite::dependents::{cancel_dependents, unblock_dependents};
use crate::jobs::{
    ClaimRequest, ClaimResponse, ClaimedJob, JobOutcome, LeaseRef, LeaseStatus, SettleOutcome, Settlement,
};
use crate::sqlite::connection::{from_micros, millis, to_micros};
use crate::sqlite::multi_row::{self, ChunkedStatement};
use crate::sqlite::rows::{self, optional};
use crate::sqlite::writer::Effects;
use crate::{Result, rules};

/// Which queues one claim statement may take from.
enum QueueFilter {
    Any,
    Only(String),
    /// `allowed` (JSON array, or `None` for all) minus `excluded` (JSON array).
    Among {
        allowed: Option<String>,
        excluded: String,
    },
}

pub(crate) fn claim(
    connection: &Connection,
    effects: &mut Effects,
    request: ClaimRequest,
    now: DateTime<Utc>,
    settings: &QueueSettings,
) -> Result<ClaimResponse> {
    let settled = settle(connection, effects, &request.settlements, now, settings)?;
    let lease_expires_at = rules::later_by(now, request.lease);
    let mut jobs = Vec::new();

    // Queues with a concurrency limit are claimed one by one, up to the room
    // they have left; the others in one statement.
    let allowed = |queue: &str| request.queues.as_ref().is_none_or(|queues| queues.iter().any(|q| q == queue));
    for (queue, limit) in request.queue_limits.iter().filter(|(queue, _)| allowed(queue)) {
        let room = request.limit.saturating_sub(jobs.len()).min(room_in_queue(connection, queue, *limit)?);
        if room > 0 {
            claim_some(
                connection,
                effects,
                &request.worker_id,
                QueueFilter::Only(queue.clone()),
                room,
                now,
                lease_expires_at,
                &mut jobs,
            )?;
        }
    }
    let room = request.limit.saturating_sub(jobs.len());
    if room > 0 {
        let filter = if request.queues.is_none() && request.queue_limits.is_empty() {
            QueueFilter::Any
        } else {
            let excluded: Vec<&String> = request.queue_limits.keys().collect();
            QueueFilter::Among {
                allowed: request.queues.as_ref().map(serde_json::to_string).transpose()?,
                excluded: serde_json::to_string(&excluded)?,
            }
        };
        claim_some(connection, effects, &request.worker_id, filter, room, now, lease_expires_at, &mut jobs)?;
    }

    let next_run_at = if jobs.len() < request.limit {
        // `run_at > created_at` is the predicate of `jobs_delayed`: a job
        // stored ready (run_at at or before its creation) is due already.
        let next: Option<i64> = connection
            .prepare_cached(
                "SELECT min(run_at) FROM jobs WHERE state = 'queued' AND run_at > created_at AND run_at > ?1",
            )?
            .query_row([to_micros(now)], |row| row.get(0))?;
        next.map(from_micros)
    } else {
        None
    };
    Ok(ClaimResponse { jobs, settled, next_run_at })
}

fn room_in_queue(connection: &Connection, queue: &str, limit: u32) -> Result<usize> {
    let running: i64 = connection
        .prepare_cached("SELECT count(*) FROM jobs WHERE state = 'running' AND queue = ?1")?
        .query_row([queue], |row| row.get(0))?;
    Ok(usize::try_from(i64::from(limit) - running).unwrap_or(0))
}

#[allow(clippy::too_many_arguments)]
fn claim_some(
    connection: &Connection,
    effects: &mut Effects,
    worker_id: &str,
    filter: QueueFilter,
    limit: usize,
    now: DateTime<Utc>,
    lease_expires_at: DateTime<Utc>,
    claimed: &mut Vec<ClaimedJob>,
) -> Result<()> {
    let condition = match &filter {
        QueueFilter::Any => "",
        QueueFilter::Only(_) => "AND queue = ?5",
        QueueFilter::Among { .. } => {
            "AND (?5 IS NULL OR queue IN (SELECT value FROM json_each(?5))) \
             AND queue NOT IN (SELECT value FROM json_each(?6))"
        }
    };
    let mut statement = connection.prepare_cached(&claim_sql(condition))?;
    let mut values: Vec<SqlValue> = vec![
        SqlValue::from(worker_id.to_string()),
        SqlValue::from(to_micros(lease_expires_at)),
        SqlValue::from(to_micros(now)),
        SqlValue::from(i64::try_from(limit).unwrap_or(i64::MAX)),
    ];
    match filter {
        QueueFilter::Any => {}
        QueueFilter::Only(queue) => values.push(SqlValue::from(queue)),
        QueueFilter::Among { allowed, excluded } => {
            values.push(allowed.map_or(SqlValue::Null, SqlValue::from));
            values.push(SqlValue::from(excluded));
        }
    }
    let jobs: Vec<ClaimedJob> = statement
        .query_map(params_from_iter(values), |row| {
            Ok(ClaimedJob {
                id: JobId(row.get(0)?),
                user_id: UserId(row.get(1)?),
                queue: row.get(2)?,
                kind: row.get(3)?,
                payload: rows::json(row, 4)?,
                attempt: row.get(5)?,
                max_attempts: row.get(6)?,
                timeout: millis(row.get(7)?),
                idempotency_key: row.get(8)?,
                lease_expires_at,
                ready_at: from_micros(row.get(9)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut events = EventBatch::default();
    for job in jobs {
        let change = JobChange::Started {
            attempt: job.attempt,
            worker: worker_id.to_string(),
            queue: job.queue.clone(),
            kind: job.kind.clone(),
        };
        events.push(job.user_id, now, JobEvent { job: job.id, change })?;
        claimed.push(job);
    }
    events.flush(connection, effects)
}

/// The claim statement for a queue condition (`AND …` or empty): ?1 worker,
/// ?2 lease expiry, ?3 now, ?4 limit, then the condition's parameters.
fn claim_sql(condition: &str) -> String {
    format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?1, lease_expires_at = ?2, \
             started_at = ?3, updated_at = ?3 \
         WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= ?3 {condition} \
                      ORDER BY priority DESC, run_at, id LIMIT ?4) \
         RETURNING id, user_id, queue, kind, payload, attempts, max_attempts, timeout_ms, idempotency_key, run_at"
    )
}

/// Settles attempts as if one by one in request order, with the common case
/// set-based: completions that are the first settlement naming their job
/// are applied by one UPDATE for the whole batch and their events appended
/// by one INSERT; failures, and any later settlement naming the same job,
/// go one by one after it. The outcome is the same as one by one: jobs do
/// not affect each other's settlement, and for each job the first of its
/// settlements still goes first. Events are appended in request order, each
/// job's dependents released right after its own event.
pub(crate) fn settle(
    connection: &Connection,
    effects: &mut Effects,
    settlements: &[Settlement],
    now: DateTime<Utc>,
    settings: &QueueSettings,
) -> Result<Vec<SettleOutcome>> {
    let mut first_of_job: HashMap<JobId, usize> = HashMap::with_capacity(settlements.len());
    for (position, settlement) in settlements.iter().enumerate() {
        first_of_job.entry(settlement.lease.job_id).or_insert(position);
    }
    first_of_job.retain(|_, position| matches!(settlements[*position].outcome, JobOutcome::Completed { .. }));
    let first_completion = first_of_job;
    let completed = complete_many(connection, settlements, &first_completion, now)?;
    let mut events = EventBatch::default();
    let mut outcomes = Vec::with_capacity(settlements.len());
    for (position, settlement) in settlements.iter().enumerate() {
        let job_id = settlement.lease.job_id;
        if first_completion.get(&job_id) != Some(&position) {
            events.flush(connection, effects)?;
            outcomes.push(settle_one(connection, effects, settlement, now, settings)?);
            continue;
        }
        let Some(&(user, has_dependents)) = completed.get(&job_id) else {
            outcomes.push(SettleOutcome::LeaseLost);
            continue;
        };
        let change = JobChange::Completed { attempt: settlement.lease.attempt };
        events.push(user, now, JobEvent { job: job_id, change })?;
        if has_dependents {
            events.flush(connection, effects)?;
            unblock_dependents(connection, effects, job_id, now)?;
        }
        outcomes.push(SettleOutcome::Applied(JobState::Completed));
    }
    events.flush(connection, effects)?;
    Ok(outcomes)
}

/// Completes the running attempts named by `positions` in one statement;
/// returns the owner and whether it has dependents of each job completed.
fn complete_many(
    connection: &Connection,
    settlements: &[Settlement],
    positions: &HashMap<JobId, usize>,
    now: DateTime<Utc>,
) -> Result<HashMap<JobId, (UserId, bool)>> {
    if positions.is_empty() {
        return Ok(HashMap::new());
    }
    // `[id, attempt, worker, result]` per completion, the result as its JSON text.
    let mut rows: Vec<(i64, u32, &str, String)> = Vec::with_capacity(positions.len());
    for &position in positions.values() {
        let settlement = &settlements[position];
        if let JobOutcome::Completed { result } = &settlement.outcome {
            let result = serde_json::to_string(&rules::storable_result(result))?;
            let LeaseRef { job_id, attempt } = settlement.lease;
            rows.push((job_id.get(), attempt, &settlement.worker_id, result));
        }
    }
    let now = to_micros(now);
    let mut completed = HashMap::with_capacity(rows.len());
    COMPLETE_RUNNING.run_in_chunks(
        connection,
        rows.len(),
        |row| {
            let (id, attempt, worker, result) = &rows[row];
            [id as &dyn ToSql, attempt, worker, result]
        },
        &[&now],
        |statement| {
            let mut returned = statement.raw_query();
            while let Some(row) = returned.next()? {
                completed.insert(JobId(row.get(0)?), (UserId(row.get(1)?), row.get(2)?));
            }
            Ok(())
        },
    )?;
    Ok(completed)
}

/// Completes running attempts: `id, attempt, worker, result` per row, then
/// the time. `+jobs.state`: the plan looks each job up by id, never scans
/// the running jobs for matches (which a stale ANALYZE could choose).
static COMPLETE_RUNNING: ChunkedStatement = ChunkedStatement::new(|rows| {
    format!(
        "WITH s (id, attempt, worker, result) AS (VALUES {values}) \
         UPDATE jobs SET state = 'completed', result = s.result, finished_at = ?{now}, updated_at = ?{now}, \
             lease_owner = NULL, lease_expires_at = NULL \
         FROM s \
         WHERE jobs.id = s.id AND +jobs.state = 'running' AND jobs.attempts = s.attempt \
             AND jobs.lease_owner = s.worker \
         RETURNING id, user_id, has_dependents",
        values = multi_row::values_list(rows, 4, 0),
        now = rows * 4 + 1,
    )
});

fn settle_one(
    connection: &Connection,
    effects: &mut Effects,
    settlement: &Settlement,
    now: DateTime<Utc>,
    settings: &QueueSettings,
) -> Result<SettleOutcome> {
    let LeaseRef { job_id, attempt } = settlement.lease;
    match &settlement.outcome {
        JobOutcome::Completed { result } => {
            let row: Option<(i64, bool)> = optional(
                connection
                    .prepare_cached(
                        "UPDATE jobs SET state = 'completed', result = ?1, finished_at = ?2, updated_at = ?2, \
                             lease_owner = NULL, lease_expires_at = NULL \
                         WHERE id = ?3 AND state = 'running' AND attempts = ?4 AND lease_owner = ?5 \
                         RETURNING user_id, has_dependents",
                    )?
                    .query_row(
                        params![
                            serde_json::to_string(&rules::storable_result(result))?,
                            to_micros(now),
                            job_id.get(),
                            attempt,
                            settlement.worker_id
                        ],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    ),
            )?;
            let Some((user, has_dependents)) = row else {
                return Ok(SettleOutcome::LeaseLost);
            };
            append(
                connection,
                effects,
                UserId(user),
                now,
                JobEvent { job: job_id, change: JobChange::Completed { attempt } },
            )?;
            if has_dependents {
                unblock_dependents(connection, effects, job_id, now)?;
            }
            Ok(SettleOutcome::Applied(JobState::Completed))
        }
        JobOutcome::Failed { error, retry } => {
            let row: Option<(i64, u32)> = optional(
                connection
                    .prepare_cached(
                        "SELECT user_id, max_attempts FROM jobs \
                         WHERE id = ?1 AND state = 'running' AND attempts = ?2 AND lease_owner = ?3",
                    )?
                    .query_row(params![job_id.get(), attempt, settlement.worker_id], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    }),
            )?;
            let Some((user, max_attempts)) = row else {
                return Ok(SettleOutcome::LeaseLost);
            };
            let retry_after = decide::retry_delay(*retry, attempt, max_attempts, settings);
            let error = rules::storable_error(error);
            match retry_after {
                Some(delay) => {
                    let run_at = rules::later_by(now, delay);
                    connection
                        .prepare_cached(
                            "UPDATE jobs SET state = 'queued', run_at = ?1, last_error = ?2, lease_owner = NULL, \
                             lease_expires_at = NULL, updated_at = ?3 WHERE id = ?4",
                        )?
                        .execute(params![to_micros(run_at), error, to_micros(now), job_id.get()])?;
                    effects.jobs_ready = true;
                    let change = JobChange::Failed { attempt, error, retry_at: run_at };
                    append(connection, effects, UserId(user), now, JobEvent { job: job_id, change })?;
                    Ok(SettleOutcome::Applied(JobState::Queued))
                }
                None => {
                    let reason = decide::death_reason(*retry);
                    kill(connection, effects, UserId(user), job_id, attempt, &error, reason, now)?;
                    Ok(SettleOutcome::Applied(JobState::Dead))
                }
            }
        }
    }
}

/// Moves a running job to `dead` and cancels what depends on it.
#[allow(clippy::too_many_arguments)]
fn kill(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    job_id: JobId,
    attempt: u32,
    error: &str,
    reason: DeathReason,
    now: DateTime<Utc>,
) -> Result<()> {
    connection
        .prepare_cached(
            "UPDATE jobs SET state = 'dead', last_error = ?1, state_reason = ?2, lease_owner = NULL, \
             lease_expires_at = NULL, finished_at = ?3, updated_at = ?3 WHERE id = ?4",
        )?
        .execute(params![error, reason.as_str(), to_micros(now), job_id.get()])?;
    let change = JobChange::Died { attempt, error: error.to_string(), reason };
    append(connection, effects, user, now, JobEvent { job: job_id, change })?;
    cancel_dependents(connection, effects, job_id, now)
}

pub(crate) fn heartbeat(
    connection: &Connection,
    worker_id: &str,
    leases: &[LeaseRef],
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<LeaseStatus>> {
    let until = rules::later_by(now, lease);
    let mut statuses = Vec::with_capacity(leases.len());
    for lease in leases {
        let extended = connection
            .prepare_cached(
                "UPDATE jobs SET lease_expires_at = ?1 \
                 WHERE id = ?2 AND state = 'running' AND attempts = ?3 AND lease_owner = ?4",
            )?
            .execute(params![to_micros(until), lease.job_id.get(), lease.attempt, worker_id])?;
        if extended == 1 {
            statuses.push(LeaseStatus::Extended { until });
            continue;
        }
        let state: Option<String> = optional(
            connection
                .prepare_cached("SELECT state FROM jobs WHERE id = ?1")?
                .query_row([lease.job_id.get()], |row| row.get(0)),
        )?;
        statuses.push(if state.as_deref() == Some(JobState::Cancelled.as_str()) {
            LeaseStatus::Cancelled
        } else {
            LeaseStatus::Lost
        });
    }
    Ok(statuses)
}

pub(crate) fn release(
    connection: &Connection,
    effects: &mut Effects,
    worker_id: &str,
    leases: &[LeaseRef],
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut released = 0;
    for lease in leases {
        let user: Option<i64> = optional(
            connection
                .prepare_cached(
                    "UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, \
                         lease_expires_at = NULL, run_at = ?1, updated_at = ?1 \
                     WHERE id = ?2 AND state = 'running' AND attempts = ?3 AND lease_owner = ?4 RETURNING user_id",
                )?
                .query_row(params![to_micros(now), lease.job_id.get(), lease.attempt, worker_id], |row| row.get(0)),
        )?;
        if let Some(user) = user {
            released += 1;
            effects.jobs_ready = true;
            let change = JobChange::Released { attempt: lease.attempt, worker: worker_id.to_string() };
            append(connection, effects, UserId(user), now, JobEvent { job: lease.job_id, change })?;
        }
    }
    Ok(released)
}

/// Takes back running jobs whose lease expired before `expired_before`
/// (every running job when `None`).
pub(crate) fn reclaim(
    connection: &Connection,
    effects: &mut Effects,
    expired_before: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    why: &str,
) -> Result<usize> {
    let expired: Vec<(i64, i64, u32, u32, Option<String>)> = connection
        .prepare_cached(
            "SELECT id, user_id, attempts, max_attempts, lease_owner FROM jobs \
             WHERE state = 'running' AND (?1 IS NULL OR lease_expires_at < ?1)",
        )?
        .query_map([expired_before.map(to_micros)], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (id, user, attempts, max_attempts, worker) in &expired {
        let (id, user) = (JobId(*id), UserId(*user));
        if attempts >= max_attempts {
            kill(connection, effects, user, id, *attempts, why, DeathReason::OutOfAttempts, now)?;
            continue;
        }
        connection
            .prepare_cached(
                "UPDATE jobs SET state = 'queued', last_error = ?1, lease_owner = NULL, lease_expires_at = NULL, \
                 run_at = ?2, updated_at = ?2 WHERE id = ?3",
            )?
            .execute(params![why, to_micros(now), id.get()])?;
        effects.jobs_ready = true;
        let change = JobChange::LeaseExpired { attempt: *attempts, worker: worker.clone(), error: why.to_string() };
        append(connection, effects, user, now, JobEvent { job: id, change })?;
    }
    Ok(expired.len())
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    #[test]
    fn claiming_again_reuses_the_prepared_claim() {
        let connection = crate::sqlite::connection::migrated_in_memory();
        connection
            .execute_batch(
                "INSERT INTO jobs (user_id, queue, kind, payload, priority, state, run_at, max_attempts, timeout_ms, \
                     created_at, updated_at) \
                 VALUES (1, 'default', 'noop', '{}', 0, 'queued', 0, 3, 1000, 0, 0), \
                        (1, 'default', 'noop', '{}', 0, 'queued', 0, 3, 1000, 0, 0), \
                        (1, 'default', 'noop', '{}', 0, 'queued', 0, 3, 1000, 0, 0)",
            )
            .unwrap_or_else(|error| panic!("{error}"));
        let settings = QueueSettings::default();
        for second in 1..=3 {
            let now = DateTime::from_timestamp(second, 0).unwrap_or_default();
            let request = ClaimRequest::new("worker", 1, Duration::from_secs(30));
            let response = claim(&connection, &mut Effects::default(), request, now, &settings)
                .unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(response.jobs.len(), 1);
        }
        let statement = connection.prepare_cached(&claim_sql("")).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0, "re-prepared on new parameter values");
    }
}
