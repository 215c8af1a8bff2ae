//! The HTTP side of the fake: the axum routes for both protocols, choosing a
//! scripted answer for each request, and rendering it as a response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::delivery::{Ending, PacedBody, event_stream_response, json_response, wait_for_shutdown};
use crate::received::{Endpoint, Protocol, ReceivedRequest};
use crate::render::ReplyContext;
use crate::script::{ErrorSpec, Fault, Reply, Script};
use crate::state::{FakeState, InFlightGuard};
use crate::{anthropic, defaults, openai};

/// Requests may carry images; allow far more than axum's 2 MB default.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

pub fn router(state: Arc<FakeState>) -> Router {
    Router::new()
        .route("/v1/messages", post(anthropic_messages))
        .route("/v1/chat/completions", post(openai_chat_completions))
        .route("/v1/embeddings", post(openai_embeddings))
        .route("/_fake/stats", get(stats))
        .route("/_fake/pause", post(pause))
        .route("/_fake/resume", post(resume))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(state)
}

/// What every endpoint handler receives besides the body.
struct Incoming {
    uri: Uri,
    headers: HeaderMap,
    peer_address: SocketAddr,
}

async fn anthropic_messages(
    State(state): State<Arc<FakeState>>,
    ConnectInfo(peer_address): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Endpoint::AnthropicMessages, Incoming { uri, headers, peer_address }, body).await
}

async fn openai_chat_completions(
    State(state): State<Arc<FakeState>>,
    ConnectInfo(peer_address): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Endpoint::OpenAiChatCompletions, Incoming { uri, headers, peer_address }, body).await
}

async fn openai_embeddings(
    State(state): State<Arc<FakeState>>,
    ConnectInfo(peer_address): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Endpoint::OpenAiEmbeddings, Incoming { uri, headers, peer_address }, body).await
}

async fn stats(State(state): State<Arc<FakeState>>) -> Response {
    let stats = state.stats();
    axum::Json(json!({
        "requests_total": stats.requests_total,
        "in_flight": stats.in_flight,
        "peak_in_flight": stats.peak_in_flight,
    }))
    .into_response()
}

/// Holds every reply until `/_fake/resume`, so a load test can fill the fake
/// with a known number of concurrent requests before letting them finish.
async fn pause(State(state): State<Arc<FakeState>>) -> StatusCode {
    state.set_paused(true);
    StatusCode::NO_CONTENT
}

async fn resume(State(state): State<Arc<FakeState>>) -> StatusCode {
    state.set_paused(false);
    StatusCode::NO_CONTENT
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect()
}

async fn handle(state: Arc<FakeState>, endpoint: Endpoint, incoming: Incoming, body: Bytes) -> Response {
    let in_flight = state.enter();
    let sequence = state.next_sequence();
    let protocol = endpoint.protocol();
    let parsed_body = match serde_json::from_slice::<Value>(&body) {
        Ok(value) => value,
        Err(parse_error) => {
            let spec = plain_error(
                400,
                "invalid_request_error",
                &format!("The request body is not valid JSON: {parse_error}"),
            );
            return error_response(protocol, &spec, None, sequence, None, None);
        }
    };
    let request = ReceivedRequest {
        sequence,
        endpoint,
        path: incoming.uri.path().to_owned(),
        headers: header_pairs(&incoming.headers),
        body: parsed_body,
        peer_address: Some(incoming.peer_address),
        received_at: Instant::now(),
    };
    state.record(&request);

    if let Some(problem) = request_problem(&state, &request) {
        return error_response(protocol, &problem, request.presented_api_key(), sequence, None, None);
    }

    let script = choose_script(&state, &request);
    state.wait_while_paused().await;
    let held_for = state.reply_delay();
    if !held_for.is_zero() {
        tokio::time::sleep(held_for).await;
    }
    match script {
        Script::Reply(reply) => {
            if !reply.first_byte_delay.is_zero() {
                tokio::time::sleep(reply.first_byte_delay).await;
            }
            if endpoint == Endpoint::OpenAiEmbeddings {
                return embeddings_response(&request);
            }
            reply_response(&state, &request, &reply, Ending::Complete, usize::MAX, None, in_flight)
        }
        Script::Fault(fault) => fault_response(&state, &request, fault, in_flight).await,
    }
}

/// Authentication and the checks the real APIs make before doing anything.
fn request_problem(state: &FakeState, request: &ReceivedRequest) -> Option<ErrorSpec> {
    if let Some(expected) = state.expected_api_key()
        && request.presented_api_key() != Some(expected.as_str())
    {
        return Some(ErrorSpec {
            status: 401,
            anthropic_type: "authentication_error".into(),
            openai_type: "invalid_request_error".into(),
            openai_code: Some("invalid_api_key".into()),
            message: "invalid x-api-key".into(),
        });
    }
    let problem = match request.endpoint {
        Endpoint::AnthropicMessages => anthropic::validate_request(&request.body, request.header("anthropic-version")),
        Endpoint::OpenAiChatCompletions => openai::validate_chat_request(&request.body),
        Endpoint::OpenAiEmbeddings => None,
    };
    problem.map(|message| plain_error(400, "invalid_request_error", &message))
}

/// The queue first, then the responder, then the default reply. Embeddings are
/// computed, not scripted, so they only take a queued fault.
fn choose_script(state: &FakeState, request: &ReceivedRequest) -> Script {
    let is_embedding = request.endpoint == Endpoint::OpenAiEmbeddings;
    let queued = state.pop_if(|script| !is_embedding || matches!(script, Script::Fault(_)));
    if let Some(script) = queued {
        return script;
    }
    if let Some(responder) = state.responder()
        && let Some(script) = responder(request)
    {
        return script;
    }
    Script::Reply(defaults::default_reply(request))
}

