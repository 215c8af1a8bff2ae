//! The inbox's decisions on SQLite, in one transaction on the writer thread.

use async_trait::async_trait;
use steward_domain::{Approval, ApprovalId, Decision, UserId};

use crate::inbox::InboxStore;
use crate::sqlite::SqliteStore;
use crate::{Result, approvals, projects};

#[async_trait]
impl InboxStore for SqliteStore {
    async fn decide_approval(&self, user: UserId, id: ApprovalId, decision: Decision) -> Result<Approval> {
        decision.validate()?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let approval = approvals::sqlite::load(connection, user, id)?;
                match approval.project_id {
                    Some(project) => {
                        projects::sqlite::gate::decide_in_inbox(
                            connection, effects, user, &approval, project, &decision, now,
                        )?;
                        approvals::sqlite::load(connection, user, id)
                    }
                    None => approvals::sqlite::decide(connection, effects, user, &approval, decision, now),
                }
            })
            .await
    }
}
