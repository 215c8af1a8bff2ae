//! Claiming and settling: priority order, delays, retries with backoff,
//! permanent failures, cancellation, manual retry, queue limits, filters.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use steward_domain::{Clock, JobRef, JobState, NewJob};
use steward_store::{
    ClaimRequest, ClaimedJob, ConflictKind, JobFilter, JobOutcome, LeaseStatus, RetryDecision, SettleOutcome,
    Settlement, StoreError,
};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{
    LEASE, USER, WORKER, claim, claim_ids, complete, completed, enqueue_one, failed, keyed, kinds_of_events, noop,
    settle,
};

async fn a_batch_claim_takes_the_best_jobs(t: TestStore) {
    let store = t.store.as_ref();
    let _low = enqueue_one(store, noop().with_priority(-1)).await;
    let normal_first = enqueue_one(store, noop()).await;
    let _normal_second = enqueue_one(store, noop()).await;
    let high = enqueue_one(store, noop().with_priority(10)).await;
    let earlier = enqueue_one(store, noop().with_run_at(t.clock.now() - chrono::Duration::seconds(60))).await;
    let mut claimed = claim_ids(store, 3).await;
    claimed.sort();
    let mut best = vec![high.id, earlier.id, normal_first.id];
    best.sort();
    assert_eq!(claimed, best);
}

async fn claims_one_at_a_time_in_order(t: TestStore) {
    let store = t.store.as_ref();
    let low = enqueue_one(store, noop().with_priority(-1)).await;
    let normal_first = enqueue_one(store, noop()).await;
    let normal_second = enqueue_one(store, noop()).await;
    let earlier = enqueue_one(store, noop().with_run_at(t.clock.now() - chrono::Duration::seconds(60))).await;
    let mut order = Vec::new();
    for _ in 0..4 {
        order.extend(claim_ids(store, 1).await);
    }
    assert_eq!(order, [earlier.id, normal_first.id, normal_second.id, low.id]);
}

async fn a_delayed_job_waits_for_its_time(t: TestStore) {
    let store = t.store.as_ref();
    let at = t.clock.now() + chrono::Duration::seconds(90);
    let job = enqueue_one(store, noop().with_run_at(at)).await;
    let response = store.claim(ClaimRequest::new(WORKER, 5, LEASE)).await.unwrap();
    assert!(response.jobs.is_empty());
    assert_eq!(response.next_run_at, Some(at), "an idle worker learns when to look again");
    t.clock.advance(chrono::Duration::seconds(90));
    assert_eq!(claim_ids(store, 5).await, [job.id]);
}

async fn completion_records_the_result(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop()).await;
    let claimed = claim(store, 1).await.remove(0);
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.lease_expires_at, t.clock.now() + chrono::Duration::from_std(LEASE).unwrap());
    t.clock.advance(chrono::Duration::milliseconds(250));
    let outcome = settle(store, completed(&claimed, json!({ "answer": 42 }))).await;
    assert_eq!(outcome, SettleOutcome::Applied(JobState::Completed));
    let stored = store.get_job(USER, job.id).await.unwrap();
    assert_eq!(stored.state, JobState::Completed);
    assert_eq!(stored.result, Some(json!({ "answer": 42 })));
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.lease_owner, None);
    assert_eq!(stored.finished_at, Some(t.clock.now()));
    assert_eq!(kinds_of_events(store, job.id).await, ["job.enqueued", "job.started", "job.completed"]);
    // Settling twice is refused without changing anything.
    assert_eq!(complete(store, &claimed).await, SettleOutcome::LeaseLost);
}