fn plain_error(status: u16, error_type: &str, message: &str) -> ErrorSpec {
    ErrorSpec {
        status,
        anthropic_type: error_type.into(),
        openai_type: error_type.into(),
        openai_code: None,
        message: message.into(),
    }
}

fn request_id(protocol: Protocol, sequence: u64) -> (&'static str, String) {
    match protocol {
        Protocol::Anthropic => ("request-id", format!("req_fake_{sequence}")),
        Protocol::OpenAi => ("x-request-id", format!("req_fake_{sequence}")),
    }
}

fn error_response(
    protocol: Protocol,
    error: &ErrorSpec,
    presented_api_key: Option<&str>,
    sequence: u64,
    retry_after_seconds: Option<u64>,
    retry_after_ms: Option<u64>,
) -> Response {
    let (body, status) = match protocol {
        Protocol::Anthropic => (anthropic::error_body(error, presented_api_key, sequence), error.status),
        Protocol::OpenAi => (openai::error_body(error, presented_api_key), error.openai_status()),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (id_header, id) = request_id(protocol, sequence);
    let mut response = json_response(status, Body::from(body.to_string()), id_header, id);
    if let Some(seconds) = retry_after_seconds {
        response.headers_mut().insert("retry-after", HeaderValue::from(seconds));
    }
    if let Some(milliseconds) = retry_after_ms {
        response.headers_mut().insert("retry-after-ms", HeaderValue::from(milliseconds));
    }
    response
}

fn embeddings_response(request: &ReceivedRequest) -> Response {
    let (id_header, id) = request_id(Protocol::OpenAi, request.sequence);
    match openai::embeddings_body(&request.body) {
        Ok(body) => json_response(StatusCode::OK, Body::from(body.to_string()), id_header, id),
        Err(message) => error_response(
            Protocol::OpenAi,
            &plain_error(400, "invalid_request_error", &message),
            None,
            request.sequence,
            None,
            None,
        ),
    }
}

/// Renders a reply, optionally spoiled after `spoil_after` pieces: the frames
/// (or JSON body) are cut there, and `replacement` (junk or an error event) is
/// sent in place of the rest.
fn reply_response(
    state: &Arc<FakeState>,
    request: &ReceivedRequest,
    reply: &Reply,
    ending: Ending,
    spoil_after: usize,
    replacement: Option<String>,
    in_flight: InFlightGuard,
) -> Response {
    let context = ReplyContext::new(request, reply);
    let protocol = request.protocol();
    let (id_header, id) = request_id(protocol, request.sequence);
    let pieces = if request.is_streaming() {
        match protocol {
            Protocol::Anthropic => anthropic::stream_frames(reply, &context),
            Protocol::OpenAi => openai::stream_frames(reply, &context),
        }
    } else {
        let body = match protocol {
            Protocol::Anthropic => anthropic::message_body(reply, &context),
            Protocol::OpenAi => openai::completion_body(reply, &context),
        };
        let text = body.to_string();
        if ending == Ending::Complete && replacement.is_none() {
            return json_response(StatusCode::OK, Body::from(text), id_header, id);
        }
        // A spoiled non-streamed body: the first half of the JSON, then the spoiler.
        let half = text.len() / 2;
        let cut_at = (0..=half).rev().find(|index| text.is_char_boundary(*index)).unwrap_or(0);
        vec![text[..cut_at].to_owned()]
    };
    let mut pieces: Vec<String> = pieces.into_iter().take(spoil_after.max(1)).collect();
    if let Some(replacement) = replacement {
        pieces.push(replacement);
    }
    let paced = PacedBody { pieces, delay_between: reply.delay_between_chunks, ending };
    let body = paced.into_body(Arc::clone(state), in_flight);
    if request.is_streaming() {
        event_stream_response(body, id_header, id)
    } else {
        json_response(StatusCode::OK, body, id_header, id)
    }
}

async fn fault_response(
    state: &Arc<FakeState>,
    request: &ReceivedRequest,
    fault: Fault,
    in_flight: InFlightGuard,
) -> Response {
    let protocol = request.protocol();
    match fault {
        Fault::Http { error, retry_after_seconds, retry_after_ms } => error_response(
            protocol,
            &error,
            request.presented_api_key(),
            request.sequence,
            retry_after_seconds,
            retry_after_ms,
        ),
        Fault::Hang => {
            wait_for_shutdown(&mut state.shutdown_receiver()).await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Fault::CutMidStream { reply, after_events } => {
            reply_response(state, request, &reply, Ending::Cut, after_events, None, in_flight)
        }
        Fault::StallMidStream { reply, after_events } => {
            reply_response(state, request, &reply, Ending::Stall, after_events, None, in_flight)
        }
        Fault::MalformedSse { reply, after_events } => {
            let junk = if request.is_streaming() {
                match protocol {
                    Protocol::Anthropic => {
                        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_d\n\n"
                    }
                    Protocol::OpenAi => {
                        "data: {\"id\":\"chatcmpl-broken\",\"choices\":[{\"delta\":{\"content\":\"unterminated\n\n"
                    }
                }
            } else {
                "<html>502 Bad Gateway</html>"
            };
            reply_response(state, request, &reply, Ending::Complete, after_events, Some(junk.to_owned()), in_flight)
        }
        Fault::StreamError { reply, after_events, error } => {
            if !request.is_streaming() {
                return error_response(protocol, &error, None, request.sequence, None, None);
            }
            let frame = match protocol {
                Protocol::Anthropic => anthropic::stream_error_frame(&error),
                Protocol::OpenAi => openai::stream_error_frame(&error),
            };
            reply_response(state, request, &reply, Ending::Complete, after_events, Some(frame), in_flight)
        }
    }
}
