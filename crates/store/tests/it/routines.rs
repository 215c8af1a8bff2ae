//! Routines: a fire recorded with its run and one delivery per destination
//! in one transaction, once per key even when asked concurrently (the
//! scheduler and a retried job racing); a fire's inputs read back as
//! stored; a removed routine's deliveries kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use steward_domain::delivery::Destination;
use steward_domain::routine::{FireInputs, FireTrigger, NewFire, NewRoutine, RoutineSources, SourceValue};
use steward_domain::{AgentId, EventSubject, NewRun, RunLimits};
use steward_store::{DeliveryFilter, Store, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, agent_named};

fn routine(agent: AgentId) -> NewRoutine {
    NewRoutine {
        name: "Morning".into(),
        agent_id: agent,
        template: "Plan {{ today }}".into(),
        sources: RoutineSources { actions: true, ..RoutineSources::default() },
        deliveries: vec!["slack:#plans".into(), "mailto:ana@example.com".into()],
        zone: "Europe/Paris".into(),
        after: None,
    }
}

fn fire(routine: steward_domain::RoutineId, agent: AgentId, key: &str) -> NewFire {
    let at = chrono::DateTime::parse_from_rfc3339("2030-03-04T07:00:00Z").unwrap().to_utc();
    NewFire {
        routine_id: routine,
        trigger: FireTrigger::Schedule,
        fire_key: Some(key.into()),
        replay_of: None,
        inputs: FireInputs {
            at,
            zone: "Europe/Paris".into(),
            today: at.date_naive(),
            input: None,
            sources: BTreeMap::from([("calendar".to_string(), SourceValue::Missing("work.ics: gone".into()))]),
        },
        prompt: "Plan today".into(),
        run: NewRun {
            agent_id: agent,
            action_id: None,
            instruction: "Plan today".into(),
            limits: RunLimits::default(),
            run_at: None,
        },
        destinations: ["slack:#plans", "mailto:ana@example.com"]
            .iter()
            .map(|uri| Destination::parse("deliver", uri).unwrap())
            .collect(),
        deliveries_of: None,
    }
}

async fn a_key_fires_once_even_when_asked_at_once(t: TestStore) {
    let store: Arc<dyn Store> = t.store.clone();
    let agent = agent_named(store.as_ref(), "Planner").await;
    let added = store.create_routine(USER, routine(agent)).await.unwrap();
    let taken = store.create_routine(USER, NewRoutine { name: "morning".into(), ..routine(agent) }).await;
    assert!(matches!(taken, Err(StoreError::Conflict { field: Some(ref field), .. }) if field == "name"), "{taken:?}");

    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let new = fire(added.id, agent, "schedule:morning:2030-03-04T07:00:00Z");
            tokio::spawn(async move { store.record_fire(USER, new).await.unwrap() })
        })
        .collect();
    let mut records = Vec::new();
    for task in tasks {
        records.push(task.await.unwrap());
    }
    assert_eq!(records.iter().filter(|record| record.created).count(), 1, "one fire recorded");
    let first = records.iter().find(|record| record.created).unwrap();
    assert!(records.iter().all(|record| record.fire.id == first.fire.id && record.deliveries.len() == 2));
    assert_eq!(store.list_fires(USER, added.id, 10).await.unwrap().len(), 1);
    let runs = store.list_runs(USER.into(), steward_store::RunFilter::default()).await.unwrap();
    assert_eq!(runs.len(), 1, "one run started");
    let stored = store.get_fire(USER, first.fire.id).await.unwrap();
    assert_eq!(stored.inputs.missing(), [("calendar", "work.ics: gone")]);
    let query = steward_store::EventQuery { limit: 1000, ..Default::default() };
    let fired = store.list_events(USER, query).await.unwrap();
    let fired: Vec<_> = fired.iter().filter(|event| event.subject == EventSubject::Routine).collect();
    assert_eq!(fired.len(), 1, "one routine.fired event");

    let removed = store.delete_routine(USER, added.id).await.unwrap();
    assert_eq!(removed.name, "Morning");
    let kept = store.list_deliveries(USER.into(), DeliveryFilter::default()).await.unwrap();
    assert!(kept.len() == 2 && kept.iter().all(|delivery| delivery.fire_id.is_none()), "{kept:?}");
}

store_tests!(a_key_fires_once_even_when_asked_at_once);
