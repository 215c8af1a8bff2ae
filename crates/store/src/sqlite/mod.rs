//! The embedded SQLite backend's connection plumbing: one writer thread
//! with group commit ([`writer`]), a pool of read-only connections
//! ([`readers`]), WAL checkpoints, and the row readers every area shares.
//! The operations themselves, written in SQLite's dialect, live with their
//! area: `crate::<area>::sqlite` (agents, actions, runs, jobs, …).
//!
//! Architecture invariant: one process owns a SQLite database. It takes an
//! exclusive lock on `<database>.lock` at open, which is what allows it to
//! treat every `running` job found at start-up as abandoned.

pub mod backup;
mod checkpointer;
pub(crate) mod connection;
pub(crate) mod multi_row;
pub(crate) mod readers;
pub(crate) mod rows;
pub(crate) mod runtime_rows;
pub(crate) mod writer;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use steward_domain::Clock;

use self::checkpointer::Checkpointer;
use self::readers::ReadPool;
pub use self::writer::WRITER_THREAD_NAME;
use self::writer::Writer;
use crate::migrations::{self, MigrationReport};
use crate::wakeups::Wakeups;
use crate::{DatabaseKind, QueueSettings, Result, Store, StoreError, StoreOptions};

/// How many read-only connections to keep.
const READERS: usize = 4;

pub struct SqliteStore {
    pub(crate) path: PathBuf,
    pub(crate) writer: Writer,
    pub(crate) readers: ReadPool,
    pub(crate) checkpointer: Arc<Checkpointer>,
    pub(crate) wakeups: Arc<Wakeups>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: QueueSettings,
    /// Held for the life of the store; the OS releases it if the process dies.
    _process_lock: File,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub async fn open(path: &Path, options: StoreOptions) -> Result<SqliteStore> {
        let path = path.to_path_buf();
        let (connection, process_lock) = tokio::task::spawn_blocking({
            let path = path.clone();
            move || -> Result<_> {
                if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|error| {
                        StoreError::Database(format!("cannot create {}: {error}", parent.display()))
                    })?;
                }
                let process_lock = lock_exclusively(&path)?;
                Ok((connection::open_writer(&path)?, process_lock))
            }
        })
        .await
        .map_err(|error| StoreError::Database(error.to_string()))??;
        let wakeups = Arc::new(Wakeups::default());
        let writer = Writer::start(connection, wakeups.clone())?;
        Ok(SqliteStore {
            checkpointer: Checkpointer::start(&path)?,
            writer,
            readers: ReadPool::new(path.clone(), READERS),
            path,
            wakeups,
            clock: options.clock,
            settings: options.queue,
            _process_lock: process_lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// Takes the lock that says one process owns the database at `database`
/// (held until the file is dropped); refused while another process holds it.
pub fn lock_exclusively(database: &Path) -> Result<File> {
    let mut lock_path = database.as_os_str().to_owned();
    lock_path.push(".lock");
    let file =
        OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|error| {
            StoreError::Database(format!("cannot open {}: {error}", Path::new(&lock_path).display()))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Database(format!(
            "{} is in use by another Steward process; stop it first (SQLite databases belong to one process — use PostgreSQL to run several)",
            database.display()
        ))),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(StoreError::Database(format!("cannot lock {}: {error}", Path::new(&lock_path).display())))
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> DatabaseKind {
        DatabaseKind::Sqlite
    }

    fn wakeups(&self) -> &Wakeups {
        &self.wakeups
    }

    async fn migrate(&self) -> Result<MigrationReport> {
        let now = self.now();
        self.writer
            .write(move |connection, _effects| {
                connection.execute_batch(
                    "CREATE TABLE IF NOT EXISTS steward_migrations (
                         version INTEGER PRIMARY KEY,
                         name TEXT NOT NULL,
                         checksum TEXT NOT NULL,
                         applied_at INTEGER NOT NULL
                     ) STRICT",
                )?;
                let applied: Vec<(i64, String)> = connection
                    .prepare("SELECT version, checksum FROM steward_migrations ORDER BY version")?
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut report =
                    MigrationReport { applied: Vec::new(), version: applied.last().map_or(0, |(version, _)| *version) };
                for migration in migrations::pending(migrations::SQLITE, &applied)? {
                    connection.execute_batch(migration.sql).map_err(|error| {
                        StoreError::Migration(format!("{} ({}): {error}", migration.version, migration.name))
                    })?;
                    connection.execute(
                        "INSERT INTO steward_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
                        rusqlite::params![
                            migration.version,
                            migration.name,
                            migration.checksum(),
                            connection::to_micros(now)
                        ],
                    )?;
                    report.applied.push((migration.version, migration.name.to_string()));
                    report.version = migration.version;
                }
                Ok(report)
            })
            .await
    }

    async fn close(&self) {
        self.readers.close();
        let checkpointer = self.checkpointer.clone();
        let _ = tokio::task::spawn_blocking(move || checkpointer.stop()).await;
        self.writer.close().await;
    }
}
