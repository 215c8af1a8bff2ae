//! The event log: one event per state change, ids in commit order, paging
//! and filters.

use steward_domain::{EventId, EventSubject, NewAgent};
use steward_store::{EventQuery, JobOutcome, RetryDecision};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, claim, complete, enqueue_one, failed, noop, settle};

async fn every_state_change_appends_one_event_in_order(t: TestStore) {
    let store = t.store.as_ref();
    let job = enqueue_one(store, noop()).await;
    let claimed = claim(store, 1).await.remove(0);
    settle(store, failed(&claimed, RetryDecision::Retryable { after: Some(std::time::Duration::ZERO) })).await;
    let claimed = claim(store, 1).await.remove(0);
    complete(store, &claimed).await;
    store.create_agent(USER, NewAgent { name: "A".into(), goal: "G".into(), ..NewAgent::default() }).await.unwrap();

    let events = store.list_events(USER, EventQuery::default()).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(kinds, ["job.enqueued", "job.started", "job.failed", "job.started", "job.completed", "agent.created"]);
    assert!(events.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert!(events[..5].iter().all(|event| event.subject == EventSubject::Job && event.subject_id == job.id.get()));
    assert_eq!(events[2].data["from"], "running");
    assert_eq!(events[2].data["to"], "queued");
    assert_eq!(events[2].data["error"], "attempt 1 failed");
    assert_eq!(events[3].data["attempt"], 2);
    assert_eq!(store.latest_event_id(USER).await.unwrap(), Some(events[5].id));

    // Paging: after a cursor, a limited number.
    let page = store
        .list_events(USER, EventQuery { after: Some(events[1].id), limit: 2, ..EventQuery::default() })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|event| event.id).collect::<Vec<_>>(), [events[2].id, events[3].id]);
    // Filters by kind prefix and subject.
    let starts = store
        .list_events(USER, EventQuery { kind_prefix: Some("job.started".into()), ..EventQuery::default() })
        .await
        .unwrap();
    assert_eq!(starts.len(), 2);
    let agents = store
        .list_events(USER, EventQuery { subject: Some((EventSubject::Agent, None)), ..EventQuery::default() })
        .await
        .unwrap();
    assert_eq!(agents.len(), 1);
    let none_after_last = store
        .list_events(USER, EventQuery { after: Some(EventId(events[5].id.get())), ..EventQuery::default() })
        .await
        .unwrap();
    assert!(none_after_last.is_empty());
}

/// Event data comes back exactly as it was written on both databases:
/// text that looks like SQL or like a dollar-quote's end, quotes,
/// backslashes, control characters and characters outside ASCII.
async fn event_data_comes_back_as_it_was_written(t: TestStore) {
    let store = t.store.as_ref();
    let names = [r#"$events$'); DROP TABLE events; --"#, r#"a $events1$ b $$ c $events"#, "Zoë 🦀 日本 \\ \" end"];
    for name in names {
        store
            .create_agent(USER, NewAgent { name: name.into(), goal: "G".into(), ..NewAgent::default() })
            .await
            .unwrap();
    }
    let agents = store
        .list_events(USER, EventQuery { kind_prefix: Some("agent.created".into()), ..EventQuery::default() })
        .await
        .unwrap();
    let written: Vec<&str> = agents.iter().map(|event| event.data["name"].as_str().unwrap()).collect();
    assert_eq!(written, names);

    // Control characters reach the log through a job's error.
    let error = "line one\nline two\ttabbed \u{7f} $events";
    enqueue_one(store, noop()).await;
    let claimed = claim(store, 1).await.remove(0);
    let mut failure = failed(&claimed, RetryDecision::Permanent);
    failure.outcome = JobOutcome::Failed { error: error.into(), retry: RetryDecision::Permanent };
    settle(store, failure).await;
    let jobs = store
        .list_events(USER, EventQuery { kind_prefix: Some("job.".into()), ..EventQuery::default() })
        .await
        .unwrap();
    let last = jobs.last().unwrap();
    assert_eq!((last.kind.as_str(), last.data["error"].as_str()), ("job.dead", Some(error)));
}

store_tests!(every_state_change_appends_one_event_in_order, event_data_comes_back_as_it_was_written);
