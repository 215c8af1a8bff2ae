//! Approvals on PostgreSQL: a running run pauses for people to approve tool
//! calls, and the last decision queues it again with a job that resumes it.
//!
//! A project gate's approval is decided by the projects' gate code.
//!
//! A decision locks the run before the approval, as every run operation
//! does (see [`crate::runs::postgres`]): two people deciding the run's last two
//! approvals at once are serialised, so exactly one of them sees none left
//! pending and enqueues the resume; a decision racing a cancel either
//! resumes the run that the cancel then finishes, or finds the approval
//! withdrawn.

use crate::ownership::{list_condition, list_parameter};
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::{PgConnection, PgPool};
use steward_domain::access::Owners;
use steward_domain::{Approval, ApprovalId, Decision, NewApproval, NewEvent, Run, RunId, RunStatus, UserId};

use crate::approvals::decide;
use crate::postgres::connection::to_integer;
use crate::postgres::runtime_rows::{self, approval_columns};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::rules;
use crate::runs::ApprovalFilter;
use crate::runs::decide::RunJobPurpose;
use crate::runs::postgres::{enqueue_job, load_for_worker};
use crate::{Entity, Result, StoreError};

pub(crate) async fn load(connection: &mut PgConnection, user: UserId, id: ApprovalId) -> Result<Approval> {
    let row = sqlx::query(concat!("SELECT ", approval_columns!(), " FROM approvals WHERE id = $1 AND user_id = $2"))
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(connection)
        .await?;
    Ok(runtime_rows::approval(&row.ok_or_else(|| StoreError::not_found(Entity::Approval, id))?)?)
}

async fn find(connection: &mut PgConnection, run: RunId, request: &NewApproval) -> TransactionResult<Option<Approval>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        approval_columns!(),
        " FROM approvals WHERE run_id = $1 AND step_sequence = $2 AND call_id = $3"
    ))
    .bind(run.get())
    .bind(to_integer(request.step_sequence))
    .bind(&request.call_id)
    .fetch_optional(connection)
    .await?;
    Ok(row.as_ref().map(runtime_rows::approval).transpose()?)
}

async fn pending_count(connection: &mut PgConnection, run: RunId) -> TransactionResult<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM approvals WHERE run_id = $1 AND status = 'pending'")
        .bind(run.get())
        .fetch_one(connection)
        .await?)
}

pub(crate) async fn request(
    transaction: &mut Transaction,
    id: RunId,
    requests: &[NewApproval],
    now: DateTime<Utc>,
) -> TransactionResult<Vec<Approval>> {
    let run = load_for_worker(transaction.connection(), id).await?;
    decide::check_pause(&run, requests)?;
    let mut approvals = Vec::with_capacity(requests.len());
    for request in requests {
        // Asked again (a run resumed after a crash replays its pause): the
        // request made before stands, with its decision if there is one.
        if let Some(existing) = find(transaction.connection(), id, request).await? {
            approvals.push(existing);
            continue;
        }
        let row = sqlx::query(concat!(
            "INSERT INTO approvals (user_id, run_id, agent_id, step_sequence, call_id, tool, arguments, status, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) RETURNING ",
            approval_columns!()
        ))
        .bind(run.user_id.get())
        .bind(id.get())
        .bind(run.agent_id.get())
        .bind(to_integer(request.step_sequence))
        .bind(&request.call_id)
        .bind(&request.tool)
        .bind(rules::storable_result(&request.arguments))
        .bind(now)
        .fetch_one(transaction.connection())
        .await?;
        let approval = runtime_rows::approval(&row)?;
        transaction.record(run.user_id, now, decide::requested_event(&run, &approval));
        approvals.push(approval);
    }
    // Only a pending request is worth waiting for: if every one was
    // decided already, the run goes on at once.
    if pending_count(transaction.connection(), id).await? > 0 {
        sqlx::query("UPDATE runs SET status = 'awaiting_approval', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.get())
            .execute(transaction.connection())
            .await?;
        transaction.record(run.user_id, now, decide::awaiting_event(&run, &approvals));
    }
    Ok(approvals)
}

pub(crate) async fn list(pool: &PgPool, owners: Owners, filter: &ApprovalFilter) -> Result<Vec<Approval>> {
    let statuses: Vec<&str> = filter.statuses.iter().map(|status| status.as_str()).collect();
    let rows = sqlx::query(AssertSqlSafe(format!(
        concat!(
            "SELECT ",
            approval_columns!(),
            " FROM approvals WHERE {owner} AND ($2::bigint IS NULL OR run_id = $2) \
              AND (cardinality($3::text[]) = 0 OR status = ANY($3)) ORDER BY id"
        ),
        owner = list_condition(owners, "$1::bigint")
    )))
    .bind(list_parameter(owners))
    .bind(filter.run_id.map(RunId::get))
    .bind(statuses)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(runtime_rows::approval).collect::<Result<_, _>>()?)
}

