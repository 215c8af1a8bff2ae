//! Claiming ready jobs on PostgreSQL: one statement per claim (plus two per
//! queue with a concurrency limit), whatever the number of jobs, with
//! `FOR UPDATE SKIP LOCKED` so concurrent workers on any node take disjoint
//! jobs without waiting for each other.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use steward_domain::{JobChange, JobEvent, JobId, UserId};

use crate::QueueSettings;
use crate::jobs::postgres::settlements;
use crate::jobs::{ClaimRequest, ClaimResponse, ClaimedJob};
use crate::postgres::connection::{from_integer, from_millis, to_bigint};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::rules;

/// Which queues one claim statement may take from: those in `allowed`
/// (`None` for all) except those in `excluded`.
struct QueueFilter {
    allowed: Option<Vec<String>>,
    excluded: Vec<String>,
}

pub(crate) async fn claim(
    transaction: &mut Transaction,
    request: ClaimRequest,
    now: DateTime<Utc>,
    settings: &QueueSettings,
) -> TransactionResult<ClaimResponse> {
    let settled = settlements::settle(transaction, &request.settlements, now, settings).await?;
    let lease_expires_at = rules::later_by(now, request.lease);
    let mut jobs = Vec::new();

    // Queues with a concurrency limit are claimed one by one, up to the room
    // they have left; the others in one statement.
    let allowed = |queue: &str| request.queues.as_ref().is_none_or(|queues| queues.iter().any(|q| q == queue));
    for (queue, limit) in request.queue_limits.iter().filter(|(queue, _)| allowed(queue)) {
        let wanted = request.limit.saturating_sub(jobs.len());
        if wanted == 0 {
            break;
        }
        let room = wanted.min(room_in_queue(transaction, queue, *limit).await?);
        if room > 0 {
            let only = QueueFilter { allowed: Some(vec![queue.clone()]), excluded: Vec::new() };
            claim_some(transaction, &request.worker_id, &only, room, now, lease_expires_at, &mut jobs).await?;
        }
    }
    let room = request.limit.saturating_sub(jobs.len());
    if room > 0 {
        let rest =
            QueueFilter { allowed: request.queues.clone(), excluded: request.queue_limits.keys().cloned().collect() };
        claim_some(transaction, &request.worker_id, &rest, room, now, lease_expires_at, &mut jobs).await?;
    }

    let next_run_at = if jobs.len() < request.limit {
        // `run_at > created_at` is the predicate of `jobs_delayed`: a job
        // stored ready (run_at at or before its creation) is due already.
        sqlx::query_scalar(
            "SELECT min(run_at) FROM jobs WHERE state = 'queued' AND run_at > created_at AND run_at > $1",
        )
        .bind(now)
        .fetch_one(transaction.connection())
        .await?
    } else {
        None
    };
    Ok(ClaimResponse { jobs, settled, next_run_at })
}

/// How many more jobs of `queue` may run, counted across every node. The
/// advisory lock (one per schema and queue, held to commit) makes claimers
/// of a limited queue take turns: the count below is a new statement, so it
/// sees the jobs the previous holder claimed. Locks are taken in queue-name
/// order (the request's map is sorted), so two claimers cannot deadlock.
async fn room_in_queue(transaction: &mut Transaction, queue: &str, limit: u32) -> TransactionResult<usize> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('steward.queue.' || current_schema() || '.' || $1, 0))")
        .bind(queue)
        .execute(transaction.connection())
        .await?;
    let running: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state = 'running' AND queue = $1")
        .bind(queue)
        .fetch_one(transaction.connection())
        .await?;
    Ok(usize::try_from(i64::from(limit) - running).unwrap_or(0))
}

/// Claims up to `limit` ready jobs of the queues `filter` admits, best first,
/// and records a `job.started` event for each.
async fn claim_some(
    transaction: &mut Transaction,
    worker_id: &str,
    filter: &QueueFilter,
    limit: usize,
    now: DateTime<Utc>,
    lease_expires_at: DateTime<Utc>,
    claimed: &mut Vec<ClaimedJob>,
) -> TransactionResult<()> {
    // MATERIALIZED keeps the locking subquery a separate step that runs
    // once, rather than letting the planner fold it into the UPDATE.
    let rows = sqlx::query(
        "WITH next_jobs AS MATERIALIZED ( \
             SELECT id FROM jobs \
             WHERE state = 'queued' AND run_at <= $3 \
               AND ($5::text[] IS NULL OR queue = ANY($5)) AND queue <> ALL($6::text[]) \
             ORDER BY priority DESC, run_at, id \
             LIMIT $4 \
             FOR UPDATE SKIP LOCKED) \
         UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, lease_owner = $1, \
             lease_expires_at = $2, started_at = $3, updated_at = $3 \
         FROM next_jobs WHERE jobs.id = next_jobs.id \
         RETURNING jobs.id, jobs.user_id, jobs.queue, jobs.kind, jobs.payload, jobs.attempts, jobs.max_attempts, \
             jobs.timeout_ms, jobs.idempotency_key, jobs.priority, jobs.run_at",
    )
    .bind(worker_id)
    .bind(lease_expires_at)
    .bind(now)
    .bind(to_bigint(limit))
    .bind(filter.allowed.as_deref())
    .bind(filter.excluded.as_slice())
    .fetch_all(transaction.connection())
    .await?;
    let mut batch: Vec<(i32, DateTime<Utc>, ClaimedJob)> = rows
        .iter()
        .map(|row| Ok((row.try_get(9)?, row.try_get(10)?, claimed_job(row, lease_expires_at)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    // RETURNING has no order; hand the jobs out in claim order.
    batch.sort_by(|(priority_a, run_at_a, a), (priority_b, run_at_b, b)| {
        priority_b.cmp(priority_a).then(run_at_a.cmp(run_at_b)).then(a.id.cmp(&b.id))
    });
    for (_, _, job) in batch {
        let change = JobChange::Started {
            attempt: job.attempt,
            worker: worker_id.to_string(),
            queue: job.queue.clone(),
            kind: job.kind.clone(),
        };
        transaction.record(job.user_id, now, JobEvent { job: job.id, change });
        claimed.push(job);
    }
    Ok(())
}

fn claimed_job(row: &PgRow, lease_expires_at: DateTime<Utc>) -> Result<ClaimedJob, sqlx::Error> {
    Ok(ClaimedJob {
        id: JobId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        queue: row.try_get(2)?,
        kind: row.try_get(3)?,
        payload: row.try_get::<Value, _>(4)?,
        attempt: from_integer(row.try_get(5)?),
        max_attempts: from_integer(row.try_get(6)?),
        timeout: from_millis(row.try_get(7)?),
        idempotency_key: row.try_get(8)?,
        lease_expires_at,
        ready_at: row.try_get(10)?,
    })
}
