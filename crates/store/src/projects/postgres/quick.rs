//! The light path on PostgreSQL: a quick project's three documents
//! proposed together, and the decision on them, in the transaction of the
//! caller; the rules from `decide.rs`.

use chrono::{DateTime, Utc};
use steward_domain::project::{
    DocumentStatus, GateDecision, Phase, PhaseDocument, Project, QuickDocuments, StoredDocument,
};
use steward_domain::{NewEvent, ProjectId, UserId};

use super::{ask_agent, documents, enter_phase, insert_document, load_project, record, tasks, write_tasks};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::projects::ProjectRecord;
use crate::projects::decide;

/// After the light path's three documents are approved together: the
/// task rows are written and the project passes each gate in turn, to execution.
async fn approved_together(
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

pub(super) async fn propose_quick(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    quick: QuickDocuments,
    now: DateTime<Utc>,
) -> TransactionResult<ProjectRecord> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    let proposal = decide::quick_proposal(&project, &documents(transaction.connection(), id).await?, &quick)?;
    let proposed = quick.into_documents();
    for (document, version) in proposed.iter().zip(proposal.versions) {
        insert_document(transaction, &project, document, version, proposal.status, now).await?;
        let phase = document.phase();
        transaction.record(user, now, NewEvent::ProjectDocumentProposed { project: id, phase, version });
    }
    sqlx::query("UPDATE projects SET failure = NULL WHERE id = $1")
        .bind(id.get())
        .execute(transaction.connection())
        .await?;
    if proposal.status == DocumentStatus::Approved {
        for (document, version) in proposed.iter().zip(proposal.versions) {
            let (phase, status) = (document.phase(), proposal.status);
            transaction.record(
                user,
                now,
                NewEvent::ProjectDocumentDecided { project: id, phase, version, status, comment: None },
            );
        }
        approved_together(transaction, &project, &proposed[2], now).await?;
    } else {
        let request = crate::projects::gate::request(&project, Phase::Requirements, proposal.versions[0], true);
        super::gate::request(transaction, &project, &request, now).await?;
    }
    Ok(record(transaction.connection(), user, id).await?)
}

/// A decision on the light path's three documents waiting together: all
/// three approved (the project goes to execution) or all sent back with
/// the comment (one job asks for the three again).
pub(super) async fn decide_together(
    transaction: &mut Transaction,
    project: &Project,
    together: [&StoredDocument; 3],
    decision: &GateDecision,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let (status, comment) = decide::outcome(decision)?;
    for waiting in together {
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
        let (phase, version, comment) = (waiting.phase, waiting.version, comment.clone());
        transaction.record(
            project.user_id,
            now,
            NewEvent::ProjectDocumentDecided { project: project.id, phase, version, status, comment },
        );
    }
    if status == DocumentStatus::Approved {
        approved_together(transaction, project, &together[2].document, now).await
    } else {
        ask_agent(transaction, project, project.phase, now).await
    }
}
