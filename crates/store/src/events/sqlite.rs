//! Appending to and reading the event log on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, ToSql, params};
use steward_domain::{Event, EventId, NewEvent, UserId};

use crate::Result;
use crate::events::{EventLog, EventQuery, MAX_PAGE};
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::to_micros;
use crate::sqlite::multi_row::{self, ChunkedStatement};
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
    let data = serde_json::to_string(&event.data())?;
    insert_one(connection, user.get(), to_micros(at), event.kind(), subject.as_str(), subject_id, &data)?;
    effects.events_appended = true;
    Ok(())
}

/// Events gathered by one operation and appended by one statement per
/// [`EventBatch::flush`], in the order they were pushed: a claim or a
/// settlement of many jobs appends their events together (a statement per
/// chunk of up to 64 rows, each one update of the `AUTOINCREMENT` counter)
/// rather than one by one.
/// Flush before anything else appends, so ids keep the order of the changes.
#[derive(Default)]
pub(crate) struct EventBatch {
    /// `user, occurred_at, kind, subject, subject_id, data` per event; `data`
    /// is the event's JSON text.
    rows: Vec<(i64, i64, &'static str, &'static str, i64, String)>,
}

impl EventBatch {
    pub fn push(&mut self, user: UserId, at: DateTime<Utc>, event: impl Into<NewEvent>) -> Result<()> {
        let event = event.into();
        let (subject, subject_id) = event.subject();
        let data = serde_json::to_string(&event.data())?;
        self.rows.push((user.get(), to_micros(at), event.kind(), subject.as_str(), subject_id, data));
        Ok(())
    }

    /// Appends the gathered events, oldest first, and empties the batch.
    pub fn flush(&mut self, connection: &Connection, effects: &mut Effects) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let actor = crate::actor::current();
        let actor_user = actor.map(|actor| actor.user.get());
        let actor_token = actor.and_then(|actor| actor.token_id);
        // Chunks in order, each row in order: ids keep the batch's order.
        INSERT_EVENTS.run_in_chunks(
            connection,
            self.rows.len(),
            |row| {
                let (user, at, kind, subject, subject_id, data) = &self.rows[row];
                [user as &dyn ToSql, at, kind, subject, subject_id, data]
            },
            &[&actor_user, &actor_token],
            |statement| {
                statement.raw_execute()?;
                Ok(())
            },
        )?;
        self.rows.clear();
        effects.events_appended = true;
        Ok(())
    }
}

/// A batch's events: six values per row, then the actor's user and token.
static INSERT_EVENTS: ChunkedStatement = ChunkedStatement::new(|rows| {
    format!(
        "INSERT INTO events (user_id, occurred_at, kind, subject, subject_id, data, actor_user_id, actor_token_id) \
         VALUES {}",
        multi_row::values_list(rows, 6, 2)
    )
});

fn insert_one(
    connection: &Connection,
    user: i64,
    at: i64,
    kind: &str,
    subject: &str,
    subject_id: i64,
    data: &str,
) -> Result<()> {
    let actor = crate::actor::current();
    let mut statement = connection.prepare_cached(
        "INSERT INTO events (user_id, occurred_at, kind, subject, subject_id, data, actor_user_id, actor_token_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    statement.execute(params![
        user,
        at,
        kind,
        subject,
        subject_id,
        data,
        actor.map(|actor| actor.user.get()),
        actor.and_then(|actor| actor.token_id)
    ])?;
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
