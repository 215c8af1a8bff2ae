//! The PostgreSQL backend: the same behaviour as [`crate::sqlite`], for any
//! number of Steward processes sharing one database. This module holds the
//! connection plumbing (pool, transactions, listener, scratch schemas, row
//! readers); the operations, in PostgreSQL's dialect, live with their area:
//! `crate::<area>::postgres`.
//!
//! Every public operation is one transaction ([`transaction`]), retried as a
//! whole when PostgreSQL reports a deadlock, a serialisation failure or a
//! unique index filled by a concurrent transaction. Times come from the
//! injected clock, never from `now()`, so a manual clock drives both
//! backends alike. Rows that an operation reads in order to change are
//! locked (`FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`), and claims skip
//! rows other workers hold (`SKIP LOCKED`); what each lock prevents is said
//! where it is taken.
//!
//! Architecture invariant: several processes may use one schema at once.
//! Nothing here assumes this process is the only writer; cross-process
//! coordination goes through row locks, advisory locks keyed by schema, and
//! LISTEN/NOTIFY ([`listener`]).

pub mod connection;
mod listener;
pub(crate) mod rows;
pub(crate) mod runtime_rows;
pub mod scratch;
pub(crate) mod transaction;

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::Rng;
use sqlx::{PgConnection, PgPool};
use steward_domain::Clock;

use self::listener::NotificationListener;
use self::transaction::{Begin, BoxFuture, Effects, Transaction, TransactionResult};
use crate::migrations::{self, MigrationReport};
use crate::wakeups::Wakeups;
use crate::{DatabaseKind, QueueSettings, Result, Store, StoreError, StoreOptions};

/// How many times an operation runs before a transient failure (deadlock,
/// serialisation failure, lost race on a unique index) is reported.
const MAX_TRANSACTION_ATTEMPTS: u32 = 8;

pub struct PostgresStore {
    pub(crate) pool: PgPool,
    pub(crate) wakeups: Arc<Wakeups>,
    pub(crate) listener: NotificationListener,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: QueueSettings,
    /// What an area keeps for the life of the store, one value per type,
    /// made at first use (the enqueue committers of `jobs::postgres`); held
    /// here as `Any` so this plumbing names no area.
    areas: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
}

impl PostgresStore {
    /// Connects (without migrating) and starts listening for other
    /// processes' notifications; the entry point of [`crate::open`].
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Arc<dyn Store>> {
        Ok(Arc::new(PostgresStore::open(url, options).await?))
    }

    pub async fn open(url: &str, options: StoreOptions) -> Result<PostgresStore> {
        let connect_options = connection::connect_options(url)?;
        let pool = connection::connect_pool(connect_options.clone(), options.postgres_max_connections).await?;
        let schema = connection::current_schema(&pool).await?;
        let wakeups = Arc::new(Wakeups::default());
        let listener = NotificationListener::start(connect_options, schema, wakeups.clone()).await?;
        Ok(PostgresStore {
            pool,
            wakeups,
            listener,
            clock: options.clock,
            settings: options.queue,
            areas: Mutex::new(Vec::new()),
        })
    }

    /// The area's value of type `T`, made by `make` the first time.
    pub(crate) fn area_state<T: Any + Send + Sync>(&self, make: impl FnOnce(&PostgresStore) -> T) -> Arc<T> {
        let mut areas = self.areas.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(found) = areas.iter().find_map(|state| state.clone().downcast::<T>().ok()) {
            return found;
        }
        let made = Arc::new(make(self));
        areas.push(made.clone());
        made
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs `work` in a transaction and commits it, then raises the local
    /// wake-ups. Transient failures roll back and run `work` again from the
    /// start (so it must take everything it needs by value or clone it).
    pub(crate) async fn write<T, F>(&self, begin: Begin, work: F) -> Result<T>
    where
        T: Send,
        F: for<'t> FnMut(&'t mut Transaction) -> BoxFuture<'t, TransactionResult<T>> + Send,
    {
        write(&self.pool, &self.wakeups, begin, work).await
    }
}

/// [`PostgresStore::write`] for tasks that hold the pool and wake-ups rather
/// than the store (the enqueue committers of `jobs::postgres`).
pub(crate) async fn write<T, F>(pool: &PgPool, wakeups: &Wakeups, begin: Begin, mut work: F) -> Result<T>
where
    T: Send,
    F: for<'t> FnMut(&'t mut Transaction) -> BoxFuture<'t, TransactionResult<T>> + Send,
{
    let mut attempt = 1;
    loop {
        let mut transaction = Transaction::begin(pool, begin).await?;
        let outcome = match work(&mut transaction).await {
            Ok(value) => transaction.commit().await.map(|effects| (value, effects)).map_err(Into::into),
            // Dropping the transaction rolls it back.
            Err(error) => Err(error),
        };
        if let Some(done) = finish_attempt(wakeups, outcome, &mut attempt).await {
            return done;
        }
    }
}

