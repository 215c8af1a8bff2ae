//! One write transaction: the work of one public operation, the events it
//! records, and the commit that makes both visible together.
//!
//! Event order. Readers follow the log with `id > cursor`, so a reader must
//! never pass an id that becomes visible later: a transaction that took id
//! 10 and commits after the one that took id 11 would be skipped by a reader
//! that already moved its cursor to 11. Ids come from a sequence, which hands
//! them out in call order, not commit order. So the events of a transaction
//! are buffered in memory while it runs and appended by one statement just
//! before COMMIT; that statement first takes an advisory lock of the
//! transaction's own (keyed by the schema and its transaction id, so no
//! other writer ever waits for it) and holds it until the commit has
//! finished. Readers stop at the event horizon (migration 29's function,
//! called by [`crate::events::postgres`]): the largest id drawn when they
//! ask, returned once every writer holding a lock at that moment has ended.
//! A writer locks before it draws, so any id at or below the horizon
//! belongs to a writer that had ended or was waited for: it is visible, or
//! burnt by a rollback for good. Writers commit side by side; a reader
//! waits at most for the commits in flight when it asks, and for a second at
//! most behind a writer that stalled. ARCHITECTURE.md ("Event order on
//! PostgreSQL") has the proof and the designs it replaced.
//!
//! Notifications. `pg_notify` is sent in the same statement, once per
//! channel per transaction, with the schema as payload; PostgreSQL delivers
//! it only if the transaction commits.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool, Postgres};
use steward_domain::{NewEvent, UserId, ValidationError};

use crate::StoreError;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Channel raised when jobs may have become ready.
pub(crate) const JOBS_CHANNEL: &str = "steward_jobs";
/// Channel raised when events were appended.
pub(crate) const EVENTS_CHANNEL: &str = "steward_events";

/// Why the work of a transaction failed: a refusal meant for the caller, or
/// a database error, which may be worth retrying.
#[derive(Debug)]
pub(crate) enum TransactionError {
    Refused(StoreError),
    Database(sqlx::Error),
}

pub(crate) type TransactionResult<T> = std::result::Result<T, TransactionError>;

impl TransactionError {
    /// Errors that a fresh attempt of the whole transaction can resolve: a
    /// deadlock, a serialisation failure, or a unique index that a
    /// concurrent transaction filled first (an idempotency key or agent
    /// name; the retry then finds the row and answers as if it had been
    /// there all along).
    pub fn is_transient(&self) -> bool {
        let TransactionError::Database(sqlx::Error::Database(error)) = self else {
            return false;
        };
        matches!(error.code().as_deref(), Some("40P01" | "40001" | "23505"))
    }

    pub fn into_store_error(self) -> StoreError {
        match self {
            TransactionError::Refused(error) => error,
            TransactionError::Database(error) => error.into(),
        }
    }
}

impl From<sqlx::Error> for TransactionError {
    fn from(error: sqlx::Error) -> Self {
        TransactionError::Database(error)
    }
}

impl From<StoreError> for TransactionError {
    fn from(error: StoreError) -> Self {
        TransactionError::Refused(error)
    }
}

impl From<ValidationError> for TransactionError {
    fn from(error: ValidationError) -> Self {
        TransactionError::Refused(error.into())
    }
}

impl From<serde_json::Error> for TransactionError {
    fn from(error: serde_json::Error) -> Self {
        TransactionError::Refused(error.into())
    }
}

/// What a committed transaction changed that others should hear about.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Effects {
    pub jobs_ready: bool,
    pub events_appended: bool,
}

/// Events recorded by a transaction, column by column, ready to be bound as
/// arrays.
#[derive(Default)]
struct PendingEvents {
    user_ids: Vec<i64>,
    occurred_at: Vec<DateTime<Utc>>,
    kinds: Vec<&'static str>,
    subjects: Vec<&'static str>,
    subject_ids: Vec<i64>,
    data: Vec<Value>,
    actor_user_ids: Vec<Option<i64>>,
    actor_token_ids: Vec<Option<i64>>,
}

/// An open write transaction.
pub(crate) struct Transaction {
    inner: sqlx::Transaction<'static, Postgres>,
    events: PendingEvents,
    jobs_ready: bool,
}

/// How a transaction starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Begin {
    Plain,
    /// For claims: sorting is made a last resort, so the claim walks the
    /// `jobs_ready` index in claim order and stops after the batch. Without
    /// this the planner, trusting statistics taken before a burst of jobs
    /// (say, when the queue was nearly empty), reads every queued job
    /// through another partial index and sorts them all, on every claim —
    /// 10 ms instead of 0.1 ms at 20,000 queued jobs, growing with the
    /// queue, until autovacuum next analyzes the table.
    Claim,
    /// A claim that reports no results. It also commits without waiting for
    /// its WAL to be flushed (`synchronous_commit = off`): if the PostgreSQL
    /// server crashes before the flush, the claim is lost and the job stays
    /// queued, so it runs again — what at-least-once execution already
    /// allows for a worker that crashed. This saves a disk flush on the path
    /// from enqueue to start. Enqueues and results always wait for it.
    ClaimOnly,
    /// Lease renewals: losing one in a server crash at worst lets the lease
    /// expire and the job run again, so they do not wait for the flush either.
    LeaseRenewal,
}

