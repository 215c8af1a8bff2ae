//! Listing jobs by state, which takes one way into the table per group of
//! states (the claim indexes, the table in id order, the `jobs_off_path`
//! index) and merges the pages; and when an idle worker should look again,
//! which reads only jobs that were delayed when stored or since.

use std::collections::BTreeSet;
use std::time::Duration;

use steward_domain::{Clock, JobRef, JobState, NewJob};
use steward_store::{ClaimRequest, ClaimedJob, JobFilter, RetryDecision, SettleOutcome, Store};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{LEASE, USER, WORKER, complete, enqueue_one, failed, noop, settle};

/// A claim of jobs in the default queue only, for up to five.
fn default_queue() -> ClaimRequest {
    ClaimRequest { queues: Some(vec!["default".into()]), ..ClaimRequest::new(WORKER, 5, LEASE) }
}

async fn claim_one(store: &dyn Store) -> ClaimedJob {
    let mut jobs = store.claim(ClaimRequest { limit: 1, ..default_queue() }).await.unwrap().jobs;
    assert_eq!(jobs.len(), 1);
    jobs.remove(0)
}

/// Two jobs in each of the six states, their ids interleaved (one of each
/// state, then again), so every page mixes the ways in.
async fn jobs_in_every_state(t: &TestStore) {
    let store = t.store.as_ref();
    for _ in 0..2 {
        let completed = enqueue_one(store, noop()).await;
        let claimed = claim_one(store).await;
        assert_eq!(claimed.id, completed.id);
        assert_eq!(complete(store, &claimed).await, SettleOutcome::Applied(JobState::Completed));

        enqueue_one(store, noop()).await;
        let claimed = claim_one(store).await;
        assert_eq!(
            settle(store, failed(&claimed, RetryDecision::Permanent)).await,
            SettleOutcome::Applied(JobState::Dead)
        );

        let running = enqueue_one(store, noop()).await;
        assert_eq!(claim_one(store).await.id, running.id);

        // Never claimed: the claims here take only the default queue.
        let waiting = enqueue_one(store, noop().with_queue("waiting")).await;
        let cancelled = enqueue_one(store, noop().with_queue("waiting")).await;
        store.cancel_job(USER, cancelled.id).await.unwrap();
        let blocked = enqueue_one(store, noop().with_queue("waiting").depending_on(JobRef::Id(waiting.id))).await;
        assert_eq!(blocked.state, JobState::Blocked);
    }
}

async fn every_choice_of_states_lists_the_newest_jobs_in_them(t: TestStore) {
    jobs_in_every_state(&t).await;
    let store = t.store.as_ref();
    let everything = store.list_jobs(USER.into(), JobFilter { limit: 100, ..JobFilter::default() }).await.unwrap();
    assert_eq!(everything.len(), 12);
    let states: BTreeSet<JobState> = everything.iter().map(|job| job.state).collect();
    assert_eq!(states.len(), 6, "two jobs in each state: {everything:?}");
    let middle = everything[5].id;

    for mask in 1u32..(1 << JobState::ALL.len()) {
        let chosen: Vec<JobState> =
            JobState::ALL.into_iter().enumerate().filter(|(bit, _)| mask & (1 << bit) != 0).map(|(_, s)| s).collect();
        for before in [None, Some(middle)] {
            for limit in [1, 3, 100] {
                let filter = JobFilter { states: chosen.clone(), before, limit, ..JobFilter::default() };
                let listed: Vec<_> =
                    store.list_jobs(USER.into(), filter).await.unwrap().into_iter().map(|job| job.id).collect();
                let expected: Vec<_> = everything
                    .iter()
                    .filter(|job| chosen.contains(&job.state) && before.is_none_or(|before| job.id < before))
                    .map(|job| job.id)
                    .take(limit)
                    .collect();
                assert_eq!(listed, expected, "states {chosen:?}, before {before:?}, limit {limit}");
            }
        }
    }

    // The filters on queue and kind still apply on every way in.
    let filter = JobFilter {
        states: vec![JobState::Queued, JobState::Blocked, JobState::Cancelled, JobState::Completed],
        queue: Some("waiting".into()),
        limit: 100,
        ..JobFilter::default()
    };
    let listed = store.list_jobs(USER.into(), filter).await.unwrap();
    assert_eq!(listed.len(), 6);
    assert!(listed.iter().all(|job| job.queue == "waiting"));
    assert!(listed.windows(2).all(|pair| pair[0].id > pair[1].id), "newest first");

    let counts = store.count_jobs(USER.into(), JobFilter::default()).await.unwrap();
    assert!(JobState::ALL.iter().all(|state| counts[state] == 2), "{counts:?}");
}

async fn an_idle_worker_hears_of_delayed_jobs_and_retries_but_not_of_ready_ones(t: TestStore) {
    let store = t.store.as_ref();
    // A job stored with a time already past is ready: it is claimed, never
    // waited for.
    let past = enqueue_one(store, noop().with_run_at(t.clock.now() - chrono::Duration::seconds(5))).await;
    let response = store.claim(default_queue()).await.unwrap();
    assert_eq!(response.jobs.iter().map(|job| job.id).collect::<Vec<_>>(), [past.id]);
    assert_eq!(response.next_run_at, None);

    // A failed attempt waiting out its back-off was stored ready, and is
    // still reported once it waits.
    let retried = enqueue_one(store, NewJob::new("noop", serde_json::json!({})).with_max_attempts(3)).await;
    let claimed = store.claim(default_queue()).await.unwrap().jobs.remove(0);
    assert_eq!(claimed.id, retried.id);
    assert_eq!(
        settle(store, failed(&claimed, RetryDecision::Retryable { after: Some(Duration::from_secs(30)) })).await,
        SettleOutcome::Applied(JobState::Queued)
    );
    let retry_at = store.get_job(USER, retried.id).await.unwrap().run_at;
    assert!(retry_at > t.clock.now());
    let response = store.claim(default_queue()).await.unwrap();
    assert!(response.jobs.is_empty());
    assert_eq!(response.next_run_at, Some(retry_at));

    // A delayed job later than the retry does not hide it; an earlier one wins.
    let later = t.clock.now() + chrono::Duration::hours(1);
    enqueue_one(store, noop().with_run_at(later)).await;
    assert_eq!(store.claim(default_queue()).await.unwrap().next_run_at, Some(retry_at));
    t.clock.advance(retry_at - t.clock.now());
    assert_eq!(store.claim(default_queue()).await.unwrap().jobs.len(), 1);
    assert_eq!(store.claim(default_queue()).await.unwrap().next_run_at, Some(later));
}

store_tests!(
    every_choice_of_states_lists_the_newest_jobs_in_them,
    an_idle_worker_hears_of_delayed_jobs_and_retries_but_not_of_ready_ones,
);
