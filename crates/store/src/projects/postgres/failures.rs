//! What went wrong with an agent's work on a project, on PostgreSQL: a
//! failure kept on the project until the next proposal
//! (`project.agent_failed`), and a document reply refused by a check and
//! sent back (`project.document_refused`).

use chrono::{DateTime, Utc};
use steward_domain::project::Phase;
use steward_domain::{NewEvent, ProjectId, UserId};

use super::load_project;
use crate::postgres::transaction::{Transaction, TransactionResult};

pub(super) async fn record_agent_failure(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    phase: Phase,
    reason: &str,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    sqlx::query("UPDATE projects SET failure = $2, updated_at = $3 WHERE id = $1")
        .bind(project.id.get())
        .bind(reason)
        .bind(now)
        .execute(transaction.connection())
        .await?;
    transaction.record(user, now, NewEvent::ProjectAgentFailed { project: id, phase, reason: reason.into() });
    Ok(())
}

pub(super) async fn record_document_refused(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    phase: Phase,
    attempt: u32,
    problem: &str,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    // The project must be the user's.
    load_project(transaction.connection(), user, id, false).await?;
    let event = NewEvent::ProjectDocumentRefused { project: id, phase, attempt, problem: problem.into() };
    transaction.record(user, now, event);
    Ok(())
}
