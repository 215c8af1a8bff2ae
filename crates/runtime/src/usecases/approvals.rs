//! A person's decision on a tool call waiting for approval; deciding the last
//! pending one of a run resumes it. A project's phase gate (`project.gate`)
//! is decided the same way: the store approves its document, or sends it
//! back with the reason as the comment.

use steward_domain::{Approval, ApprovalId, Decision, UserId, ValidationError};

use super::{UseCaseError, UseCases};

impl UseCases {
    /// Lets the call run. A blank reason is no reason.
    pub async fn approve(
        &self,
        user: UserId,
        id: ApprovalId,
        reason: Option<String>,
    ) -> Result<Approval, UseCaseError> {
        let reason = reason.filter(|reason| !reason.trim().is_empty());
        self.decide(user, id, Decision { approve: true, reason }).await
    }

    /// Refuses the call; the agent is told `reason`, so one is required.
    pub async fn reject(&self, user: UserId, id: ApprovalId, reason: String) -> Result<Approval, UseCaseError> {
        if reason.trim().is_empty() {
            return Err(ValidationError::new("reason", "must not be empty: say why, the agent is told").into());
        }
        self.decide(user, id, Decision { approve: false, reason: Some(reason) }).await
    }

    async fn decide(&self, user: UserId, id: ApprovalId, decision: Decision) -> Result<Approval, UseCaseError> {
        decision.validate()?;
        Ok(self.store.decide_approval(user, id, decision).await?)
    }
}
