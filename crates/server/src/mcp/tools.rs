//! The MCP server's tools: their names, argument types (whose JSON Schemas
//! clients see) and what each does, through the same use cases and store
//! reads as the API, answering with the API's JSON. A refusal (no such
//! agent, a move the lifecycle forbids, arguments that do not fit the
//! schema) is a tool result marked as an error whose structured content is
//! the API's error shape, so a client's model can read and correct it.

use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use steward_domain::auth::Principal;
use steward_domain::{ActionId, Agent, AgentId, ApprovalId, UserId};
use steward_runtime::memory::SearchQuery;
use steward_runtime::usecases::{ScheduleAction, StartRun};
use steward_store::{ActionFilter, AgentFilter, ApprovalFilter};

use super::runs;
use crate::AppState;
use crate::api::{
    ActionListResponse, ActionMode, ActionPriority, ActionResponse, ActionState, AgentListResponse, AgentResponse,
    AgentStatus, ApprovalListResponse, ApprovalResponse, ApprovalStatus, ErrorCode, ScheduleActionResponse,
};
use crate::error::ApiError;

/// Every tool the server offers.
pub(super) fn definitions() -> Vec<Tool> {
    let read = |title: &str| ToolAnnotations::with_title(title).read_only(true);
    let change = |title: &str| ToolAnnotations::with_title(title).read_only(false).destructive(false);
    vec![
        tool::<ListAgents>("agents.list", "List your agents (active and paused unless a status is given).")
            .annotate(read("List agents")),
        tool::<StartRunArgs>(
            "runs.start",
            "Give an agent an instruction and wait for its final answer. The agent works with its tools; \
             progress is reported as it goes. If a tool call needs a person's approval, the answer says so \
             and names the approvals (decide them with approvals.decide).",
        )
        .annotate(change("Run an agent").open_world(true)),
        tool::<ChatArgs>("agents.chat", "Send a message to an agent's chat and get its reply.")
            .annotate(change("Chat with an agent").open_world(true)),
        tool::<ListActions>("actions.list", "List actions (deliverables), optionally of one agent or in given states.")
            .annotate(read("List actions")),
        tool::<CreateActionArgs>("actions.create", "Create an action (a deliverable) for an agent, as a draft.")
            .annotate(change("Create an action")),
        tool::<MoveActionArgs>(
            "actions.move",
            "Move an action through its lifecycle: draft → defined → scheduled (starts the run that works on \
             it) → in_progress → completed | failed; dismissed from any open state.",
        )
        .annotate(change("Move an action")),
        tool::<ListApprovals>("approvals.list", "List tool calls waiting for a person's approval (or decided ones).")
            .annotate(read("List approvals")),
        tool::<DecideArgs>(
            "approvals.decide",
            "Approve or reject a tool call waiting for approval; a rejection needs a reason, which the agent is told.",
        )
        .annotate(change("Decide an approval")),
        tool::<SearchMemoryArgs>("memory.search", "Search memory: facts, entities and episodes, best first.")
            .annotate(read("Search memory")),
    ]
}

fn tool<T: JsonSchema + 'static>(name: &'static str, description: &'static str) -> Tool {
    Tool::new(name, description, schema_object::<T>())
}

/// The argument type's JSON Schema as the object MCP wants.
fn schema_object<T: JsonSchema>() -> Arc<JsonObject> {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>();
    match serde_json::to_value(schema) {
        Ok(Value::Object(object)) => Arc::new(object),
        _ => Arc::new(JsonObject::new()),
    }
}

