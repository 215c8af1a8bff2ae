//! `POST /v1/chat/completions`: the conversation answered by the agent
//! named as `model`, whole or streamed as OpenAI's chunks ending in
//! `data: [DONE]`.
//!
//! While the agent works, a stream sends one chunk per tool call with an
//! empty `delta` and the note in the extension field `steward.progress`
//! (so the answer's content stays the answer alone), then the answer as
//! one content chunk: runs produce their answer whole, not token by token.

use std::convert::Infallible;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use steward_domain::{RunLimits, RunOutcome};
use steward_runtime::agent::{Completion, CompletionEvent, CompletionResult, Ending};

use super::error::{OpenAiError, respond};
use super::models::not_found;
use super::wire::{
    AssistantMessage, ChatCompletion, ChatCompletionChunk, Choice, ChunkChoice, CompletionRequest, Delta, Extension,
    Usage,
};
use crate::AppState;
use crate::error::ApiError;
use crate::error::chat_error;
use crate::extract::Caller;

pub(super) async fn create(State(state): State<AppState>, caller: Caller, body: Bytes) -> Response {
    let request = match CompletionRequest::parse(&body) {
        Ok(request) => request,
        Err(error) => return respond(error.into()),
    };
    let runtime = match state.agent_runtime() {
        Ok(runtime) => runtime.clone(),
        Err(error) => return respond(error),
    };
    let completion =
        match runtime.complete(caller.user, &request.model, request.conversation.clone(), RunLimits::default()).await {
            Ok(completion) => completion,
            Err(steward_runtime::agent::ChatError::Store(steward_store::StoreError::NotFound { .. })) => {
                return respond(not_found(&request.model));
            }
            Err(error) => return respond(chat_error(error, crate::api::ErrorCode::Archived)),
        };
    let created = state.clock.now().timestamp();
    let header = Header { id: format!("chatcmpl-run-{}", completion.run.id), created, model: request.model.clone() };
    if request.stream {
        let chunks = chunks(completion, header, request.include_usage);
        let chunks = futures::StreamExt::take_until(chunks, state.shutdown.clone().cancelled_owned());
        return Sse::new(chunks).keep_alive(KeepAlive::new().interval(state.keep_alive)).into_response();
    }
    match finished(completion).await {
        Ok(result) => whole(&header, result),
        Err(error) => respond(error),
    }
}

/// What every response and chunk of one completion repeats.
#[derive(Clone, Debug)]
struct Header {
    id: String,
    created: i64,
    model: String,
}

/// Waits for the end of the run.
async fn finished(mut completion: Completion) -> Result<CompletionResult, ApiError> {
    while let Some(event) = completion.events.recv().await {
        if let CompletionEvent::Finished(result) = event {
            return Ok(*result);
        }
    }
    Err(lost(&completion))
}

fn lost(completion: &Completion) -> ApiError {
    ApiError::internal(format!(
        "stopped following run {} before it ended; its answer will show on the run",
        completion.run.id
    ))
}

/// A failed run is a server error, as a failed model call is to OpenAI's
/// clients; every other ending is an answer.
fn failure(result: &CompletionResult) -> Option<ApiError> {
    (result.ending == Ending::Failed).then(|| {
        let code = match result.run.outcome {
            Some(RunOutcome::Cancelled) => crate::api::ErrorCode::Unavailable,
            _ => crate::api::ErrorCode::ModelFailed,
        };
        ApiError::new(code, result.answer.clone())
    })
}

fn finish_reason(ending: Ending) -> &'static str {
    match ending {
        Ending::Limit => "length",
        _ => "stop",
    }
}

fn extension(result: &CompletionResult) -> Extension {
    Extension {
        run_id: result.run.id.get(),
        progress: None,
        status: Some(match result.ending {
            Ending::AwaitingApproval => "awaiting_approval".to_string(),
            _ => result.run.outcome.map(|outcome| outcome.to_string()).unwrap_or_default(),
        }),
        cost_usd: Some(result.run.usage.cost_usd),
    }
}

fn whole(header: &Header, result: CompletionResult) -> Response {
    if let Some(error) = failure(&result) {
        return respond(error);
    }
    Json(ChatCompletion {
        id: header.id.clone(),
        object: "chat.completion",
        created: header.created,
        model: header.model.clone(),
        choices: vec![Choice {
            index: 0,
            message: AssistantMessage { role: "assistant", content: result.answer.clone(), refusal: None },
            finish_reason: finish_reason(result.ending),
            logprobs: None,
        }],
        usage: Usage::of(&result.run.usage),
        steward: extension(&result),
    })
    .into_response()
}

/// The stream: a first chunk with the role, a chunk per tool call, the
/// answer, the finish, optionally the usage, then `[DONE]`.
fn chunks(
    completion: Completion,
    header: Header,
    include_usage: bool,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let run_id = completion.run.id.get();
    let chunk = move |delta: Delta, finish: Option<&'static str>, steward: Extension| ChatCompletionChunk {
        id: header.id.clone(),
        object: "chat.completion.chunk",
        created: header.created,
        model: header.model.clone(),
        choices: vec![ChunkChoice { index: 0, delta, finish_reason: finish, logprobs: None }],
        usage: None,
        steward,
    };
    let plain = Extension { run_id, progress: None, status: None, cost_usd: None };
    let (sender, receiver) = tokio::sync::mpsc::channel::<SseEvent>(16);
    tokio::spawn(async move {
        let mut completion = completion;
        let _ = sender
            .send(data(&chunk(Delta { role: Some("assistant"), content: Some(String::new()) }, None, plain.clone())))
            .await;
        let mut result = None;
        while let Some(event) = completion.events.recv().await {
            match event {
                CompletionEvent::Progress { note } => {
                    let steward = Extension { progress: Some(note), ..plain.clone() };
                    let _ = sender.send(data(&chunk(Delta::default(), None, steward))).await;
                }
                CompletionEvent::Finished(done) => {
                    result = Some(*done);
                    break;
                }
            }
        }
        let Some(result) = result else {
            let _ = sender.send(error_data(lost(&completion))).await;
            return;
        };
        if let Some(error) = failure(&result) {
            let _ = sender.send(error_data(error)).await;
            return;
        }
        let _ = sender
            .send(data(&chunk(Delta { role: None, content: Some(result.answer.clone()) }, None, plain.clone())))
            .await;
        let _ =
            sender.send(data(&chunk(Delta::default(), Some(finish_reason(result.ending)), extension(&result)))).await;
        if include_usage {
            let mut last = chunk(Delta::default(), None, plain.clone());
            last.choices.clear();
            last.usage = Some(Usage::of(&result.run.usage));
            let _ = sender.send(data(&last)).await;
        }
        let _ = sender.send(SseEvent::default().data("[DONE]")).await;
    });
    futures::stream::unfold(receiver, |mut receiver| async move { Some((Ok(receiver.recv().await?), receiver)) })
}

fn data(chunk: &ChatCompletionChunk) -> SseEvent {
    SseEvent::default().data(serde_json::to_string(chunk).unwrap_or_else(|_| "{}".into()))
}

/// An error inside a stream, as OpenAI sends one: a data line with `error`.
fn error_data(error: ApiError) -> SseEvent {
    let (_, body) = OpenAiError::from_api(&error.body(), error.status());
    SseEvent::default().data(serde_json::to_string(&body).unwrap_or_else(|_| "{}".into()))
}
