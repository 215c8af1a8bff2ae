//! The inbox's decisions on PostgreSQL, each in one transaction. A run's
//! approval locks its run first (`approvals/postgres.rs` explains); a
//! gate's approval locks its project first, then is read again under that
//! lock, so it and a `project approve` of the same document take turns.

use async_trait::async_trait;
use steward_domain::{Approval, ApprovalId, Decision, UserId};

use crate::inbox::InboxStore;
use crate::postgres::PostgresStore;
use crate::postgres::transaction::Begin;
use crate::{Result, approvals, projects};

#[async_trait]
impl InboxStore for PostgresStore {
    async fn decide_approval(&self, user: UserId, id: ApprovalId, decision: Decision) -> Result<Approval> {
        decision.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let decision = decision.clone();
            Box::pin(async move {
                let first = approvals::postgres::load(transaction.connection(), user, id).await?;
                let Some(project) = first.project_id else {
                    return approvals::postgres::decide(transaction, user, id, decision, now).await;
                };
                let project = projects::postgres::gate::lock_project(transaction, user, project).await?;
                let approval = approvals::postgres::load(transaction.connection(), user, id).await?;
                projects::postgres::gate::decide_in_inbox(transaction, &approval, &project, &decision, now).await?;
                Ok(approvals::postgres::load(transaction.connection(), user, id).await?)
            })
        })
        .await
    }
}
