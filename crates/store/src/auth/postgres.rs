//! Users and tokens on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use steward_domain::UserId;
use steward_domain::auth::{ApiToken, NewToken, NewUser, TokenKind, User};

use crate::auth::{AuthStore, decide};
use crate::postgres::PostgresStore;
use crate::postgres::connection::could_be_stored;
use crate::postgres::rows::parsed;
use crate::postgres::transaction::{Begin, TransactionError, TransactionResult};
use crate::{Entity, Result, StoreError};

// Macros, not constants: sqlx takes only static SQL, which `concat!` keeps.
macro_rules! user_columns {
    () => {
        "id, name, admin, password_hash IS NOT NULL, created_at, password_hash"
    };
}
macro_rules! token_select {
    () => {
        "SELECT t.id, t.user_id, u.name, t.kind, t.name, t.scope, t.created_at, t.expires_at, \
         t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id"
    };
}

fn user(row: &PgRow) -> std::result::Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.try_get(0)?),
        name: row.try_get(1)?,
        admin: row.try_get(2)?,
        has_password: row.try_get(3)?,
        created_at: row.try_get(4)?,
    })
}

fn token(row: &PgRow) -> std::result::Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: row.try_get(0)?,
        user_id: UserId(row.try_get(1)?),
        user_name: row.try_get(2)?,
        kind: parsed(row, 3)?,
        name: row.try_get(4)?,
        scope: parsed(row, 5)?,
        created_at: row.try_get(6)?,
        expires_at: row.try_get(7)?,
        last_used_at: row.try_get(8)?,
        revoked_at: row.try_get(9)?,
    })
}

async fn user_by_name(
    connection: &mut PgConnection,
    name: &str,
) -> std::result::Result<Option<(User, Option<String>)>, sqlx::Error> {
    if !could_be_stored(Some(name)) {
        return Ok(None);
    }
    let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE lower(name) = lower($1)"))
        .bind(name)
        .fetch_optional(connection)
        .await?;
    row.map(|row| Ok((user(&row)?, row.try_get(5)?))).transpose()
}

async fn token_by_id(connection: &mut PgConnection, id: i64) -> std::result::Result<Option<ApiToken>, sqlx::Error> {
    let row = sqlx::query(concat!(token_select!(), " WHERE t.id = $1")).bind(id).fetch_optional(connection).await?;
    row.map(|row| token(&row)).transpose()
}

#[async_trait]
impl AuthStore for PostgresStore {
    async fn create_user(&self, new: NewUser, password_hash: Option<String>) -> Result<User> {
        new.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let (new, password_hash) = (new.clone(), password_hash.clone());
            Box::pin(async move {
                let name = new.name.trim();
                let taken = user_by_name(transaction.connection(), name).await?.map(|(held, _)| held.name);
                decide::check_name_free(name, taken)?;
                let row = sqlx::query(concat!(
                    "INSERT INTO users (name, admin, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING ",
                    user_columns!()
                ))
                .bind(name)
                .bind(new.admin)
                .bind(password_hash)
                .bind(now)
                .fetch_one(transaction.connection())
                .await?;
                TransactionResult::Ok(user(&row)?)
            })
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users ORDER BY id"))
            .fetch_all(&mut *self.pool.acquire().await?)
            .await?;
        Ok(rows.iter().map(user).collect::<std::result::Result<Vec<_>, _>>()?)
    }

    async fn remove_user(&self, name: &str) -> Result<User> {
        let name = name.trim().to_string();
        self.write(Begin::Plain, |transaction| {
            let name = name.clone();
            Box::pin(async move {
                let found = user_by_name(transaction.connection(), &name).await?.map(|(user, _)| user);
                let user = decide::removable(&name, found)?;
                sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                    .bind(user.id.get())
                    .execute(transaction.connection())
                    .await?;
                let removed = sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(user.id.get())
                    .execute(transaction.connection())
                    .await;
                match removed {
                    Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                        Err(TransactionError::Refused(decide::still_owns_records(&user.name)))
                    }
                    removed => TransactionResult::Ok(removed.map(|_| user)?),
                }
            })
        })
        .await
    }

    async fn user_with_password(&self, name: &str) -> Result<Option<(User, Option<String>)>> {
        Ok(user_by_name(&mut *self.pool.acquire().await?, name.trim()).await?)
    }

    async fn create_token(&self, new: NewToken, token_hash: String) -> Result<ApiToken> {
        let now = self.now();
        new.validate(now)?;
        self.write(Begin::Plain, |transaction| {
            let (new, hash) = (new.clone(), token_hash.clone());
            Box::pin(async move {
                let admin: Option<bool> = sqlx::query_scalar("SELECT admin FROM users WHERE id = $1")
                    .bind(new.user_id.get())
                    .fetch_optional(transaction.connection())
                    .await?;
                decide::check_token_scope(new.user_id, admin, new.scope)?;
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO api_tokens (user_id, kind, name, scope, token_hash, created_at, expires_at) \
                     SELECT id, $2, $3, $4, $5, $6, $7 FROM users WHERE id = $1 RETURNING id",
                )
                .bind(new.user_id.get())
                .bind(new.kind.as_str())
                .bind(new.name.trim())
                .bind(new.scope.as_str())
                .bind(&hash)
                .bind(now)
                .bind(new.expires_at)
                .fetch_optional(transaction.connection())
                .await?;
                let id = id.ok_or_else(|| StoreError::not_found(Entity::User, new.user_id))?;
                let token = token_by_id(transaction.connection(), id).await?;
                TransactionResult::Ok(token.ok_or_else(|| StoreError::not_found(Entity::Token, id))?)
            })
        })
        .await
    }

    async fn list_tokens(&self, owner: Option<UserId>, kind: TokenKind) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(concat!(
            token_select!(),
            " WHERE t.kind = $1 AND ($2::bigint IS NULL OR t.user_id = $2) ORDER BY t.id"
        ))
        .bind(kind.as_str())
        .bind(owner.map(UserId::get))
        .fetch_all(&mut *self.pool.acquire().await?)
        .await?;
        Ok(rows.iter().map(token).collect::<std::result::Result<Vec<_>, _>>()?)
    }

    async fn revoke_token(&self, owner: Option<UserId>, id: i64) -> Result<ApiToken> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move {
                let found = token_by_id(transaction.connection(), id).await?;
                if decide::revocation(owner, id, found)?.is_some() {
                    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(id)
                        .execute(transaction.connection())
                        .await?;
                }
                let token = token_by_id(transaction.connection(), id).await?;
                TransactionResult::Ok(token.ok_or_else(|| StoreError::not_found(Entity::Token, id))?)
            })
        })
        .await
    }

    async fn use_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        if !could_be_stored(Some(token_hash)) {
            return Ok(None);
        }
        let mut connection = self.pool.acquire().await?;
        let row = sqlx::query(concat!(token_select!(), " WHERE t.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&mut *connection)
            .await?;
        let Some(found) = row.map(|row| token(&row)).transpose()? else { return Ok(None) };
        let now: DateTime<Utc> = self.now();
        if !decide::records_use(found.last_used_at, now) {
            return Ok(Some(found));
        }
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(found.id)
            .execute(&mut *connection)
            .await?;
        Ok(Some(ApiToken { last_used_at: Some(now), ..found }))
    }

    async fn has_admin_credentials(&self) -> Result<bool> {
        let now = self.now();
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users u WHERE u.admin AND (u.password_hash IS NOT NULL \
             OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = u.id AND t.kind = 'api' \
             AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $1))))",
        )
        .bind(now)
        .fetch_one(&mut *self.pool.acquire().await?)
        .await?)
    }
}
