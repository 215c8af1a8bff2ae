//! Approvals on SQLite: a running run pauses for people to approve tool
//! calls, and the last decision queues it again with a job that resumes it.
//! A project gate's approval is decided by the projects' gate code.

use crate::ownership::{list_condition, list_parameter};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::access::Owners;
use steward_domain::{Approval, ApprovalId, Decision, NewApproval, NewEvent, Run, RunId, RunStatus, UserId};

use crate::approvals::decide;
use crate::events::sqlite::append;
use crate::rules;
use crate::runs::ApprovalFilter;
use crate::runs::decide::RunJobPurpose;
use crate::runs::sqlite::{enqueue_job, load_for_worker};
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::optional;
use crate::sqlite::runtime_rows::{self, APPROVAL_COLUMNS};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError};

pub(crate) fn load(connection: &Connection, user: UserId, id: ApprovalId) -> Result<Approval> {
    let mut statement = connection
        .prepare_cached(&format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = ?1 AND user_id = ?2"))?;
    optional(statement.query_row(params![id.get(), user.get()], runtime_rows::approval))?
        .ok_or_else(|| StoreError::not_found(Entity::Approval, id))
}

fn find(connection: &Connection, run: RunId, request: &NewApproval) -> Result<Option<Approval>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {APPROVAL_COLUMNS} FROM approvals WHERE run_id = ?1 AND step_sequence = ?2 AND call_id = ?3"
    ))?;
    Ok(optional(
        statement.query_row(params![run.get(), request.step_sequence, request.call_id], runtime_rows::approval),
    )?)
}

fn pending_count(connection: &Connection, run: RunId) -> Result<i64> {
    Ok(connection
        .prepare_cached("SELECT count(*) FROM approvals WHERE run_id = ?1 AND status = 'pending'")?
        .query_row([run.get()], |row| row.get(0))?)
}

pub(crate) fn request(
    connection: &Connection,
    effects: &mut Effects,
    id: RunId,
    requests: &[NewApproval],
    now: DateTime<Utc>,
) -> Result<Vec<Approval>> {
    let run = load_for_worker(connection, id)?;
    decide::check_pause(&run, requests)?;
    let mut approvals = Vec::with_capacity(requests.len());
    for request in requests {
        // Asked again (a run resumed after a crash replays its pause): the
        // request made before stands, with its decision if there is one.
        if let Some(existing) = find(connection, id, request)? {
            approvals.push(existing);
            continue;
        }
        connection
            .prepare_cached(
                "INSERT INTO approvals (user_id, run_id, agent_id, step_sequence, call_id, tool, arguments, status, \
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)",
            )?
            .execute(params![
                run.user_id.get(),
                id.get(),
                run.agent_id.get(),
                request.step_sequence,
                request.call_id,
                request.tool,
                serde_json::to_string(&rules::storable_result(&request.arguments))?,
                to_micros(now),
            ])?;
        let approval = load(connection, run.user_id, ApprovalId(connection.last_insert_rowid()))?;
        append(connection, effects, run.user_id, now, decide::requested_event(&run, &approval))?;
        approvals.push(approval);
    }
    // Only a pending request is worth waiting for: if every one was
    // decided already, the run goes on at once.
    if pending_count(connection, id)? > 0 {
        connection.execute(
            "UPDATE runs SET status = 'awaiting_approval', updated_at = ?1 WHERE id = ?2",
            params![to_micros(now), id.get()],
        )?;
        append(connection, effects, run.user_id, now, decide::awaiting_event(&run, &approvals))?;
    }
    Ok(approvals)
}

pub(crate) fn list(connection: &Connection, owners: Owners, filter: &ApprovalFilter) -> Result<Vec<Approval>> {
    let owner = list_condition(owners, "?1");
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {APPROVAL_COLUMNS} FROM approvals WHERE {owner} AND (?2 IS NULL OR run_id = ?2) \
         AND (?3 = '[]' OR status IN (SELECT value FROM json_each(?3))) ORDER BY id"
    ))?;
    let statuses: Vec<&str> = filter.statuses.iter().map(|status| status.as_str()).collect();
    let approvals = statement
        .query_map(
            params![list_parameter(owners), filter.run_id.map(RunId::get), serde_json::to_string(&statuses)?],
            runtime_rows::approval,
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(approvals)
}

/// Decides a run's `approval`, read by the caller in this transaction.
pub(crate) fn decide(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    approval: &Approval,
    decision: Decision,
    now: DateTime<Utc>,
) -> Result<Approval> {
    let id = approval.id;
    let (status, event) = decide::decide_approval(approval, &decision)?;
    connection.execute(
        "UPDATE approvals SET status = ?1, reason = ?2, decided_at = ?3 WHERE id = ?4",
        params![status.as_str(), decision.reason, to_micros(now), id.get()],
    )?;
    append(connection, effects, user, now, event)?;
    let run = load_for_worker(connection, decide::run_of(approval)?)?;
    if run.status == RunStatus::AwaitingApproval && pending_count(connection, run.id)? == 0 {
        resume(connection, effects, &run, now)?;
    }
    load(connection, user, id)
}

/// Queues a run whose approvals are all decided, with a new job.
fn resume(connection: &Connection, effects: &mut Effects, run: &Run, now: DateTime<Utc>) -> Result<()> {
    let number: u32 = connection
        .prepare_cached("UPDATE runs SET resumes = resumes + 1 WHERE id = ?1 RETURNING resumes")?
        .query_row([run.id.get()], |row| row.get(0))?;
    let job = enqueue_job(connection, effects, run.user_id, run.id, RunJobPurpose::Resume { number }, None, now)?;
    connection.execute(
        "UPDATE runs SET status = 'queued', updated_at = ?1 WHERE id = ?2",
        params![to_micros(now), run.id.get()],
    )?;
    if let Some(action) = run.action_id {
        connection.execute("UPDATE actions SET job_id = ?1 WHERE id = ?2", params![job.get(), action.get()])?;
    }
    append(connection, effects, run.user_id, now, decide::resumed_event(run, job, number))
}

/// Withdraws the run's pending approvals: it ended, so nothing waits for them.
pub(crate) fn withdraw_pending(
    connection: &Connection,
    effects: &mut Effects,
    run: &Run,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut withdrawn: Vec<i64> = connection
        .prepare_cached(
            "UPDATE approvals SET status = 'withdrawn', reason = ?1, decided_at = ?2 \
             WHERE run_id = ?3 AND status = 'pending' RETURNING id",
        )?
        .query_map(params![decide::WITHDRAWN_REASON, to_micros(now), run.id.get()], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // RETURNING gives no order; events follow the requests' order.
    withdrawn.sort_unstable();
    for id in withdrawn {
        append(
            connection,
            effects,
            run.user_id,
            now,
            NewEvent::ApprovalWithdrawn { approval: ApprovalId(id), run_id: run.id },
        )?;
    }
    Ok(())
}
