//! The setup chat (the goal-agent journey's first step): a few turns that
//! draw out a goal, success criteria and a timeline, then the confirmation
//! that creates the agent; the conversation stays with the agent. The
//! runtime checks the conversation; these handlers translate.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use steward_domain::{AgentId, ConversationId, ConversationKind};

use super::chats::{chat_error, history};
use crate::AppState;
use crate::api::{
    AgentResponse, ConfirmSetupRequest, ErrorCode, ErrorResponse, MessageListQuery, MessageListResponse,
    SetupChatRequest, SetupChatResponse,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::{ApiJson, IdPath};

#[utoipa::path(
    post, path = "/api/v1/agents/setup-chat", tag = "chats",
    summary = "Talk with the assistant that sets up a new agent",
    description = "Without `conversation_id` a new setup chat starts. Each reply says whether goal, success \
                   criteria and timeline are clear (`ready`) and what is known so far (`proposal`); confirm \
                   with `POST /agents/setup-chat/{id}/confirm` to create the agent.",
    request_body = SetupChatRequest,
    responses(
        (status = 200, body = SetupChatResponse),
        (status = 409, body = ErrorResponse, description = "`already_exists`: this setup chat already created its agent"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: empty message, unknown conversation"),
        (status = 502, body = ErrorResponse, description = "`model_failed`"),
        (status = 503, body = ErrorResponse, description = "`no_agent_runtime` or `model_not_configured`"),
    )
)]
pub async fn setup_chat(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<SetupChatRequest>,
) -> Result<Json<SetupChatResponse>, ApiError> {
    let runtime = state.agent_runtime()?.clone();
    // The turn runs in a task of its own, so a client that gives up does
    // not stop the reply from being stored.
    let (user, actor) = (caller.user, steward_store::actor::current());
    let reply = async move { runtime.setup_chat(user, request.conversation_id, request.message).await };
    let turn = tokio::spawn(steward_store::actor::acting_as(actor, reply))
        .await
        .map_err(|error| ApiError::internal(format!("the setup chat failed: {error}")))?
        .map_err(|error| chat_error(error, ErrorCode::AlreadyExists))?;
    Ok(Json(SetupChatResponse {
        conversation_id: turn.conversation.id,
        message: turn.message.into(),
        ready: turn.ready,
        proposal: turn.proposal.map(Into::into),
    }))
}

#[utoipa::path(
    post, path = "/api/v1/agents/setup-chat/{id}/confirm", tag = "chats",
    summary = "Create the agent a setup chat drew out",
    description = "Fields given replace what the chat proposed; the conversation is kept with the agent \
                   (`GET /agents/{id}/setup-chat`).",
    params(("id" = i64, Path, description = "The setup chat's `conversation_id`")),
    request_body = ConfirmSetupRequest,
    responses(
        (status = 201, body = AgentResponse, description = "Created; `Location` names it"),
        (status = 404, body = ErrorResponse, description = "No such setup chat"),
        (status = 409, body = ErrorResponse, description = "`already_exists`: the chat already created its agent, or the name is taken"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: e.g. no name yet"),
        (status = 503, body = ErrorResponse, description = "`no_agent_runtime`"),
    )
)]
pub async fn confirm_setup(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ConversationId>,
    ApiJson(request): ApiJson<ConfirmSetupRequest>,
) -> Result<(StatusCode, [(axum::http::HeaderName, String); 1], Json<AgentResponse>), ApiError> {
    let runtime = state.agent_runtime()?;
    super::agents::check_equipment(&state, request.model.as_deref(), None)?;
    let agent = runtime
        .confirm_setup(caller.user, id, request.into())
        .await
        .map_err(|error| chat_error(error, ErrorCode::AlreadyExists))?;
    let location = format!("/api/v1/agents/{}", agent.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(agent.into())))
}

#[utoipa::path(
    get, path = "/api/v1/agents/{id}/setup-chat", tag = "chats",
    summary = "The setup chat that created an agent",
    description = "Empty for an agent created without one.",
    params(("id" = i64, Path, description = "The agent's id"), MessageListQuery),
    responses(
        (status = 200, body = MessageListResponse),
        (status = 400, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    )
)]
pub async fn agent_setup_chat(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
    RawQuery(query): RawQuery,
) -> Result<Json<MessageListResponse>, ApiError> {
    state.store.get_agent(caller.user, id).await?;
    history(&state, caller.user, query.as_deref(), ConversationKind::Setup, id, None).await
}
