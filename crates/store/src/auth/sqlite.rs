//! Users and tokens on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use steward_domain::UserId;
use steward_domain::auth::{ApiToken, NewToken, NewUser, TokenKind, User};

use crate::auth::{AuthStore, decide};
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::{from_micros, to_micros};
use crate::sqlite::rows::{optional, parsed};
use crate::{Entity, Result, StoreError};

const USER_COLUMNS: &str = "id, name, admin, password_hash IS NOT NULL, created_at";
const TOKEN_COLUMNS: &str = "t.id, t.user_id, u.name, t.kind, t.name, t.scope, t.created_at, t.expires_at, \
     t.last_used_at, t.revoked_at";

fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(row.get(0)?),
        name: row.get(1)?,
        admin: row.get(2)?,
        has_password: row.get(3)?,
        created_at: from_micros(row.get(4)?),
    })
}

fn token(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    let time = |index: usize| row.get::<_, Option<i64>>(index).map(|micros| micros.map(from_micros));
    Ok(ApiToken {
        id: row.get(0)?,
        user_id: UserId(row.get(1)?),
        user_name: row.get(2)?,
        kind: parsed(row, 3)?,
        name: row.get(4)?,
        scope: parsed(row, 5)?,
        created_at: from_micros(row.get(6)?),
        expires_at: time(7)?,
        last_used_at: time(8)?,
        revoked_at: time(9)?,
    })
}

fn user_by_name(connection: &Connection, name: &str) -> Result<Option<(User, Option<String>)>> {
    let mut statement = connection
        .prepare_cached(&format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(name) = lower(?1)"))?;
    Ok(optional(statement.query_row(params![name], |row| Ok((user(row)?, row.get(5)?))))?)
}

fn load_token(connection: &Connection, where_clause: &str, value: impl rusqlite::ToSql) -> Result<Option<ApiToken>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE {where_clause}"
    ))?;
    Ok(optional(statement.query_row(params![value], token))?)
}

#[async_trait]
impl AuthStore for SqliteStore {
    async fn create_user(&self, new: NewUser, password_hash: Option<String>) -> Result<User> {
        new.validate()?;
        let now = self.now();
        self.writer
            .write(move |connection, _effects| {
                let name = new.name.trim();
                decide::check_name_free(name, user_by_name(connection, name)?.map(|(held, _)| held.name))?;
                connection.execute(
                    "INSERT INTO users (name, admin, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![name, new.admin, password_hash, to_micros(now)],
                )?;
                let (user, _) = user_by_name(connection, name)?
                    .ok_or_else(|| StoreError::not_found(Entity::User, format!("{name:?}")))?;
                Ok(user)
            })
            .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.readers
            .read(|connection| {
                let mut statement =
                    connection.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
                Ok(statement.query_map([], user)?.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn remove_user(&self, name: &str) -> Result<User> {
        let name = name.trim().to_string();
        self.writer
            .write(move |connection, _effects| {
                let user = decide::removable(&name, user_by_name(connection, &name)?.map(|(user, _)| user))?;
                connection.execute("DELETE FROM api_tokens WHERE user_id = ?1", params![user.id.get()])?;
                match connection.execute("DELETE FROM users WHERE id = ?1", params![user.id.get()]) {
                    Err(rusqlite::Error::SqliteFailure(error, _))
                        if error.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
                    {
                        Err(decide::still_owns_records(&user.name))
                    }
                    removed => Ok(removed.map(|_| user)?),
                }
            })
            .await
    }

    async fn user_with_password(&self, name: &str) -> Result<Option<(User, Option<String>)>> {
        let name = name.trim().to_string();
        self.readers.read(move |connection| user_by_name(connection, &name)).await
    }

    async fn create_token(&self, new: NewToken, token_hash: String) -> Result<ApiToken> {
        let now = self.now();
        new.validate(now)?;
        self.writer
            .write(move |connection, _effects| {
                let admin: Option<bool> = optional(connection.query_row(
                    "SELECT admin FROM users WHERE id = ?1",
                    params![new.user_id.get()],
                    |row| row.get(0),
                ))?;
                decide::check_token_scope(new.user_id, admin, new.scope)?;
                connection.execute(
                    "INSERT INTO api_tokens (user_id, kind, name, scope, token_hash, created_at, expires_at) \
                     SELECT id, ?2, ?3, ?4, ?5, ?6, ?7 FROM users WHERE id = ?1",
                    params![
                        new.user_id.get(),
                        new.kind.as_str(),
                        new.name.trim(),
                        new.scope.as_str(),
                        token_hash,
                        to_micros(now),
                        new.expires_at.map(to_micros)
                    ],
                )?;
                load_token(connection, "t.token_hash = ?1", &token_hash)?
                    .ok_or_else(|| StoreError::not_found(Entity::User, new.user_id))
            })
            .await
    }

    async fn list_tokens(&self, owner: Option<UserId>, kind: TokenKind) -> Result<Vec<ApiToken>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.kind = ?1 AND (?2 IS NULL OR t.user_id = ?2) ORDER BY t.id"
                ))?;
                let owner = owner.map(UserId::get);
                Ok(statement.query_map(params![kind.as_str(), owner], token)?.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn revoke_token(&self, owner: Option<UserId>, id: i64) -> Result<ApiToken> {
        let now = self.now();
        self.writer
            .write(move |connection, _effects| {
                if decide::revocation(owner, id, load_token(connection, "t.id = ?1", id)?)?.is_some() {
                    connection
                        .execute("UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2", params![to_micros(now), id])?;
                }
                load_token(connection, "t.id = ?1", id)?.ok_or_else(|| StoreError::not_found(Entity::Token, id))
            })
            .await
    }

    async fn use_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let hash = token_hash.to_string();
        let found = self.readers.read(move |connection| load_token(connection, "t.token_hash = ?1", &hash)).await?;
        let now = self.now();
        match found {
            Some(found) if decide::records_use(found.last_used_at, now) => {
                let id = found.id;
                self.writer
                    .write(move |connection, _effects| {
                        connection.execute(
                            "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
                            params![to_micros(now), id],
                        )?;
                        Ok(())
                    })
                    .await?;
                Ok(Some(ApiToken { last_used_at: Some(now), ..found }))
            }
            other => Ok(other),
        }
    }

    async fn has_admin_credentials(&self) -> Result<bool> {
        let now = to_micros(self.now());
        self.readers
            .read(move |connection| {
                Ok(connection.query_row(
                    "SELECT EXISTS (SELECT 1 FROM users u WHERE u.admin = 1 AND (u.password_hash IS NOT NULL \
                     OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = u.id AND t.kind = 'api' \
                     AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?1))))",
                    params![now],
                    |row| row.get(0),
                )?)
            })
            .await
    }
}
