//! A webhook receiver that checks what a careful receiver checks: the
//! HMAC-SHA256 signature over `"{timestamp}.{body}"` (its own code, not
//! Steward's), a timestamp within five minutes, and a repeated
//! `Idempotency-Key`, which it acknowledges without accepting twice.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

#[derive(Debug, Default)]
struct ReceiverState {
    secret: Vec<u8>,
    accepted: Vec<Value>,
    keys: BTreeSet<String>,
    refused: Vec<String>,
    repeats: usize,
    /// Statuses to answer the next requests with.
    faults: VecDeque<u16>,
}

pub struct WebhookReceiver {
    address: SocketAddr,
    state: Arc<Mutex<ReceiverState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = Arc<Mutex<ReceiverState>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, ReceiverState> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl WebhookReceiver {
    pub async fn start(secret: &str) -> std::io::Result<WebhookReceiver> {
        let state = Arc::new(Mutex::new(ReceiverState { secret: secret.as_bytes().to_vec(), ..Default::default() }));
        let app = Router::new().route("/hook", post(receive)).with_state(Arc::clone(&state));
        let (address, task) = super::serve(app).await?;
        Ok(WebhookReceiver { address, state, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Answers the next request with `status` (before checking anything).
    pub fn push_status(&self, status: u16) {
        lock(&self.state).faults.push_back(status);
    }

    /// Bodies accepted once each.
    pub fn accepted(&self) -> Vec<Value> {
        lock(&self.state).accepted.clone()
    }

    /// Why requests were refused (bad signature, stale timestamp).
    pub fn refused(&self) -> Vec<String> {
        lock(&self.state).refused.clone()
    }

    /// Requests whose key was seen before.
    pub fn repeats(&self) -> usize {
        lock(&self.state).repeats
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

async fn receive(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut state = lock(&state);
    if let Some(status) = state.faults.pop_front() {
        return StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    let timestamp = header(&headers, "x-steward-timestamp");
    let signature = header(&headers, "x-steward-signature");
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&state.secret) else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&body);
    let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    if signature != expected {
        state.refused.push(format!("bad signature {signature:?}"));
        return StatusCode::UNAUTHORIZED;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX));
    match timestamp.parse::<i64>() {
        Ok(at) if (now - at).abs() <= 300 => {}
        _ => {
            state.refused.push(format!("stale timestamp {timestamp:?}"));
            return StatusCode::UNAUTHORIZED;
        }
    }
    let key = header(&headers, "idempotency-key").to_string();
    if key.is_empty() || !state.keys.insert(key) {
        state.repeats += 1;
        return StatusCode::OK;
    }
    match serde_json::from_slice(&body) {
        Ok(value) => {
            state.accepted.push(value);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}
