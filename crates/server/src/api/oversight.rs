//! Oversight on the wire: the guardian's assessments
//! (`GET /api/v1/runs/{id}/assessments`, and `oversight` in a run's trace;
//! a person's intervention on them is in `runs.rs`), a project's guardian
//! policy (`PUT /api/v1/projects/{id}/guardian`) and
//! flags of duplicate work (`/api/v1/duplicates`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::oversight::duplicates::Duplicate;
use steward_domain::oversight::{Assessment, GuardianOverride};
use steward_domain::{AgentId, AssessmentId, DuplicateId, ProjectId, RunId};
use utoipa::{IntoParams, ToSchema};

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

/// What a project changes of the guardian's policy for its tasks' runs;
/// each field left out falls back to the agent's, then the configured
/// (`[oversight]`) policy: project > agent > global.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GuardianPolicyBody {
    /// Whether the guardian looks at the project's runs at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardian: Option<bool>,
    /// Alignment thresholds (0 to 1, `cancel_below <= pause_below <= steer_below`), set all three or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steer_below: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_below: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_below: Option<f64>,
    /// A pause is applied without asking anyone (else only proposed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_pause: Option<bool>,
    /// A cancel is applied without asking anyone (else a person approves it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_cancel: Option<bool>,
}

impl From<GuardianPolicyBody> for GuardianOverride {
    fn from(body: GuardianPolicyBody) -> Self {
        GuardianOverride {
            guardian: body.guardian,
            steer_below: body.steer_below,
            pause_below: body.pause_below,
            cancel_below: body.cancel_below,
            auto_pause: body.auto_pause,
            auto_cancel: body.auto_cancel,
        }
    }
}

impl From<GuardianOverride> for GuardianPolicyBody {
    fn from(change: GuardianOverride) -> Self {
        GuardianPolicyBody {
            guardian: change.guardian,
            steer_below: change.steer_below,
            pause_below: change.pause_below,
            cancel_below: change.cancel_below,
            auto_pause: change.auto_pause,
            auto_cancel: change.auto_cancel,
        }
    }
}

/// A run's assessments, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssessmentListResponse {
    pub assessments: Vec<AssessmentResponse>,
}

/// Two open work items that say the same thing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateResponse {
    #[schema(value_type = i64)]
    pub id: DuplicateId,
    /// `action` (refs are action ids) or `task` (refs are `PROJECT/TASK`).
    pub kind: String,
    #[schema(value_type = Option<i64>)]
    pub project_id: Option<ProjectId>,
    pub first: String,
    pub second: String,
    pub first_title: String,
    pub second_title: String,
    /// 0..1: the larger of the text and the embedding similarity.
    pub similarity: f64,
    /// How it was found: `text` (words and character trigrams), `embedding`
    /// (the cosine of the items' embeddings, when memory has an embedding
    /// model) or `model` (a close candidate a model said is the same work).
    pub method: String,
    /// 0..1 by words and character trigrams; null on flags from before it was kept.
    #[serde(default)]
    pub text_similarity: Option<f64>,
    /// 0..1, the cosine of the embeddings; null without an embedding model.
    #[serde(default)]
    pub embedding_similarity: Option<f64>,
    /// Why it was flagged, for a person: `the texts are alike: text 0.81, embedding 0.90`.
    pub why: String,
    /// `open`, `merged` (one kept, the other dismissed with a link; a task
    /// merged into the kept one) or `kept_both`.
    pub status: String,
    /// The ref a merge kept.
    pub kept: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<Duplicate> for DuplicateResponse {
    fn from(duplicate: Duplicate) -> Self {
        let why = duplicate.why();
        DuplicateResponse {
            id: duplicate.id,
            kind: duplicate.kind.as_str().to_string(),
            project_id: duplicate.project_id,
            first: duplicate.first,
            second: duplicate.second,
            first_title: duplicate.first_title,
            second_title: duplicate.second_title,
            similarity: duplicate.similarity,
            method: duplicate.method,
            text_similarity: duplicate.text_similarity,
            embedding_similarity: duplicate.embedding_similarity,
            why,
            status: duplicate.status.as_str().to_string(),
            kept: duplicate.kept,
            created_at: duplicate.created_at,
            decided_at: duplicate.decided_at,
        }
    }
}

/// Flags, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateListResponse {
    pub duplicates: Vec<DuplicateResponse>,
}

/// Which flags `GET /duplicates` lists.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicateListQuery {
    /// `open`, `merged` or `kept_both`; every flag when left out.
    pub status: Option<String>,
}

/// A merge: which of the two items stays.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeDuplicateRequest {
    /// The flag's `first` or `second`; the other action is dismissed.
    pub keep: String,
}
