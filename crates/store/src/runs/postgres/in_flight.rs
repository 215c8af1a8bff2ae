//! Model calls in flight on PostgreSQL: recorded on the run before they are
//! sent, cleared when their step is stored (`steps::append_step`) or when
//! they fail without a bill, and stored as an interrupted step with
//! estimated usage when the run resumes or finishes with one still recorded.
//! Every function locks the run row first, like every run operation.

use chrono::{DateTime, Utc};
use sqlx::Row;
use steward_domain::{ModelCallStarted, RunId, RunStatus};

use super::load_for_worker;
use super::steps::append_step;
use crate::postgres::connection::{from_integer, to_integer};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::runs::steps;

pub(crate) async fn record_started(
    transaction: &mut Transaction,
    id: RunId,
    started: &ModelCallStarted,
) -> TransactionResult<()> {
    let run = load_for_worker(transaction.connection(), id).await?;
    if run.status == RunStatus::Finished {
        return Err(crate::runs::decide::run_is_finished(run.id, run.outcome).into());
    }
    steps::check_step_sequence(run.id, run.steps, started.sequence)?;
    sqlx::query(
        "UPDATE runs SET call_started_sequence = $1, call_started_model = $2, call_started_input_tokens = $3, \
         call_started_cost_usd = $4, call_started_at = $5 WHERE id = $6",
    )
    .bind(to_integer(started.sequence))
    .bind(&started.model)
    .bind(i64::try_from(started.estimated_input_tokens).unwrap_or(i64::MAX))
    .bind(started.estimated_cost_usd)
    .bind(steward_domain::time::truncate_to_micros(started.started_at))
    .bind(id.get())
    .execute(transaction.connection())
    .await?;
    Ok(())
}

pub(crate) async fn clear(transaction: &mut Transaction, id: RunId) -> TransactionResult<()> {
    sqlx::query(
        "UPDATE runs SET call_started_sequence = NULL, call_started_model = NULL, \
         call_started_input_tokens = NULL, call_started_cost_usd = NULL, call_started_at = NULL WHERE id = $1",
    )
    .bind(id.get())
    .execute(transaction.connection())
    .await?;
    Ok(())
}

/// Stores the call recorded as in flight, if any, as an interrupted step
/// (adding its estimates to the run's totals), and clears the record. The
/// caller holds the run's row lock.
pub(crate) async fn settle(transaction: &mut Transaction, id: RunId, now: DateTime<Utc>) -> TransactionResult<()> {
    let row = sqlx::query(
        "SELECT call_started_sequence, call_started_model, call_started_input_tokens, call_started_cost_usd, \
         call_started_at, steps FROM runs WHERE id = $1 AND call_started_sequence IS NOT NULL",
    )
    .bind(id.get())
    .fetch_optional(transaction.connection())
    .await?;
    let Some(row) = row else { return Ok(()) };
    let started = ModelCallStarted {
        sequence: from_integer(row.try_get(0)?),
        model: row.try_get(1)?,
        estimated_input_tokens: u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0),
        estimated_cost_usd: row.try_get(3)?,
        started_at: row.try_get(4)?,
    };
    let stored_steps = from_integer(row.try_get(5)?);
    clear(transaction, id).await?;
    if let Some(step) = steps::interrupted_step(id, stored_steps, started, now) {
        append_step(transaction, step, now).await?;
    }
    Ok(())
}
