//! The setup chat (J2's first step): a few turns that draw out a goal,
//! success criteria and a timeline, then the confirmation that creates the
//! agent; the conversation stays with the agent.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use steward_domain::{AgentId, ConversationId, ConversationKind, NewChatMessage};
use steward_store::StoreError;

use super::USER;
use super::chats::{chat_error, history};
use crate::AppState;
use crate::api::{
    AgentResponse, ConfirmSetupRequest, ErrorCode, ErrorResponse, MessageListQuery, MessageListResponse,
    SetupChatRequest, SetupChatResponse,
};
use crate::error::ApiError;
use crate::extract::{ApiJson, IdPath};

/// Checks a person's message before anything is stored.
pub(crate) fn check_message(text: &str) -> Result<(), ApiError> {
    NewChatMessage::from_user(text).validate().map_err(ApiError::from)
}

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
    ApiJson(request): ApiJson<SetupChatRequest>,
) -> Result<Json<SetupChatResponse>, ApiError> {
    let runtime = state.agent_runtime()?.clone();
    check_message(&request.message)?;
    if let Some(id) = request.conversation_id {
        open_setup_chat(&state, id).await?;
    }
    // The turn runs in a task of its own, so a client that gives up does
    // not stop the reply from being stored.
    let turn = tokio::spawn(async move { runtime.setup_chat(USER, request.conversation_id, request.message).await })
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

/// The setup chat `id` names, if it can take another turn.
async fn open_setup_chat(state: &AppState, id: ConversationId) -> Result<(), ApiError> {
    if id.get() <= 0 {
        return Err(ApiError::invalid_field("conversation_id", "must be a positive integer"));
    }
    let conversation = match state.store.get_conversation(USER, id).await {
        Err(StoreError::NotFound { .. }) => {
            return Err(ApiError::invalid_field("conversation_id", format!("there is no setup chat {id}")));
        }
        other => other?,
    };
    if conversation.kind != ConversationKind::Setup {
        return Err(ApiError::invalid_field(
            "conversation_id",
            format!("conversation {id} is an {} conversation, not a setup chat", conversation.kind),
        ));
    }
    if let Some(agent) = conversation.agent_id {
        return Err(ApiError::new(
            ErrorCode::AlreadyExists,
            format!("setup chat {id} already created agent {agent}; start a new setup chat for another agent"),
        )
        .with_field("conversation_id"));
    }
    Ok(())
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
    IdPath(id): IdPath<ConversationId>,
    ApiJson(request): ApiJson<ConfirmSetupRequest>,
) -> Result<(StatusCode, [(axum::http::HeaderName, String); 1], Json<AgentResponse>), ApiError> {
    let runtime = state.agent_runtime()?;
    super::agents::check_equipment(&state, request.model.as_deref(), None)?;
    let conversation = state.store.get_conversation(USER, id).await?;
    if conversation.kind != ConversationKind::Setup {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("there is no setup chat {id}; conversation {id} is an {} conversation", conversation.kind),
        ));
    }
    let agent = runtime
        .confirm_setup(USER, id, request.into())
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
    IdPath(id): IdPath<AgentId>,
    RawQuery(query): RawQuery,
) -> Result<Json<MessageListResponse>, ApiError> {
    state.store.get_agent(USER, id).await?;
    history(&state, query.as_deref(), ConversationKind::Setup, id, None).await
}
