//! A fake Slack: `chat.postMessage`, `conversations.open`, `.list` and
//! `.history` with a bot token, and incoming webhooks at `/services/…`.
//! It refuses what Slack refuses (a missing or wrong token, an unknown
//! channel, blocks over Slack's limits, a message without fallback text),
//! records every accepted message, and can be told to answer the next
//! posts with faults (429 with `Retry-After`, 500, a Slack error code) or
//! to record a post and never answer (a crash between send and record).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// An answer to the next post instead of success.
#[derive(Clone, Debug, PartialEq)]
pub enum SlackFault {
    RateLimited {
        retry_after_secs: u64,
    },
    ServerError,
    Error(&'static str),
    /// Records the message, then never answers.
    RecordAndHang,
}

#[derive(Debug, Default)]
struct SlackState {
    token: String,
    channels: BTreeMap<String, String>,
    messages: Vec<Value>,
    webhook_messages: Vec<Value>,
    faults: VecDeque<SlackFault>,
    /// Every problem found in a request (tests expect none).
    violations: Vec<String>,
    calls: Vec<String>,
}

pub struct FakeSlack {
    address: SocketAddr,
    state: Arc<Mutex<SlackState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = Arc<Mutex<SlackState>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, SlackState> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FakeSlack {
    /// A workspace whose bot token is `token`, with the channels `(name, id)`.
    pub async fn start(token: &str, channels: &[(&str, &str)]) -> std::io::Result<FakeSlack> {
        let state = Arc::new(Mutex::new(SlackState {
            token: token.to_string(),
            channels: channels.iter().map(|(name, id)| (name.to_string(), id.to_string())).collect(),
            ..SlackState::default()
        }));
        let app = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/conversations.open", post(open))
            .route("/api/conversations.list", get(list))
            .route("/api/conversations.history", get(history))
            .route("/services/{a}/{b}/{c}", post(incoming_webhook))
            .with_state(Arc::clone(&state));
        let (address, task) = super::serve(app).await?;
        Ok(FakeSlack { address, state, task })
    }

    /// The Web API base (`deliveries.slack_api_base`).
    pub fn api_base(&self) -> String {
        format!("http://{}/api", self.address)
    }

    /// An incoming webhook URL.
    pub fn webhook_url(&self) -> String {
        format!("http://{}/services/T000/B000/webhooksecret123", self.address)
    }

    pub fn push_fault(&self, fault: SlackFault) {
        lock(&self.state).faults.push_back(fault);
    }

    /// Messages posted with the bot token: `{"channel", "text", "blocks", "metadata", "ts"}`.
    pub fn messages(&self) -> Vec<Value> {
        lock(&self.state).messages.clone()
    }

    pub fn webhook_messages(&self) -> Vec<Value> {
        lock(&self.state).webhook_messages.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        lock(&self.state).violations.clone()
    }

    /// Methods called, in order.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.state).calls.clone()
    }
}

fn authorized(state: &SlackState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let given = headers.get("authorization").and_then(|value| value.to_str().ok()).unwrap_or_default();
    match given.strip_prefix("Bearer ") {
        None => Err(Box::new(axum::Json(json!({"ok": false, "error": "not_authed"})).into_response())),
        Some(token) if token != state.token => {
            Err(Box::new(axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response()))
        }
        Some(_) => Ok(()),
    }
}

/// Block Kit checks: the kinds we send, within Slack's limits.
fn check_message(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    match body["text"].as_str() {
        Some(text) if !text.trim().is_empty() && text.chars().count() <= 40_000 => {}
        _ => problems.push("text: a fallback of 1 to 40,000 characters is required".to_string()),
    }
    let Some(blocks) = body["blocks"].as_array() else {
        problems.push("blocks: not an array".into());
        return problems;
    };
    if blocks.is_empty() || blocks.len() > 50 {
        problems.push(format!("blocks: {} blocks (1 to 50)", blocks.len()));
    }
    for (index, block) in blocks.iter().enumerate() {
        let text_len = |pointer: &str| block.pointer(pointer).and_then(Value::as_str).map(|t| t.chars().count());
        match block["type"].as_str() {
            Some("header") => match (block["text"]["type"].as_str(), text_len("/text/text")) {
                (Some("plain_text"), Some(1..=150)) => {}
                _ => problems.push(format!("blocks[{index}]: a header needs plain_text of 1 to 150 characters")),
            },
            Some("section") => match (block["text"]["type"].as_str(), text_len("/text/text")) {
                (Some("mrkdwn" | "plain_text"), Some(1..=3000)) => {}
                _ => problems.push(format!("blocks[{index}]: a section needs text of 1 to 3000 characters")),
            },
            Some("divider") => {}
            Some("context") => match block["elements"].as_array() {
                Some(elements) if (1..=10).contains(&elements.len()) => {}
                _ => problems.push(format!("blocks[{index}]: a context needs 1 to 10 elements")),
            },
            other => problems.push(format!("blocks[{index}]: unexpected block type {other:?}")),
        }
    }
    problems
}

async fn post_message(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let fault = {
        let mut state = lock(&state);
        state.calls.push("chat.postMessage".into());
        if let Err(refusal) = authorized(&state, &headers) {
            return *refusal;
        }
        let problems = check_message(&body);
        if !problems.is_empty() {
            state.violations.extend(problems);
            return axum::Json(json!({"ok": false, "error": "invalid_blocks"})).into_response();
        }
        let requested = body["channel"].as_str().unwrap_or_default().to_string();
        let channel = match requested.strip_prefix('#') {
            Some(name) => state.channels.get(name).cloned(),
            None => Some(requested.clone()),
        };
        let Some(channel) = channel else {
            return axum::Json(json!({"ok": false, "error": "channel_not_found"})).into_response();
        };
        let fault = state.faults.pop_front();
        if matches!(fault, None | Some(SlackFault::RecordAndHang)) {
            let ts = format!("1700000000.{:06}", state.messages.len() + 1);
            let mut message = body.clone();
            message["channel"] = json!(channel);
            message["ts"] = json!(ts);
            state.messages.push(message);
            if fault.is_none() {
                return axum::Json(json!({"ok": true, "channel": channel, "ts": ts})).into_response();
            }
        }
        fault
    };
    match fault {
        Some(SlackFault::RateLimited { retry_after_secs }) => {
            let mut response = axum::Json(json!({"ok": false, "error": "ratelimited"})).into_response();
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(value) = retry_after_secs.to_string().parse() {
                response.headers_mut().insert("retry-after", value);
            }
            response
        }
        Some(SlackFault::ServerError) => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        Some(SlackFault::Error(code)) => axum::Json(json!({"ok": false, "error": code})).into_response(),
        Some(SlackFault::RecordAndHang) => std::future::pending().await,
        None => StatusCode::OK.into_response(),
    }
}

async fn open(State(state): State<Shared>, headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> Response {
    let mut state = lock(&state);
    state.calls.push("conversations.open".into());
    if let Err(refusal) = authorized(&state, &headers) {
        return *refusal;
    }
    match body["users"].as_str() {
        Some(user) if user.starts_with('U') => {
            axum::Json(json!({"ok": true, "channel": {"id": format!("D{user}")}})).into_response()
        }
        _ => axum::Json(json!({"ok": false, "error": "user_not_found"})).into_response(),
    }
}

async fn list(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut state = lock(&state);
    state.calls.push("conversations.list".into());
    if let Err(refusal) = authorized(&state, &headers) {
        return *refusal;
    }
    let channels: Vec<Value> = state.channels.iter().map(|(name, id)| json!({"id": id, "name": name})).collect();
    axum::Json(json!({"ok": true, "channels": channels, "response_metadata": {"next_cursor": ""}})).into_response()
}

async fn history(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let mut state = lock(&state);
    state.calls.push("conversations.history".into());
    if let Err(refusal) = authorized(&state, &headers) {
        return *refusal;
    }
    let channel = query.get("channel").cloned().unwrap_or_default();
    if channel.starts_with('#') || channel.is_empty() {
        return axum::Json(json!({"ok": false, "error": "channel_not_found"})).into_response();
    }
    let with_metadata = query.get("include_all_metadata").map(String::as_str) == Some("true");
    let messages: Vec<Value> = state
        .messages
        .iter()
        .rev()
        .filter(|message| message["channel"] == json!(channel))
        .map(|message| {
            let mut shown = json!({"type": "message", "text": message["text"], "ts": message["ts"]});
            if with_metadata && !message["metadata"].is_null() {
                shown["metadata"] = message["metadata"].clone();
            }
            shown
        })
        .collect();
    axum::Json(json!({"ok": true, "messages": messages, "has_more": false})).into_response()
}

async fn incoming_webhook(State(state): State<Shared>, axum::Json(body): axum::Json<Value>) -> Response {
    let mut state = lock(&state);
    let problems = check_message(&body);
    if !problems.is_empty() {
        state.violations.extend(problems);
        return (StatusCode::BAD_REQUEST, "invalid_blocks").into_response();
    }
    state.webhook_messages.push(body);
    (StatusCode::OK, "ok").into_response()
}