async fn retryable_failures_back_off_exponentially_then_die(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop().with_max_attempts(4)).await;
    for (attempt, base_seconds) in [(1u32, 1i64), (2, 2), (3, 4)] {
        let claimed = claim(store, 1).await.remove(0);
        assert_eq!(claimed.attempt, attempt);
        let failed_at = t.clock.now();
        let outcome = settle(store, failed(&claimed, RetryDecision::Retryable { after: None })).await;
        assert_eq!(outcome, SettleOutcome::Applied(JobState::Queued));
        let stored = store.get_job(USER, job.id).await.unwrap();
        let delay = stored.run_at - failed_at;
        let base = chrono::Duration::seconds(base_seconds);
        assert!(delay >= base && delay <= base * 5 / 4, "attempt {attempt}: delay {delay}");
        assert_eq!(stored.last_error.as_deref(), Some(format!("attempt {attempt} failed").as_str()));
        // Not claimable until the delay has passed.
        assert!(claim(store, 1).await.is_empty());
        t.clock.set(stored.run_at);
    }
    let last = claim(store, 1).await.remove(0);
    assert_eq!(last.attempt, 4);
    let outcome = settle(store, failed(&last, RetryDecision::Retryable { after: None })).await;
    assert_eq!(outcome, SettleOutcome::Applied(JobState::Dead));
    let stored = store.get_job(USER, job.id).await.unwrap();
    assert_eq!((stored.state, stored.attempts), (JobState::Dead, 4));
    assert_eq!(stored.state_reason.as_deref(), Some("out_of_attempts"));
}

async fn a_requested_retry_delay_is_honoured(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop()).await;
    let claimed = claim(store, 1).await.remove(0);
    let after = Some(Duration::from_secs(30));
    settle(store, failed(&claimed, RetryDecision::Retryable { after })).await;
    let stored = store.get_job(USER, job.id).await.unwrap();
    assert_eq!(stored.run_at, t.clock.now() + chrono::Duration::seconds(30));
}

async fn a_permanent_failure_dies_at_once(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop().with_max_attempts(10)).await;
    let claimed = claim(store, 1).await.remove(0);
    let outcome = settle(store, failed(&claimed, RetryDecision::Permanent)).await;
    assert_eq!(outcome, SettleOutcome::Applied(JobState::Dead));
    let stored = store.get_job(USER, job.id).await.unwrap();
    assert_eq!((stored.state, stored.attempts), (JobState::Dead, 1));
    assert_eq!(stored.state_reason.as_deref(), Some("permanent_error"));
    assert_eq!(kinds_of_events(store, job.id).await, ["job.enqueued", "job.started", "job.dead"]);
}

async fn cancelling_a_running_job_reaches_its_worker(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop()).await;
    let claimed = claim(store, 1).await.remove(0);
    let cancelled = store.cancel_job(USER, job.id).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(cancelled.state_reason.as_deref(), Some("requested"));
    let statuses = store.heartbeat(WORKER, vec![claimed.lease()], LEASE).await.unwrap();
    assert_eq!(statuses, [LeaseStatus::Cancelled]);
    assert_eq!(complete(store, &claimed).await, SettleOutcome::LeaseLost);
    assert_eq!(store.get_job(USER, job.id).await.unwrap().state, JobState::Cancelled);
    // Cancelling a cancelled (or completed) job is refused.
    assert!(matches!(
        store.cancel_job(USER, job.id).await.unwrap_err(),
        StoreError::Conflict { kind: ConflictKind::IllegalTransition, .. }
    ));
}

async fn a_dead_job_can_be_retried_with_fresh_attempts(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop().with_max_attempts(1)).await;
    let claimed = claim(store, 1).await.remove(0);
    settle(store, failed(&claimed, RetryDecision::Retryable { after: None })).await;
    assert_eq!(store.get_job(USER, job.id).await.unwrap().state, JobState::Dead);
    let retried = store.retry_job(USER, job.id).await.unwrap();
    assert_eq!((retried.state, retried.attempts), (JobState::Queued, 0));
    let claimed = claim(store, 1).await.remove(0);
    assert_eq!(claimed.attempt, 1);
    complete(store, &claimed).await;
    assert!(matches!(
        store.retry_job(USER, job.id).await.unwrap_err(),
        StoreError::Conflict { kind: ConflictKind::IllegalTransition, .. }
    ));
    assert_eq!(
        kinds_of_events(store, job.id).await,
        ["job.enqueued", "job.started", "job.dead", "job.retried", "job.started", "job.completed"]
    );
}

