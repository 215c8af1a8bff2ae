//! `/api/v1/agents`: create, list, get, update and archive agents, and
//! read their metrics; lists and reads carry each agent's liveness.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use steward_domain::oversight::{STUCK_AFTER, liveness};
use steward_domain::{Agent, AgentId, AgentPatch};
use steward_runtime::agent::EquipmentProblemKind;
use steward_store::AgentFilter;

use crate::AppState;
use crate::api::mcp::{McpServerBody, McpServerListResponse};
use crate::api::{
    AgentListQuery, AgentListResponse, AgentMetricsResponse, AgentResponse, AgentStatus, CreateAgentRequest, ErrorCode,
    ErrorResponse, LivenessBody, UpdateAgentRequest,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::enum_value;
use crate::extract::{ApiJson, IdPath, QueryParams};

#[utoipa::path(
    get, path = "/api/v1/agents", tag = "agents",
    summary = "List agents",
    description = "The caller\'s own; an administrator\'s (a token with the `admin` scope) has every user\'s.",
    params(AgentListQuery),
    responses(
        (status = 200, body = AgentListResponse),
        (status = 400, body = ErrorResponse, description = "A bad query parameter"),
    )
)]
pub async fn list_agents(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<AgentListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["status", "name"])?;
    let status = params.single("status", enum_value::<AgentStatus>)?;
    if let Some(name) = params.single("name", |name| Ok(name.to_string()))? {
        if status.is_some() {
            return Err(ApiError::invalid_parameter("name", "give either name or status, not both"));
        }
        let agents = match state.store.find_agent_by_name(caller.user, &name).await {
            Ok(agent) => vec![agent],
            Err(steward_store::StoreError::NotFound { .. }) => Vec::new(),
            Err(error) => return Err(error.into()),
        };
        return Ok(Json(AgentListResponse { agents: with_liveness(&state, agents).await? }));
    }
    let agents = state.store.list_agents(caller.owners(), AgentFilter { status: status.map(Into::into) }).await?;
    Ok(Json(AgentListResponse { agents: with_liveness(&state, agents).await? }))
}

#[utoipa::path(
    post, path = "/api/v1/agents", tag = "agents",
    summary = "Create an agent",
    request_body = CreateAgentRequest,
    responses(
        (status = 201, body = AgentResponse, description = "Created; `Location` names it"),
        (status = 409, body = ErrorResponse, description = "`already_exists`: the name is taken"),
        (status = 422, body = ErrorResponse, description = "`invalid_field` (an unknown tool or model, or a tool this server cannot run, too), or \
            `model_unavailable`: the model's provider has no API key here"),
    )
)]
pub async fn create_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateAgentRequest>,
) -> Result<(StatusCode, [(axum::http::HeaderName, String); 1], Json<AgentResponse>), ApiError> {
    check_equipment(&state, request.model.as_deref(), request.tools.as_deref())?;
    let agent = state.store.create_agent(caller.user, request.into()).await?;
    let location = format!("/api/v1/agents/{}", agent.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(agent.into())))
}

