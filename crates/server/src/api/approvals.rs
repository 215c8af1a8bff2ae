//! Approvals on the wire: tool calls and projects' phase gates waiting for
//! a person's decision, and the decisions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::{AgentId, ApprovalId, ProjectId, RunId};
use utoipa::{IntoParams, ToSchema};

use super::enums::ApprovalStatus;

/// A tool call (of a tool marked as needing approval) that waits for, or
/// got, a person's decision; its run is paused while it is pending. Or a
/// project's phase gate (`tool` is `project.gate`, no run): approving it
/// approves the phase's document as `POST /projects/{id}/approve` does,
/// rejecting it sends the document back with the reason as the comment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalResponse {
    #[schema(value_type = i64)]
    pub id: ApprovalId,
    /// The paused run; null for a project's gate.
    #[schema(value_type = Option<i64>)]
    pub run_id: Option<RunId>,
    /// The run's agent, or the agent that wrote a gate's document (null
    /// when a person proposed it).
    #[schema(value_type = Option<i64>)]
    pub agent_id: Option<AgentId>,
    /// The run's model-call step that asked for the call; null for a gate.
    pub step_sequence: Option<u32>,
    /// The provider's id of the tool call; for a gate, the revision it
    /// decides (`requirements-v2`).
    pub call_id: String,
    /// The project whose phase gate this is; null for a tool call.
    #[schema(value_type = Option<i64>)]
    pub project_id: Option<ProjectId>,
    /// The tool's dotted name (`workspace.write`), or `project.gate`.
    pub tool: String,
    /// What the tool would be called with (secrets masked); for a gate,
    /// `project_id`, `title`, `phase`, `version` and `phases` (the phases
    /// whose documents the decision decides: the light path's three wait
    /// together).
    pub arguments: Value,
    pub status: ApprovalStatus,
    /// Why it was rejected (or approved), in the person's words.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<steward_domain::Approval> for ApprovalResponse {
    fn from(approval: steward_domain::Approval) -> Self {
        ApprovalResponse {
            id: approval.id,
            run_id: approval.run_id,
            agent_id: approval.agent_id,
            step_sequence: approval.step_sequence,
            call_id: approval.call_id,
            project_id: approval.project_id,
            tool: approval.tool,
            arguments: approval.arguments,
            status: approval.status.into(),
            reason: approval.reason,
            created_at: approval.created_at,
            decided_at: approval.decided_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalListResponse {
    /// Oldest first.
    pub approvals: Vec<ApprovalResponse>,
}

/// Filters of `GET /approvals`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalListQuery {
    /// Only approvals in these statuses (`pending` for the inbox): repeat the
    /// parameter or separate with commas.
    #[param(value_type = Option<Vec<ApprovalStatus>>, style = Form, explode)]
    pub status: Vec<ApprovalStatus>,
    /// Only the approvals of this run.
    #[param(value_type = Option<i64>)]
    pub run_id: Option<RunId>,
}

/// Approves the call; the body may be left out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// Why, if worth saying; up to 2,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Rejects the call; the agent is told the reason as the tool's error (a
/// gate's document goes back with the reason as the comment to address).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why, for the agent to act on; 1–2,000 characters.
    pub reason: String,
}
