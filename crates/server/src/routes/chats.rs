//! Chatting with an agent and about a draft action: a reply streamed as
//! Server-Sent Events (`Accept: text/event-stream`) or returned whole as
//! JSON, and the conversations' histories.
//!
//! The reply is produced by a task of its own, which the request only
//! listens to: a client that disconnects mid-reply stops listening, and
//! the reply is still completed and stored.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use steward_domain::{ActionId, AgentId, ChatMessage, ConversationKind, MessageId, NewChatMessage, UserId};
use steward_runtime::agent::{AgentRuntime, ChatError, ChatEvent};

pub(crate) use crate::error::chat_error;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::AppState;
use crate::api::{
    ActionResponse, ChatDeltaEvent, ChatDoneEvent, ChatDraftEvent, ChatMessageRequest, ChatReplyResponse,
    ChatStreamEvent, ErrorCode, ErrorResponse, MessageListQuery, MessageListResponse,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::{page_size, positive_integer};
use crate::extract::{ApiJson, IdPath, QueryParams};

/// Messages a history page holds unless `limit` says otherwise.
const DEFAULT_HISTORY: usize = 100;

/// Events a reply may get ahead of a slow client before the reply waits.
const STREAM_BUFFER: usize = 256;

#[utoipa::path(
    post, path = "/api/v1/agents/{id}/chat", tag = "chats",
    summary = "Send a message to an agent",
    description = "The agent may propose one concrete next action as a draft. With `Accept: text/event-stream` \
                   the reply streams as Server-Sent Events: `delta` (text as written), `draft_proposed`, \
                   `draft_updated`, then `done` with the stored reply — or `error` (the error shape) instead of \
                   `done`. Otherwise the whole reply is returned as JSON once complete. A client that \
                   disconnects does not lose the reply: it is stored and shows in the history.",
    params(("id" = i64, Path, description = "The agent's id")),
    request_body = ChatMessageRequest,
    responses(
        (status = 200, description = "The reply", content(
            (ChatReplyResponse = "application/json"),
            (ChatStreamEvent = "text/event-stream"),
        )),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`archived`: the agent is archived; `budget_exceeded`: its budget is spent"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: an empty message"),
        (status = 502, body = ErrorResponse, description = "`model_failed` (JSON replies)"),
        (status = 503, body = ErrorResponse, description = "`no_agent_runtime`, or `model_not_configured` (JSON replies)"),
    )
)]
pub async fn agent_chat(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<ChatMessageRequest>,
) -> Result<Response, ApiError> {
    let runtime = state.agent_runtime()?.clone();
    check_message(&request.message)?;
    let reply = start(runtime, caller.user, Subject::Agent(id), request.message);
    respond(&state, &headers, reply).await
}

#[utoipa::path(
    get, path = "/api/v1/agents/{id}/chat", tag = "chats",
    summary = "The chat with an agent",
    params(("id" = i64, Path, description = "The agent's id"), MessageListQuery),
    responses(
        (status = 200, body = MessageListResponse),
        (status = 400, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    )
)]
pub async fn agent_chat_history(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
    RawQuery(query): RawQuery,
) -> Result<Json<MessageListResponse>, ApiError> {
    state.store.get_agent(caller.user, id).await?;
    history(&state, caller.user, query.as_deref(), ConversationKind::Agent, id, None).await
}

#[utoipa::path(
    post, path = "/api/v1/actions/{id}/chat", tag = "chats",
    summary = "Refine an action in its thread",
    description = "The agent revises a draft (or defined) action when asked: `draft_updated` carries the \
                   action as changed. Streaming and JSON replies as for `POST /agents/{id}/chat`.",
    params(("id" = i64, Path, description = "The action's id")),
    request_body = ChatMessageRequest,
    responses(
        (status = 200, description = "The reply", content(
            (ChatReplyResponse = "application/json"),
            (ChatStreamEvent = "text/event-stream"),
        )),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`archived`: the action's agent is archived; `budget_exceeded`: its budget is spent"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: an empty message"),
        (status = 502, body = ErrorResponse, description = "`model_failed` (JSON replies)"),
        (status = 503, body = ErrorResponse, description = "`no_agent_runtime`, or `model_not_configured` (JSON replies)"),
    )
)]
pub async fn action_chat(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ActionId>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<ChatMessageRequest>,
) -> Result<Response, ApiError> {
    let runtime = state.agent_runtime()?.clone();
    check_message(&request.message)?;
    let reply = start(runtime, caller.user, Subject::Action(id), request.message);
    respond(&state, &headers, reply).await
}