async fn queue_concurrency_limits_hold(t: TestStore) {
    let store = t.store.as_ref();
    for _ in 0..5 {
        enqueue_one(store, noop().with_queue("slow")).await;
    }
    let fast = enqueue_one(store, noop().with_queue("fast")).await;
    let mut request = ClaimRequest::new(WORKER, 10, LEASE);
    request.queue_limits = BTreeMap::from([("slow".to_string(), 2)]);
    let first = store.claim(request.clone()).await.unwrap().jobs;
    assert_eq!(first.iter().filter(|job| job.queue == "slow").count(), 2);
    assert!(first.iter().any(|job| job.id == fast.id));
    assert!(store.claim(request.clone()).await.unwrap().jobs.is_empty(), "slow is full");
    // A settlement folded into the claim frees a place in the same call.
    let slow_done = first.iter().find(|job| job.queue == "slow").unwrap();
    request.settlements = vec![completed(slow_done, json!(null))];
    let response = store.claim(request).await.unwrap();
    assert_eq!(response.settled, [SettleOutcome::Applied(JobState::Completed)]);
    assert_eq!(response.jobs.len(), 1);
}

async fn claims_only_the_queues_asked_for(t: TestStore) {
    let store = t.store.as_ref();
    let mail = enqueue_one(store, noop().with_queue("mail")).await;
    enqueue_one(store, noop().with_queue("reports")).await;
    let mut request = ClaimRequest::new(WORKER, 10, LEASE);
    request.queues = Some(vec!["mail".into()]);
    let claimed: Vec<_> = store.claim(request).await.unwrap().jobs.into_iter().map(|job| job.id).collect();
    assert_eq!(claimed, [mail.id]);
}

async fn lists_filter_and_count(t: TestStore) {
    let store = t.store.as_ref();
    let mut ids = Vec::new();
    for index in 0..5 {
        let kind = if index % 2 == 0 { "noop" } else { "sleep" };
        ids.push(enqueue_one(store, steward_domain::NewJob::new(kind, json!({}))).await.id);
    }
    let claimed = claim(store, 1).await.remove(0);
    complete(store, &claimed).await;

    let all = store.list_jobs(USER.into(), JobFilter { limit: 100, ..JobFilter::default() }).await.unwrap();
    assert_eq!(all.iter().map(|job| job.id).collect::<Vec<_>>(), ids.iter().rev().copied().collect::<Vec<_>>());
    let page = store
        .list_jobs(USER.into(), JobFilter { limit: 2, before: Some(ids[3]), ..JobFilter::default() })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|job| job.id).collect::<Vec<_>>(), [ids[2], ids[1]]);
    let sleeps = store
        .list_jobs(USER.into(), JobFilter { kind: Some("sleep".into()), limit: 100, ..JobFilter::default() })
        .await
        .unwrap();
    assert_eq!(sleeps.len(), 2);
    let done = store
        .list_jobs(USER.into(), JobFilter { states: vec![JobState::Completed], limit: 100, ..JobFilter::default() })
        .await
        .unwrap();
    assert_eq!(done.iter().map(|job| job.id).collect::<Vec<_>>(), [claimed.id]);

    let counts = store.count_jobs(USER.into(), JobFilter::default()).await.unwrap();
    assert_eq!(counts[&JobState::Queued], 4);
    assert_eq!(counts[&JobState::Completed], 1);
    assert_eq!(counts[&JobState::Dead], 0);
    let counts =
        store.count_jobs(USER.into(), JobFilter { kind: Some("sleep".into()), ..JobFilter::default() }).await.unwrap();
    assert_eq!(counts.values().sum::<u64>(), 2);
}

