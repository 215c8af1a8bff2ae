//! The single writer: one thread owns the read-write connection and applies
//! every change. Commands queue up while a transaction commits, and the next
//! transaction takes all of them at once (group commit): under load, hundreds
//! of enqueues, claims and settlements share one commit.
//!
//! Each command runs inside its own savepoint, so a command that fails (bad
//! input, a conflict) is rolled back alone and the others still commit. A
//! caller hears back only after COMMIT, so "Ok" always means "on disk".

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::connection::ManagedConnection;
use crate::actor::{self, Actor};
use crate::wakeups::Wakeups;
use crate::{Result, StoreError};

/// The writer thread's name, as `ps -L`, `perf` and `steward bench queue` see
/// it (Linux keeps 15 bytes of a thread's name).
pub const WRITER_THREAD_NAME: &str = "sqlite-writer";

/// The most commands one transaction takes.
const MAX_GROUP: usize = 512;
/// Commands that may wait for the writer before callers are slowed down.
const QUEUE_DEPTH: usize = 8192;

/// What a transaction's commands changed that others should hear about once
/// it commits.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub jobs_ready: bool,
    pub events_appended: bool,
}

trait Command: Send {
    /// Runs the command; true when it succeeded and its savepoint may be kept.
    fn run(&mut self, connection: &Connection, effects: &mut Effects) -> bool;
    /// Replies to the caller once the fate of the transaction is known.
    fn finish(self: Box<Self>, commit_error: Option<&str>);
}

struct TypedCommand<T, F> {
    work: Option<F>,
    /// Who the change is made for (the sending task's actor).
    actor: Option<Actor>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Command for TypedCommand<T, F>
where
    T: Send,
    F: FnOnce(&Connection, &mut Effects) -> Result<T> + Send,
{
    fn run(&mut self, connection: &Connection, effects: &mut Effects) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result =
            actor::on_writer_thread(self.actor, || catch_unwind(AssertUnwindSafe(|| work(connection, effects))))
                .unwrap_or_else(|_| Err(StoreError::Database("a store command panicked; it was rolled back".into())));
        let succeeded = result.is_ok();
        self.result = Some(result);
        succeeded
    }

    fn finish(self: Box<Self>, commit_error: Option<&str>) {
        let outcome = match (self.result, commit_error) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(_)), Some(error)) | (None, Some(error)) => Err(StoreError::Database(error.to_string())),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(StoreError::Database("the command was not run".into())),
        };
        // The caller may have given up waiting; nothing to do then.
        let _ = self.reply.send(outcome);
    }
}

/// Handle to the writer thread.
pub(crate) struct Writer {
    sender: Mutex<Option<mpsc::Sender<Box<dyn Command>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(connection: ManagedConnection, wakeups: Arc<Wakeups>) -> Result<Writer> {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name(WRITER_THREAD_NAME.into())
            .spawn(move || run(connection, receiver, &wakeups))
            .map_err(|error| StoreError::Database(format!("cannot start the SQLite writer thread: {error}")))?;
        Ok(Writer { sender: Mutex::new(Some(sender)), thread: Mutex::new(Some(thread)) })
    }

    /// Runs `work` in the writer's next transaction and returns its result
    /// once the transaction has committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Effects) -> Result<T> + Send + 'static,
    {
        let sender = self.sender.lock().map_err(|_| StoreError::Closed)?.clone().ok_or(StoreError::Closed)?;
        let (reply, response) = oneshot::channel();
        let command: Box<dyn Command> =
            Box::new(TypedCommand { work: Some(work), actor: actor::current(), result: None, reply });
        sender.send(command).await.map_err(|_| StoreError::Closed)?;
        response.await.map_err(|_| StoreError::Closed)?
    }

    /// Lets queued commands finish, then stops the thread.
    pub async fn close(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut thread| thread.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn run(connection: ManagedConnection, mut receiver: mpsc::Receiver<Box<dyn Command>>, wakeups: &Wakeups) {
    let mut group: Vec<Box<dyn Command>> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = receiver.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(command) => group.push(command),
                Err(_) => break,
            }
        }
        let effects = run_group(&connection, &mut group);
        if let Some(effects) = effects {
            if effects.jobs_ready {
                wakeups.jobs_ready();
            }
            if effects.events_appended {
                wakeups.events_appended();
            }
        }
    }
    // The connection closes here; SQLite checkpoints the WAL on the last close.
}

/// Runs a transaction-control statement, parsed once and cached.
fn control(connection: &Connection, statement: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(statement)?.execute([]).map(drop)
}

/// Runs one group in one transaction. Returns the effects when it committed.
fn run_group(connection: &Connection, group: &mut Vec<Box<dyn Command>>) -> Option<Effects> {
    if let Err(error) = control(connection, "BEGIN IMMEDIATE") {
        let message = format!("cannot begin a transaction: {error}");
        for command in group.drain(..) {
            command.finish(Some(&message));
        }
        return None;
    }
    let mut effects = Effects::default();
    let isolate = group.len() > 1;
    let mut fatal: Option<String> = None;
    for command in group.iter_mut() {
        if isolate && let Err(error) = control(connection, "SAVEPOINT command") {
            fatal = Some(format!("cannot open a savepoint: {error}"));
            break;
        }
        let succeeded = command.run(connection, &mut effects);
        if isolate {
            let end = if succeeded {
                control(connection, "RELEASE command")
            } else {
                control(connection, "ROLLBACK TO command").and_then(|()| control(connection, "RELEASE command"))
            };
            if let Err(error) = end {
                fatal = Some(format!("cannot close a savepoint: {error}"));
                break;
            }
        } else if !succeeded {
            // A lone failed command: roll back its partial work.
            let _ = control(connection, "ROLLBACK");
            for command in group.drain(..) {
                command.finish(None);
            }
            return None;
        }
    }
    let commit_error = match fatal {
        Some(error) => Some(error),
        None => control(connection, "COMMIT").err().map(|error| format!("commit failed: {error}")),
    };
    if commit_error.is_some() && !connection.is_autocommit() {
        let _ = control(connection, "ROLLBACK");
    }
    for command in group.drain(..) {
        command.finish(commit_error.as_deref());
    }
    match commit_error {
        Some(error) => {
            tracing::error!(%error, "SQLite transaction rolled back");
            None
        }
        None => Some(effects),
    }
}
