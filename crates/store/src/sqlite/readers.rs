//! A small pool of read-only connections. WAL lets them read while the writer
//! writes; each read runs on tokio's blocking threads.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::Connection;
use tokio::sync::Semaphore;

use super::connection::{ManagedConnection, open_reader};
use crate::{Result, StoreError};

pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<ManagedConnection>>,
    permits: Semaphore,
}

impl ReadPool {
    pub fn new(path: PathBuf, size: usize) -> ReadPool {
        ReadPool { path, idle: Mutex::new(Vec::with_capacity(size)), permits: Semaphore::new(size.max(1)) }
    }

    /// Runs `work` on a read-only connection.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|_| StoreError::Closed)?;
        let idle = self.idle.lock().map_err(|_| StoreError::Closed)?.pop();
        let connection = match idle {
            Some(connection) => connection,
            // Opened lazily; also replaces a connection lost to a panic.
            None => open_reader(&self.path)?,
        };
        let (connection, result) = tokio::task::spawn_blocking(move || {
            let result = work(&connection);
            (connection, result)
        })
        .await
        .map_err(|error| StoreError::Database(format!("a read task failed: {error}")))?;
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(connection);
        }
        result
    }

    pub fn close(&self) {
        self.permits.close();
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }
}
