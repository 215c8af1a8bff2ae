//! Logging in to the dashboard on the wire: `/api/v1/auth/*`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A dashboard login.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

/// Who the request acts for, and what a page needs to act.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    /// Whether this server refuses requests without a credential.
    pub authentication_required: bool,
    /// The user the request acts for; null when not logged in (a server
    /// that does not require authentication then serves the local owner).
    pub user: Option<String>,
    pub admin: bool,
    /// What a dashboard session's state changes send as `X-CSRF-Token`;
    /// null without a session.
    pub csrf_token: Option<String>,
    /// When the session ends.
    pub expires_at: Option<DateTime<Utc>>,
}
