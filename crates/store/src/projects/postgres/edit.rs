//! A person's edit of an approved document on PostgreSQL, in one
//! transaction with the project row locked first (so it serialises with
//! the task moves, which lock it too): the new version approved, the task
//! rows re-planned by `decide::edit`, a dropped task's live job cancelled,
//! and the live run of a task restarted or dropped stopped. A move decided
//! on the old text waits for the lock and is then refused, the task's
//! `replans` count having changed.
//!
//! The merge of a duplicate flag's two tasks is such an edit made together
//! with the flag's decision, in the same transaction, so a refusal at any
//! point leaves nothing written (`projects/merge.rs` holds its rules).

use chrono::{DateTime, Utc};
use steward_domain::oversight::duplicates::Duplicate;
use steward_domain::project::replan::Replanned;
use steward_domain::project::{DocumentStatus, Phase, PhaseDocument};
use steward_domain::{DuplicateId, JobState, ProjectId, RunStatus, UserId};

use super::{documents, enter_phase, insert_document, load_project, record, tasks, write_tasks};
use crate::StoreError;
use crate::oversight::postgres::{decide_one, load_duplicate};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::projects::merge::{flagged_tasks, merged_document};
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

pub(super) async fn merge_duplicate_tasks(
    transaction: &mut Transaction,
    user: UserId,
    id: DuplicateId,
    kept: &str,
    now: DateTime<Utc>,
) -> TransactionResult<Duplicate> {
    let flag = load_duplicate(transaction.connection(), user, id, true).await?;
    let flagged = flagged_tasks(&flag, kept).map_err(StoreError::from)?;
    // The flag is decided first (refused when it is decided already); a
    // refusal of the edit below rolls that decision back with it.
    let decided = decide_one(transaction, user, id, Some(kept), now).await?;
    let all_documents = documents(transaction.connection(), flagged.project).await?;
    let merged = merged_document(&flagged, &all_documents).map_err(StoreError::from)?;
    edit_document(transaction, user, flagged.project, &merged, now).await?;
    Ok(decided)
}
