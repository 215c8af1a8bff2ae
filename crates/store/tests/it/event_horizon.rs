//! Event order on PostgreSQL without a commit queue: a transaction that drew
//! an event id and has not committed yet holds back every reader, so no
//! reader passes its id while a larger one is already visible. The slow
//! writer is made by hand: a trigger on `events` holds the transaction that
//! appends a `job.cancelled` event at a gate the test opens, after its ids
//! are drawn and before its commit. Other writers are never held back by it,
//! and readers only for a while (a second), never past its event.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use steward_domain::{EventId, Job};
use steward_store::{DatabaseUrl, EventQuery, Store};
use steward_test_support::TestDatabase;
use tokio::task::JoinHandle;

use crate::helpers::{USER, noop};
use crate::shared_database::{PATIENCE, two_nodes};

/// Makes the `job.cancelled` event's transaction wait, inside its event
/// append, for a session lock on the gate key, and returns that key.
async fn gate_cancellations(connection: &mut PgConnection) -> i64 {
    sqlx::raw_sql(
        "CREATE FUNCTION wait_at_the_gate() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
             PERFORM pg_advisory_xact_lock_shared(hashtextextended('test.gate.' || current_schema(), 0)); \
             RETURN NULL; \
         END $$; \
         CREATE TRIGGER held_at_the_gate AFTER INSERT ON events \
             FOR EACH ROW WHEN (NEW.kind = 'job.cancelled') EXECUTE FUNCTION wait_at_the_gate();",
    )
    .execute(&mut *connection)
    .await
    .unwrap();
    sqlx::query_scalar("SELECT hashtextextended('test.gate.' || current_schema(), 0)")
        .fetch_one(connection)
        .await
        .unwrap()
}

/// How many lock requests in this schema wait: `(at the gate, for an event
/// writer)`.
async fn waiting(connection: &mut PgConnection, gate: i64) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE objsubid = 1 AND classid = ($1 >> 32 & 4294967295)::oid \
                                        AND objid = ($1 & 4294967295)::oid), \
                count(*) FILTER (WHERE objsubid = 2 \
                                        AND classid = steward_event_namespace()::bigint::bit(32)::bigint::oid) \
         FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
    )
    .bind(gate)
    .fetch_one(connection)
    .await
    .unwrap()
}

/// Two nodes with a cancellation held at the gate after drawing its event
/// id, and a later event committed by the other node meanwhile.
struct Stalled {
    first: Arc<dyn Store>,
    second: Arc<dyn Store>,
    admin: PgConnection,
    keeper: PgConnection,
    gate: i64,
    /// The last event before the cancellation, read on `first`.
    cursor: Option<EventId>,
    cancelling: JoinHandle<steward_store::Result<Job>>,
    later: EventId,
    /// Last, so a failed assertion drops the gate's keeper (and lets the
    /// held writer finish) before the schema is dropped.
    _database: TestDatabase,
}

async fn stall_a_cancellation() -> Option<Stalled> {
    let (database, first, second) = two_nodes().await?;
    let DatabaseUrl::Postgres(url) = &database.url else { unreachable!("two_nodes is PostgreSQL") };
    let mut admin = PgConnection::connect(url).await.unwrap();
    let gate = gate_cancellations(&mut admin).await;

    let slow = first.enqueue(USER, vec![noop()]).await.unwrap().remove(0).job;
    let cursor = first.latest_event_id(USER).await.unwrap();

    // Close the gate, then cancel: the cancellation draws its event id and
    // stops at the gate, before its commit.
    let mut keeper = PgConnection::connect(url).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)").bind(gate).execute(&mut keeper).await.unwrap();
    let cancelling = tokio::spawn({
        let first = first.clone();
        async move { first.cancel_job(USER, slow.id).await }
    });
    wait_until(&mut admin, gate, |(at_gate, _)| at_gate == 1).await;

    // Another node writes and commits an event after it, undisturbed.
    let later = second.enqueue(USER, vec![noop()]).await.unwrap().remove(0).job;
    let later_events = second.job_events(USER, later.id).await.unwrap();
    assert_eq!(later_events.len(), 1, "the later enqueue committed while the cancellation was held");
    Some(Stalled {
        first,
        second,
        admin,
        keeper,
        gate,
        cursor,
        cancelling,
        later: later_events[0].id,
        _database: database,
    })
}

