//! What happens to the jobs that depend on a job when it completes, dies, is
//! cancelled or is retried.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::event::{CancelCause, RetryCause};
use steward_domain::job::cancel_reason;
use steward_domain::{JobChange, JobEvent, JobId, JobState, UserId};

use crate::Result;
use crate::events::sqlite::append;
use crate::sqlite::connection::to_micros;
use crate::sqlite::writer::Effects;

/// `completed` finished: one fewer pending dependency for each dependent;
/// those with none left become ready.
pub(crate) fn unblock_dependents(
    connection: &Connection,
    effects: &mut Effects,
    completed: JobId,
    now: DateTime<Utc>,
) -> Result<()> {
    // SET expressions see the row as it was, so `pending_dependencies = 1`
    // means "this was the last one".
    let mut statement = connection.prepare_cached(
        "UPDATE jobs SET pending_dependencies = pending_dependencies - 1, \
             state = CASE WHEN pending_dependencies = 1 THEN 'queued' ELSE state END, updated_at = ?2 \
         WHERE id IN (SELECT job_id FROM job_dependencies WHERE depends_on_id = ?1) AND state = 'blocked' \
         RETURNING id, user_id, state",
    )?;
    let unblocked: Vec<(i64, i64, String)> = statement
        .query_map(params![completed.get(), to_micros(now)], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, user, state) in unblocked {
        if state == JobState::Queued.as_str() {
            effects.jobs_ready = true;
            let change = JobChange::Unblocked { dependency: completed };
            append(connection, effects, UserId(user), now, JobEvent { job: JobId(id), change })?;
        }
    }
    Ok(())
}

/// `failed` died or was cancelled: every job that depends on it, directly
/// or through other jobs, can never run and is cancelled with reason
/// `dependency_failed`.
pub(crate) fn cancel_dependents(
    connection: &Connection,
    effects: &mut Effects,
    failed: JobId,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut statement = connection.prepare_cached(
        "WITH RECURSIVE dependents(id) AS ( \
             SELECT job_id FROM job_dependencies WHERE depends_on_id = ?1 \
             UNION SELECT d.job_id FROM job_dependencies d JOIN dependents ON d.depends_on_id = dependents.id) \
         UPDATE jobs SET state = 'cancelled', state_reason = ?2, finished_at = ?3, updated_at = ?3 \
         WHERE id IN (SELECT id FROM dependents) AND state = 'blocked' \
         RETURNING id, user_id",
    )?;
    let cancelled: Vec<(i64, i64)> = statement
        .query_map(params![failed.get(), cancel_reason::DEPENDENCY_FAILED, to_micros(now)], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (id, user) in cancelled {
        let change = JobChange::Cancelled {
            from: JobState::Blocked,
            cause: CancelCause::DependencyFailed { dependency: failed },
        };
        append(connection, effects, UserId(user), now, JobEvent { job: JobId(id), change })?;
    }
    Ok(())
}

/// `retried` went back to the queue: the jobs that were cancelled because
/// of it wait for it again, unless another of their dependencies is still
/// dead or cancelled.
pub(crate) fn restore_dependents(
    connection: &Connection,
    effects: &mut Effects,
    retried: JobId,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut frontier = vec![retried];
    while let Some(job) = frontier.pop() {
        let candidates: Vec<(i64, i64)> = connection
            .prepare_cached(
                "SELECT j.id, j.user_id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id \
                 WHERE d.depends_on_id = ?1 AND j.state = 'cancelled' AND j.state_reason = ?2",
            )?
            .query_map(params![job.get(), cancel_reason::DEPENDENCY_FAILED], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, user) in candidates {
            let (failed, pending): (i64, i64) = connection.query_row(
                "SELECT count(*) FILTER (WHERE j.state IN ('dead', 'cancelled')), \
                        count(*) FILTER (WHERE j.state <> 'completed') \
                 FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on_id WHERE d.job_id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if failed > 0 {
                continue;
            }
            connection.execute(
                "UPDATE jobs SET state = 'blocked', pending_dependencies = ?1, state_reason = NULL, \
                 finished_at = NULL, attempts = 0, updated_at = ?2 WHERE id = ?3",
                params![pending, to_micros(now), id],
            )?;
            let change = JobChange::Retried {
                from: JobState::Cancelled,
                to: JobState::Blocked,
                cause: RetryCause::DependencyRetried { dependency: job },
            };
            append(connection, effects, UserId(user), now, JobEvent { job: JobId(id), change })?;
            frontier.push(JobId(id));
        }
    }
    Ok(())
}
