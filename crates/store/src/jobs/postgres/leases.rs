//! Leases on PostgreSQL: heartbeats, releasing at shutdown, and reclaiming
//! the jobs of workers that stopped renewing — each a constant number of
//! statements for any number of leases.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;
use steward_domain::{DeathReason, JobChange, JobEvent, JobId, JobState, UserId};

use crate::jobs::postgres::settlements::record_death_of_expired;
use crate::jobs::{LeaseRef, LeaseStatus};
use crate::postgres::connection::{from_integer, to_integer};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::rules;

pub(crate) async fn heartbeat(
    transaction: &mut Transaction,
    worker_id: &str,
    leases: &[LeaseRef],
    lease: Duration,
    now: DateTime<Utc>,
) -> TransactionResult<Vec<LeaseStatus>> {
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    let until = rules::later_by(now, lease);
    let extended: HashSet<(i64, i32)> = sqlx::query_as(
        "UPDATE jobs SET lease_expires_at = $1 \
         FROM unnest($2::bigint[], $3::integer[]) AS lease(id, attempt) \
         WHERE jobs.id = lease.id AND jobs.attempts = lease.attempt \
           AND jobs.lease_owner = $4 \
         RETURNING jobs.id, lease.attempt",
    )
    .bind(until)
    .bind(leases.iter().map(|lease| lease.job_id.get()).collect::<Vec<_>>())
    .bind(leases.iter().map(|lease| to_integer(lease.attempt)).collect::<Vec<_>>())
    .bind(worker_id)
    .fetch_all(transaction.connection())
    .await?
    .into_iter()
    .collect();
    let is_extended = |lease: &LeaseRef| extended.contains(&(lease.job_id.get(), to_integer(lease.attempt)));
    // Why the others were not extended: cancelled, or lost.
    let others: Vec<i64> = leases.iter().filter(|lease| !is_extended(lease)).map(|lease| lease.job_id.get()).collect();
    let mut states: HashMap<i64, String> = HashMap::new();
    if !others.is_empty() {
        states = sqlx::query_as("SELECT id, state FROM jobs WHERE id = ANY($1)")
            .bind(others)
            .fetch_all(transaction.connection())
            .await?
            .into_iter()
            .collect();
    }
    Ok(leases
        .iter()
        .map(|lease| {
            if is_extended(lease) {
                LeaseStatus::Extended { until }
            } else if states.get(&lease.job_id.get()).map(String::as_str) == Some(JobState::Cancelled.as_str()) {
                LeaseStatus::Cancelled
            } else {
                LeaseStatus::Lost
            }
        })
        .collect())
}

pub(crate) async fn release(
    transaction: &mut Transaction,
    worker_id: &str,
    leases: &[LeaseRef],
    now: DateTime<Utc>,
) -> TransactionResult<usize> {
    // A lease named twice is released once, as it would be one by one.
    let mut seen = HashSet::new();
    let leases: Vec<LeaseRef> = leases.iter().copied().filter(|lease| seen.insert(*lease)).collect();
    if leases.is_empty() {
        return Ok(0);
    }
    let released: HashMap<(i64, i32), i64> = sqlx::query_as::<_, (i64, i32, i64)>(
        "UPDATE jobs SET state = 'queued', attempts = jobs.attempts - 1, lease_owner = NULL, \
             lease_expires_at = NULL, run_at = $1, updated_at = $1 \
         FROM unnest($2::bigint[], $3::integer[]) AS lease(id, attempt) \
         WHERE jobs.id = lease.id AND jobs.attempts = lease.attempt \
           AND jobs.lease_owner = $4 \
         RETURNING jobs.id, lease.attempt, jobs.user_id",
    )
    .bind(now)
    .bind(leases.iter().map(|lease| lease.job_id.get()).collect::<Vec<_>>())
    .bind(leases.iter().map(|lease| to_integer(lease.attempt)).collect::<Vec<_>>())
    .bind(worker_id)
    .fetch_all(transaction.connection())
    .await?
    .into_iter()
    .map(|(id, attempt, user)| ((id, attempt), user))
    .collect();
    for lease in &leases {
        let Some(user) = released.get(&(lease.job_id.get(), to_integer(lease.attempt))) else { continue };
        transaction.jobs_became_ready();
        let change = JobChange::Released { attempt: lease.attempt, worker: worker_id.to_string() };
        transaction.record(UserId(*user), now, JobEvent { job: lease.job_id, change });
    }
    Ok(released.len())
}

/// Takes back running jobs whose lease expired before `now`: requeued while
/// attempts are left (the lost attempt counts), dead otherwise. Jobs another
/// node is reclaiming at the same moment are skipped, not waited for.
pub(crate) async fn reclaim_expired(
    transaction: &mut Transaction,
    now: DateTime<Utc>,
    why: &str,
) -> TransactionResult<usize> {
    let rows = sqlx::query(
        "SELECT id, user_id, attempts, max_attempts, lease_owner, has_dependents FROM jobs \
         WHERE state = 'running' AND lease_expires_at < $1 ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .fetch_all(transaction.connection())
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    struct Expired {
        id: JobId,
        user: UserId,
        attempts: u32,
        max_attempts: u32,
        worker: Option<String>,
        has_dependents: bool,
    }
    let expired: Vec<Expired> = rows
        .iter()
        .map(|row| {
            Ok(Expired {
                id: JobId(row.try_get(0)?),
                user: UserId(row.try_get(1)?),
                attempts: from_integer(row.try_get(2)?),
                max_attempts: from_integer(row.try_get(3)?),
                worker: row.try_get(4)?,
                has_dependents: row.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let (dying, requeued): (Vec<&Expired>, Vec<&Expired>) =
        expired.iter().partition(|job| job.attempts >= job.max_attempts);
    if !requeued.is_empty() {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', last_error = $1, lease_owner = NULL, lease_expires_at = NULL, \
             run_at = $2, updated_at = $2 WHERE id = ANY($3)",
        )
        .bind(why)
        .bind(now)
        .bind(requeued.iter().map(|job| job.id.get()).collect::<Vec<_>>())
        .execute(transaction.connection())
        .await?;
    }
    if !dying.is_empty() {
        sqlx::query(
            "UPDATE jobs SET state = 'dead', last_error = $1, state_reason = $4, lease_owner = NULL, \
             lease_expires_at = NULL, finished_at = $2, updated_at = $2 WHERE id = ANY($3)",
        )
        .bind(why)
        .bind(now)
        .bind(dying.iter().map(|job| job.id.get()).collect::<Vec<_>>())
        .bind(DeathReason::OutOfAttempts.as_str())
        .execute(transaction.connection())
        .await?;
    }
    // Events and cascades in id order, as the jobs were found.
    for job in &expired {
        if job.attempts >= job.max_attempts {
            record_death_of_expired(transaction, job.user, job.id, job.attempts, why, job.has_dependents, now).await?;
            continue;
        }
        transaction.jobs_became_ready();
        let change =
            JobChange::LeaseExpired { attempt: job.attempts, worker: job.worker.clone(), error: why.to_string() };
        transaction.record(job.user, now, JobEvent { job: job.id, change });
    }
    Ok(expired.len())
}
