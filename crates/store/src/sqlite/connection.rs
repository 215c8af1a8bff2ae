//! Opening SQLite connections with Steward's settings, and converting times.
//!
//! Durability: WAL with `synchronous=NORMAL`. A committed transaction
//! survives a crash of the process (`kill -9`); a power loss or OS crash can
//! lose the transactions committed since the last WAL checkpoint sync, but
//! never corrupts the database. See docs/benchmarks.md for what this buys.

use std::ops::Deref;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// How long a connection waits for a lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Serialises opening and closing SQLite connections in this process.
///
/// SQLite 3.51.1 — the version bundled by libsqlite3-sys 0.36, which sqlx
/// 0.9 pins — can deadlock in its unix VFS when the last connection to a
/// WAL database closes while another connection to the same file opens or
/// closes on another thread: `unixLock` holds the file's `pLockMutex` and
/// calls `unixIsSharingShmNode`, which takes the global `unixBigLock`, the
/// reverse of the order `unixClose` uses (rusqlite issue #1860; fixed in
/// later SQLite releases). Steward opens and closes connections only at
/// start-up and shutdown, so one lock around both costs nothing and makes
/// the inversion impossible.
static LIFECYCLE: Mutex<()> = Mutex::new(());

/// A connection whose opening and closing hold [`LIFECYCLE`].
pub(crate) struct ManagedConnection(Option<Connection>);

impl Deref for ManagedConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match &self.0 {
            Some(connection) => connection,
            // The connection is taken only in `drop`, after which nothing
            // can dereference it.
            None => unreachable!("a ManagedConnection is used after it was closed"),
        }
    }
}

impl Drop for ManagedConnection {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take() {
            let _lifecycle = LIFECYCLE.lock().unwrap_or_else(PoisonError::into_inner);
            drop(connection);
        }
    }
}

/// Opens the read-write connection used by the single writer.
pub(crate) fn open_writer(path: &Path) -> Result<ManagedConnection, StoreError> {
    let _lifecycle = LIFECYCLE.lock().unwrap_or_else(PoisonError::into_inner);
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| StoreError::Database(format!("cannot open {}: {error}", path.display())))?;
    configure(&connection)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    // Checkpoints run on their own thread (see checkpointer.rs), never in
    // the middle of the writer's commit.
    connection.pragma_update(None, "wal_autocheckpoint", 0)?;
    // After a checkpoint lets the WAL restart, truncate the file to this size
    // so a burst does not leave a huge WAL on disk for good.
    connection.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    Ok(ManagedConnection(Some(connection)))
}

/// Opens the connection that checkpoints the WAL.
pub(crate) fn open_checkpointer(path: &Path) -> Result<ManagedConnection, StoreError> {
    let _lifecycle = LIFECYCLE.lock().unwrap_or_else(PoisonError::into_inner);
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|error| StoreError::Database(format!("cannot open {}: {error}", path.display())))?;
    configure(&connection)?;
    Ok(ManagedConnection(Some(connection)))
}

/// Opens a connection that may only read.
pub(crate) fn open_reader(path: &Path) -> Result<ManagedConnection, StoreError> {
    let _lifecycle = LIFECYCLE.lock().unwrap_or_else(PoisonError::into_inner);
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|error| StoreError::Database(format!("cannot open {}: {error}", path.display())))?;
    configure(&connection)?;
    connection.pragma_update(None, "query_only", true)?;
    Ok(ManagedConnection(Some(connection)))
}

fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    // 8 MiB of page cache per connection (negative means KiB). Larger caches
    // cost more at every commit (the pager scans its hash of cached pages).
    connection.pragma_update(None, "cache_size", -8_192)?;
    connection.set_prepared_statement_cache_capacity(128);
    // Plans never depend on the values bound (the query planner stability
    // guarantee). Without it SQLite marks a statement whose plan could change
    // with a bound value (say, whether a partial index applies) and prepares
    // it again each time that value is bound: the claim statement was
    // re-prepared on every claim, about a tenth of the writer's time
    // (docs/benchmarks.md). Statements that need a partial index state its
    // condition in their text instead.
    connection.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// A connection configured as the store's own, in memory, with every
/// migration applied: for unit tests of statements and their plans.
#[cfg(test)]
pub(crate) fn migrated_in_memory() -> Connection {
    let connection = Connection::open_in_memory().unwrap_or_else(|error| panic!("{error}"));
    configure(&connection).unwrap_or_else(|error| panic!("{error}"));
    for migration in crate::migrations::SQLITE {
        connection.execute_batch(migration.sql).unwrap_or_else(|error| panic!("{}: {error}", migration.name));
    }
    connection
}

/// Microseconds since the Unix epoch, the storage form of a time.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn from_micros(micros: i64) -> DateTime<Utc> {
    // Every stored value was produced by `to_micros`, so it is in range; the
    // epoch is a visible rather than a crashing fallback for a corrupt row.
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// A stored millisecond count (never negative) as a duration.
pub(crate) fn millis(stored: i64) -> Duration {
    Duration::from_millis(u64::try_from(stored).unwrap_or(0))
}
