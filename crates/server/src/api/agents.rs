//! Agents on the wire: what `/api/v1/agents` accepts and returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use steward_domain::{AgentId, AgentPatch, Budget, NewAgent, RunLimits};
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
    /// The tools the agent may use; null means the default set.
    pub tools: Option<Vec<String>>,
    pub limits: LimitsBody,
    pub budget: BudgetBody,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether it works now (`active`, `idle`, `stuck`, `failed`), derived
    /// from its runs and their jobs' leases; in lists and `GET /agents/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<LivenessBody>,
}

/// An agent's liveness and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LivenessBody {
    /// `active` (a run works under a live lease), `idle`, `stuck` (a running
    /// run's lease expired or it made no progress for 10 minutes) or
    /// `failed` (its latest run failed and none works).
    pub state: String,
    pub reason: String,
}

/// Limits of a run; a limit left out (or null) comes from the next level —
/// run, then agent, then the server's defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    #[serde(default)]
    pub max_steps: Option<u32>,
    /// Input plus output tokens over the run's model calls.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub max_cost_usd: Option<f64>,
    #[serde(default)]
    pub max_wall_secs: Option<u64>,
}

impl From<RunLimits> for LimitsBody {
    fn from(limits: RunLimits) -> Self {
        LimitsBody {
            max_steps: limits.max_steps,
            max_tokens: limits.max_tokens,
            max_cost_usd: limits.max_cost_usd,
            max_wall_secs: limits.max_wall_time.map(|wall| wall.as_secs()),
        }
    }
}

impl From<LimitsBody> for RunLimits {
    fn from(body: LimitsBody) -> Self {
        RunLimits {
            max_steps: body.max_steps,
            max_tokens: body.max_tokens,
            max_cost_usd: body.max_cost_usd,
            max_wall_time: body.max_wall_secs.map(Duration::from_secs),
        }
    }
}

/// What an agent may spend on model calls, in US dollars; null is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetBody {
    /// Per UTC day.
    #[serde(default)]
    pub daily_usd: Option<f64>,
    /// Over the agent's whole life.
    #[serde(default)]
    pub total_usd: Option<f64>,
}

impl From<Budget> for BudgetBody {
    fn from(budget: Budget) -> Self {
        BudgetBody { daily_usd: budget.daily_usd, total_usd: budget.total_usd }
    }
}

impl From<BudgetBody> for Budget {
    fn from(body: BudgetBody) -> Self {
        Budget { daily_usd: body.daily_usd, total_usd: body.total_usd }
    }
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
            tools: agent.tools,
            limits: agent.limits.into(),
            budget: agent.budget.into(),
            created_at: agent.created_at,
            updated_at: agent.updated_at,
            liveness: None,
        }
    }
}

/// A new agent; it starts `active`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    /// Unique among the agents that are not archived, without regard to
    /// case; 1–80 characters.
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
    /// Tool names the agent may use; left out means the default set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetBody>,
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
            tools: request.tools,
            limits: request.limits.map(Into::into).unwrap_or_default(),
            budget: request.budget.map(Into::into).unwrap_or_default(),
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
    /// Replaces the tool allowlist; `null` goes back to the default set.
    #[serde(default, deserialize_with = "fields::nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub tools: Option<Option<Vec<String>>>,
    /// Replaces all the agent's limits (a limit left out is cleared).
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = LimitsBody)]
    pub limits: Option<LimitsBody>,
    /// Replaces the budget (a value left out is no limit).
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = BudgetBody)]
    pub budget: Option<BudgetBody>,
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
            tools: request.tools,
            limits: request.limits.map(Into::into),
            budget: request.budget.map(Into::into),
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
    /// Only the live (not archived) agent with this name, matched without
    /// regard to case; names are unique among live agents in the same way,
    /// so the list has at most one entry.
    pub name: Option<String>,
}

/// What an agent has spent and done.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentMetricsResponse {
    /// US dollars over the agent's life, of model calls whose price is known.
    pub cost_usd_total: f64,
    /// Since midnight UTC.
    pub cost_usd_today: f64,
    /// Model calls whose price is unknown, so not in the costs (which are then too low).
    pub unknown_cost_calls: u64,
    pub unknown_cost_calls_today: u64,
    pub runs: u64,
    /// Actions of the agent, in any state.
    pub actions_total: u64,
    pub actions_completed: u64,
}

impl From<steward_store::AgentMetrics> for AgentMetricsResponse {
    fn from(metrics: steward_store::AgentMetrics) -> Self {
        AgentMetricsResponse {
            cost_usd_total: metrics.spend_total.cost_usd,
            cost_usd_today: metrics.spend_today.cost_usd,
            unknown_cost_calls: metrics.spend_total.unknown_cost_calls,
            unknown_cost_calls_today: metrics.spend_today.unknown_cost_calls,
            runs: metrics.runs,
            actions_total: metrics.actions_total,
            actions_completed: metrics.actions_completed,
        }
    }
}
