//! The guardian's interventions as the run's loop takes them: before each
//! model call the loop collects what is pending (the store marks it
//! delivered at that step), replays steering messages where they were first
//! sent, and stops for a person when the guardian paused the run or asks a
//! person to cancel it. A resumed run reads the person's decision. A run
//! the guardian does not look at skips all this (no read per model call).

use serde_json::json;
use steward_domain::oversight::{Assessment, Intervention};
use steward_domain::{Approval, ApprovalStatus, NewApproval, RunId};
use steward_store::DeliveredInterventions;

use super::failures::store_failure;
use super::runtime::AgentRuntime;
use super::steps::Guidance;
use crate::handlers::JobError;

/// The approval a guardian's pause waits on: approving resumes the run,
/// rejecting cancels it.
pub const PAUSE_TOOL: &str = "oversight.pause";
/// The approval a guardian's cancel waits on when the policy leaves it to
/// a person: approving cancels the run, rejecting resumes it.
pub const CANCEL_TOOL: &str = "oversight.cancel";

/// What the loop does before a model call (nothing, by default).
#[derive(Default)]
pub(crate) struct BeforeModelCall {
    pub guidance: Vec<Guidance>,
    /// A pause or cancel to put to a person; the run stops here.
    pub hold: Option<Assessment>,
}

impl AgentRuntime {
    /// Takes the run's pending interventions at step `sequence`.
    pub(crate) async fn take_interventions(&self, run: RunId, sequence: u32) -> Result<BeforeModelCall, JobError> {
        let DeliveredInterventions { earlier, now } =
            self.store.deliver_interventions(run, sequence).await.map_err(store_failure)?;
        let guidance = earlier
            .iter()
            .chain(&now)
            .filter(|assessment| assessment.intervention == Intervention::Steer)
            .filter_map(|assessment| {
                Some(Guidance { before_step: assessment.delivered_before_step?, message: assessment.message.clone() })
            })
            .collect();
        let hold = now
            .into_iter()
            .find(|assessment| matches!(assessment.intervention, Intervention::Pause | Intervention::Cancel));
        Ok(BeforeModelCall { guidance, hold })
    }

    /// Stops the run for a person on `hold`, as approvals do: the approval
    /// names the last stored step and the assessment.
    pub(crate) async fn hold_for_person(&self, run: RunId, last_step: u32, hold: &Assessment) -> Result<(), JobError> {
        let tool = if hold.intervention == Intervention::Cancel { CANCEL_TOOL } else { PAUSE_TOOL };
        let request = NewApproval {
            step_sequence: last_step,
            call_id: format!("oversight-{}", hold.id),
            tool: tool.to_string(),
            arguments: json!({
                "assessment": hold.id,
                "alignment": hold.alignment,
                "drift_reason": hold.drift_reason,
                "message": hold.message,
            }),
        };
        self.store.request_approvals(run, vec![request]).await.map_err(store_failure)?;
        Ok(())
    }
}

/// Why a resumed run ends because a person decided on a guardian's hold:
/// a pause rejected, or a proposed cancel approved.
pub(crate) fn stopped_by_person(approvals: &[Approval]) -> Option<String> {
    approvals.iter().find_map(|approval| {
        let reason = approval.reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default();
        match (approval.tool.as_str(), approval.status) {
            (PAUSE_TOOL, ApprovalStatus::Rejected) => {
                Some(format!("stopped by a person after the guardian paused the run{reason}"))
            }
            (CANCEL_TOOL, ApprovalStatus::Approved) => {
                Some(format!("cancelled by a person at the guardian's request{reason}"))
            }
            _ => None,
        }
    })
}
