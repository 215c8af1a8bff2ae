//! Reading the event log on PostgreSQL. Appending happens at commit, in
//! [`crate::postgres::transaction`], which is also where the guarantee that
//! makes `id > cursor` paging safe is explained: every read stops at the
//! event horizon, below which no id can still appear.

use async_trait::async_trait;
use sqlx::{PgConnection, Row};
use steward_domain::{Event, EventId, UserId};

use crate::Result;
use crate::events::{EventLog, EventQuery, MAX_PAGE};
use crate::postgres::PostgresStore;
use crate::postgres::connection::could_be_stored;
use crate::postgres::rows::{self, event_columns};

#[async_trait]
impl EventLog for PostgresStore {
    async fn list_events(&self, user: UserId, query: EventQuery) -> Result<Vec<Event>> {
        if !could_be_stored(query.kind_prefix.as_deref()) {
            return Ok(Vec::new());
        }
        let (subject, subject_id) = match query.subject {
            Some((subject, id)) => (Some(subject.as_str()), id),
            None => (None, None),
        };
        let limit = query.limit.clamp(1, MAX_PAGE) as i64;
        let after = query.after.map_or(0, EventId::get);
        let mut connection = self.pool.acquire().await?;
        let horizon = event_horizon(&mut connection).await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE user_id = $1 AND id > $2 AND id <= $7 \
              AND ($3::text IS NULL OR (subject = $3 AND ($4::bigint IS NULL OR subject_id = $4))) \
              AND ($5::text IS NULL OR starts_with(kind, $5)) \
              ORDER BY id LIMIT $6"
        ))
        .bind(user.get())
        .bind(after)
        .bind(subject)
        .bind(subject_id)
        .bind(query.kind_prefix)
        .bind(limit)
        .bind(horizon)
        .fetch_all(&mut *connection)
        .await?;
        Ok(rows.iter().map(rows::event).collect::<Result<_, _>>()?)
    }

    async fn latest_event_id(&self, user: UserId) -> Result<Option<EventId>> {
        let mut connection = self.pool.acquire().await?;
        let horizon = event_horizon(&mut connection).await?;
        let row = sqlx::query("SELECT max(id) FROM events WHERE user_id = $1 AND id <= $2")
            .bind(user.get())
            .bind(horizon)
            .fetch_one(&mut *connection)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(EventId))
    }
}

/// The largest event id at or below which every id is settled: visible now
/// or rolled back for good (migration 29 has the function and why it holds).
/// It waits for the event-writing transactions in flight when it is called,
/// which are a statement and a commit away from their end.
async fn event_horizon(connection: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT steward_event_horizon()").fetch_one(connection).await
}
