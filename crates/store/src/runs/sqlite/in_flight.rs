//! Model calls in flight on SQLite: recorded on the run before they are
//! sent, cleared when their step is stored (`steps::append_step`) or when
//! they fail without a bill, and stored as an interrupted step with
//! estimated usage when the run resumes or finishes with one still recorded.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::{ModelCallStarted, RunId, RunStatus};

use super::load_for_worker;
use super::steps::append_step;
use crate::Result;
use crate::runs::steps;
use crate::sqlite::connection::{from_micros, to_micros};
use crate::sqlite::rows::optional;
use crate::sqlite::writer::Effects;

pub(crate) fn record_started(connection: &Connection, id: RunId, started: &ModelCallStarted) -> Result<()> {
    let run = load_for_worker(connection, id)?;
    if run.status == RunStatus::Finished {
        return Err(crate::runs::decide::run_is_finished(run.id, run.outcome));
    }
    steps::check_step_sequence(run.id, run.steps, started.sequence)?;
    let tokens = i64::try_from(started.estimated_input_tokens).unwrap_or(i64::MAX);
    connection
        .prepare_cached(
            "UPDATE runs SET call_started_sequence = ?1, call_started_model = ?2, call_started_input_tokens = ?3, \
             call_started_cost_usd = ?4, call_started_at = ?5 WHERE id = ?6",
        )?
        .execute(params![
            started.sequence,
            started.model,
            tokens,
            started.estimated_cost_usd,
            to_micros(steward_domain::time::truncate_to_micros(started.started_at)),
            id.get()
        ])?;
    Ok(())
}

pub(crate) fn clear(connection: &Connection, id: RunId) -> Result<()> {
    connection
        .prepare_cached(
            "UPDATE runs SET call_started_sequence = NULL, call_started_model = NULL, \
             call_started_input_tokens = NULL, call_started_cost_usd = NULL, call_started_at = NULL WHERE id = ?1",
        )?
        .execute(params![id.get()])?;
    Ok(())
}

/// Stores the call recorded as in flight, if any, as an interrupted step
/// (adding its estimates to the run's totals), and clears the record.
pub(crate) fn settle(connection: &Connection, effects: &mut Effects, id: RunId, now: DateTime<Utc>) -> Result<()> {
    let recorded = optional(
        connection
            .prepare_cached(
                "SELECT call_started_sequence, call_started_model, call_started_input_tokens, \
                 call_started_cost_usd, call_started_at, steps FROM runs \
                 WHERE id = ?1 AND call_started_sequence IS NOT NULL",
            )?
            .query_row(params![id.get()], |row| {
                let started = ModelCallStarted {
                    sequence: row.get(0)?,
                    model: row.get(1)?,
                    estimated_input_tokens: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                    estimated_cost_usd: row.get(3)?,
                    started_at: from_micros(row.get(4)?),
                };
                Ok((started, row.get::<_, u32>(5)?))
            }),
    )?;
    let Some((started, stored_steps)) = recorded else { return Ok(()) };
    clear(connection, id)?;
    if let Some(step) = steps::interrupted_step(id, stored_steps, started, now) {
        append_step(connection, effects, step, now)?;
    }
    Ok(())
}
