//! Who a request acts for. A request carries an API token
//! (`Authorization: Bearer stw_…`) or a dashboard session (the
//! `steward_session` cookie, whose state changes also carry `X-CSRF-Token`);
//! the token is found by its hash and [`steward_domain::auth::authorize`]
//! decides. Without a credential, a server that does not require
//! authentication (loopback, the default) serves the local owner; one that
//! does answers 401. Failed attempts are limited per client address
//! (`limiter.rs`). The [`Principal`] is put in the request's extensions.

pub mod secrets;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use steward_domain::auth::{Principal, Refusal, authorize};
use steward_store::actor::acting_as;

pub use crate::access::{AttemptLimiter, AuthSettings, SpendingLimits};

use crate::AppState;
use crate::api::ErrorCode;
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "steward_session";
/// The header a session's state changes carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Paths served without a credential even when one is required: logging in,
/// asking whether one is logged in, the API's description, and the
/// dashboard's files (everything outside `/api/`; its data comes from the API).
fn is_public(path: &str) -> bool {
    matches!(path, "/api/v1/auth/login" | "/api/v1/auth/session" | "/api/v1/openapi.json" | "/api/v1/docs")
        // The dashboard's pages are public (its data comes from the API);
        // `/metrics` and the MCP server are protected like the API.
        || (!path.starts_with("/api/") && path != "/metrics" && !is_mcp(path))
}

/// The MCP server's path (`/mcp`, and anything under it).
fn is_mcp(path: &str) -> bool {
    path.strip_prefix(crate::access::MCP_PATH).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The credential a request carries: a bearer token, or a session cookie.
pub(crate) fn credential(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok()) {
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).unwrap_or(value);
        return Some((token.trim().to_string(), false));
    }
    session_cookie(headers).map(|secret| (secret, true))
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(COOKIE).iter().filter_map(|value| value.to_str().ok()).flat_map(|value| value.split(';')).find_map(
        |pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_string())
        },
    )
}

pub(crate) fn client_address(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |ConnectInfo(address)| address.ip().to_string())
}

fn refusal(refusal: Refusal) -> ApiError {
    let code = if refusal.is_forbidden() { ErrorCode::Forbidden } else { ErrorCode::Unauthenticated };
    ApiError::new(code, refusal.message())
}

/// 429 with `Retry-After`.
pub(crate) fn rate_limited(seconds: u64) -> Response {
    let mut response = ApiError::new(
        ErrorCode::RateLimited,
        format!("too many failed attempts from here; try again in {seconds} seconds"),
    )
    .into_response();
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// The middleware.
pub(crate) async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if crate::access::signed::is_signed(request.method(), &path) {
        // Its handler checks the signature; it acts for the local owner.
        request.extensions_mut().insert(Principal::local_owner());
        return next.run(request).await;
    }
    let Some((secret, is_session)) = credential(request.headers()) else {
        if state.auth.required && !is_public(&path) {
            return refusal(Refusal::Missing).into_response();
        }
        if !state.auth.required {
            let owner = Principal::local_owner();
            let actor = owner.actor();
            request.extensions_mut().insert(owner);
            return acting_as(Some(actor), next.run(request)).await;
        }
        return next.run(request).await;
    };
    let address = client_address(&request);
    let now = state.clock.now();
    if let Err(seconds) = state.auth.by_address.check(&address, now) {
        return rate_limited(seconds);
    }
    let found = match state.store.use_token(&secrets::hash_token(&secret)).await {
        Ok(found) => found,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let Some(token) = found.filter(|token| (token.kind == steward_domain::auth::TokenKind::Session) == is_session)
    else {
        state.auth.by_address.failed(&address, now);
        // A stale cookie must not hide the login page or the session
        // endpoint that says one is logged out.
        if is_public(&path) {
            return next.run(request).await;
        }
        return refusal(Refusal::Unknown).into_response();
    };
    let changing = is_state_changing(request.method());
    let csrf_ok = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|sent| secrets::same(sent, &secrets::csrf_token(&secret)));
    match authorize(&token, now, changing, csrf_ok) {
        Ok(principal) => {
            if changing {
                tracing::info!(
                    user = %principal.user_name,
                    token_id = principal.token_id,
                    method = %request.method(),
                    path,
                    "state change requested"
                );
            }
            let actor = principal.actor();
            request.extensions_mut().insert(principal);
            acting_as(Some(actor), next.run(request)).await
        }
        Err(refused) => {
            if !refused.is_forbidden() {
                state.auth.by_address.failed(&address, now);
                if is_public(&path) {
                    return next.run(request).await;
                }
            }
            refusal(refused).into_response()
        }
    }
}
