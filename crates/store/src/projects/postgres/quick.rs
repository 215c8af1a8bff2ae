//! The light path on PostgreSQL: a quick project's three documents
//! proposed together, in the transaction of the caller; the rules from
//! `decide.rs`. The decision on them is at the gate (`gate.rs`).

use chrono::{DateTime, Utc};
use steward_domain::project::{DocumentStatus, Phase, QuickDocuments};
use steward_domain::{NewEvent, ProjectId, UserId};

use super::{documents, insert_document, load_project, record};
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::projects::ProjectRecord;
use crate::projects::decide;

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
        super::gate::approved_together(transaction, &project, &proposed[2], now).await?;
    } else {
        let request = crate::projects::gate::request(&project, Phase::Requirements, proposal.versions[0], true);
        super::gate::request(transaction, &project, &request, now).await?;
    }
    Ok(record(transaction.connection(), user, id).await?)
}