async fn nul_characters_are_refused_in_payloads_and_replaced_in_what_workers_report(t: TestStore) {
    let store = t.store.as_ref();
    let with_nul = steward_domain::NewJob::new("noop", json!({ "text": "a\u{0}b" }));
    match store.enqueue(USER, vec![noop(), with_nul]).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "jobs[1].payload"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    let finished = enqueue_one(store, noop()).await;
    let failing = enqueue_one(store, noop()).await;
    let claimed = claim(store, 2).await;
    let (first, second) =
        if claimed[0].id == finished.id { (&claimed[0], &claimed[1]) } else { (&claimed[1], &claimed[0]) };
    let outcomes = store
        .settle(vec![
            completed(first, json!({ "output\u{0}": "line\u{0}" })),
            Settlement {
                lease: second.lease(),
                worker_id: WORKER.into(),
                outcome: JobOutcome::Failed { error: "exit\u{0}1".into(), retry: RetryDecision::Permanent },
            },
        ])
        .await
        .unwrap();
    assert_eq!(outcomes, [SettleOutcome::Applied(JobState::Completed), SettleOutcome::Applied(JobState::Dead)]);
    let stored = store.get_job(USER, finished.id).await.unwrap();
    assert_eq!(stored.result, Some(json!({ "output\u{fffd}": "line\u{fffd}" })));
    let stored = store.get_job(USER, failing.id).await.unwrap();
    assert_eq!(stored.last_error.as_deref(), Some("exit\u{fffd}1"));
}

async fn filters_holding_a_nul_match_nothing(t: TestStore) {
    let store = t.store.as_ref();
    enqueue_one(store, noop()).await;
    let filter = JobFilter { queue: Some("default\u{0}".into()), limit: 10, ..JobFilter::default() };
    assert!(store.list_jobs(USER.into(), filter.clone()).await.unwrap().is_empty());
    assert_eq!(store.count_jobs(USER.into(), filter).await.unwrap().values().sum::<u64>(), 0);
    let filter = JobFilter { kind: Some("\u{0}".into()), limit: 10, ..JobFilter::default() };
    assert!(store.list_jobs(USER.into(), filter).await.unwrap().is_empty());
    let query = steward_store::EventQuery { kind_prefix: Some("job.\u{0}".into()), ..Default::default() };
    assert!(store.list_events(USER, query).await.unwrap().is_empty());
    assert!(matches!(store.find_agent_by_name(USER, "a\u{0}").await.unwrap_err(), StoreError::NotFound { .. }));
}

async fn a_failure_event_names_the_retry_time_the_job_holds(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop()).await;
    let claimed = claim(store, 1).await.remove(0);
    // The jittered backoff has nanoseconds; the stored time has not.
    settle(store, failed(&claimed, RetryDecision::Retryable { after: None })).await;
    let stored = store.get_job(USER, job.id).await.unwrap();
    let events = store.job_events(USER, job.id).await.unwrap();
    let retry_at: chrono::DateTime<chrono::Utc> = serde_json::from_value(events[2].data["retry_at"].clone()).unwrap();
    assert_eq!(retry_at, stored.run_at);
}

/// One call settling many jobs, with repeats, a stale worker and a cascade,
/// answers and records exactly what settling them one by one would.
async fn a_batch_settles_as_if_one_by_one(t: TestStore) {
    let store = t.store.as_ref();
    let parent = enqueue_one(store, keyed("parent")).await;
    let child = enqueue_one(store, keyed("child").depending_on(JobRef::Key("parent".into()))).await;
    let doomed = enqueue_one(store, noop()).await;
    let last = enqueue_one(store, noop()).await;
    let mut claimed = claim(store, 10).await;
    claimed.sort_by_key(|job| job.id);
    let [parent_job, doomed_job, last_job] = [&claimed[0], &claimed[1], &claimed[2]];
    assert_eq!([parent_job.id, doomed_job.id, last_job.id], [parent.id, doomed.id, last.id]);
    let mut stale = completed(last_job, json!(null));
    stale.worker_id = "worker-b".into();
    let before = store.latest_event_id(USER).await.unwrap();

    let outcomes = store
        .settle(vec![
            failed(doomed_job, RetryDecision::Permanent),
            completed(parent_job, json!({"first": true})),
            completed(parent_job, json!({"first": false})),
            stale,
            completed(last_job, json!(2)),
            failed(doomed_job, RetryDecision::Permanent),
        ])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            SettleOutcome::Applied(JobState::Dead),
            SettleOutcome::Applied(JobState::Completed),
            SettleOutcome::LeaseLost,
            SettleOutcome::LeaseLost,
            SettleOutcome::Applied(JobState::Completed),
            SettleOutcome::LeaseLost,
        ]
    );
    assert_eq!(store.get_job(USER, parent.id).await.unwrap().result, Some(json!({"first": true})));
    assert_eq!(store.get_job(USER, last.id).await.unwrap().result, Some(json!(2)));
    assert_eq!(store.get_job(USER, child.id).await.unwrap().state, JobState::Queued);
    let query = steward_store::EventQuery { after: before, limit: 100, ..Default::default() };
    let events: Vec<(String, i64)> =
        store.list_events(USER, query).await.unwrap().into_iter().map(|event| (event.kind, event.subject_id)).collect();
    let expected = [
        ("job.dead", doomed.id),
        ("job.completed", parent.id),
        ("job.unblocked", child.id),
        ("job.completed", last.id),
    ];
    assert_eq!(events, expected.map(|(kind, id)| (kind.to_string(), id.get())));
}

