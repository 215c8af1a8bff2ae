//! Phase gates on PostgreSQL: the pending approval a document waiting at a
//! manual gate gets, and the decision at the gate — by `project
//! approve|reject` or in the approvals inbox — which decides the document
//! (or the light path's three together) and resolves its approval in the
//! caller's transaction. The project row
//! is locked first, so a decision in the inbox and one by `project approve`
//! serialise: the second finds the approval decided, or nothing waiting.
//! The rules are in `projects/gate.rs`.

use chrono::{DateTime, Utc};
use steward_domain::project::gate::{GATE_TOOL, GateApproval};
use steward_domain::project::{DocumentStatus, GateDecision, PhaseDocument, Project, StoredDocument};
use steward_domain::{Approval, ApprovalId, Decision, NewEvent, ProjectId, UserId};

use super::{approved, ask_agent, documents, enter_phase, load_project, record, tasks, write_tasks};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::projects::{ProjectRecord, decide, gate};

/// Puts the document waiting at `project`'s gate into the inbox.
pub(super) async fn request(
    transaction: &mut Transaction,
    project: &Project,
    request: &GateApproval,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO approvals (user_id, agent_id, call_id, tool, arguments, status, created_at, project_id) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id",
    )
    .bind(project.user_id.get())
    .bind(project.agent_id.map(|agent| agent.get()))
    .bind(request.call_id())
    .bind(GATE_TOOL)
    .bind(request.arguments())
    .bind(now)
    .bind(project.id.get())
    .fetch_one(transaction.connection())
    .await?;
    transaction.record(project.user_id, now, gate::requested_event(ApprovalId(id), project, request));
    Ok(())
}

/// Records the gate decision on `waiting` on the project's pending approval
/// (a project whose document waited before gates were in the inbox has none).
async fn resolve(
    transaction: &mut Transaction,
    project: &Project,
    waiting: &StoredDocument,
    decision: &GateDecision,
    approve_reason: Option<&str>,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let (status, reason) = gate::resolution(decision, approve_reason)?;
    let resolved: Vec<i64> = sqlx::query_scalar(
        "UPDATE approvals SET status = $1, reason = $2, decided_at = $3 \
         WHERE project_id = $4 AND status = 'pending' RETURNING id",
    )
    .bind(status.as_str())
    .bind(&reason)
    .bind(now)
    .bind(project.id.get())
    .fetch_all(transaction.connection())
    .await?;
    for id in resolved {
        transaction.record(project.user_id, now, gate::decided_event(ApprovalId(id), waiting, status, reason.clone()));
    }
    Ok(())
}

/// After the light path's three documents are approved together: the
/// task rows are written and the project passes each gate in turn, to execution.
pub(super) async fn approved_together(
    transaction: &mut Transaction,
    project: &Project,
    tasks_document: &PhaseDocument,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    if let PhaseDocument::Tasks(list) = tasks_document {
        let planned = decide::plan_tasks(&tasks(transaction.connection(), project.id).await?, &list.tasks, &[]);
        write_tasks(transaction, project, &planned, now).await?;
    }
    let mut passing = project.clone();
    for (from, to) in decide::quick_passage() {
        passing.phase = from;
        enter_phase(transaction, &passing, to, now).await?;
    }
    Ok(())
}

/// A decision on the light path's three documents waiting together: all
/// three approved (the project goes to execution) or all sent back with
/// the comment (one job asks for the three again).
async fn decide_together(
    transaction: &mut Transaction,
    project: &Project,
    together: [&StoredDocument; 3],
    decision: &GateDecision,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let (status, comment) = decide::outcome(decision)?;
    for waiting in together {
        mark_decided(transaction, project, waiting, status, comment.clone(), now).await?;
    }
    if status == DocumentStatus::Approved {
        approved_together(transaction, project, &together[2].document, now).await
    } else {
        ask_agent(transaction, project, project.phase, now).await
    }
}

/// Approves the document waiting at the project's gate or sends it back,
/// resolving its approval; `approve_reason` is what a person said when
/// approving in the inbox.
pub(super) async fn decide_document(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    decision: &GateDecision,
    approve_reason: Option<&str>,
    now: DateTime<Utc>,
) -> TransactionResult<ProjectRecord> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    let all = documents(transaction.connection(), id).await?;
    decide_loaded(transaction, &project, &all, decision, approve_reason, now).await?;
    Ok(record(transaction.connection(), user, id).await?)
}

/// [`decide_document`] on the project (locked) and documents already read.
async fn decide_loaded(
    transaction: &mut Transaction,
    project: &Project,
    all: &[StoredDocument],
    decision: &GateDecision,
    approve_reason: Option<&str>,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    if let Some(together) = decide::waiting_together(project, all) {
        resolve(transaction, project, together[0], decision, approve_reason, now).await?;
        return decide_together(transaction, project, together, decision, now).await;
    }
    let (waiting, status, comment) = decide::decision(project, all, decision)?;
    resolve(transaction, project, waiting, decision, approve_reason, now).await?;
    mark_decided(transaction, project, waiting, status, comment, now).await?;
    if status == DocumentStatus::Approved {
        approved(transaction, project, &waiting.document, now).await
    } else {
        ask_agent(transaction, project, project.phase, now).await
    }
}

/// Records a document's decision: its status and comment, and the event.
async fn mark_decided(
    transaction: &mut Transaction,
    project: &Project,
    waiting: &StoredDocument,
    status: DocumentStatus,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    sqlx::query(
        "UPDATE project_documents SET status = $4, comment = $5, decided_at = $6 \
         WHERE project_id = $1 AND phase = $2 AND version = $3",
    )
    .bind(project.id.get())
    .bind(waiting.phase.as_str())
    .bind(i64::from(waiting.version))
    .bind(status.as_str())
    .bind(&comment)
    .bind(now)
    .execute(transaction.connection())
    .await?;
    let (phase, version) = (waiting.phase, waiting.version);
    let event = NewEvent::ProjectDocumentDecided { project: project.id, phase, version, status, comment };
    transaction.record(project.user_id, now, event);
    Ok(())
}

/// Locks the project whose gate an approval is, and returns it: the inbox
/// calls this before reading the approval again, as `decide_document`
/// locks it.
pub(crate) async fn lock_project(
    transaction: &mut Transaction,
    user: UserId,
    project: ProjectId,
) -> TransactionResult<Project> {
    Ok(load_project(transaction.connection(), user, project, true).await?)
}

/// A person's decision in the inbox on a gate's `approval`, read under the
/// lock on `project` ([`lock_project`]): the project's gate decided exactly
/// as `project approve|reject` decides it.
pub(crate) async fn decide_in_inbox(
    transaction: &mut Transaction,
    approval: &Approval,
    project: &Project,
    decision: &Decision,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let all = documents(transaction.connection(), project.id).await?;
    let gate_decision = gate::inbox_decision(approval, project, &all, decision)?;
    let approve_reason = decision.reason.as_deref().filter(|_| decision.approve);
    decide_loaded(transaction, project, &all, &gate_decision, approve_reason, now).await
}
