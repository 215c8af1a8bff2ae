//! Hearing other processes: a task that LISTENs on `steward_jobs` and
//! `steward_events` and turns each notification for this schema into the
//! matching local wake-up, so a worker in one process starts a job enqueued
//! through another at once instead of at its next poll.
//!
//! Notifications are hints, never the source of truth: one lost while the
//! connection was down costs only a poll interval. So after reconnecting the
//! task raises both wake-ups once, in case something happened meanwhile.
//! The task also hears this process's own notifications; a second wake-up
//! for a commit already signalled locally is harmless.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::transaction::{EVENTS_CHANNEL, JOBS_CHANNEL};
use crate::wakeups::Wakeups;
use crate::{Result, StoreError};

const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(100);
const LONGEST_RECONNECT_DELAY: Duration = Duration::from_secs(30);

/// Handle to the listening task; stopping it (or dropping the handle) ends it.
pub(crate) struct NotificationListener {
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl NotificationListener {
    /// Connects and subscribes before returning, so a store that has been
    /// opened already hears every notification sent after that.
    pub async fn start(options: PgConnectOptions, schema: String, wakeups: Arc<Wakeups>) -> Result<Self> {
        let listener = subscribe(&options)
            .await
            .map_err(|error| StoreError::Database(format!("cannot LISTEN for other Steward processes: {error}")))?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(listen(listener, options, schema, wakeups, stopped));
        Ok(NotificationListener { stop: Mutex::new(Some(stop)), task: Mutex::new(Some(task)) })
    }

    /// Ends the task and waits for it to close its connection.
    pub async fn stop(&self) {
        if let Ok(mut stop) = self.stop.lock()
            && let Some(stop) = stop.take()
        {
            let _ = stop.send(());
        }
        let task = self.task.lock().ok().and_then(|mut task| task.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// A listener on its own one-connection pool, subscribed to both channels.
async fn subscribe(options: &PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen_all([JOBS_CHANNEL, EVENTS_CHANNEL]).await?;
    Ok(listener)
}

async fn listen(
    listener: PgListener,
    options: PgConnectOptions,
    schema: String,
    wakeups: Arc<Wakeups>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut connected = Some(listener);
    let mut delay = FIRST_RECONNECT_DELAY;
    loop {
        let mut listener = match connected.take() {
            Some(listener) => listener,
            None => {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(delay) => {}
                }
                match subscribe(&options).await {
                    Ok(listener) => {
                        tracing::info!("listening for other Steward processes again");
                        wake_everything(&wakeups);
                        delay = FIRST_RECONNECT_DELAY;
                        listener
                    }
                    Err(error) => {
                        delay = (delay * 2).min(LONGEST_RECONNECT_DELAY);
                        tracing::warn!(%error, retry_in = ?delay, "cannot LISTEN for other Steward processes");
                        continue;
                    }
                }
            }
        };
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) if notification.payload() == schema => match notification.channel() {
                        JOBS_CHANNEL => wakeups.jobs_ready(),
                        EVENTS_CHANNEL => wakeups.events_appended(),
                        _ => {}
                    },
                    // Another schema's installation in the same database.
                    Ok(Some(_)) => {}
                    // The connection dropped and sqlx reconnected it;
                    // notifications sent in between are lost.
                    Ok(None) => {
                        tracing::info!("the LISTEN connection was lost and re-established");
                        wake_everything(&wakeups);
                    }
                    Err(error) => {
                        tracing::warn!(%error, retry_in = ?delay, "lost the LISTEN connection");
                        break;
                    }
                },
            }
        }
    }
}

fn wake_everything(wakeups: &Wakeups) {
    wakeups.jobs_ready();
    wakeups.events_appended();
}