/// Runs one call for `principal`; a refusal is an error result, never a
/// protocol error, except for an unknown tool.
pub(super) async fn call(
    state: &AppState,
    principal: Principal,
    request: CallToolRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResult, ErrorData> {
    let arguments = Value::Object(request.arguments.unwrap_or_default());
    let user = principal.user;
    let outcome = match request.name.as_ref() {
        "agents.list" => with(arguments, |args| list_agents(state, user, args)).await,
        "runs.start" => with(arguments, |args| start_run(state, user, args, context)).await,
        "agents.chat" => with(arguments, |args| chat(state, user, args)).await,
        "actions.list" => with(arguments, |args| list_actions(state, user, args)).await,
        "actions.create" => with(arguments, |args| create_action(state, user, args)).await,
        "actions.move" => with(arguments, |args| move_action(state, user, args)).await,
        "approvals.list" => with(arguments, |args| list_approvals(state, user, args)).await,
        "approvals.decide" => with(arguments, |args| decide(state, user, args)).await,
        "memory.search" => with(arguments, |args| search_memory(state, user, args)).await,
        other => return Err(ErrorData::invalid_params(format!("there is no tool named {other:?}"), None)),
    };
    Ok(outcome.unwrap_or_else(|error| refused(&error)))
}

/// Parses the arguments for `tool` and runs it.
async fn with<T, F, Answer>(arguments: Value, tool: F) -> Result<CallToolResult, ApiError>
where
    T: DeserializeOwned,
    F: FnOnce(T) -> Answer,
    Answer: Future<Output = Result<CallToolResult, ApiError>>,
{
    tool(parse(arguments)?).await
}

/// Arguments that do not fit the tool's type are the caller's to fix: an
/// error result naming the field, as the API names it.
fn parse<T: DeserializeOwned>(arguments: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(arguments).map_err(|error| {
        let field = error.path().to_string();
        let message = error.into_inner().to_string();
        if field == "." {
            ApiError::new(ErrorCode::InvalidField, message)
        } else {
            ApiError::invalid_field(field, message)
        }
    })
}

/// The API's error shape as an error result.
pub(super) fn refused(error: &ApiError) -> CallToolResult {
    let body = serde_json::to_value(error.body()).unwrap_or(Value::Null);
    let mut result = CallToolResult::structured_error(body);
    result.content = vec![ContentBlock::text(error.to_string())];
    result
}

/// A successful result: the API's JSON, as text and as structured content.
fn answer<T: serde::Serialize>(value: T) -> Result<CallToolResult, ApiError> {
    let value = serde_json::to_value(value).map_err(|error| ApiError::internal(error.to_string()))?;
    Ok(CallToolResult::structured(value))
}

/// An agent named by name or by id.
pub(super) async fn find_agent(state: &AppState, user: UserId, agent: &str) -> Result<Agent, ApiError> {
    let found = match agent.trim().parse::<i64>() {
        Ok(id) => state.store.get_agent(user, AgentId(id)).await,
        Err(_) => state.store.find_agent_by_name(user, agent.trim()).await,
    };
    found.map_err(|error| ApiError::from(error).with_field("agent"))
}

fn one_of(values: impl Iterator<Item = &'static str>, description: &str) -> Schema {
    let values: Vec<&str> = values.collect();
    json_schema!({ "type": "string", "enum": values, "description": description })
}

fn agent_status_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(AgentStatus::ALL.iter().map(|value| value.as_str()), "Only agents in this status.")
}

fn action_states_schema(_: &mut SchemaGenerator) -> Schema {
    let state = one_of(ActionState::ALL.iter().map(|value| value.as_str()), "An action state.");
    json_schema!({ "type": "array", "items": state, "description": "Only actions in these states." })
}

fn action_state_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(ActionState::ALL.iter().map(|value| value.as_str()), "The state to move the action to.")
}

fn priority_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(ActionPriority::ALL.iter().map(|value| value.as_str()), "Default medium.")
}

fn mode_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(ActionMode::ALL.iter().map(|value| value.as_str()), "Default interactive.")
}

fn approval_status_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(ApprovalStatus::ALL.iter().map(|value| value.as_str()), "Default pending.")
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListAgents {
    #[serde(default)]
    #[schemars(schema_with = "agent_status_schema")]
    status: Option<AgentStatus>,
}

