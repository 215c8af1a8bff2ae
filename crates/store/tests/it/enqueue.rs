//! Enqueueing: defaults, idempotency keys, batch atomicity, dependency
//! references and cycles.

use std::time::Duration;

use serde_json::json;
use steward_domain::access::Actor;
use steward_domain::{Job, JobId, JobRef, JobState, NewJob};
use steward_store::actor::acting_as;
use steward_store::{ConflictKind, JobFilter, RetryDecision, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, claim, enqueue_one, failed, keyed, noop, settle};

fn invalid_field(error: StoreError) -> (String, String) {
    match error {
        StoreError::Invalid(error) => (error.field, error.message),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn stores_every_field(t: TestStore) {
    let store = t.store.as_ref();
    let job = NewJob::new("sleep", json!({ "ms": 5 }))
        .with_queue("reports")
        .with_priority(7)
        .with_max_attempts(3)
        .with_timeout(Duration::from_millis(1500))
        .with_key("report-2030-01");
    let stored = enqueue_one(store, job).await;
    assert_eq!(stored.state, JobState::Queued);
    assert_eq!(stored.queue, "reports");
    assert_eq!(stored.priority, 7);
    assert_eq!(stored.payload, json!({ "ms": 5 }));
    assert_eq!(stored.max_attempts, 3);
    assert_eq!(stored.timeout, Duration::from_millis(1500));
    assert_eq!(stored.attempts, 0);
    use steward_domain::Clock;
    assert_eq!(stored.run_at, t.clock.now());
    // What enqueue returned is what a later read sees.
    assert_eq!(store.get_job(USER, stored.id).await.unwrap(), stored);
}

async fn the_same_idempotency_key_returns_the_existing_job(t: TestStore) {
    let store = t.store.as_ref();
    let first = store.enqueue(USER, vec![keyed("daily-report")]).await.unwrap().remove(0);
    assert!(first.created);
    let second = store.enqueue(USER, vec![keyed("daily-report").with_priority(100)]).await.unwrap().remove(0);
    assert!(!second.created);
    assert_eq!(second.job.id, first.job.id);
    assert_eq!(second.job.priority, 0, "the existing job is returned unchanged");
    let listed = store.list_jobs(USER.into(), JobFilter { limit: 10, ..JobFilter::default() }).await.unwrap();
    assert_eq!(listed.len(), 1);
}

async fn a_batch_is_all_or_nothing(t: TestStore) {
    let store = t.store.as_ref();
    let batch = vec![keyed("a"), keyed("b"), noop().depending_on(JobRef::Id(JobId(424242)))];
    let (field, message) = invalid_field(store.enqueue(USER, batch).await.unwrap_err());
    assert_eq!(field, "jobs[2].depends_on[0]");
    assert_eq!(message, "there is no job 424242");
    assert!(store.list_jobs(USER.into(), JobFilter { limit: 10, ..JobFilter::default() }).await.unwrap().is_empty());

    let (field, _) = invalid_field(store.enqueue(USER, vec![noop(), NewJob::new("", json!({}))]).await.unwrap_err());
    assert_eq!(field, "jobs[1].kind");
    let (field, message) = invalid_field(store.enqueue(USER, vec![keyed("x"), keyed("x")]).await.unwrap_err());
    assert_eq!(field, "jobs[1].idempotency_key");
    assert!(message.contains("jobs[0]"), "{message}");
    let (field, _) = invalid_field(store.enqueue(USER, vec![]).await.unwrap_err());
    assert_eq!(field, "jobs");
    let (field, message) =
        invalid_field(store.enqueue(USER, vec![noop().depending_on(JobRef::Key("nope".into()))]).await.unwrap_err());
    assert_eq!(field, "jobs[0].depends_on[0]");
    assert!(message.contains("\"nope\""), "{message}");
}

async fn a_cycle_is_refused_with_the_cycle_named(t: TestStore) {
    let store = t.store.as_ref();
    let batch = vec![
        keyed("build").depending_on(JobRef::Key("test".into())),
        keyed("test").depending_on(JobRef::Key("deploy".into())),
        keyed("deploy").depending_on(JobRef::Key("build".into())),
    ];
    let (field, message) = invalid_field(store.enqueue(USER, batch).await.unwrap_err());
    assert_eq!(field, "jobs[0].depends_on[0]");
    assert_eq!(message, r#"dependency cycle: "build" → "test" → "deploy" → "build""#);
    assert!(store.list_jobs(USER.into(), JobFilter { limit: 10, ..JobFilter::default() }).await.unwrap().is_empty());
}

async fn a_batch_can_depend_on_itself_by_key_in_any_order(t: TestStore) {
    let store = t.store.as_ref();
    // "report" is listed before the job it depends on.
    let batch = vec![keyed("report").depending_on(JobRef::Key("fetch".into())), keyed("fetch")];
    let outcomes = store.enqueue(USER, batch).await.unwrap();
    let (report, fetch) = (&outcomes[0].job, &outcomes[1].job);
    assert_eq!(report.state, JobState::Blocked);
    assert_eq!(report.depends_on, [fetch.id]);
    assert_eq!(report.pending_dependencies, 1);
    assert_eq!(fetch.state, JobState::Queued);
    assert_eq!(store.get_job(USER, report.id).await.unwrap().depends_on, [fetch.id]);
}

async fn a_dependency_that_can_never_complete_is_refused(t: TestStore) {
    let store = t.store.as_ref();
    let doomed = enqueue_one(store, noop().with_max_attempts(1)).await;
    let claimed = claim(store, 1).await;
    settle(store, failed(&claimed[0], RetryDecision::Permanent)).await;
    match store.enqueue(USER, vec![noop().depending_on(JobRef::Id(doomed.id))]).await.unwrap_err() {
        StoreError::Conflict { kind, field, message } => {
            assert_eq!(kind, ConflictKind::DependencyFailed);
            assert_eq!(field.as_deref(), Some("jobs[0].depends_on[0]"));
            assert!(message.contains("dead"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn depending_on_a_completed_job_is_ready_at_once(t: TestStore) {
    let store = t.store.as_ref();
    let first = enqueue_one(store, keyed("first")).await;
    crate::helpers::run_to_completion(store, first.id).await;
    let second = enqueue_one(store, noop().depending_on(JobRef::Key("first".into()))).await;
    assert_eq!(second.state, JobState::Queued);
    assert_eq!(second.pending_dependencies, 0);
    assert_eq!(second.depends_on, [first.id]);
}

async fn a_run_at_finer_than_a_microsecond_is_returned_as_stored(t: TestStore) {
    let store = t.store.as_ref();
    use steward_domain::Clock;
    let at = t.clock.now() + chrono::Duration::nanoseconds(1_500);
    let enqueued = enqueue_one(store, noop().with_run_at(at)).await;
    assert_eq!(enqueued.run_at, t.clock.now() + chrono::Duration::microseconds(1), "truncated like the clock");
    assert_eq!(store.get_job(USER, enqueued.id).await.unwrap(), enqueued);
}

/// Jobs that name no key or dependency take a one-statement path on
/// PostgreSQL (alone or grouped); keyed jobs the general one. Both must
/// store the same jobs, answer what they stored, give ids rising in request
/// order, and record the same events, in that order, with the actor.
async fn jobs_with_and_without_keys_are_stored_and_recorded_alike(t: TestStore) {
    let store = t.store.as_ref();
    use steward_domain::Clock;
    let later = t.clock.now() + chrono::Duration::minutes(5);
    let job = |index: usize| {
        NewJob::new(format!("kind-{index}"), json!({ "index": index }))
            .with_queue(if index.is_multiple_of(2) { "even" } else { "odd" })
            .with_priority(i32::try_from(index).unwrap() - 3)
            .with_max_attempts(u32::try_from(index % 4).unwrap() + 1)
            .with_timeout(Duration::from_millis(1000 + u64::try_from(index).unwrap()))
    };
    let actor = Some(Actor { user: USER, token_id: Some(7) });
    // One job (grouped on PostgreSQL) and twenty (a batch of its own).
    for size in [1, 20] {
        let batch = |keyed: bool| -> Vec<NewJob> {
            (0..size)
                .map(|index| {
                    let job = if index == 1 { job(index).with_run_at(later) } else { job(index) };
                    if keyed { job.with_key(format!("{size}-{index}")) } else { job }
                })
                .collect()
        };
        let mut answers = Vec::new();
        for keyed in [false, true] {
            let outcomes = acting_as(actor, store.enqueue(USER, batch(keyed))).await.unwrap();
            let jobs: Vec<Job> = outcomes.into_iter().map(|outcome| outcome.job).collect();
            assert!(jobs.windows(2).all(|pair| pair[0].id < pair[1].id), "ids rise in request order: {jobs:?}");
            let mut events = Vec::new();
            for job in &jobs {
                assert_eq!(&store.get_job(USER, job.id).await.unwrap(), job, "answered as stored");
                let history = store.job_events(USER, job.id).await.unwrap();
                assert_eq!(history.len(), 1, "{history:?}");
                events.push(history.into_iter().next().unwrap());
            }
            assert!(events.windows(2).all(|pair| pair[0].id < pair[1].id), "events in request order");
            for (event, job) in events.iter().zip(&jobs) {
                assert_eq!((event.kind.as_str(), event.subject_id), ("job.enqueued", job.id.get()));
                assert_eq!(event.actor, actor);
            }
            answers.push((jobs, events));
        }
        let (plain, keyed) = (&answers[0], &answers[1]);
        for ((plain_job, plain_event), (keyed_job, keyed_event)) in
            plain.0.iter().zip(&plain.1).zip(keyed.0.iter().zip(&keyed.1))
        {
            let unkeyed = Job { id: plain_job.id, idempotency_key: None, ..keyed_job.clone() };
            assert_eq!(plain_job, &unkeyed, "the same job but for its id and key");
            assert_eq!(plain_event.data, keyed_event.data);
            assert_eq!(plain_event.occurred_at, keyed_event.occurred_at);
        }
        if size > 1 {
            assert_eq!((plain.0[1].state, plain.0[1].run_at), (JobState::Queued, later), "a delayed job");
        }
    }
}

store_tests!(
    jobs_with_and_without_keys_are_stored_and_recorded_alike,
    a_run_at_finer_than_a_microsecond_is_returned_as_stored,
    stores_every_field,
    the_same_idempotency_key_returns_the_existing_job,
    a_batch_is_all_or_nothing,
    a_cycle_is_refused_with_the_cycle_named,
    a_batch_can_depend_on_itself_by_key_in_any_order,
    a_dependency_that_can_never_complete_is_refused,
    depending_on_a_completed_job_is_ready_at_once,
);
