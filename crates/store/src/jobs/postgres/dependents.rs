//! What happens to the jobs that depend on a job when it completes, dies, is
//! cancelled or is retried — the same rules as on SQLite, made safe against
//! concurrent transactions.
//!
//! The race to close is an enqueue adding a dependent while the dependency
//! changes state. Enqueue locks each stored dependency row (`FOR NO KEY
//! UPDATE`) before reading its state, and every path that changes a job's
//! state updates (and so locks) that row before looking for its dependents.
//! Whichever transaction locks the row second waits for the first to commit
//! and then sees its work: either the enqueue sees the new state, or the
//! lookup of dependents (a later statement, with a fresh snapshot) sees the
//! new dependent.

use chrono::{DateTime, Utc};
use sqlx::Row;
use steward_domain::event::{CancelCause, RetryCause};
use steward_domain::job::cancel_reason;
use steward_domain::{JobChange, JobEvent, JobId, JobState, UserId};

use crate::postgres::rows;
use crate::postgres::transaction::{Transaction, TransactionResult};

/// `completed` finished: one fewer pending dependency for each dependent;
/// those with none left become ready.
pub(crate) async fn unblock_dependents(
    transaction: &mut Transaction,
    completed: JobId,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    // SET expressions see the row as it was, so `pending_dependencies = 1`
    // means "this was the last one". A dependent that another transaction
    // is unblocking at the same time is re-read after its commit, so two
    // dependencies completing together both count.
    let rows = sqlx::query(
        "UPDATE jobs SET pending_dependencies = pending_dependencies - 1, \
             state = CASE WHEN pending_dependencies = 1 THEN 'queued' ELSE state END, updated_at = $2 \
         WHERE id IN (SELECT job_id FROM job_dependencies WHERE depends_on_id = $1) AND state = 'blocked' \
         RETURNING id, user_id, state",
    )
    .bind(completed.get())
    .bind(now)
    .fetch_all(transaction.connection())
    .await?;
    let mut unblocked = Vec::new();
    for row in &rows {
        let state: JobState = rows::parsed(row, 2)?;
        if state == JobState::Queued {
            unblocked.push((JobId(row.try_get(0)?), UserId(row.try_get(1)?)));
        }
    }
    unblocked.sort();
    for (id, user) in unblocked {
        transaction.jobs_became_ready();
        transaction.record(user, now, JobEvent { job: id, change: JobChange::Unblocked { dependency: completed } });
    }
    Ok(())
}

/// `failed` died or was cancelled: every job that depends on it, directly
/// or through other jobs, can never run and is cancelled with reason
/// `dependency_failed`.
pub(crate) async fn cancel_dependents(
    transaction: &mut Transaction,
    failed: JobId,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    // The dependents are found with the statement's snapshot. If an enqueue
    // was adding a dependent to one of them, this statement waited for it
    // on that job's row lock but cannot see the new dependent, so the walk
    // is repeated (with a fresh snapshot) until it cancels nothing more.
    loop {
        let rows = sqlx::query(
            "WITH RECURSIVE dependents(id) AS ( \
                 SELECT job_id FROM job_dependencies WHERE depends_on_id = $1 \
                 UNION SELECT d.job_id FROM job_dependencies d JOIN dependents ON d.depends_on_id = dependents.id) \
             UPDATE jobs SET state = 'cancelled', state_reason = $2, finished_at = $3, updated_at = $3 \
             WHERE id IN (SELECT id FROM dependents) AND state = 'blocked' \
             RETURNING id, user_id",
        )
        .bind(failed.get())
        .bind(cancel_reason::DEPENDENCY_FAILED)
        .bind(now)
        .fetch_all(transaction.connection())
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut cancelled: Vec<(i64, i64)> =
            rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect::<Result<_, sqlx::Error>>()?;
        cancelled.sort();
        for (id, user) in cancelled {
            let cause = CancelCause::DependencyFailed { dependency: failed };
            let change = JobChange::Cancelled { from: JobState::Blocked, cause };
            transaction.record(UserId(user), now, JobEvent { job: JobId(id), change });
        }
    }
}

/// `retried` went back to the queue: the jobs that were cancelled because
/// of it wait for it again, unless another of their dependencies is still
/// dead or cancelled.
pub(crate) async fn restore_dependents(
    transaction: &mut Transaction,
    retried: JobId,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let mut frontier = vec![retried];
    while let Some(job) = frontier.pop() {
        let candidates: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT j.id, j.user_id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id \
             WHERE d.depends_on_id = $1 AND j.state = 'cancelled' AND j.state_reason = $2 \
             ORDER BY j.id FOR UPDATE OF j",
        )
        .bind(job.get())
        .bind(cancel_reason::DEPENDENCY_FAILED)
        .fetch_all(transaction.connection())
        .await?;
        for (id, user) in candidates {
            // Share-locked so a dependency completing or dying concurrently
            // is seen after its commit, not counted from a stale snapshot.
            let states: Vec<String> = sqlx::query_scalar(
                "SELECT j.state FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on_id \
                 WHERE d.job_id = $1 ORDER BY j.id FOR SHARE OF j",
            )
            .bind(id)
            .fetch_all(transaction.connection())
            .await?;
            let states: Vec<JobState> = states.iter().map(|state| state.parse()).collect::<Result<_, _>>()?;
            if states.iter().any(|state| matches!(state, JobState::Dead | JobState::Cancelled)) {
                continue;
            }
            let pending = states.iter().filter(|state| **state != JobState::Completed).count();
            sqlx::query(
                "UPDATE jobs SET state = 'blocked', pending_dependencies = $1, state_reason = NULL, \
                 finished_at = NULL, attempts = 0, updated_at = $2 WHERE id = $3",
            )
            .bind(i32::try_from(pending).unwrap_or(i32::MAX))
            .bind(now)
            .bind(id)
            .execute(transaction.connection())
            .await?;
            let cause = RetryCause::DependencyRetried { dependency: job };
            let change = JobChange::Retried { from: JobState::Cancelled, to: JobState::Blocked, cause };
            transaction.record(UserId(user), now, JobEvent { job: JobId(id), change });
            frontier.push(JobId(id));
        }
    }
    Ok(())
}
