//! `/api/v1/auth`: logging in to the dashboard with a name and a password
//! (a session cookie, HttpOnly, SameSite=Strict, Secure over TLS), logging
//! out, and asking who one is. Wrong name and wrong password get the same
//! answer; failures are limited per address and per name (429).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Extension, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use steward_domain::auth::{NewToken, Principal, Scope, TokenKind};

use crate::AppState;
use crate::api::{ErrorCode, ErrorResponse, LoginRequest, SessionResponse};
use crate::auth::{SESSION_COOKIE, rate_limited, secrets, session_cookie};
use crate::error::ApiError;
use crate::extract::ApiJson;

/// How long a dashboard session lasts.
const SESSION_DAYS: i64 = 7;

fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.auth.secure_cookies { "; Secure" } else { "" };
    let text = format!("{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("steward_session=; Max-Age=0"))
}

#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    summary = "Log in to the dashboard",
    description = "Sets the session cookie and returns the CSRF token the session's changes must send \
                   as `X-CSRF-Token`.",
    request_body = LoginRequest,
    responses(
        (status = 200, body = SessionResponse),
        (status = 401, body = ErrorResponse),
        (status = 429, body = ErrorResponse),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let address = peer.map_or_else(|| "unknown".to_string(), |Extension(ConnectInfo(peer))| peer.ip().to_string());
    let name_key = format!("name:{}", body.name.trim().to_lowercase());
    let now = state.clock.now();
    for key in [&address, &name_key] {
        let limiter = if key == &address { &state.auth.by_address } else { &state.auth.by_name };
        if let Err(seconds) = limiter.check(key, now) {
            return Ok(rate_limited(seconds));
        }
    }
    let found = state.store.user_with_password(&body.name).await?;
    let hash = found.as_ref().and_then(|(_, hash)| hash.clone());
    let password = body.password.clone();
    let verified = tokio::task::spawn_blocking(move || secrets::verify_password(hash.as_deref(), &password))
        .await
        .unwrap_or(false);
    let Some((user, _)) = found.filter(|_| verified) else {
        state.auth.by_address.failed(&address, now);
        state.auth.by_name.failed(&name_key, now);
        return Err(ApiError::new(ErrorCode::Unauthenticated, "wrong user name or password"));
    };
    state.auth.by_name.succeeded(&name_key);
    let secret = secrets::new_token();
    let expires_at = now + chrono::Duration::days(SESSION_DAYS);
    let scope = if user.admin { Scope::Admin } else { Scope::Write };
    let session = NewToken {
        user_id: user.id,
        kind: TokenKind::Session,
        name: "dashboard".into(),
        scope,
        expires_at: Some(expires_at),
    };
    state.store.create_token(session, secrets::hash_token(&secret)).await?;
    tracing::info!(user = %user.name, address, "logged in to the dashboard");
    let body = SessionResponse {
        authentication_required: state.auth.required,
        user: Some(user.name),
        admin: user.admin,
        csrf_token: Some(secrets::csrf_token(&secret)),
        expires_at: Some(expires_at),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(SET_COOKIE, cookie(&state, &secret, SESSION_DAYS * 86_400));
    Ok(response)
}

#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    summary = "Log out of the dashboard",
    description = "Revokes the session and clears its cookie.",
    responses((status = 204, description = "Logged out"), (status = 401, body = ErrorResponse))
)]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = session_cookie(&headers)
        && let Some(token) = state.store.use_token(&secrets::hash_token(&secret)).await?
    {
        state.store.revoke_token(None, token.id).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(SET_COOKIE, cookie(&state, "", 0));
    Ok(response)
}

#[utoipa::path(
    get, path = "/api/v1/auth/session", tag = "auth",
    summary = "Who the request acts for",
    responses((status = 200, body = SessionResponse))
)]
pub async fn session(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    headers: HeaderMap,
) -> Json<SessionResponse> {
    let principal = principal.map(|Extension(principal)| principal);
    let session = principal.as_ref().is_some_and(|principal| principal.kind == Some(TokenKind::Session));
    let csrf_token = session.then(|| session_cookie(&headers).map(|secret| secrets::csrf_token(&secret))).flatten();
    Json(SessionResponse {
        authentication_required: state.auth.required,
        user: principal
            .as_ref()
            .filter(|principal| principal.token_id.is_some())
            .map(|principal| principal.user_name.clone()),
        admin: principal.as_ref().is_some_and(|principal| principal.scope == Scope::Admin),
        csrf_token,
        expires_at: None,
    })
}
