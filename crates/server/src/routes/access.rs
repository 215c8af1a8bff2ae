//! `/api/v1/users` and `/api/v1/tokens`: who may use this server, for the
//! dashboard's access page. A user lists, creates and revokes their own API
//! tokens (an administrator sees everyone's and revokes any, as `Caller`
//! decides); a new token's secret is in the answer that creates it and
//! nowhere else, and its scope is never above the credential that asks.
//! Users themselves are added with `steward user add`.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use steward_domain::auth::{NewToken, Principal, Scope, TokenKind};

use crate::AppState;
use crate::api::{
    CreateTokenRequest, CreatedTokenResponse, ErrorCode, ErrorResponse, TokenListResponse, TokenResponse,
    UserListResponse,
};
use crate::auth::secrets;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IdPath};

#[utoipa::path(
    get, path = "/api/v1/users", tag = "access",
    summary = "List users (administrators)",
    responses((status = 200, body = UserListResponse), (status = 403, body = ErrorResponse))
)]
pub async fn list_users(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<UserListResponse>, ApiError> {
    if !principal.is_admin() {
        return Err(ApiError::new(ErrorCode::Forbidden, "listing users needs the admin scope"));
    }
    let users = state.store.list_users().await?;
    Ok(Json(UserListResponse { users: users.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "access",
    summary = "List API tokens",
    description = "The caller's own tokens; an administrator's list has everyone's. Never their secrets.",
    responses((status = 200, body = TokenListResponse))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Extension(principal): Extension<Principal>,
) -> Result<Json<TokenListResponse>, ApiError> {
    let owner = (!principal.is_admin()).then_some(caller.user);
    let tokens = state.store.list_tokens(owner, TokenKind::Api).await?;
    Ok(Json(TokenListResponse { tokens: tokens.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "access",
    summary = "Create an API token for the caller",
    description = "The answer holds the token's secret; it is shown only now.",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, body = CreatedTokenResponse),
        (status = 403, body = ErrorResponse, description = "A scope above the asking credential's"),
        (status = 409, body = ErrorResponse, description = "`admin` for a user who is not an administrator"),
        (status = 422, body = ErrorResponse),
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenResponse>), ApiError> {
    let scope = match request.scope.as_deref() {
        Some(scope) => scope.parse::<Scope>()?,
        None => Scope::Write,
    };
    if !principal.scope.includes(scope) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("a {} credential cannot create a {scope} token", principal.scope),
        )
        .with_field("scope"));
    }
    let expires_at = match request.expires_in_days {
        Some(days @ 1..=3650) => Some(state.clock.now() + chrono::Duration::days(i64::from(days))),
        Some(_) => return Err(ApiError::invalid_field("expires_in_days", "must be between 1 and 3650")),
        None => None,
    };
    let secret = secrets::new_token();
    let new = NewToken { user_id: caller.user, kind: TokenKind::Api, name: request.name, scope, expires_at };
    let token = state.store.create_token(new, secrets::hash_token(&secret)).await?;
    Ok((StatusCode::CREATED, Json(CreatedTokenResponse { token: secret, details: token.into() })))
}

#[utoipa::path(
    post, path = "/api/v1/tokens/{id}/revoke", tag = "access",
    summary = "Revoke an API token",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 200, body = TokenResponse), (status = 404, body = ErrorResponse))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<i64>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(state.store.revoke_token(Some(caller.user), id).await?.into()))
}
