//! Storing users and their credentials: API tokens and dashboard sessions,
//! both kept as hashes of the secret the holder was shown once.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::UserId;
use steward_domain::auth::{ApiToken, NewToken, NewUser, TokenKind, User};

use crate::Result;

#[async_trait]
pub trait AuthStore {
    /// Creates a user; the name is unique without regard to case.
    async fn create_user(&self, user: NewUser, password_hash: Option<String>) -> Result<User>;

    async fn list_users(&self) -> Result<Vec<User>>;

    /// Removes a user and their tokens. The local owner, who owns the data
    /// created without authentication, stays; so does a user who still owns
    /// jobs, agents or other records (a conflict on `name`).
    async fn remove_user(&self, name: &str) -> Result<User>;

    /// A user found by name (any case), with their password hash.
    async fn user_with_password(&self, name: &str) -> Result<Option<(User, Option<String>)>>;

    /// Stores a new token by its hash (validated against the store's clock).
    async fn create_token(&self, token: NewToken, token_hash: String) -> Result<ApiToken>;

    /// Tokens of `kind`, oldest first, revoked ones included: `owner`'s
    /// only, or everyone's for `None`.
    async fn list_tokens(&self, owner: Option<UserId>, kind: TokenKind) -> Result<Vec<ApiToken>>;

    /// Revokes a token (of `owner`, when given: another user's is not
    /// found); revoking twice is not an error.
    async fn revoke_token(&self, owner: Option<UserId>, id: i64) -> Result<ApiToken>;

    /// The token with this hash, whatever its state (the caller decides),
    /// with its last use recorded (at most once a minute).
    async fn use_token(&self, token_hash: &str) -> Result<Option<ApiToken>>;

    /// Whether an administrator can authenticate: one with a password, or
    /// with an API token that is neither revoked nor expired.
    async fn has_admin_credentials(&self) -> Result<bool>;
}
