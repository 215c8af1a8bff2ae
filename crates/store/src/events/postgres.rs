//! Reading the event log on PostgreSQL. Appending happens at commit, in
//! [`crate::postgres::transaction`], which is also where the guarantee that
//! makes `id > cursor` paging safe is explained: every read stops at the
//! event horizon, below which no id can still appear.

use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use sqlx::{PgConnection, Row};
use steward_domain::{Event, EventId, UserId};

use crate::events::{EventLog, EventQuery, MAX_PAGE};
use crate::postgres::PostgresStore;
use crate::postgres::connection::could_be_stored;
use crate::postgres::rows::{self, event_columns};
use crate::{Result, StoreError};

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
        // Behind a stalled writer, the page ends where this node last saw
        // the log settled (nothing new, as far as the reader can tell).
        let horizon = match event_horizon(self, &mut connection).await? {
            Horizon::Settled(horizon) | Horizon::Stalled { last_settled: horizon } => horizon,
        };
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
        let horizon = match event_horizon(self, &mut connection).await? {
            Horizon::Settled(horizon) | Horizon::Stalled { last_settled: horizon @ 1.. } => horizon,
            // "No event yet" would be wrong, and a reader starting there
            // would replay the whole log.
            Horizon::Stalled { last_settled: _ } => return Err(StoreError::Database(STALLED.into())),
        };
        let row = sqlx::query("SELECT max(id) FROM events WHERE user_id = $1 AND id <= $2")
            .bind(user.get())
            .bind(horizon)
            .fetch_one(&mut *connection)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(EventId))
    }
}

/// The horizon, waiting at most a second for event writers in flight. They
/// commit within milliseconds (p99 4.6–6.6 ms through a busy drain,
/// docs/benchmarks.md); one that takes longer has stalled between its last
/// statement and COMMIT.
const EVENT_HORIZON: &str = "SELECT steward_event_horizon(interval '1 second')";

const STALLED: &str = "the event log is held up: a transaction writing events has not committed for over a second";

/// Where reading may stop.
enum Horizon {
    /// Every id at or below this is visible now or rolled back for good.
    Settled(i64),
    /// A writer held its commit past the wait limit; the largest
    /// settled horizon this store has seen still holds (settled ids stay
    /// settled), so reads can stop there instead of waiting on.
    Stalled { last_settled: i64 },
}

/// The largest settled horizon this store has seen (0 before the first).
#[derive(Default)]
struct LastHorizon(AtomicI64);

/// The largest event id at or below which every id is settled: visible now
/// or rolled back for good (migration 29 has the function and why it holds).
/// It waits for the event-writing transactions in flight when it is called,
/// which are a statement and a commit away from their end, but not for one
/// that has stalled: the connection goes back to the pool either way.
async fn event_horizon(store: &PostgresStore, connection: &mut PgConnection) -> Result<Horizon> {
    let horizon: Option<i64> = sqlx::query_scalar(EVENT_HORIZON).fetch_one(connection).await?;
    let last = store.area_state(|_| LastHorizon::default());
    Ok(match horizon {
        Some(horizon) => {
            last.0.fetch_max(horizon, Ordering::Relaxed);
            Horizon::Settled(horizon)
        }
        None => {
            let last_settled = last.0.load(Ordering::Relaxed);
            tracing::warn!(last_settled, "{STALLED}; reading the events up to the last settled id");
            Horizon::Stalled { last_settled }
        }
    })
}
