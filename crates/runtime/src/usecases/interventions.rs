//! A person acting on the guardian's assessments of a run
//! (`POST /runs/{id}/intervene`, `steward runs intervene`): apply a pause
//! or cancel the policy only proposed, or let a run the guardian holds go
//! on (deciding its `oversight.pause` or `oversight.cancel` approval, as
//! the inbox does).

use std::str::FromStr;

use steward_domain::oversight::{Assessment, Intervention};
use steward_domain::{ApprovalStatus, AssessmentId, Decision, Run, RunId, UserId, ValidationError};
use steward_store::{ApprovalFilter, ConflictKind, StoreError};

use super::UseCases;
use crate::agent::interventions::{CANCEL_TOOL, PAUSE_TOOL};
use crate::use_case_error::UseCaseError;

/// What a person does to a run the guardian assessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonIntervention {
    /// The run holds at its next model call, waiting on an approval.
    Pause,
    /// The run is cancelled now.
    Cancel,
    /// A run the guardian holds goes on.
    Resume,
}

impl FromStr for PersonIntervention {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "pause" => Ok(PersonIntervention::Pause),
            "cancel" => Ok(PersonIntervention::Cancel),
            "resume" => Ok(PersonIntervention::Resume),
            _ => Err(ValidationError::new("intervention", format!("is {text:?}; use pause, cancel or resume"))),
        }
    }
}

/// What an intervention did: the run as it is now, and the assessment it
/// applied (none for a resume).
#[derive(Clone, Debug, PartialEq)]
pub struct Intervened {
    pub run: Run,
    pub assessment: Option<Assessment>,
}

impl UseCases {
    /// Applies `intervention` to the user's run: pause or cancel on
    /// `assessment` (else the run's latest one waiting for a person), or
    /// resume a run held on a guardian's approval, with `reason` for the
    /// record.
    pub async fn intervene(
        &self,
        user: UserId,
        run: RunId,
        intervention: PersonIntervention,
        assessment: Option<AssessmentId>,
        reason: Option<String>,
    ) -> Result<Intervened, UseCaseError> {
        let applied = match intervention {
            PersonIntervention::Pause => {
                Some(self.store.apply_intervention(user, run, assessment, Intervention::Pause).await?)
            }
            PersonIntervention::Cancel => {
                Some(self.store.apply_intervention(user, run, assessment, Intervention::Cancel).await?)
            }
            PersonIntervention::Resume => {
                self.resume_held(user, run, reason).await?;
                None
            }
        };
        Ok(Intervened { run: self.store.get_run(user, run).await?, assessment: applied })
    }

    /// Decides the guardian's pending hold on the run so that it goes on:
    /// a pause approved, a proposed cancel rejected.
    async fn resume_held(&self, user: UserId, run: RunId, reason: Option<String>) -> Result<(), UseCaseError> {
        let filter = ApprovalFilter { run_id: Some(run), statuses: vec![ApprovalStatus::Pending] };
        let pending = self.store.list_approvals(user.into(), filter).await?;
        let Some(hold) = pending.iter().find(|approval| [PAUSE_TOOL, CANCEL_TOOL].contains(&approval.tool.as_str()))
        else {
            // Not found when the run is not the user's, rather than a conflict.
            self.store.get_run(user, run).await?;
            return Err(StoreError::conflict(
                ConflictKind::IllegalTransition,
                None,
                format!("run {run} is not held by the guardian; only a paused run (or one whose cancel waits) resumes"),
            )
            .into());
        };
        let reason = reason.filter(|reason| !reason.trim().is_empty());
        let decision = if hold.tool == PAUSE_TOOL {
            Decision { approve: true, reason }
        } else {
            Decision { approve: false, reason: Some(reason.unwrap_or_else(|| "resumed by a person".into())) }
        };
        self.store.decide_approval(user, hold.id, decision).await?;
        Ok(())
    }
}