/// Runs a write that is one statement, sent outside any `BEGIN`: PostgreSQL
/// makes the statement its own transaction and commits it before answering,
/// so the write costs one round trip instead of the three or more of
/// [`write`] (`BEGIN`, the statements, the event append, `COMMIT`), each of
/// which an operation's caller waits for. `effects` says what the statement
/// changes, for the local wake-ups once it has answered; a statement that
/// appends events does so with [`transaction::append_events`], which takes
/// the writer lock and notifies other nodes as [`Transaction::commit`] does.
/// Retried as a whole on the same transient failures as [`write`].
pub(crate) async fn write_statement<T, F>(pool: &PgPool, wakeups: &Wakeups, effects: Effects, mut run: F) -> Result<T>
where
    T: Send,
    F: for<'c> FnMut(&'c mut PgConnection) -> BoxFuture<'c, TransactionResult<T>> + Send,
{
    let mut attempt = 1;
    loop {
        let mut connection = pool.acquire().await?;
        let outcome = run(&mut connection).await.map(|value| (value, effects));
        if let Some(done) = finish_attempt(wakeups, outcome, &mut attempt).await {
            return done;
        }
    }
}

/// What one attempt of a write comes to: committed (the local wake-ups its
/// effects name are raised), failed for good, or `None` after a short
/// random pause when a transient failure is worth another attempt. The
/// pause grows with the attempts, so two transactions that deadlocked do
/// not collide again.
async fn finish_attempt<T>(
    wakeups: &Wakeups,
    outcome: TransactionResult<(T, Effects)>,
    attempt: &mut u32,
) -> Option<Result<T>> {
    match outcome {
        Ok((value, effects)) => {
            if effects.jobs_ready {
                wakeups.jobs_ready();
            }
            if effects.events_appended {
                wakeups.events_appended();
            }
            Some(Ok(value))
        }
        Err(error) if error.is_transient() && *attempt < MAX_TRANSACTION_ATTEMPTS => {
            tracing::debug!(?error, attempt, "transient PostgreSQL failure; running the write again");
            let pause_micros = rand::rng().random_range(0..500 * u64::from(*attempt));
            tokio::time::sleep(Duration::from_micros(pause_micros)).await;
            *attempt += 1;
            None
        }
        Err(error) => Some(Err(error.into_store_error())),
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn kind(&self) -> DatabaseKind {
        DatabaseKind::Postgres
    }

    fn wakeups(&self) -> &Wakeups {
        &self.wakeups
    }

    async fn migrate(&self) -> Result<MigrationReport> {
        let now = self.now();
        let mut transaction = self.pool.begin().await?;
        // Several nodes may start at once: the first to get the lock
        // migrates, the others wait and then find nothing pending. The lock
        // comes before CREATE TABLE IF NOT EXISTS, which is not safe to run
        // concurrently on its own.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('steward.migrate.' || current_schema(), 0))")
            .execute(&mut *transaction)
            .await?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS steward_migrations (
                 version BIGINT PRIMARY KEY,
                 name TEXT NOT NULL,
                 checksum TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL
             )",
        )
        .execute(&mut *transaction)
        .await?;
        let applied: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, checksum FROM steward_migrations ORDER BY version")
                .fetch_all(&mut *transaction)
                .await?;
        let mut report =
            MigrationReport { applied: Vec::new(), version: applied.last().map_or(0, |(version, _)| *version) };
        for migration in migrations::pending(migrations::POSTGRES, &applied)? {
            sqlx::raw_sql(migration.sql).execute(&mut *transaction).await.map_err(|error| {
                StoreError::Migration(format!("{} ({}): {error}", migration.version, migration.name))
            })?;
            sqlx::query("INSERT INTO steward_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                .bind(migration.version)
                .bind(migration.name)
                .bind(migration.checksum())
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            report.applied.push((migration.version, migration.name.to_string()));
            report.version = migration.version;
        }
        transaction.commit().await?;
        Ok(report)
    }

    async fn close(&self) {
        self.listener.stop().await;
        self.pool.close().await;
    }
}
