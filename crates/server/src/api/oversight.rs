//! The guardian's assessments on the wire (`GET /api/v1/runs/{id}/assessments`,
//! and `oversight` in a run's trace).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::oversight::Assessment;
use steward_domain::{AgentId, AssessmentId, RunId};
use utoipa::ToSchema;

/// One look of the guardian at a run: the score, what the model
/// recommended, what the policy made of it and where that is, and what the
/// look cost (oversight, counted apart from the run's own calls).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssessmentResponse {
    #[schema(value_type = i64)]
    pub id: AssessmentId,
    #[schema(value_type = i64)]
    pub run_id: RunId,
    #[schema(value_type = i64)]
    pub agent_id: AgentId,
    /// The run's steps and tokens when it was looked at.
    pub steps_seen: u32,
    pub tokens_seen: u64,
    /// 0 (lost) to 1 (on the goal).
    pub alignment: f64,
    pub drift_reason: String,
    /// `continue`, `steer`, `pause` or `cancel`, as the model recommended.
    pub recommended: String,
    /// What the policy decided (never stronger than the score allows).
    pub intervention: String,
    /// `recorded`, `pending` (until the run's next model call), `delivered`,
    /// `applied`, `proposed` (left to a person) or `dropped`.
    pub status: String,
    /// The steering message (or the reason of a pause or cancel).
    pub message: String,
    /// A person decides: the run waits on an `oversight.cancel` approval,
    /// or the pause is only proposed.
    pub needs_person: bool,
    /// The step whose model call first carried the intervention.
    pub delivered_before_step: Option<u32>,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Null when the model's price is unknown.
    pub cost_usd: Option<f64>,
    pub created_at: DateTime<Utc>,
}

impl From<Assessment> for AssessmentResponse {
    fn from(assessment: Assessment) -> Self {
        AssessmentResponse {
            id: assessment.id,
            run_id: assessment.run_id,
            agent_id: assessment.agent_id,
            steps_seen: assessment.progress.steps,
            tokens_seen: assessment.progress.tokens,
            alignment: assessment.alignment,
            drift_reason: assessment.drift_reason,
            recommended: assessment.recommended.as_str().to_string(),
            intervention: assessment.intervention.as_str().to_string(),
            status: assessment.status.as_str().to_string(),
            message: assessment.message,
            needs_person: assessment.needs_person,
            delivered_before_step: assessment.delivered_before_step,
            model: assessment.model,
            input_tokens: assessment.input_tokens,
            output_tokens: assessment.output_tokens,
            cost_usd: assessment.cost_usd,
            created_at: assessment.created_at,
        }
    }
}

/// A run's assessments, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssessmentListResponse {
    pub assessments: Vec<AssessmentResponse>,
}
