//! The light path on SQLite: a quick project's three documents proposed
//! together, in the caller's transaction on the writer thread; the rules
//! from `decide.rs`. The decision on them is at the gate (`gate.rs`).

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use steward_domain::project::{DocumentStatus, Phase, QuickDocuments};
use steward_domain::{NewEvent, ProjectId, UserId};

use super::{documents, insert_document, load_project, record};
use crate::Result;
use crate::events::sqlite::append;
use crate::projects::ProjectRecord;
use crate::projects::decide;
use crate::sqlite::writer::Effects;

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
        super::gate::approved_together(connection, effects, &project, &proposed[2], now)?;
    } else {
        let request = crate::projects::gate::request(&project, Phase::Requirements, proposal.versions[0], true);
        super::gate::request(connection, effects, &project, &request, now)?;
    }
    record(connection, user, id)
}
