//! Moves WAL checkpoints off the writer. SQLite's automatic checkpoint runs
//! inside the committing transaction every 1,000 WAL pages, copying pages
//! and syncing files while every enqueue and claim waits behind it; that was
//! the queue's p99 latency. The writer disables it, and this thread runs a
//! PASSIVE checkpoint on its own connection instead, which proceeds
//! alongside writers (WAL lets it copy committed frames while new ones are
//! appended).

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::connection::open_checkpointer;
use crate::{Result, StoreError};

/// How often the WAL is folded back into the database file.
const INTERVAL: Duration = Duration::from_millis(500);

pub(crate) struct Checkpointer {
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> Result<Arc<Checkpointer>> {
        let connection = open_checkpointer(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpnt".into())
            .spawn(move || {
                // Anything but a timeout means stopped, or the store was dropped.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    let result = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
                    });
                    if let Err(error) = result {
                        tracing::warn!(%error, "WAL checkpoint failed; will try again");
                    }
                }
            })
            .map_err(|error| StoreError::Database(format!("cannot start the SQLite checkpoint thread: {error}")))?;
        Ok(Arc::new(Checkpointer { stop: Mutex::new(Some(stop)), thread: Mutex::new(Some(thread)) }))
    }

    /// Stops the thread and waits for it (its connection closes on it).
    pub fn stop(&self) {
        if let Ok(mut stop) = self.stop.lock() {
            stop.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut thread| thread.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}
