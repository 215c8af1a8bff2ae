//! Copying a SQLite database while a server uses it, and checking a copy
//! before it replaces one.
//!
//! The copy is SQLite's online backup API run in one step: one read
//! transaction over the whole database, which in WAL mode neither blocks
//! the server's writer nor sees any of its later commits, so the copy is the
//! database as of one instant. It needs no Steward lock: the owning process
//! (`<database>.lock`) keeps writing while another process reads.

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::{Result, StoreError, migrations};

/// How many times a copy that found the database busy is tried again.
const BUSY_ATTEMPTS: u32 = 50;

/// What a copy holds, as read from the copy itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSummary {
    /// The newest migration applied to it.
    pub schema_version: i64,
    /// Rows of the tables a person recognises, by table name.
    pub counts: Vec<(&'static str, i64)>,
}

/// The tables whose row counts a backup reports.
const COUNTED: &[&str] = &["users", "agents", "actions", "runs", "jobs", "schedules", "routines", "events"];

/// Copies the database at `source` to a new file `destination` (which
/// must not exist) as of one instant, while other processes may write to
/// it, then checks the copy.
pub fn snapshot(source: &Path, destination: &Path) -> Result<DatabaseSummary> {
    if !source.exists() {
        return Err(StoreError::Database(format!("there is no database at {}", source.display())));
    }
    if destination.exists() {
        return Err(StoreError::Database(format!("{} exists already", destination.display())));
    }
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|error| StoreError::Database(format!("cannot open {}: {error}", source.display())))?;
    from.busy_timeout(Duration::from_secs(5))?;
    let mut to = Connection::open(destination)
        .map_err(|error| StoreError::Database(format!("cannot create {}: {error}", destination.display())))?;
    {
        let backup = Backup::new(&from, &mut to)?;
        let mut attempts = 0;
        // All pages in one step: one read transaction, so one instant.
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => continue,
                StepResult::Busy | StepResult::Locked if attempts < BUSY_ATTEMPTS => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                StepResult::Busy | StepResult::Locked => {
                    return Err(StoreError::Database(format!(
                        "{} stayed locked for {BUSY_ATTEMPTS} attempts",
                        source.display()
                    )));
                }
                // StepResult is non-exhaustive; a future variant is not success.
                other => return Err(StoreError::Database(format!("the copy stopped: {other:?}"))),
            }
        }
    }
    // The copy has the source's WAL mode; a backup file is one file.
    to.pragma_update(None, "journal_mode", "DELETE")?;
    drop(to);
    verify(destination)
}

/// Checks that the file at `path` is a whole, uncorrupted Steward database
/// this version can open: `PRAGMA integrity_check` answers `ok`, and its
/// migrations are ones this binary knows.
pub fn verify(path: &Path) -> Result<DatabaseSummary> {
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|error| StoreError::Database(format!("cannot open {}: {error}", path.display())))?;
    let problems: Vec<String> = connection
        .prepare("PRAGMA integrity_check(20)")
        .and_then(|mut statement| {
            statement.query_map([], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|error| StoreError::Database(format!("{} is not a SQLite database: {error}", path.display())))?;
    if problems != ["ok"] {
        return Err(StoreError::Database(format!(
            "{} failed SQLite's integrity check: {}",
            path.display(),
            problems.join("; ")
        )));
    }
    let applied: Vec<(i64, String)> = connection
        .prepare("SELECT version, checksum FROM steward_migrations ORDER BY version")
        .and_then(|mut statement| {
            statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|_| {
            StoreError::Database(format!("{} is not a Steward database (no migrations table)", path.display()))
        })?;
    let known = migrations::SQLITE.last().map_or(0, |migration| migration.version);
    let schema_version = applied.last().map_or(0, |(version, _)| *version);
    if schema_version > known {
        return Err(StoreError::Database(format!(
            "{} is at schema version {schema_version}, newer than this Steward knows ({known}); restore it with a \
             newer steward",
            path.display()
        )));
    }
    // Checksums of the migrations it has must match ours, as at start-up.
    migrations::pending(migrations::SQLITE, &applied)?;
    let mut counts = Vec::new();
    for table in COUNTED {
        let count: i64 = connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0))
            .map_err(|error| StoreError::Database(format!("{}: table {table}: {error}", path.display())))?;
        counts.push((*table, count));
    }
    Ok(DatabaseSummary { schema_version, counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_of_something_else_is_refused_naming_the_problem() {
        let directory = tempfile::tempdir().unwrap();
        let not_sqlite = directory.path().join("notes.db");
        std::fs::write(&not_sqlite, "hello, this is not a database at all, but it is long enough to look like one")
            .unwrap();
        let error = verify(&not_sqlite).unwrap_err().to_string();
        assert!(error.contains("not a SQLite database"), "{error}");

        let foreign = directory.path().join("foreign.db");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let error = verify(&foreign).unwrap_err().to_string();
        assert!(error.contains("not a Steward database"), "{error}");
    }
}
