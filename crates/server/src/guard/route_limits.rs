//! Limits that differ by route, checked once routed (the route's template
//! is known): how many model-spending requests (runs, chats, setup chats,
//! scheduling, memory ingestion when memory has an extraction or embedding
//! model) a token and a client address may make per window (`429` with
//! `Retry-After`), and the largest body a route takes
//! where it is smaller than the server's `server.max_body_bytes` (a chat
//! message or an instruction is what a person types, not a batch of jobs).

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use steward_domain::auth::Principal;

use crate::AppState;
use crate::api::ErrorCode;
use crate::error::ApiError;

/// Adding a memory episode calls a model only when memory has one to run
/// on it; without, it is a row and a full-text entry, and a conversation
/// of hundreds of turns imports without meeting the spending limit.
const EPISODES: &str = "/memory/episodes";

/// The operations that make model calls (and so spend money), given
/// whether memory's ingestion calls a model.
pub(crate) fn spends(method: &Method, template: &str, memory_calls_models: bool) -> bool {
    if template.trim_start_matches("/api/v1") == EPISODES {
        return *method == Method::POST && memory_calls_models;
    }
    spends_always(method, template)
}

fn spends_always(method: &Method, template: &str) -> bool {
    *method == Method::POST
        && matches!(
            template.trim_start_matches("/api/v1"),
            "/agents/{id}/runs"
                | "/agents/{id}/chat"
                | "/actions/{id}/chat"
                | "/agents/setup-chat"
                | "/actions/{id}/schedule"
                | "/schedules/{schedule}/run"
                | "/schedules/{schedule}/backfill"
                | "/v1/chat/completions"
        )
}

/// The largest body a route takes, where it is smaller than the server's.
pub(crate) fn body_limit(method: &Method, template: &str) -> Option<usize> {
    // A message or an instruction may hold 100,000 characters; escaped in
    // JSON one may take up to 6 bytes (`\u0001`), so a valid one always fits.
    const TYPED: usize = 1024 * 1024;
    const LOGIN: usize = 4 * 1024;
    if *method == Method::GET {
        return None;
    }
    match template.trim_start_matches("/api/v1") {
        "/auth/login" => Some(LOGIN),
        "/agents/{id}/runs"
        | "/agents/{id}/chat"
        | "/actions/{id}/chat"
        | "/agents/setup-chat"
        | "/agents/setup-chat/{id}/confirm"
        | "/actions/{id}/transition"
        | "/actions/{id}/schedule"
        | "/approvals/{id}/approve"
        | "/approvals/{id}/reject"
        | "/memory/facts/{id}/forget"
        | "/schedules"
        | "/schedules/preview"
        | "/schedules/{schedule}/backfill" => Some(TYPED),
        _ => None,
    }
}

/// The body limit a route set, read by the JSON extractor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RouteBodyLimit(pub usize);

/// The route layer: spending limits, then the route's body limit.
pub(crate) async fn check(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(template) = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_string()) else {
        return next.run(request).await;
    };
    if spends(request.method(), &template, state.memory_calls_models()) {
        let now = state.clock.now();
        let token = match request.extensions().get::<Principal>().and_then(|principal| principal.token_id) {
            Some(id) => format!("token:{id}"),
            None => "token:local".to_string(),
        };
        let address = format!("address:{}", crate::auth::client_address(&request));
        let limits = &state.auth.spending;
        for (limiter, key, what) in
            [(&limits.by_token, &token, "this token"), (&limits.by_address, &address, "this address")]
        {
            if let Err(seconds) = limiter.check(key, now) {
                return too_many(what, seconds);
            }
        }
        limits.by_token.failed(&token, now);
        limits.by_address.failed(&address, now);
    }
    if let Some(limit) = body_limit(request.method(), &template) {
        request.extensions_mut().insert(RouteBodyLimit(limit));
    }
    next.run(request).await
}

fn too_many(what: &str, seconds: u64) -> Response {
    let mut response = ApiError::new(
        ErrorCode::RateLimited,
        format!("too many requests that call a model from {what}; try again in {seconds} seconds"),
    )
    .into_response();
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_routes_and_body_limits_are_named() {
        assert!(spends(&Method::POST, "/api/v1/agents/{id}/runs", false));
        assert!(!spends(&Method::GET, "/api/v1/agents/{id}/chat", true), "reading a chat spends nothing");
        assert!(!spends(&Method::POST, "/api/v1/jobs", true));
        assert!(spends(&Method::POST, "/api/v1/memory/episodes", true), "extraction or embeddings run on it");
        assert!(!spends(&Method::POST, "/api/v1/memory/episodes", false), "stored and indexed, no model");
        assert!(!spends(&Method::GET, "/api/v1/memory/episodes", true));
        assert_eq!(body_limit(&Method::POST, "/api/v1/auth/login"), Some(4096));
        assert_eq!(body_limit(&Method::POST, "/api/v1/jobs/batch"), None, "batches keep the server's limit");
    }
}
