//! A person's edit of an approved document on SQLite, and the merge of a
//! duplicate flag's two tasks, which is such an edit made together with
//! the flag's decision: each in the caller's transaction on the writer
//! thread, so a refusal at any point leaves nothing written; the rules
//! from `decide.rs` and `projects/merge.rs`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use steward_domain::oversight::duplicates::Duplicate;
use steward_domain::project::{DocumentStatus, Phase, PhaseDocument};
use steward_domain::{DuplicateId, JobState, ProjectId, UserId};

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
    for job in edit.replan.replanned.iter().filter_map(|replanned| replanned.cancel_job) {
        let state: Option<String> = connection
            .prepare_cached("SELECT state FROM jobs WHERE id = ?1")?
            .query_row([job.get()], |row| row.get(0))
            .optional()?;
        let live = state.is_some_and(|state| state.parse::<JobState>().is_ok_and(|state| !state.is_finished()));
        if live {
            crate::jobs::sqlite::admin::cancel(connection, effects, user, job, now)?;
        }
    }
    if edit.reopens {
        enter_phase(connection, effects, &project, Phase::Execution, now)?;
    }
    record(connection, user, id)
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
