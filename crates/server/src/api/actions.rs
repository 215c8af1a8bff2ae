//! Actions on the wire: what `/api/v1/actions` accepts and returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::{ActionId, ActionPatch, AgentId, JobId, NewAction};
use utoipa::{IntoParams, ToSchema};

use super::enums::{ActionMode, ActionPriority, ActionState};
use super::fields;

/// A concrete deliverable an agent works on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionResponse {
    #[schema(value_type = i64)]
    pub id: ActionId,
    #[schema(value_type = i64)]
    pub agent_id: AgentId,
    pub title: String,
    pub description: String,
    pub priority: ActionPriority,
    pub mode: ActionMode,
    /// When a scheduled action should run; null means as soon as scheduled.
    pub scheduled_for: Option<DateTime<Utc>>,
    pub state: ActionState,
    /// Why the action is in its state (the reason given with the last transition).
    pub state_reason: Option<String>,
    /// The job executing the action, once there is one.
    #[schema(value_type = Option<i64>)]
    pub job_id: Option<JobId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<steward_domain::Action> for ActionResponse {
    fn from(action: steward_domain::Action) -> Self {
        ActionResponse {
            id: action.id,
            agent_id: action.agent_id,
            title: action.title,
            description: action.description,
            priority: action.priority.into(),
            mode: action.mode.into(),
            scheduled_for: action.scheduled_for,
            state: action.state.into(),
            state_reason: action.state_reason,
            job_id: action.job_id,
            created_at: action.created_at,
            updated_at: action.updated_at,
        }
    }
}

/// A new action; it starts as a `draft`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActionRequest {
    /// An agent that exists and is not archived.
    #[schema(value_type = i64)]
    pub agent_id: AgentId,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Default `medium`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<ActionPriority>,
    /// Default `interactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ActionMode>,
    /// RFC 3339.
    #[serde(default, deserialize_with = "fields::optional_time", skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<DateTime<Utc>>,
}

impl From<CreateActionRequest> for NewAction {
    fn from(request: CreateActionRequest) -> Self {
        NewAction {
            agent_id: request.agent_id,
            title: request.title,
            description: request.description,
            priority: request.priority.unwrap_or(ActionPriority::Medium).into(),
            mode: request.mode.unwrap_or(ActionMode::Interactive).into(),
            scheduled_for: request.scheduled_for,
        }
    }
}

/// A partial update of an action's content (its state changes through
/// `POST /actions/{id}/transition`); `scheduled_for` can be cleared with `null`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActionRequest {
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ActionPriority)]
    pub priority: Option<ActionPriority>,
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ActionMode)]
    pub mode: Option<ActionMode>,
    #[serde(default, deserialize_with = "fields::nullable_time", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub scheduled_for: Option<Option<DateTime<Utc>>>,
}

impl From<UpdateActionRequest> for ActionPatch {
    fn from(request: UpdateActionRequest) -> Self {
        ActionPatch {
            title: request.title,
            description: request.description,
            priority: request.priority.map(Into::into),
            mode: request.mode.map(Into::into),
            scheduled_for: request.scheduled_for,
        }
    }
}

/// Moves an action to another state of its lifecycle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionActionRequest {
    pub to: ActionState,
    /// Why (recorded as the action's `state_reason`), e.g. why it was dismissed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionListResponse {
    pub actions: Vec<ActionResponse>,
}

/// Filters of `GET /actions`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionListQuery {
    /// Only the actions of this agent.
    #[param(value_type = Option<i64>)]
    pub agent_id: Option<AgentId>,
    /// Only actions in these states: repeat the parameter or separate with commas.
    #[param(value_type = Option<Vec<ActionState>>, style = Form, explode)]
    pub state: Vec<ActionState>,
}
