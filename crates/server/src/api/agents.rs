//! Agents on the wire: what `/api/v1/agents` accepts and returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::{AgentId, AgentPatch, NewAgent};
use utoipa::{IntoParams, ToSchema};

use super::enums::AgentStatus;
use super::fields;

/// An agent: a goal, how success is judged, a timeline, and how it works.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentResponse {
    #[schema(value_type = i64)]
    pub id: AgentId,
    pub name: String,
    /// The North-Star goal.
    pub goal: String,
    pub success_criteria: Vec<String>,
    /// When the goal should be reached, in the user's words.
    pub timeline: Option<String>,
    pub status: AgentStatus,
    /// `provider/model`; null uses the configured default.
    pub model: Option<String>,
    pub instructions: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<steward_domain::Agent> for AgentResponse {
    fn from(agent: steward_domain::Agent) -> Self {
        AgentResponse {
            id: agent.id,
            name: agent.name,
            goal: agent.goal,
            success_criteria: agent.success_criteria,
            timeline: agent.timeline,
            status: agent.status.into(),
            model: agent.model,
            instructions: agent.instructions,
            created_at: agent.created_at,
            updated_at: agent.updated_at,
        }
    }
}

/// A new agent; it starts `active`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    /// Unique among the agents that are not archived; 1–80 characters.
    pub name: String,
    /// The North-Star goal.
    pub goal: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub success_criteria: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<String>,
    /// `provider/model`, e.g. `anthropic/claude-sonnet-4-5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub instructions: String,
}

impl From<CreateAgentRequest> for NewAgent {
    fn from(request: CreateAgentRequest) -> Self {
        NewAgent {
            name: request.name,
            goal: request.goal,
            success_criteria: request.success_criteria,
            timeline: request.timeline,
            model: request.model,
            instructions: request.instructions,
        }
    }
}

/// A partial update: fields left out stay as they are; `timeline` and
/// `model` can be cleared with `null`. Archive with `POST /agents/{id}/archive`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub goal: Option<String>,
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>)]
    pub success_criteria: Option<Vec<String>>,
    #[serde(default, deserialize_with = "fields::nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub timeline: Option<Option<String>>,
    /// `active` or `paused`.
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = AgentStatus)]
    pub status: Option<AgentStatus>,
    #[serde(default, deserialize_with = "fields::nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub instructions: Option<String>,
}

impl From<UpdateAgentRequest> for AgentPatch {
    fn from(request: UpdateAgentRequest) -> Self {
        AgentPatch {
            name: request.name,
            goal: request.goal,
            success_criteria: request.success_criteria,
            timeline: request.timeline,
            status: request.status.map(Into::into),
            model: request.model,
            instructions: request.instructions,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentListResponse {
    pub agents: Vec<AgentResponse>,
}

/// Filters of `GET /agents`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgentListQuery {
    /// Only agents in this status (default: active and paused).
    pub status: Option<AgentStatus>,
    /// Only the live (not archived) agent with exactly this name; names are
    /// unique among live agents, so the list has at most one entry.
    pub name: Option<String>,
}
