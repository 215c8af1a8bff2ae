//! Deliveries: one per (run or fire, destination), each with a send job
//! that waits for the run's job; attempts recorded before and after
//! sending; a sent delivery never started again; only a dead one retried.

use steward_domain::delivery::{
    AttemptFailure, AttemptResult, DeliveryStatus, Destination, JOB_KIND, NewDeliveries, Sent,
};
use steward_domain::{EventSubject, JobRef, JobState, UserId};
use steward_store::{DeliveryAttempt, DeliveryFilter, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, ad_hoc_run, agent_named, event_kinds};

fn destinations(uris: &[&str]) -> Vec<Destination> {
    uris.iter().map(|uri| Destination::parse("deliver", uri).unwrap()).collect()
}

async fn each_destination_gets_one_delivery_and_a_job_after_the_run(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Planner").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Plan my day")).await.unwrap();
    let new = NewDeliveries {
        run_id: run.id,
        fire_id: None,
        destinations: destinations(&["slack:#plans", "mailto:ana@example.com", "slack:#plans"]),
    };
    let created = store.create_deliveries(USER, new.clone()).await.unwrap();
    assert_eq!(created.len(), 2, "a destination named twice is one delivery");
    assert_eq!(created[0].idempotency_key, format!("delivery:run-{}:slack:#plans", run.id));
    for delivery in &created {
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Pending, 0));
        let job = store.get_job(USER, delivery.job_id.unwrap()).await.unwrap();
        assert_eq!((job.kind.as_str(), job.state), (JOB_KIND, JobState::Blocked));
        assert_eq!(job.depends_on, vec![run.job_id.unwrap()]);
        assert_eq!(job.idempotency_key.as_deref(), Some(delivery.idempotency_key.as_str()));
    }
    let again = store.create_deliveries(USER, new).await.unwrap();
    assert_eq!(again.iter().map(|d| d.id).collect::<Vec<_>>(), created.iter().map(|d| d.id).collect::<Vec<_>>());
    let listed = store.list_deliveries(USER.into(), DeliveryFilter::default()).await.unwrap();
    assert_eq!(listed.len(), 2, "asking twice recorded nothing more");
    assert_eq!(listed[0].id, created[1].id, "newest first");
    let empty = NewDeliveries { run_id: run.id, fire_id: None, destinations: vec![] };
    match store.create_deliveries(USER, empty).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "destinations"),
        other => panic!("{other:?}"),
    }
    let stranger = store.get_delivery(UserId(2), created[0].id).await.unwrap_err();
    assert!(matches!(stranger, StoreError::NotFound { .. }), "{stranger:?}");
    let _ = JobRef::Id(run.job_id.unwrap());
}

async fn attempts_are_recorded_and_a_sent_delivery_is_never_started_again(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Planner").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Plan")).await.unwrap();
    let new = NewDeliveries { run_id: run.id, fire_id: None, destinations: destinations(&["webhook:$HOOK"]) };
    let delivery = store.create_deliveries(USER, new).await.unwrap().remove(0);

    let DeliveryAttempt::Started { delivery: started, in_doubt } =
        store.begin_delivery_attempt(delivery.id).await.unwrap()
    else {
        panic!("started")
    };
    assert!(!in_doubt);
    assert_eq!((started.status, started.attempts), (DeliveryStatus::Sending, 1));
    let failure = AttemptFailure::transient("webhook answered HTTP 503: busy").with_response(503, "busy");
    let retrying = store
        .finish_delivery_attempt(delivery.id, AttemptResult::Failed { failure, final_attempt: false })
        .await
        .unwrap();
    assert_eq!((retrying.status, retrying.http_status), (DeliveryStatus::Retrying, Some(503)));
    assert_eq!(retrying.response_excerpt.as_deref(), Some("busy"));

    // A crash after this begin leaves it `sending`: the next attempt is in doubt.
    store.begin_delivery_attempt(delivery.id).await.unwrap();
    let DeliveryAttempt::Started { in_doubt, delivery: third } =
        store.begin_delivery_attempt(delivery.id).await.unwrap()
    else {
        panic!("started")
    };
    assert!(in_doubt);
    assert_eq!(third.attempts, 3);
    let sent = Sent { http_status: Some(200), response_excerpt: Some("ok".into()), external_id: Some("1.2".into()) };
    let done = store.finish_delivery_attempt(delivery.id, AttemptResult::Sent(sent)).await.unwrap();
    assert_eq!(
        (done.status, done.error.as_deref(), done.external_id.as_deref()),
        (DeliveryStatus::Sent, None, Some("1.2"))
    );
    assert!(done.sent_at.is_some());
    assert!(matches!(store.begin_delivery_attempt(delivery.id).await.unwrap(), DeliveryAttempt::AlreadySent(_)));

    let retry = store.retry_delivery(USER, delivery.id).await.unwrap_err();
    assert!(retry.to_string().contains("was sent"), "{retry}");
    let kinds = event_kinds(store, EventSubject::Delivery, delivery.id.get()).await;
    assert_eq!(kinds, ["delivery.failed", "delivery.sent"]);
    let sent_only = DeliveryFilter { status: Some(DeliveryStatus::Sent), ..DeliveryFilter::default() };
    assert_eq!(store.list_deliveries(USER.into(), sent_only).await.unwrap().len(), 1);
}

async fn a_dead_delivery_is_retried_with_a_new_job(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Planner").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Plan")).await.unwrap();
    let new = NewDeliveries { run_id: run.id, fire_id: None, destinations: destinations(&["slack:#nowhere"]) };
    let delivery = store.create_deliveries(USER, new).await.unwrap().remove(0);
    store.begin_delivery_attempt(delivery.id).await.unwrap();
    let failure = AttemptFailure::permanent("slack chat.postMessage: channel_not_found");
    let dead = store
        .finish_delivery_attempt(delivery.id, AttemptResult::Failed { failure, final_attempt: false })
        .await
        .unwrap();
    assert_eq!(
        (dead.status, dead.error.as_deref()),
        (DeliveryStatus::Dead, Some("slack chat.postMessage: channel_not_found"))
    );
    let failed = DeliveryFilter { status: Some(DeliveryStatus::Dead), ..DeliveryFilter::default() };
    assert_eq!(store.list_deliveries(USER.into(), failed).await.unwrap()[0].id, delivery.id);

    let retried = store.retry_delivery(USER, delivery.id).await.unwrap();
    assert_eq!((retried.status, retried.error.as_deref()), (DeliveryStatus::Pending, None));
    assert_ne!(retried.job_id, delivery.job_id);
    let job = store.get_job(USER, retried.job_id.unwrap()).await.unwrap();
    assert_eq!(job.state, JobState::Queued, "nothing to wait for");
    let again = store.retry_delivery(USER, delivery.id).await.unwrap_err();
    assert!(again.to_string().contains("only a dead delivery"), "{again}");
}

store_tests!(
    each_destination_gets_one_delivery_and_a_job_after_the_run,
    attempts_are_recorded_and_a_sent_delivery_is_never_started_again,
    a_dead_delivery_is_retried_with_a_new_job,
);
