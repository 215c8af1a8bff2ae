//! Appending to and reading the event log on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::{Event, EventId, NewEvent, UserId};

use crate::Result;
use crate::events::{EventLog, EventQuery, MAX_PAGE};
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::{self, EVENT_COLUMNS};
use crate::sqlite::writer::Effects;

/// Appends one event in the current transaction.
pub(crate) fn append(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    at: DateTime<Utc>,
    event: impl Into<NewEvent>,
) -> Result<()> {
    let event = event.into();
    let (subject, subject_id) = event.subject();
    let actor = crate::actor::current();
    let mut statement = connection.prepare_cached(
        "INSERT INTO events (user_id, occurred_at, kind, subject, subject_id, data, actor_user_id, actor_token_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    statement.execute(params![
        user.get(),
        to_micros(at),
        event.kind(),
        subject.as_str(),
        subject_id,
        serde_json::to_string(&event.data())?,
        actor.map(|actor| actor.user.get()),
        actor.and_then(|actor| actor.token_id)
    ])?;
    effects.events_appended = true;
    Ok(())
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn list_events(&self, user: UserId, query: EventQuery) -> Result<Vec<Event>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = ?1 AND id > ?2 \
                     AND (?3 IS NULL OR (subject = ?3 AND (?4 IS NULL OR subject_id = ?4))) \
                     AND (?5 IS NULL OR substr(kind, 1, length(?5)) = ?5) \
                     ORDER BY id LIMIT ?6"
                ))?;
                let (subject, subject_id) = match query.subject {
                    Some((subject, id)) => (Some(subject.as_str()), id),
                    None => (None, None),
                };
                let limit = query.limit.clamp(1, MAX_PAGE) as i64;
                let after = query.after.map_or(0, EventId::get);
                let events = statement
                    .query_map(params![user.get(), after, subject, subject_id, query.kind_prefix, limit], rows::event)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(events)
            })
            .await
    }

    async fn latest_event_id(&self, user: UserId) -> Result<Option<EventId>> {
        self.readers
            .read(move |connection| {
                let id: Option<i64> =
                    connection
                        .query_row("SELECT max(id) FROM events WHERE user_id = ?1", [user.get()], |row| row.get(0))?;
                Ok(id.map(EventId))
            })
            .await
    }
}