impl Stalled {
    /// Opens the gate and returns the cancellation's event id.
    async fn release(&mut self) -> EventId {
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(self.gate).execute(&mut self.keeper).await.unwrap();
        let cancelled = (&mut self.cancelling).await.unwrap().unwrap();
        let events = self.first.job_events(USER, cancelled.id).await.unwrap();
        let cancel_event = events.last().unwrap();
        assert_eq!(cancel_event.kind, "job.cancelled");
        assert!(cancel_event.id < self.later, "the held event's id is the smaller one");
        cancel_event.id
    }

    async fn page_after(&self, store: &dyn Store, after: Option<EventId>) -> Vec<EventId> {
        let page = store.list_events(USER, EventQuery { after, ..EventQuery::default() }).await.unwrap();
        page.iter().map(|event| event.id).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_wait_for_an_event_written_before_one_they_can_already_see() {
    let Some(mut stalled) = stall_a_cancellation().await else { return };

    // Both ways of reading the log wait for the held writer.
    let reading = tokio::spawn({
        let (second, after) = (stalled.second.clone(), stalled.cursor);
        async move { second.list_events(USER, EventQuery { after, ..EventQuery::default() }).await }
    });
    let latest = tokio::spawn({
        let second = stalled.second.clone();
        async move { second.latest_event_id(USER).await }
    });
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (_, readers_waiting) = waiting(&mut stalled.admin, stalled.gate).await;
        if readers_waiting == 2 {
            break;
        }
        assert!(
            !reading.is_finished() && !latest.is_finished(),
            "a reader answered while an event id below one it could see was still being written"
        );
        assert!(tokio::time::Instant::now() < deadline, "the readers never got to wait");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let cancel_event = stalled.release().await;
    let page: Vec<EventId> = reading.await.unwrap().unwrap().iter().map(|event| event.id).collect();
    let latest = latest.await.unwrap();
    // The gate opens within milliseconds of the readers' waiting, well
    // inside their wait limit; on a machine slow enough to pass it, they
    // answer as behind a stalled writer (the next test), never with the
    // later event alone.
    if page.is_empty() {
        assert!(latest.is_err(), "{latest:?}");
    } else {
        assert_eq!(page, [cancel_event, stalled.later], "the reader saw both, in id order");
        assert_eq!(latest.unwrap(), Some(stalled.later));
    }
    let page = stalled.page_after(stalled.second.as_ref(), stalled.cursor).await;
    assert_eq!(page, [cancel_event, stalled.later], "a read after the commit sees both, in id order");
}

/// A writer that never commits (a node frozen mid-commit) holds readers
/// back, but not for ever, and never lets them past its event: a read gives
/// up after its wait limit and stops where its node last saw the log
/// settled; a node that never saw it settled refuses to name the latest id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_writer_holds_readers_back_but_does_not_hang_them() {
    let Some(mut stalled) = stall_a_cancellation().await else { return };
    let (first, second) = (stalled.first.clone(), stalled.second.clone());

    let (from_the_start, latest_on_first, latest_on_second) = tokio::join!(
        stalled.page_after(first.as_ref(), None),
        first.latest_event_id(USER),
        second.latest_event_id(USER)
    );
    assert_eq!(
        from_the_start.last().copied(),
        stalled.cursor,
        "the first node reads up to where it last saw the log settled, and not past the held event"
    );
    assert_eq!(latest_on_first.unwrap(), stalled.cursor);
    let refused = latest_on_second.unwrap_err().to_string();
    assert!(refused.contains("has not committed for over a second"), "{refused}");
    assert!(!stalled.cancelling.is_finished(), "the writer was still held throughout");

    let cancel_event = stalled.release().await;
    let page = stalled.page_after(second.as_ref(), stalled.cursor).await;
    assert_eq!(page, [cancel_event, stalled.later], "once it commits, both are read, in id order");
}

async fn wait_until(admin: &mut PgConnection, gate: i64, done: impl Fn((i64, i64)) -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done(waiting(admin, gate).await) {
        assert!(tokio::time::Instant::now() < deadline, "nothing reached the gate");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
