//! What went wrong with an agent's work on a project, on SQLite: a failure
//! kept on the project until the next proposal (`project.agent_failed`),
//! and a document reply refused by a check and sent back
//! (`project.document_refused`).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::project::Phase;
use steward_domain::{NewEvent, ProjectId, UserId};

use super::load_project;
use crate::Result;
use crate::events::sqlite::append;
use crate::sqlite::connection::to_micros;
use crate::sqlite::writer::Effects;

pub(super) fn record_agent_failure(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    phase: Phase,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let project = load_project(connection, user, id)?;
    connection.execute(
        "UPDATE projects SET failure = ?2, updated_at = ?3 WHERE id = ?1",
        params![project.id.get(), reason, to_micros(now)],
    )?;
    append(connection, effects, user, now, NewEvent::ProjectAgentFailed { project: id, phase, reason: reason.into() })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn record_document_refused(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    phase: Phase,
    attempt: u32,
    problem: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    // The project must be the user's.
    load_project(connection, user, id)?;
    let event = NewEvent::ProjectDocumentRefused { project: id, phase, attempt, problem: problem.into() };
    append(connection, effects, user, now, event)
}
