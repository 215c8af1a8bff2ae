//! The light path on SQLite: a quick project's three documents proposed
//! together, and the decision on them, in the caller's transaction on the
//! writer thread; the rules from `decide.rs`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::project::{
    DocumentStatus, GateDecision, Phase, PhaseDocument, Project, QuickDocuments, StoredDocument,
};
use steward_domain::{NewEvent, ProjectId, UserId};

use super::{ask_agent, documents, enter_phase, insert_document, load_project, record, tasks, write_tasks};
use crate::Result;
use crate::events::sqlite::append;
use crate::projects::ProjectRecord;
use crate::projects::decide;
use crate::sqlite::connection::to_micros;
use crate::sqlite::writer::Effects;

/// After the light path's three documents are approved together: the
/// task rows are written and the project passes each gate in turn, to execution.
fn approved_together(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    tasks_document: &PhaseDocument,
    now: DateTime<Utc>,
) -> Result<()> {
    if let PhaseDocument::Tasks(list) = tasks_document {
        let planned = decide::plan_tasks(&tasks(connection, project.id)?, &list.tasks, &[]);
        write_tasks(connection, effects, project, &planned, now)?;
    }
    let mut passing = project.clone();
    for (from, to) in decide::quick_passage() {
        passing.phase = from;
        enter_phase(connection, effects, &passing, to, now)?;
    }
    Ok(())
}

pub(super) fn propose_quick(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    quick: QuickDocuments,
    now: DateTime<Utc>,
) -> Result<ProjectRecord> {
    let project = load_project(connection, user, id)?;
    let proposal = decide::quick_proposal(&project, &documents(connection, id)?, &quick)?;
    let proposed = quick.into_documents();
    for (document, version) in proposed.iter().zip(proposal.versions) {
        insert_document(connection, &project, document, version, proposal.status, now)?;
        let phase = document.phase();
        append(connection, effects, user, now, NewEvent::ProjectDocumentProposed { project: id, phase, version })?;
    }
    connection.execute("UPDATE projects SET failure = NULL WHERE id = ?1", [id.get()])?;
    if proposal.status == DocumentStatus::Approved {
        for (document, version) in proposed.iter().zip(proposal.versions) {
            let phase = document.phase();
            let status = proposal.status;
            let decided = NewEvent::ProjectDocumentDecided { project: id, phase, version, status, comment: None };
            append(connection, effects, user, now, decided)?;
        }
        approved_together(connection, effects, &project, &proposed[2], now)?;
    } else {
        let request = crate::projects::gate::request(&project, Phase::Requirements, proposal.versions[0], true);
        super::gate::request(connection, effects, &project, &request, now)?;
    }
    record(connection, user, id)
}

/// A decision on the light path's three documents waiting together: all
/// three approved (the project goes to execution) or all sent back with
/// the comment (one job asks for the three again).
pub(super) fn decide_together(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    together: [&StoredDocument; 3],
    decision: &GateDecision,
    now: DateTime<Utc>,
) -> Result<()> {
    let (status, comment) = decide::outcome(decision)?;
    for waiting in together {
        connection.execute(
            "UPDATE project_documents SET status = ?4, comment = ?5, decided_at = ?6 \
             WHERE project_id = ?1 AND phase = ?2 AND version = ?3",
            params![
                project.id.get(),
                waiting.phase.as_str(),
                i64::from(waiting.version),
                status.as_str(),
                comment,
                to_micros(now)
            ],
        )?;
        let event = NewEvent::ProjectDocumentDecided {
            project: project.id,
            phase: waiting.phase,
            version: waiting.version,
            status,
            comment: comment.clone(),
        };
        append(connection, effects, project.user_id, now, event)?;
    }
    if status == DocumentStatus::Approved {
        approved_together(connection, effects, project, &together[2].document, now)
    } else {
        ask_agent(connection, effects, project, project.phase, now)
    }
}
