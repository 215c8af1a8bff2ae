//! Approvals: a tool marked `requires_approval` pauses its run until a
//! person approves or rejects the call; a rejection reaches the model as
//! the tool's error, with the reason. A project's phase gate waits in the
//! same inbox with no run ([`crate::project::gate`]).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::{AgentId, ApprovalId, ProjectId, RunId, UserId};
use crate::text_enum::text_enum;
use crate::validation::{ValidationError, check_optional_text};

text_enum!(
    /// Where an approval request is.
    ApprovalStatus, "status", {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        /// The run ended (was cancelled) before anyone decided.
        Withdrawn => "withdrawn",
    }
);

#[derive(Clone, Debug, PartialEq)]
pub struct Approval {
    pub id: ApprovalId,
    pub user_id: UserId,
    /// The run that waits; `None` for a project's gate, which no run waits on.
    pub run_id: Option<RunId>,
    /// The run's agent, or the agent that wrote a gate's document (none
    /// when a person proposed it).
    pub agent_id: Option<AgentId>,
    /// The model-call step whose tool call waits (`None` for a gate).
    pub step_sequence: Option<u32>,
    /// The provider's id of the tool call; for a gate, the revision it
    /// decides (`requirements-v2`).
    pub call_id: String,
    /// The project whose phase gate this is (`tool` is
    /// [`crate::project::gate::GATE_TOOL`]).
    pub project_id: Option<ProjectId>,
    pub tool: String,
    pub arguments: Value,
    pub status: ApprovalStatus,
    /// Why it was rejected (or approved), in the person's words.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// An approval to request.
#[derive(Clone, Debug, PartialEq)]
pub struct NewApproval {
    pub step_sequence: u32,
    pub call_id: String,
    pub tool: String,
    pub arguments: Value,
}

/// A person's decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub approve: bool,
    pub reason: Option<String>,
}

impl Decision {
    pub fn validate(&self) -> Result<(), ValidationError> {
        match &self.reason {
            Some(reason) => check_optional_text("reason", reason, 2000),
            None => Ok(()),
        }
    }
}
