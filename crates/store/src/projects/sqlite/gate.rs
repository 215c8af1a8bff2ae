//! Phase gates on SQLite: the pending approval a document waiting at a
//! manual gate gets, and the decision at the gate — by `project
//! approve|reject` or in the approvals inbox — which decides the document
//! (or the light path's three together) and resolves its approval in the
//! one transaction on the writer thread.
//! The rules are in `projects/gate.rs`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::project::gate::GateApproval;
use steward_domain::project::{DocumentStatus, GateDecision, PhaseDocument, Project, StoredDocument};
use steward_domain::{Approval, ApprovalId, Decision, NewEvent, ProjectId, UserId};

use super::{approved, ask_agent, documents, enter_phase, load_project, record, tasks, write_tasks};
use crate::Result;
use crate::events::sqlite::append;
use crate::projects::{ProjectRecord, decide, gate};
use crate::sqlite::connection::to_micros;
use crate::sqlite::writer::Effects;

/// Puts the document waiting at `project`'s gate into the inbox.
pub(super) fn request(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    request: &GateApproval,
    now: DateTime<Utc>,
) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO approvals (user_id, agent_id, call_id, tool, arguments, status, created_at, project_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
        )?
        .execute(params![
            project.user_id.get(),
            project.agent_id.map(|agent| agent.get()),
            request.call_id(),
            steward_domain::project::gate::GATE_TOOL,
            serde_json::to_string(&request.arguments())?,
            to_micros(now),
            project.id.get(),
        ])?;
    let id = ApprovalId(connection.last_insert_rowid());
    append(connection, effects, project.user_id, now, gate::requested_event(id, project, request))
}

/// Records the gate decision on `waiting` on the project's pending approval
/// (a project whose document waited before gates were in the inbox has none).
fn resolve(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    waiting: &StoredDocument,
    decision: &GateDecision,
    approve_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (status, reason) = gate::resolution(decision, approve_reason)?;
    let resolved: Vec<i64> = connection
        .prepare_cached(
            "UPDATE approvals SET status = ?1, reason = ?2, decided_at = ?3 \
             WHERE project_id = ?4 AND status = 'pending' RETURNING id",
        )?
        .query_map(params![status.as_str(), reason, to_micros(now), project.id.get()], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in resolved {
        let event = gate::decided_event(ApprovalId(id), waiting, status, reason.clone());
        append(connection, effects, project.user_id, now, event)?;
    }
    Ok(())
}

/// After the light path's three documents are approved together: the
/// task rows are written and the project passes each gate in turn, to execution.
pub(super) fn approved_together(
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

/// A decision on the light path's three documents waiting together: all
/// three approved (the project goes to execution) or all sent back with
/// the comment (one job asks for the three again).
fn decide_together(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    together: [&StoredDocument; 3],
    decision: &GateDecision,
    now: DateTime<Utc>,
) -> Result<()> {
    let (status, comment) = decide::outcome(decision)?;
    for waiting in together {
        mark_decided(connection, effects, project, waiting, status, comment.clone(), now)?;
    }
    if status == DocumentStatus::Approved {
        approved_together(connection, effects, project, &together[2].document, now)
    } else {
        ask_agent(connection, effects, project, project.phase, now)
    }
}

/// Approves the document waiting at the project's gate or sends it back,
/// resolving its approval; `approve_reason` is what a person said when
/// approving in the inbox.
pub(super) fn decide_document(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    decision: &GateDecision,
    approve_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ProjectRecord> {
    let project = load_project(connection, user, id)?;
    let all = documents(connection, id)?;
    decide_loaded(connection, effects, &project, &all, decision, approve_reason, now)?;
    record(connection, user, id)
}

/// [`decide_document`] on the project and documents already read.
fn decide_loaded(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    all: &[StoredDocument],
    decision: &GateDecision,
    approve_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(together) = decide::waiting_together(project, all) {
        resolve(connection, effects, project, together[0], decision, approve_reason, now)?;
        return decide_together(connection, effects, project, together, decision, now);
    }
    let (waiting, status, comment) = decide::decision(project, all, decision)?;
    resolve(connection, effects, project, waiting, decision, approve_reason, now)?;
    mark_decided(connection, effects, project, waiting, status, comment, now)?;
    if status == DocumentStatus::Approved {
        approved(connection, effects, project, &waiting.document, &[], now)
    } else {
        ask_agent(connection, effects, project, project.phase, now)
    }
}

/// Records a document's decision: its status and comment, and the event.
fn mark_decided(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    waiting: &StoredDocument,
    status: DocumentStatus,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
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
    let (phase, version) = (waiting.phase, waiting.version);
    let event = NewEvent::ProjectDocumentDecided { project: project.id, phase, version, status, comment };
    append(connection, effects, project.user_id, now, event)
}

/// A person's decision in the inbox on a gate's `approval` (read by the
/// approvals' code, which reads it again after): the project's gate
/// decided exactly as `project approve|reject` decides it.
pub(crate) fn decide_in_inbox(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    approval: &Approval,
    project: ProjectId,
    decision: &Decision,
    now: DateTime<Utc>,
) -> Result<()> {
    let stored = load_project(connection, user, project)?;
    let all = documents(connection, project)?;
    let gate_decision = gate::inbox_decision(approval, &stored, &all, decision)?;
    let approve_reason = decision.reason.as_deref().filter(|_| decision.approve);
    decide_loaded(connection, effects, &stored, &all, &gate_decision, approve_reason, now)
}
