//! A person's edit of an approved document on SQLite, in one transaction
//! on the writer thread: the new version approved, the task rows re-planned
//! by `decide::edit`, a dropped task's live job cancelled, and the live run
//! of a task restarted or dropped stopped — in the same transaction, so no
//! move decided on the old text can land after it unnoticed (the task's
//! `replans` count changed with it).
//!
//! The merge of a duplicate flag's two tasks is such an edit made together
//! with the flag's decision, in the same transaction, so a refusal at any
//! point leaves nothing written (`projects/merge.rs` holds its rules).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use steward_domain::oversight::duplicates::Duplicate;
use steward_domain::project::replan::Replanned;
use steward_domain::project::{DocumentStatus, Phase, PhaseDocument};
use steward_domain::{DuplicateId, JobState, ProjectId, RunStatus, UserId};

use super::{documents, enter_phase, insert_document, load_project, record, tasks, write_tasks};
use crate::Result;
use crate::events::sqlite::append;
use crate::oversight::sqlite::{decide_one, load_duplicate};
use crate::projects::merge::{flagged_tasks, merged_document};
use crate::projects::{ProjectRecord, decide};
use crate::sqlite::writer::Effects;

pub(super) fn edit_document(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    document: &PhaseDocument,
    now: DateTime<Utc>,
) -> Result<ProjectRecord> {
    let project = load_project(connection, user, id)?;
    let edit = decide::edit(&project, &documents(connection, id)?, &tasks(connection, id)?, document, now)?;
    insert_document(connection, &project, document, edit.version, DocumentStatus::Approved, now)?;
    if document.phase() == Phase::Tasks || !edit.replan.replanned.is_empty() {
        write_tasks(connection, effects, &project, &decide::edited_rows(&edit.replan), now)?;
    }
    for event in decide::edit_events(&project, document.phase(), &edit) {
        append(connection, effects, user, now, event)?;
    }
    for replanned in &edit.replan.replanned {
        stop_work(connection, effects, user, replanned, now)?;
    }
    if edit.reopens {
        enter_phase(connection, effects, &project, Phase::Execution, now)?;
    }
    record(connection, user, id)
}

/// Cancels a dropped task's job and stops the run of a task restarted or
/// dropped, each only while it is still live.
fn stop_work(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    replanned: &Replanned,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(job) = replanned.cancel_job {
        let state: Option<String> = connection
            .prepare_cached("SELECT state FROM jobs WHERE id = ?1")?
            .query_row([job.get()], |row| row.get(0))
            .optional()?;
        let live = state.is_some_and(|state| state.parse::<JobState>().is_ok_and(|state| !state.is_finished()));
        if live {
            crate::jobs::sqlite::admin::cancel(connection, effects, user, job, now)?;
        }
    }
    if let Some(run) = replanned.stop_run {
        let run = crate::runs::sqlite::load(connection, user, run)?;
        if run.status != RunStatus::Finished {
            crate::runs::sqlite::stop(connection, effects, &run, &decide::stop_reason(replanned), now)?;
        }
    }
    Ok(())
}

pub(super) fn merge_duplicate_tasks(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: DuplicateId,
    kept: &str,
    now: DateTime<Utc>,
) -> Result<Duplicate> {
    let flagged = flagged_tasks(&load_duplicate(connection, user, id)?, kept)?;
    // The flag is decided first (refused when it is decided already); a
    // refusal of the edit below rolls that decision back with it.
    let decided = decide_one(connection, effects, user, id, Some(kept.to_string()), now)?;
    let merged = merged_document(&flagged, &documents(connection, flagged.project)?)?;
    edit_document(connection, effects, user, flagged.project, &merged, now)?;
    Ok(decided)
}
