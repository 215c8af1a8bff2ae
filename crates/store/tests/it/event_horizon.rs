//! Event order on PostgreSQL without a commit queue: a transaction that drew
//! an event id and has not committed yet holds back every reader, so no
//! reader passes its id while a larger one is already visible. The slow
//! writer is made by hand: a trigger on `events` holds the transaction that
//! appends a `job.cancelled` event at a gate the test opens, after its ids
//! are drawn and before its commit. Other writers are never held back by it.

use std::time::Duration;

use sqlx::{Connection, PgConnection};
use steward_domain::EventId;
use steward_store::{DatabaseUrl, EventQuery};

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
                                        AND classid = (hashtext('steward.events.' || current_schema())::bigint \
                                                       & 4294967295)::oid) \
         FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
    )
    .bind(gate)
    .fetch_one(connection)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_wait_for_an_event_written_before_one_they_can_already_see() {
    let Some((database, first, second)) = two_nodes().await else { return };
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

    // Both ways of reading the log wait for the held writer.
    let reading = tokio::spawn({
        let second = second.clone();
        async move { second.list_events(USER, EventQuery { after: cursor, ..EventQuery::default() }).await }
    });
    let latest = tokio::spawn({
        let second = second.clone();
        async move { second.latest_event_id(USER).await }
    });
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (_, readers_waiting) = waiting(&mut admin, gate).await;
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

    sqlx::query("SELECT pg_advisory_unlock($1)").bind(gate).execute(&mut keeper).await.unwrap();
    let cancelled = cancelling.await.unwrap().unwrap();
    let cancel_events = first.job_events(USER, cancelled.id).await.unwrap();
    let cancel_event = cancel_events.last().unwrap();
    assert_eq!(cancel_event.kind, "job.cancelled");
    assert!(cancel_event.id < later_events[0].id, "the held event's id is the smaller one");

    let page: Vec<EventId> = reading.await.unwrap().unwrap().iter().map(|event| event.id).collect();
    assert_eq!(page, [cancel_event.id, later_events[0].id], "the reader saw both, in id order");
    assert_eq!(latest.await.unwrap().unwrap(), Some(later_events[0].id));
}

async fn wait_until(admin: &mut PgConnection, gate: i64, done: impl Fn((i64, i64)) -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done(waiting(admin, gate).await) {
        assert!(tokio::time::Instant::now() < deadline, "nothing reached the gate");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
