//! A person's edit of an approved document on PostgreSQL, and the merge
//! of a duplicate flag's two tasks, which is such an edit made together
//! with the flag's decision (its row locked, then the project's): each in
//! the caller's transaction, so a refusal at any point leaves nothing
//! written; the rules from `decide.rs` and `projects/merge.rs`.

use chrono::{DateTime, Utc};
use steward_domain::oversight::duplicates::Duplicate;
use steward_domain::project::{DocumentStatus, Phase, PhaseDocument};
use steward_domain::{DuplicateId, JobState, ProjectId, UserId};

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
    for job in edit.replan.replanned.iter().filter_map(|replanned| replanned.cancel_job) {
        let state: Option<String> = sqlx::query_scalar("SELECT state::text FROM jobs WHERE id = $1 FOR UPDATE")
            .bind(job.get())
            .fetch_optional(transaction.connection())
            .await?;
        let live = state.is_some_and(|state| state.parse::<JobState>().is_ok_and(|state| !state.is_finished()));
        if live {
            crate::jobs::postgres::admin::cancel(transaction, user, job, now).await?;
        }
    }
    if edit.reopens {
        enter_phase(transaction, &project, Phase::Execution, now).await?;
    }
    Ok(record(transaction.connection(), user, id).await?)
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
