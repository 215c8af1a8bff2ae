//! Leases: heartbeats, fencing by attempt, expiry, release at shutdown,
//! recovery after a crash.

use serde_json::json;
use steward_domain::{Clock, JobState};
use steward_store::{DatabaseKind, LeaseStatus, SettleOutcome};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{LEASE, USER, WORKER, claim, claim_as, complete, enqueue_one, kinds_of_events, noop, settle};

fn past_lease() -> chrono::Duration {
    chrono::Duration::from_std(LEASE).unwrap() + chrono::Duration::seconds(1)
}

async fn a_heartbeat_keeps_the_lease(t: TestStore) {
    let store = t.store.as_ref();
    enqueue_one(store, noop()).await;
    let claimed = claim(store, 1).await.remove(0);
    t.clock.advance(chrono::Duration::seconds(20));
    let statuses = store.heartbeat(WORKER, vec![claimed.lease()], LEASE).await.unwrap();
    let until = t.clock.now() + chrono::Duration::from_std(LEASE).unwrap();
    assert_eq!(statuses, [LeaseStatus::Extended { until }]);
    t.clock.advance(chrono::Duration::seconds(20));
    assert_eq!(store.reclaim_expired_leases().await.unwrap(), 0, "the renewed lease has not expired");
    // Another worker cannot renew it.
    let statuses = store.heartbeat("worker-b", vec![claimed.lease()], LEASE).await.unwrap();
    assert_eq!(statuses, [LeaseStatus::Lost]);
}

async fn an_expired_lease_is_reclaimed_and_the_old_attempt_is_fenced_off(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop().with_max_attempts(3)).await;
    let stale = claim(store, 1).await.remove(0);
    t.clock.advance(past_lease());
    assert_eq!(store.reclaim_expired_leases().await.unwrap(), 1);
    let stored = store.get_job(USER, job.id).await.unwrap();
    assert_eq!((stored.state, stored.attempts), (JobState::Queued, 1), "the attempt counts");
    assert!(stored.last_error.unwrap().contains("lease expired"));

    let fresh = claim_as(store, "worker-b", 1).await.remove(0);
    assert_eq!(fresh.attempt, 2);
    // The first worker comes back from a pause and tries to finish: refused.
    assert_eq!(complete(store, &stale).await, SettleOutcome::LeaseLost);
    assert_eq!(store.heartbeat(WORKER, vec![stale.lease()], LEASE).await.unwrap(), [LeaseStatus::Lost]);
    let settlement = steward_store::Settlement {
        lease: fresh.lease(),
        worker_id: "worker-b".into(),
        outcome: steward_store::JobOutcome::Completed { result: json!("done") },
    };
    assert_eq!(settle(store, settlement).await, SettleOutcome::Applied(JobState::Completed));
    assert_eq!(
        kinds_of_events(store, job.id).await,
        ["job.enqueued", "job.started", "job.lease_expired", "job.started", "job.completed"]
    );
}

async fn an_expired_lease_on_the_last_attempt_kills_the_job(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop().with_max_attempts(1)).await;
    claim(store, 1).await;
    t.clock.advance(past_lease());
    store.reclaim_expired_leases().await.unwrap();
    let stored = store.get_job(USER, job.id).await.unwrap();
    assert_eq!((stored.state, stored.attempts), (JobState::Dead, 1));
}

async fn release_gives_the_job_back_without_counting_the_attempt(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop()).await;
    let claimed = claim(store, 1).await.remove(0);
    assert_eq!(store.release(WORKER, vec![claimed.lease()]).await.unwrap(), 1);
    let stored = store.get_job(USER, job.id).await.unwrap();
    assert_eq!((stored.state, stored.attempts), (JobState::Queued, 0));
    let again = claim_as(store, "worker-b", 1).await.remove(0);
    assert_eq!(again.attempt, 1);
    // The first worker no longer holds the lease: releasing it again does nothing.
    assert_eq!(store.release(WORKER, vec![claimed.lease()]).await.unwrap(), 0);
    assert_eq!(store.get_job(USER, job.id).await.unwrap().lease_owner.as_deref(), Some("worker-b"));
}

async fn start_up_recovers_jobs_left_running(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop()).await;
    claim(store, 1).await;
    let recovered = store.recover_abandoned_jobs().await.unwrap();
    let stored = store.get_job(USER, job.id).await.unwrap();
    match store.kind() {
        // One process owns a SQLite database: whatever was running is abandoned.
        DatabaseKind::Sqlite => {
            assert_eq!(recovered, 1);
            assert_eq!(stored.state, JobState::Queued);
        }
        // Other nodes may still be working; only expired leases come back.
        DatabaseKind::Postgres => {
            assert_eq!(recovered, 0);
            assert_eq!(stored.state, JobState::Running);
            t.clock.advance(past_lease());
            assert_eq!(store.recover_abandoned_jobs().await.unwrap(), 1);
        }
    }
}

store_tests!(
    a_heartbeat_keeps_the_lease,
    an_expired_lease_is_reclaimed_and_the_old_attempt_is_fenced_off,
    an_expired_lease_on_the_last_attempt_kills_the_job,
    release_gives_the_job_back_without_counting_the_attempt,
    start_up_recovers_jobs_left_running,
);