pub(crate) async fn decide(
    transaction: &mut Transaction,
    user: UserId,
    id: ApprovalId,
    decision: Decision,
    now: DateTime<Utc>,
) -> TransactionResult<Approval> {
    // The run is locked first (see the module comment), then the approval
    // is read again under that lock.
    let first = load(transaction.connection(), user, id).await?;
    let run_id = decide::run_of(&first)?;
    let run = load_for_worker(transaction.connection(), run_id).await?;
    let approval = load(transaction.connection(), user, id).await?;
    let (status, event) = decide::decide_approval(&approval, &decision)?;
    sqlx::query("UPDATE approvals SET status = $1, reason = $2, decided_at = $3 WHERE id = $4")
        .bind(status.as_str())
        .bind(&decision.reason)
        .bind(now)
        .bind(id.get())
        .execute(transaction.connection())
        .await?;
    transaction.record(user, now, event);
    if run.status == RunStatus::AwaitingApproval && pending_count(transaction.connection(), run_id).await? == 0 {
        resume(transaction, &run, now).await?;
    }
    Ok(load(transaction.connection(), user, id).await?)
}

/// Queues a run whose approvals are all decided, with a new job.
async fn resume(transaction: &mut Transaction, run: &Run, now: DateTime<Utc>) -> TransactionResult<()> {
    let number: i32 = sqlx::query_scalar("UPDATE runs SET resumes = resumes + 1 WHERE id = $1 RETURNING resumes")
        .bind(run.id.get())
        .fetch_one(transaction.connection())
        .await?;
    let number = u32::try_from(number).unwrap_or(0);
    let job = enqueue_job(transaction, run.user_id, run.id, RunJobPurpose::Resume { number }, None, now).await?;
    sqlx::query("UPDATE runs SET status = 'queued', updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(run.id.get())
        .execute(transaction.connection())
        .await?;
    if let Some(action) = run.action_id {
        sqlx::query("UPDATE actions SET job_id = $1 WHERE id = $2")
            .bind(job.get())
            .bind(action.get())
            .execute(transaction.connection())
            .await?;
    }
    transaction.record(run.user_id, now, decide::resumed_event(run, job, number));
    Ok(())
}

/// Withdraws the run's pending approvals (the run is locked by the caller):
/// it ended, so nothing waits for them.
pub(crate) async fn withdraw_pending(
    transaction: &mut Transaction,
    run: &Run,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let mut withdrawn: Vec<i64> = sqlx::query_scalar(
        "UPDATE approvals SET status = 'withdrawn', reason = $1, decided_at = $2 \
         WHERE run_id = $3 AND status = 'pending' RETURNING id",
    )
    .bind(decide::WITHDRAWN_REASON)
    .bind(now)
    .bind(run.id.get())
    .fetch_all(transaction.connection())
    .await?;
    // RETURNING gives no order; events follow the requests' order.
    withdrawn.sort_unstable();
    for id in withdrawn {
        transaction.record(run.user_id, now, NewEvent::ApprovalWithdrawn { approval: ApprovalId(id), run_id: run.id });
    }
    Ok(())
}