#[utoipa::path(
    get, path = "/api/v1/agents/{id}", tag = "agents",
    summary = "Get an agent",
    params(("id" = i64, Path, description = "The agent's id")),
    responses((status = 200, body = AgentResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_agent(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
) -> Result<Json<AgentResponse>, ApiError> {
    let agent = state.store.get_agent(caller.user, id).await?;
    let mut agents = with_liveness(&state, vec![agent]).await?;
    Ok(Json(agents.remove(0)))
}

/// The agents as the API shows them, each with its liveness (read per
/// owner: an administrator's list has several).
async fn with_liveness(state: &AppState, agents: Vec<Agent>) -> Result<Vec<AgentResponse>, ApiError> {
    let now = state.clock.now();
    let mut facts = BTreeMap::new();
    for agent in &agents {
        if let std::collections::btree_map::Entry::Vacant(entry) = facts.entry(agent.user_id) {
            entry.insert(state.store.liveness_facts(agent.user_id).await?);
        }
    }
    Ok(agents
        .into_iter()
        .map(|agent| {
            let of_agent = facts.get(&agent.user_id).and_then(|by_agent| by_agent.get(&agent.id)).cloned();
            let (state, reason) = liveness(&of_agent.unwrap_or_default(), now, STUCK_AFTER);
            AgentResponse {
                liveness: Some(LivenessBody { state: state.as_str().to_string(), reason }),
                ..AgentResponse::from(agent)
            }
        })
        .collect())
}

#[utoipa::path(
    patch, path = "/api/v1/agents/{id}", tag = "agents",
    summary = "Update an agent",
    description = "Fields left out stay as they are; `timeline` and `model` are cleared with `null`.",
    params(("id" = i64, Path, description = "The agent's id")),
    request_body = UpdateAgentRequest,
    responses(
        (status = 200, body = AgentResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`archived` or `already_exists`"),
        (status = 422, body = ErrorResponse, description = "`invalid_field` (an unknown tool or model, or a tool this server cannot run, too), or \
            `model_unavailable`: the model's provider has no API key here"),
    )
)]
pub async fn update_agent(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
    ApiJson(request): ApiJson<UpdateAgentRequest>,
) -> Result<Json<AgentResponse>, ApiError> {
    let patch = AgentPatch::from(request);
    if patch.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "the update changes nothing; give at least one of name, goal, success_criteria, timeline, status, \
             model, instructions",
        ));
    }
    check_equipment(
        &state,
        patch.model.as_ref().and_then(Option::as_deref),
        patch.tools.as_ref().and_then(Option::as_deref),
    )?;
    Ok(Json(state.store.update_agent(caller.user, id, patch).await?.into()))
}

/// Refuses unknown tools and models before anything is stored; a server
/// without an agent runtime (tests of the plain API) has nothing to check
/// against.
pub(crate) fn check_equipment(state: &AppState, model: Option<&str>, tools: Option<&[String]>) -> Result<(), ApiError> {
    let Some(runtime) = &state.agents else {
        return Ok(());
    };
    runtime.check_equipment(model, tools).map_err(|problem| {
        let code = match problem.kind {
            EquipmentProblemKind::Unknown | EquipmentProblemKind::Unavailable => ErrorCode::InvalidField,
            EquipmentProblemKind::NoKey => ErrorCode::ModelUnavailable,
        };
        ApiError::new(code, problem.message).with_field(problem.field)
    })
}

#[utoipa::path(
    post, path = "/api/v1/agents/{id}/archive", tag = "agents",
    summary = "Archive an agent",
    description = "Final: an archived agent no longer changes or takes new actions. Archiving twice is not an error.",
    params(("id" = i64, Path, description = "The agent's id")),
    responses((status = 200, body = AgentResponse), (status = 404, body = ErrorResponse))
)]
pub async fn archive_agent(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
) -> Result<Json<AgentResponse>, ApiError> {
    Ok(Json(state.store.archive_agent(caller.user, id).await?.into()))
}

#[utoipa::path(
    get, path = "/api/v1/agents/{id}/metrics", tag = "agents",
    summary = "What an agent has spent and done",
    description = "Costs count the model calls of its runs whose price is known; calls without a known price \
                   are counted apart, so a cost is never understated as $0.",
    params(("id" = i64, Path, description = "The agent's id")),
    responses((status = 200, body = AgentMetricsResponse), (status = 404, body = ErrorResponse))
)]
pub async fn agent_metrics(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
) -> Result<Json<AgentMetricsResponse>, ApiError> {
    state.store.get_agent(caller.user, id).await?;
    Ok(Json(state.store.agent_metrics(caller.user, id).await?.into()))
}

#[utoipa::path(
    get, path = "/api/v1/agents/{id}/mcp", tag = "agents",
    summary = "The MCP servers an agent gets, their state and tools",
    description = "Servers come from `[mcp.servers]` (those whose `agents` is empty or names the agent). \
                   Listing their tools starts servers not started yet; one that cannot start is shown \
                   `failed` with the reason.",
    params(("id" = i64, Path, description = "The agent's id")),
    responses((status = 200, body = McpServerListResponse), (status = 404, body = ErrorResponse))
)]
pub async fn agent_mcp_servers(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
) -> Result<Json<McpServerListResponse>, ApiError> {
    let agent = state.store.get_agent(caller.user, id).await?;
    let reports = match state.agents.as_ref().and_then(|runtime| runtime.mcp().cloned()) {
        Some(servers) => servers.report_for(&agent).await,
        None => Vec::new(),
    };
    Ok(Json(McpServerListResponse { servers: reports.into_iter().map(McpServerBody::from).collect() }))
}
