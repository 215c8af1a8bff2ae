//! Users and API tokens on the wire: `/api/v1/users`, `/api/v1/tokens`.
//! A token's secret appears once, in the answer that creates it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::auth::{ApiToken, User};
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub id: i64,
    pub name: String,
    pub admin: bool,
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        UserResponse {
            id: user.id.get(),
            name: user.name,
            admin: user.admin,
            has_password: user.has_password,
            created_at: user.created_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserListResponse {
    pub users: Vec<UserResponse>,
}

/// A token as stored: never its secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub id: i64,
    pub user: String,
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenResponse {
    fn from(token: ApiToken) -> Self {
        TokenResponse {
            id: token.id,
            user: token.user_name,
            name: token.name,
            scope: token.scope.as_str().to_string(),
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            revoked_at: token.revoked_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenListResponse {
    pub tokens: Vec<TokenResponse>,
}

/// A new token for the caller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    /// `read`, `write` (the default) or `admin`; never more than the
    /// credential that asks.
    #[serde(default)]
    pub scope: Option<String>,
    /// Days until it expires (1–3650); none for a token that does not.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// The created token, with its secret: shown only now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedTokenResponse {
    /// Send it as `Authorization: Bearer <token>`; it is not stored.
    pub token: String,
    #[serde(flatten)]
    pub details: TokenResponse,
}