#[utoipa::path(
    get, path = "/api/v1/actions/{id}/chat", tag = "chats",
    summary = "An action's refinement thread",
    params(("id" = i64, Path, description = "The action's id"), MessageListQuery),
    responses(
        (status = 200, body = MessageListResponse),
        (status = 400, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    )
)]
pub async fn action_chat_history(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ActionId>,
    RawQuery(query): RawQuery,
) -> Result<Json<MessageListResponse>, ApiError> {
    let action = state.store.get_action(caller.user, id).await?;
    history(&state, caller.user, query.as_deref(), ConversationKind::Action, action.agent_id, Some(action.id)).await
}

/// A page of the conversation of `kind` about `agent` (and `action`);
/// empty when there is none yet. Looking never creates one.
pub(crate) async fn history(
    state: &AppState,
    user: UserId,
    query: Option<&str>,
    kind: ConversationKind,
    agent: AgentId,
    action: Option<ActionId>,
) -> Result<Json<MessageListResponse>, ApiError> {
    let params = QueryParams::parse(query, &["limit", "after"])?;
    let limit = params.single("limit", page_size(steward_store::conversations::MAX_PAGE))?.unwrap_or(DEFAULT_HISTORY);
    let after = params.single("after", positive_integer)?.map(MessageId);
    let Some(conversation) = state.store.find_conversation(user, kind, agent, action).await? else {
        return Ok(Json(MessageListResponse { messages: Vec::new() }));
    };
    let messages = state.store.list_messages(user, conversation.id, after, limit).await?;
    Ok(Json(MessageListResponse { messages: messages.into_iter().map(Into::into).collect() }))
}

/// What a message is sent to.
#[derive(Clone, Copy, Debug)]
enum Subject {
    Agent(AgentId),
    Action(ActionId),
}

/// A reply being produced: its events, and the task producing it.
struct Reply {
    events: mpsc::Receiver<ChatEvent>,
    task: Option<JoinHandle<Result<ChatMessage, ChatError>>>,
}

/// Starts the reply in a task of its own, which runs to the end (and stores
/// the reply) whether or not anyone still listens.
fn start(runtime: Arc<AgentRuntime>, user: UserId, subject: Subject, text: String) -> Reply {
    let (sender, events) = mpsc::channel(STREAM_BUFFER);
    // The task records its changes as made by the request's actor.
    let actor = steward_store::actor::current();
    let task = tokio::spawn(steward_store::actor::acting_as(actor, async move {
        match subject {
            Subject::Agent(agent) => runtime.chat(user, agent, text, sender).await,
            Subject::Action(action) => runtime.chat_about_action(user, action, text, sender).await,
        }
    }));
    Reply { events, task: Some(task) }
}

impl Reply {
    /// The next event, then the task's failure (if it failed) as the last.
    async fn next(&mut self) -> Option<Result<ChatEvent, ApiError>> {
        if let Some(event) = self.events.recv().await {
            return Some(Ok(event));
        }
        // Every sender is gone: the chat returned.
        let task = self.task.take()?;
        match task.await {
            Ok(Ok(_)) => None,
            Ok(Err(error)) => Some(Err(chat_error(error, ErrorCode::Archived))),
            Err(error) => Some(Err(ApiError::internal(format!("the chat failed: {error}")))),
        }
    }
}

fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|media| media.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("text/event-stream"))
}

