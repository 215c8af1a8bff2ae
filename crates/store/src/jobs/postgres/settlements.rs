//! Settling attempts on PostgreSQL: every settlement of a batch — completed,
//! failed and retried, failed and dead — applied by one UPDATE over arrays,
//! then the events and dependency cascades recorded in request order.
//!
//! One statement gives the same result as settling one by one, as SQLite
//! does: each settlement touches only its own running job, and a job is
//! settled at most once (a repeat of a lease finds it settled already, so
//! only the first settlement naming a lease is sent). The cascades touch
//! only blocked jobs, which no settlement touches, so running them after
//! the batch, in request order, changes nothing either.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use steward_domain::{DeathReason, JobChange, JobEvent, JobId, JobState, UserId};

use crate::QueueSettings;
use crate::jobs::decide;
use crate::jobs::postgres::dependents::{cancel_dependents, unblock_dependents};
use crate::jobs::{JobOutcome, LeaseRef, SettleOutcome, Settlement};
use crate::postgres::connection::to_integer;
use crate::postgres::rows;
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::rules;

/// A settlement as bound to the statement; one per distinct lease.
struct SettlementRow<'a> {
    position: usize,
    settlement: &'a Settlement,
    result: Option<Value>,
    error: Option<String>,
    /// When a retry would run; `None` for completions and permanent failures.
    retry_at: Option<DateTime<Utc>>,
    /// The `state_reason` if the failure kills the job.
    death_reason: Option<DeathReason>,
}

/// What the statement changed for one settlement.
struct Applied {
    user: UserId,
    state: JobState,
    has_dependents: bool,
    run_at: DateTime<Utc>,
}

pub(crate) async fn settle(
    transaction: &mut Transaction,
    settlements: &[Settlement],
    now: DateTime<Utc>,
    settings: &QueueSettings,
) -> TransactionResult<Vec<SettleOutcome>> {
    if settlements.is_empty() {
        return Ok(Vec::new());
    }
    let mut first_of_lease: HashMap<(LeaseRef, &str), usize> = HashMap::new();
    let mut batch = Vec::with_capacity(settlements.len());
    for (position, settlement) in settlements.iter().enumerate() {
        if first_of_lease.insert((settlement.lease, settlement.worker_id.as_str()), position).is_some() {
            continue;
        }
        batch.push(match &settlement.outcome {
            JobOutcome::Completed { result } => SettlementRow {
                position,
                settlement,
                result: Some(rules::storable_result(result)),
                error: None,
                retry_at: None,
                death_reason: None,
            },
            JobOutcome::Failed { error, retry } => SettlementRow {
                position,
                settlement,
                result: None,
                error: Some(rules::storable_error(error)),
                retry_at: decide::requested_retry_delay(*retry, settlement.lease.attempt, settings)
                    .map(|delay| rules::later_by(now, delay)),
                death_reason: Some(decide::death_reason(*retry)),
            },
        });
    }
    let applied = apply(transaction, &batch, now).await?;

    let mut outcomes = vec![SettleOutcome::LeaseLost; settlements.len()];
    for row in &batch {
        let Some(applied) = applied.get(&row.position) else { continue };
        outcomes[row.position] = SettleOutcome::Applied(applied.state);
        record(transaction, row, applied, now).await?;
    }
    Ok(outcomes)
}

