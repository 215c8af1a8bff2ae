//! `actions.list`, `actions.create`, `actions.update`: an agent reads its
//! actions and files follow-up work as drafts, which its user then refines,
//! defines and schedules.

use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::{ActionId, ActionMode, ActionPatch, ActionPriority, ActionState, NewAction};
use steward_store::ActionFilter;

use super::{Tool, ToolContext, ToolError, ToolOutput, parse_field, parse_input, refusal, schema_of};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListArguments {
    /// Only actions in this state (draft, defined, scheduled, in_progress, completed, failed, dismissed).
    #[serde(default)]
    state: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CreateArguments {
    title: String,
    /// What the deliverable is and how to know it is done.
    description: String,
    /// low, medium (default), high or urgent.
    #[serde(default)]
    priority: Option<String>,
    /// interactive (needs the user) or scheduled (default: the agent can do it alone).
    #[serde(default)]
    mode: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UpdateArguments {
    /// The action's id.
    id: i64,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    priority: Option<String>,
}

fn summary(action: &steward_domain::Action) -> Value {
    json!({ "id": action.id, "state": action.state.as_str(), "title": action.title,
            "priority": action.priority.as_str(), "mode": action.mode.as_str() })
}

/// Lists the agent's actions.
#[derive(Debug, Default)]
pub struct ListActions;

#[async_trait]
impl Tool for ListActions {
    fn name(&self) -> &str {
        "actions.list"
    }

    fn description(&self) -> &str {
        "List your actions (deliverables) with their state, optionally only those in one state."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<ListArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: ListArguments = parse_input(input)?;
        let states: Vec<ActionState> = parse_field::<ActionState>(arguments.state)?.into_iter().collect();
        let filter = ActionFilter { agent_id: Some(context.agent_id), states };
        let actions = context.store.list_actions(context.user_id.into(), filter).await.map_err(refusal)?;
        let listed: Vec<Value> = actions.iter().map(summary).collect();
        Ok(ToolOutput::text(json!({ "actions": listed }).to_string()))
    }
}

/// Files a follow-up action as a draft.
#[derive(Debug, Default)]
pub struct CreateAction;

#[async_trait]
impl Tool for CreateAction {
    fn name(&self) -> &str {
        "actions.create"
    }

    fn description(&self) -> &str {
        "File a follow-up action (a deliverable) as a draft for your user to review."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<CreateArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: CreateArguments = parse_input(input)?;
        let action = NewAction {
            agent_id: context.agent_id,
            title: arguments.title,
            description: arguments.description,
            priority: parse_field::<ActionPriority>(arguments.priority)?.unwrap_or(ActionPriority::Medium),
            mode: parse_field::<ActionMode>(arguments.mode)?.unwrap_or(ActionMode::Scheduled),
            scheduled_for: None,
        };
        let created = context.store.create_action(context.user_id, action).await.map_err(refusal)?;
        Ok(ToolOutput::text(json!({ "created": summary(&created) }).to_string()))
    }
}

/// Revises one of the agent's own actions.
#[derive(Debug, Default)]
pub struct UpdateAction;

#[async_trait]
impl Tool for UpdateAction {
    fn name(&self) -> &str {
        "actions.update"
    }

    fn description(&self) -> &str {
        "Change the title, description or priority of one of your actions."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<UpdateArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: UpdateArguments = parse_input(input)?;
        let id = ActionId(arguments.id);
        let action = context.store.get_action(context.user_id, id).await.map_err(refusal)?;
        if action.agent_id != context.agent_id {
            return Err(ToolError::Refused(format!("action {id} belongs to another agent")));
        }
        let patch = ActionPatch {
            title: arguments.title,
            description: arguments.description,
            priority: parse_field::<ActionPriority>(arguments.priority)?,
            ..ActionPatch::default()
        };
        if patch.is_empty() {
            return Err(ToolError::InvalidInput("give at least one of title, description, priority".into()));
        }
        let updated = context.store.update_action(context.user_id, id, patch).await.map_err(refusal)?;
        Ok(ToolOutput::text(json!({ "updated": summary(&updated) }).to_string()))
    }
}