/// Answers once the runtime has accepted the message: a refusal (no such
/// agent or action, an archived agent, a spent budget, no model) is a plain
/// HTTP error whichever reply was asked for; what fails later, with the
/// message stored, ends a stream with an `error` event.
async fn respond(state: &AppState, headers: &HeaderMap, mut reply: Reply) -> Result<Response, ApiError> {
    match reply.next().await {
        Some(Ok(ChatEvent::Accepted)) => {}
        Some(Err(refusal)) => return Err(refusal),
        _ => return Err(ApiError::internal("the chat ended before it accepted the message")),
    }
    if wants_event_stream(headers) {
        return Ok(Sse::new(event_stream(reply, state.shutdown.clone()))
            .keep_alive(KeepAlive::new().interval(state.keep_alive))
            .into_response());
    }
    Ok(Json(whole(reply).await?).into_response())
}

/// An agent's whole reply to `text`, for callers that are not an HTTP
/// request of their own (the MCP server's `agents.chat`).
pub(crate) async fn reply_whole(
    state: &AppState,
    user: UserId,
    agent: AgentId,
    text: String,
) -> Result<ChatReplyResponse, ApiError> {
    let runtime = state.agent_runtime()?.clone();
    check_message(&text)?;
    let mut reply = start(runtime, user, Subject::Agent(agent), text);
    match reply.next().await {
        Some(Ok(ChatEvent::Accepted)) => whole(reply).await,
        Some(Err(refusal)) => Err(refusal),
        _ => Err(ApiError::internal("the chat ended before it accepted the message")),
    }
}

/// Waits for the complete reply.
async fn whole(mut reply: Reply) -> Result<ChatReplyResponse, ApiError> {
    let mut drafts_proposed = Vec::new();
    let mut drafts_updated = Vec::new();
    let mut done = None;
    while let Some(event) = reply.next().await {
        match event? {
            ChatEvent::Accepted | ChatEvent::Delta { .. } => {}
            ChatEvent::DraftProposed { action } => drafts_proposed.push(ActionResponse::from(action)),
            ChatEvent::DraftUpdated { action } => drafts_updated.push(ActionResponse::from(action)),
            ChatEvent::Done { message } => done = Some(message),
        }
    }
    let message = done.ok_or_else(|| ApiError::internal("the chat ended without its reply"))?;
    Ok(ChatReplyResponse { message: message.into(), drafts_proposed, drafts_updated })
}

/// The reply as Server-Sent Events; it ends after `done` or `error`, or when
/// the server shuts down (the reply is still completed and stored).
fn event_stream(
    reply: Reply,
    shutdown: tokio_util::sync::CancellationToken,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let events = futures::stream::unfold(reply, |mut reply| async move {
        let event = reply.next().await?;
        Some((Ok(to_sse(event)), reply))
    });
    futures::StreamExt::take_until(events, async move { shutdown.cancelled_owned().await })
}

fn to_sse(event: Result<ChatEvent, ApiError>) -> SseEvent {
    let (name, data) = match event {
        // Answered by the response itself, before the stream starts.
        Ok(ChatEvent::Accepted) => return SseEvent::default().comment("accepted"),
        Ok(ChatEvent::Delta { text }) => ("delta", ChatStreamEvent::Delta(ChatDeltaEvent { text })),
        Ok(ChatEvent::DraftProposed { action }) => {
            ("draft_proposed", ChatStreamEvent::Draft(ChatDraftEvent { action: action.into() }))
        }
        Ok(ChatEvent::DraftUpdated { action }) => {
            ("draft_updated", ChatStreamEvent::Draft(ChatDraftEvent { action: action.into() }))
        }
        Ok(ChatEvent::Done { message }) => ("done", ChatStreamEvent::Done(ChatDoneEvent { message: message.into() })),
        Err(error) => {
            tracing::warn!(code = %error.code, message = %error.message, "a streamed chat reply failed");
            ("error", ChatStreamEvent::Error(error.body()))
        }
    };
    let data = serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_string());
    SseEvent::default().event(name).data(data)
}

/// Checks a person's message before anything is stored.
fn check_message(text: &str) -> Result<(), ApiError> {
    NewChatMessage::from_user(text).validate().map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_event_stream_is_chosen_by_accept() {
        let mut headers = HeaderMap::new();
        assert!(!wants_event_stream(&headers));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_event_stream(&headers));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json, Text/Event-Stream;q=0.9"));
        assert!(wants_event_stream(&headers));
    }
}
