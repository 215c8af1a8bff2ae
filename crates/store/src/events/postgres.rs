//! Reading the event log on PostgreSQL. Appending happens at commit, in
//! [`crate::postgres::transaction`], which is also where the commit-order guarantee
//! that makes `id > cursor` paging safe is explained.

use async_trait::async_trait;
use sqlx::Row;
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
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE user_id = $1 AND id > $2 \
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
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(rows::event).collect::<Result<_, _>>()?)
    }

    async fn latest_event_id(&self, user: UserId) -> Result<Option<EventId>> {
        let row =
            sqlx::query("SELECT max(id) FROM events WHERE user_id = $1").bind(user.get()).fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(EventId))
    }
}
