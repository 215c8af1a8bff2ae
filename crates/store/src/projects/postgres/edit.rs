//! A person's edit of an approved document on PostgreSQL, in one
//! transaction with the project row locked first (so it serialises with
//! the task moves, which lock it too): the new version approved, the task
//! rows re-planned by `decide::edit`, a dropped task's live job cancelled,
//! and the live run of a task restarted or dropped stopped. A move decided
//! on the old text waits for the lock and is then refused, the task's
//! `replans` count having changed.

use chrono::{DateTime, Utc};
use steward_domain::project::replan::Replanned;
use steward_domain::project::{DocumentStatus, Phase, PhaseDocument};
use steward_domain::{JobState, ProjectId, RunStatus, UserId};

use super::{documents, enter_phase, insert_document, load_project, record, tasks, write_tasks};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::projects::{ProjectRecord, decide};

pub(super) async fn edit_document(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    document: &PhaseDocument,
    now: DateTime<Utc>,
) -> TransactionResult<ProjectRecord> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    let all_documents = documents(transaction.connection(), id).await?;
    let all_tasks = tasks(transaction.connection(), id).await?;
    let edit = decide::edit(&project, &all_documents, &all_tasks, document, now)?;
    insert_document(transaction, &project, document, edit.version, DocumentStatus::Approved, now).await?;
    if document.phase() == Phase::Tasks || !edit.replan.replanned.is_empty() {
        write_tasks(transaction, &project, &decide::edited_rows(&edit.replan), now).await?;
    }
    for event in decide::edit_events(&project, document.phase(), &edit) {
        transaction.record(user, now, event);
    }
    for replanned in &edit.replan.replanned {
        stop_work(transaction, user, replanned, now).await?;
    }
    if edit.reopens {
        enter_phase(transaction, &project, Phase::Execution, now).await?;
    }
    Ok(record(transaction.connection(), user, id).await?)
}

/// Cancels a dropped task's job and stops the run of a task restarted or
/// dropped, each only while it is still live (the run locked first, so a
/// finish racing the edit is either seen or waits for it).
async fn stop_work(
    transaction: &mut Transaction,
    user: UserId,
    replanned: &Replanned,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    if let Some(job) = replanned.cancel_job {
        let state: Option<String> = sqlx::query_scalar("SELECT state::text FROM jobs WHERE id = $1 FOR UPDATE")
            .bind(job.get())
            .fetch_optional(transaction.connection())
            .await?;
        let live = state.is_some_and(|state| state.parse::<JobState>().is_ok_and(|state| !state.is_finished()));
        if live {
            crate::jobs::postgres::admin::cancel(transaction, user, job, now).await?;
        }
    }
    if let Some(run) = replanned.stop_run {
        let run = crate::runs::postgres::load_for_update(transaction.connection(), user, run).await?;
        if run.status != RunStatus::Finished {
            crate::runs::postgres::stop(transaction, &run, &decide::stop_reason(replanned), now).await?;
        }
    }
    Ok(())
}
