//! Dependencies: a job waits for all of its dependencies; a failed dependency
//! cancels its dependents transitively; retrying it restores them.

use steward_domain::{JobRef, JobState};
use steward_store::{ConflictKind, RetryDecision, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, claim, claim_ids, complete, failed, keyed, kinds_of_events, run_to_completion, settle};

async fn a_job_waits_for_all_of_its_dependencies(t: TestStore) {
    let store = t.store.as_ref();
    let outcomes = store
        .enqueue(
            USER,
            vec![
                keyed("a"),
                keyed("b"),
                keyed("c").depending_on(JobRef::Key("a".into())).depending_on(JobRef::Key("b".into())),
            ],
        )
        .await
        .unwrap();
    let (a, b, c) = (outcomes[0].job.id, outcomes[1].job.id, outcomes[2].job.id);
    let mut claimed = claim(store, 10).await;
    claimed.sort_by_key(|job| job.id);
    assert_eq!(claimed.iter().map(|job| job.id).collect::<Vec<_>>(), [a, b], "c is blocked");
    complete(store, &claimed[0]).await;
    let waiting = store.get_job(USER, c).await.unwrap();
    assert_eq!((waiting.state, waiting.pending_dependencies), (JobState::Blocked, 1));
    assert!(claim(store, 10).await.is_empty());
    complete(store, &claimed[1]).await;
    assert_eq!(store.get_job(USER, c).await.unwrap().state, JobState::Queued);
    assert_eq!(kinds_of_events(store, c).await, ["job.enqueued", "job.unblocked"]);
    run_to_completion(store, c).await;
}

async fn a_dead_dependency_cancels_its_dependents_transitively(t: TestStore) {
    let store = t.store.as_ref();
    let outcomes = store
        .enqueue(
            USER,
            vec![
                keyed("fetch").with_max_attempts(1),
                keyed("parse").depending_on(JobRef::Key("fetch".into())),
                keyed("report").depending_on(JobRef::Key("parse".into())),
                keyed("unrelated"),
            ],
        )
        .await
        .unwrap();
    let ids: Vec<_> = outcomes.iter().map(|outcome| outcome.job.id).collect();
    let mut claimed = claim(store, 10).await;
    claimed.sort_by_key(|job| job.id);
    settle(store, failed(&claimed[0], RetryDecision::Retryable { after: None })).await;
    for id in &ids[1..3] {
        let job = store.get_job(USER, *id).await.unwrap();
        assert_eq!(job.state, JobState::Cancelled);
        assert_eq!(job.state_reason.as_deref(), Some("dependency_failed"));
    }
    assert_eq!(store.get_job(USER, ids[3]).await.unwrap().state, JobState::Running);

    // A dependent cannot be retried while its dependency is dead.
    match store.retry_job(USER, ids[1]).await.unwrap_err() {
        StoreError::Conflict { kind, message, .. } => {
            assert_eq!(kind, ConflictKind::DependencyFailed);
            assert!(message.contains(&format!("retry job {} first", ids[0])), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    // Retrying the dependency restores the whole chain, which then runs.
    store.retry_job(USER, ids[0]).await.unwrap();
    for id in &ids[1..3] {
        assert_eq!(store.get_job(USER, *id).await.unwrap().state, JobState::Blocked);
    }
    run_to_completion(store, ids[0]).await;
    run_to_completion(store, ids[1]).await;
    run_to_completion(store, ids[2]).await;
}

async fn cancelling_a_job_cancels_its_dependents(t: TestStore) {
    let store = t.store.as_ref();
    let outcomes = store
        .enqueue(USER, vec![keyed("first"), keyed("second").depending_on(JobRef::Key("first".into()))])
        .await
        .unwrap();
    store.cancel_job(USER, outcomes[0].job.id).await.unwrap();
    let second = store.get_job(USER, outcomes[1].job.id).await.unwrap();
    assert_eq!(second.state, JobState::Cancelled);
    assert_eq!(second.state_reason.as_deref(), Some("dependency_failed"));
    assert!(claim_ids(store, 10).await.is_empty());
}

store_tests!(
    a_job_waits_for_all_of_its_dependencies,
    a_dead_dependency_cancels_its_dependents_transitively,
    cancelling_a_job_cancels_its_dependents,
);