impl Transaction {
    pub async fn begin(pool: &PgPool, begin: Begin) -> Result<Transaction, sqlx::Error> {
        let inner = match begin {
            Begin::Plain => pool.begin().await?,
            // One simple-query message, so no extra round trip.
            Begin::Claim => pool.begin_with("BEGIN; SET LOCAL enable_sort = off").await?,
            Begin::ClaimOnly => {
                pool.begin_with("BEGIN; SET LOCAL enable_sort = off; SET LOCAL synchronous_commit = off").await?
            }
            Begin::LeaseRenewal => pool.begin_with("BEGIN; SET LOCAL synchronous_commit = off").await?,
        };
        Ok(Transaction { inner, events: PendingEvents::default(), jobs_ready: false })
    }

    /// The connection to run statements on.
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.inner
    }

    /// Notes that a job became ready to claim, so workers are woken after
    /// the commit.
    pub fn jobs_became_ready(&mut self) {
        self.jobs_ready = true;
    }

    /// Records an event, appended at commit.
    pub fn record(&mut self, user: UserId, at: DateTime<Utc>, event: impl Into<NewEvent>) {
        let event = event.into();
        let (subject, subject_id) = event.subject();
        let events = &mut self.events;
        events.user_ids.push(user.get());
        events.occurred_at.push(at);
        events.kinds.push(event.kind());
        events.subjects.push(subject.as_str());
        events.subject_ids.push(subject_id);
        events.data.push(event.data());
        let actor = crate::actor::current();
        events.actor_user_ids.push(actor.map(|actor| actor.user.get()));
        events.actor_token_ids.push(actor.and_then(|actor| actor.token_id));
    }

    /// Appends the recorded events (see the module comment for why here and
    /// under the writer lock), sends the notifications, and commits.
    pub async fn commit(mut self) -> Result<Effects, sqlx::Error> {
        let effects = Effects { jobs_ready: self.jobs_ready, events_appended: !self.events.user_ids.is_empty() };
        if effects.events_appended {
            let events = std::mem::take(&mut self.events);
            sqlx::query(APPEND_EVENTS)
                .bind(events.user_ids)
                .bind(events.occurred_at)
                .bind(events.kinds)
                .bind(events.subjects)
                .bind(events.subject_ids)
                .bind(events.data)
                .bind(effects.jobs_ready)
                .bind(events.actor_user_ids)
                .bind(events.actor_token_ids)
                .execute(&mut *self.inner)
                .await?;
        } else if effects.jobs_ready {
            sqlx::query("SELECT pg_notify('steward_jobs', current_schema())").execute(&mut *self.inner).await?;
        }
        self.inner.commit().await?;
        Ok(effects)
    }
}

/// The one statement that appends events, written once for
/// [`APPEND_EVENTS`] and for the statements that are a whole write
/// ([`crate::postgres::write_statement`]): it inserts the rows of `$rows`
/// (a subquery with the events' columns and a `position`) in `position`
/// order, joined to a one-row subquery that first takes the transaction's
/// writer lock (no joined row, and so no event id, exists before it has
/// run, whatever the plan) and sends the notifications, `steward_jobs` only
/// when `$jobs_ready` is true.
macro_rules! append_events {
    ($jobs_ready:literal, $rows:literal) => {
        concat!(
            "INSERT INTO events (user_id, occurred_at, kind, subject, subject_id, data, actor_user_id, \
                                 actor_token_id) \
             SELECT appended.user_id, appended.occurred_at, appended.kind, appended.subject, \
                    appended.subject_id, appended.data, appended.actor_user_id, appended.actor_token_id \
             FROM (SELECT steward_lock_event_writer(), pg_notify('steward_events', current_schema()), \
                          CASE WHEN ",
            $jobs_ready,
            " THEN pg_notify('steward_jobs', current_schema()) END) AS commit_order \
             CROSS JOIN ",
            $rows,
            " ORDER BY appended.position"
        )
    };
}
pub(crate) use append_events;

/// Takes the transaction's writer lock (migration 29 defines it beside the
/// horizon that readers compute from it), notifies, and inserts the buffered
/// events in the order they were recorded, in one round trip. The lock and
/// the notifications sit in a one-row subquery joined to the events: no
/// joined row (and so no `nextval` for an id) exists before that subquery
/// has run, whatever plan is chosen. PostgreSQL evaluates volatile output
/// expressions such as the id default after the ORDER BY, so ids follow
/// `position`.
const APPEND_EVENTS: &str = append_events!(
    "$7",
    "unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[], $6::jsonb[], $8::bigint[], \
            $9::bigint[]) \
     WITH ORDINALITY AS appended(user_id, occurred_at, kind, subject, subject_id, data, actor_user_id, \
                                 actor_token_id, position)"
);