/// A claim and a settlement of more jobs than one statement takes on SQLite
/// (64 rows; 90 is 64 + 16 + 4 + 4 + 1 + 1): every job is claimed and
/// settled once, each keeps its own result, and the events come in the
/// order of the claim and of the settlement.
async fn batches_larger_than_one_statement_keep_every_row_and_the_order(t: TestStore) {
    let store = t.store.as_ref();
    let jobs: Vec<NewJob> = (0..90).map(|n| NewJob::new("noop", json!({ "n": n }))).collect();
    store.enqueue(USER, jobs).await.unwrap();
    let before = store.latest_event_id(USER).await.unwrap();
    let claimed = claim(store, 90).await;
    assert_eq!(claimed.len(), 90);
    let started = events_after(store, before).await;
    let claim_order: Vec<(String, i64)> = claimed.iter().map(|job| ("job.started".into(), job.id.get())).collect();
    assert_eq!(started, claim_order);

    // Settled in an order unlike the claim's, each with a result of its own.
    let mut settling: Vec<&ClaimedJob> = claimed.iter().collect();
    settling.reverse();
    settling.rotate_left(7);
    let after_claim = store.latest_event_id(USER).await.unwrap();
    let settlements = settling.iter().map(|job| completed(job, json!({ "payload": job.payload }))).collect();
    let outcomes = store.settle(settlements).await.unwrap();
    assert!(outcomes.iter().all(|outcome| *outcome == SettleOutcome::Applied(JobState::Completed)), "{outcomes:?}");
    for job in &claimed {
        let stored = store.get_job(USER, job.id).await.unwrap();
        assert_eq!(stored.state, JobState::Completed);
        assert_eq!(stored.result, Some(json!({ "payload": job.payload })), "job {}", job.id);
    }
    let settled = events_after(store, after_claim).await;
    let settle_order: Vec<(String, i64)> = settling.iter().map(|job| ("job.completed".into(), job.id.get())).collect();
    assert_eq!(settled, settle_order);
}

async fn events_after(store: &dyn steward_store::Store, after: Option<steward_domain::EventId>) -> Vec<(String, i64)> {
    let query = steward_store::EventQuery { after, limit: 500, ..Default::default() };
    let events = store.list_events(USER, query).await.unwrap();
    let ids: Vec<_> = events.iter().map(|event| event.id).collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "event ids rise: {ids:?}");
    events.into_iter().map(|event| (event.kind, event.subject_id)).collect()
}

store_tests!(
    batches_larger_than_one_statement_keep_every_row_and_the_order,
    a_batch_settles_as_if_one_by_one,
    a_failure_event_names_the_retry_time_the_job_holds,
    filters_holding_a_nul_match_nothing,
    nul_characters_are_refused_in_payloads_and_replaced_in_what_workers_report,
    a_batch_claim_takes_the_best_jobs,
    claims_one_at_a_time_in_order,
    a_delayed_job_waits_for_its_time,
    completion_records_the_result,
    retryable_failures_back_off_exponentially_then_die,
    a_requested_retry_delay_is_honoured,
    a_permanent_failure_dies_at_once,
    cancelling_a_running_job_reaches_its_worker,
    a_dead_job_can_be_retried_with_fresh_attempts,
    queue_concurrency_limits_hold,
    claims_only_the_queues_asked_for,
    lists_filter_and_count,
);