async fn list_agents(state: &AppState, user: UserId, args: ListAgents) -> Result<CallToolResult, ApiError> {
    let agents = state.store.list_agents(user.into(), AgentFilter { status: args.status.map(Into::into) }).await?;
    answer(AgentListResponse { agents: agents.into_iter().map(AgentResponse::from).collect() })
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StartRunArgs {
    /// The agent's name (or id).
    pub agent: String,
    /// What the agent should do.
    pub instruction: String,
}

async fn start_run(
    state: &AppState,
    user: UserId,
    args: StartRunArgs,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResult, ApiError> {
    let agent = find_agent(state, user, &args.agent).await?;
    let request = StartRun { instruction: args.instruction, ..StartRun::default() };
    let run = state.use_cases().start_run(user, agent.id, request).await?;
    runs::follow(state, user, run, &context).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChatArgs {
    /// The agent's name (or id).
    agent: String,
    /// Your message.
    message: String,
}

async fn chat(state: &AppState, user: UserId, args: ChatArgs) -> Result<CallToolResult, ApiError> {
    let agent = find_agent(state, user, &args.agent).await?;
    let reply = crate::routes::chats::reply_whole(state, user, agent.id, args.message).await?;
    let text = reply.message.text.clone();
    let mut result = answer(reply)?;
    if !text.is_empty() {
        result.content = vec![ContentBlock::text(text)];
    }
    Ok(result)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListActions {
    /// Only this agent's actions (name or id).
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "action_states_schema")]
    states: Vec<ActionState>,
}

async fn list_actions(state: &AppState, user: UserId, args: ListActions) -> Result<CallToolResult, ApiError> {
    let agent_id = match &args.agent {
        Some(agent) => Some(find_agent(state, user, agent).await?.id),
        None => None,
    };
    let filter = ActionFilter { agent_id, states: args.states.into_iter().map(Into::into).collect() };
    let actions = state.store.list_actions(user.into(), filter).await?;
    answer(ActionListResponse { actions: actions.into_iter().map(ActionResponse::from).collect() })
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CreateActionArgs {
    /// The agent the action is for (name or id).
    agent: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    #[schemars(schema_with = "priority_schema")]
    priority: Option<ActionPriority>,
    #[serde(default)]
    #[schemars(schema_with = "mode_schema")]
    mode: Option<ActionMode>,
}

async fn create_action(state: &AppState, user: UserId, args: CreateActionArgs) -> Result<CallToolResult, ApiError> {
    let agent = find_agent(state, user, &args.agent).await?;
    let request = crate::api::CreateActionRequest {
        agent_id: agent.id,
        title: args.title,
        description: args.description,
        priority: args.priority,
        mode: args.mode,
        scheduled_for: None,
    };
    let action = state.store.create_action(user, request.into()).await?;
    answer(ActionResponse::from(action))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MoveActionArgs {
    action_id: i64,
    #[schemars(schema_with = "action_state_schema")]
    to: ActionState,
    /// Why (recorded as the action's state reason), e.g. why it was dismissed.
    #[serde(default)]
    reason: Option<String>,
}

async fn move_action(state: &AppState, user: UserId, args: MoveActionArgs) -> Result<CallToolResult, ApiError> {
    let id = ActionId(args.action_id);
    if args.to == ActionState::Scheduled {
        let (action, run, starts_at) = state.use_cases().schedule_action(user, id, ScheduleAction::default()).await?;
        return answer(ScheduleActionResponse { action: action.into(), run: run.into(), starts_at });
    }
    let action = state.use_cases().transition_action(user, id, args.to.into(), args.reason).await?;
    answer(ActionResponse::from(action))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListApprovals {
    #[serde(default)]
    #[schemars(schema_with = "approval_status_schema")]
    status: Option<ApprovalStatus>,
}

async fn list_approvals(state: &AppState, user: UserId, args: ListApprovals) -> Result<CallToolResult, ApiError> {
    let status = args.status.unwrap_or(ApprovalStatus::Pending);
    let filter = ApprovalFilter { run_id: None, statuses: vec![status.into()] };
    let approvals = state.store.list_approvals(user.into(), filter).await?;
    answer(ApprovalListResponse { approvals: approvals.into_iter().map(ApprovalResponse::from).collect() })
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Decision {
    Approve,
    Reject,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DecideArgs {
    approval_id: i64,
    decision: Decision,
    /// Required to reject: the agent is told why.
    #[serde(default)]
    reason: Option<String>,
}

async fn decide(state: &AppState, user: UserId, args: DecideArgs) -> Result<CallToolResult, ApiError> {
    let id = ApprovalId(args.approval_id);
    let approval = match args.decision {
        Decision::Approve => state.use_cases().approve(user, id, args.reason).await?,
        Decision::Reject => state.use_cases().reject(user, id, args.reason.unwrap_or_default()).await?,
    };
    answer(ApprovalResponse::from(approval))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchMemoryArgs {
    /// What to look for.
    query: String,
    /// Only this agent's memory and the user's shared memory (name or id).
    #[serde(default)]
    agent: Option<String>,
    /// At most this many results (1 to 100, default 10).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    limit: Option<usize>,
}

async fn search_memory(state: &AppState, user: UserId, args: SearchMemoryArgs) -> Result<CallToolResult, ApiError> {
    if args.query.trim().is_empty() {
        return Err(ApiError::invalid_field("query", "must not be empty"));
    }
    let mut search = SearchQuery::new(user, args.query);
    if let Some(agent) = &args.agent {
        search.agent = Some(find_agent(state, user, agent).await?.id);
    }
    search.limit = match args.limit {
        None => 10,
        Some(limit @ 1..=100) => limit,
        Some(_) => return Err(ApiError::invalid_field("limit", "must be between 1 and 100")),
    };
    let outcome = state.memory().search(&search).await?;
    answer(crate::api::memory::MemorySearchResponse::from(outcome))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_tool_has_an_object_schema_and_a_dotted_name() {
        for tool in definitions() {
            assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
            assert!(tool.name.contains('.'), "{}", tool.name);
        }
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let error = parse::<MoveActionArgs>(json!({"action_id": 1, "to": "nowhere"})).err().unwrap();
        assert_eq!(error.field.as_deref(), Some("to"));
        let error = parse::<StartRunArgs>(json!({"agent": "a"})).err().unwrap();
        assert_eq!(error.code, ErrorCode::InvalidField);
        assert!(error.message.contains("instruction"), "{}", error.message);
    }
}