/// The one UPDATE. A failed attempt is retried when the settlement asks for
/// a retry (`retry_at` is set) and attempts are left, and dies otherwise;
/// the SET expressions read the row as it was before the update.
///
/// A job is matched by id and lease alone, without `state = 'running'`: a
/// lease is held only while its job runs (every change out of `running`
/// clears `lease_owner`; the property tests check it), so the condition
/// would add nothing but a trap for the planner (the module comment of
/// `jobs/postgres/mod.rs` explains).
async fn apply(
    transaction: &mut Transaction,
    batch: &[SettlementRow<'_>],
    now: DateTime<Utc>,
) -> TransactionResult<HashMap<usize, Applied>> {
    let rows = sqlx::query(
        "UPDATE jobs SET \
             state = CASE WHEN s.completed THEN 'completed' \
                          WHEN s.retry_at IS NOT NULL AND jobs.attempts < jobs.max_attempts THEN 'queued' \
                          ELSE 'dead' END, \
             result = CASE WHEN s.completed THEN s.result ELSE jobs.result END, \
             last_error = CASE WHEN s.completed THEN jobs.last_error ELSE s.error END, \
             run_at = CASE WHEN NOT s.completed AND s.retry_at IS NOT NULL AND jobs.attempts < jobs.max_attempts \
                           THEN s.retry_at ELSE jobs.run_at END, \
             state_reason = CASE WHEN s.completed THEN jobs.state_reason \
                                 WHEN s.retry_at IS NOT NULL AND jobs.attempts < jobs.max_attempts \
                                     THEN jobs.state_reason \
                                 ELSE s.death_reason END, \
             finished_at = CASE WHEN NOT s.completed AND s.retry_at IS NOT NULL \
                                     AND jobs.attempts < jobs.max_attempts \
                                THEN jobs.finished_at ELSE $1 END, \
             lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
         FROM unnest($2::bigint[], $3::integer[], $4::text[], $5::boolean[], $6::jsonb[], $7::text[], \
                     $8::timestamptz[], $9::text[], $10::bigint[]) \
             AS s(id, attempt, worker, completed, result, error, retry_at, death_reason, position) \
         WHERE jobs.id = s.id AND jobs.attempts = s.attempt AND jobs.lease_owner = s.worker \
         RETURNING s.position, jobs.user_id, jobs.state, jobs.has_dependents, jobs.run_at",
    )
    .bind(now)
    .bind(batch.iter().map(|row| row.settlement.lease.job_id.get()).collect::<Vec<_>>())
    .bind(batch.iter().map(|row| to_integer(row.settlement.lease.attempt)).collect::<Vec<_>>())
    .bind(batch.iter().map(|row| row.settlement.worker_id.as_str()).collect::<Vec<_>>())
    .bind(batch.iter().map(|row| row.result.is_some()).collect::<Vec<_>>())
    .bind(batch.iter().map(|row| row.result.as_ref()).collect::<Vec<_>>())
    .bind(batch.iter().map(|row| row.error.as_deref()).collect::<Vec<_>>())
    .bind(batch.iter().map(|row| row.retry_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|row| row.death_reason.map(DeathReason::as_str)).collect::<Vec<_>>())
    .bind(batch.iter().map(|row| i64::try_from(row.position).unwrap_or(i64::MAX)).collect::<Vec<_>>())
    .fetch_all(transaction.connection())
    .await?;
    rows.iter()
        .map(|row| {
            let position: i64 = row.try_get(0)?;
            let applied = Applied {
                user: UserId(row.try_get(1)?),
                state: rows::parsed(row, 2)?,
                has_dependents: row.try_get(3)?,
                run_at: row.try_get(4)?,
            };
            Ok((usize::try_from(position).unwrap_or(usize::MAX), applied))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The event of one applied settlement, then what it does to dependents.
async fn record(
    transaction: &mut Transaction,
    row: &SettlementRow<'_>,
    applied: &Applied,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let LeaseRef { job_id, attempt } = row.settlement.lease;
    let error = row.error.clone().unwrap_or_default();
    let change = match (applied.state, row.death_reason) {
        (JobState::Completed, _) => JobChange::Completed { attempt },
        (JobState::Queued, _) => {
            transaction.jobs_became_ready();
            JobChange::Failed { attempt, error, retry_at: applied.run_at }
        }
        (_, reason) => JobChange::Died { attempt, error, reason: reason.unwrap_or(DeathReason::OutOfAttempts) },
    };
    transaction.record(applied.user, now, JobEvent { job: job_id, change });
    if applied.has_dependents {
        match applied.state {
            JobState::Completed => unblock_dependents(transaction, job_id, now).await?,
            JobState::Dead => cancel_dependents(transaction, job_id, now).await?,
            _ => {}
        }
    }
    Ok(())
}

/// Kills a running job whose last attempt was lost (its lease expired) and
/// cancels what depends on it.
pub(crate) async fn record_death_of_expired(
    transaction: &mut Transaction,
    user: UserId,
    job_id: JobId,
    attempt: u32,
    error: &str,
    has_dependents: bool,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let change = JobChange::Died { attempt, error: error.to_string(), reason: DeathReason::OutOfAttempts };
    transaction.record(user, now, JobEvent { job: job_id, change });
    if has_dependents {
        cancel_dependents(transaction, job_id, now).await?;
    }
    Ok(())
}
