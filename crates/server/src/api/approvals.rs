//! Approvals on the wire: tool calls waiting for a person's decision, and
//! the decisions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::{AgentId, ApprovalId, RunId};
use utoipa::{IntoParams, ToSchema};

use super::enums::ApprovalStatus;

/// A tool call (of a tool marked as needing approval) that waits for, or
/// got, a person's decision. Its run is paused while it is pending.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalResponse {
    #[schema(value_type = i64)]
    pub id: ApprovalId,
    #[schema(value_type = i64)]
    pub run_id: RunId,
    #[schema(value_type = i64)]
    pub agent_id: AgentId,
    /// The run's model-call step that asked for the call.
    pub step_sequence: u32,
    /// The provider's id of the tool call.
    pub call_id: String,
    /// The tool's dotted name (`workspace.write`).
    pub tool: String,
    /// What the tool would be called with (secrets masked).
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

/// Rejects the call; the agent is told the reason as the tool's error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why, for the agent to act on; 1–2,000 characters.
    pub reason: String,
}
