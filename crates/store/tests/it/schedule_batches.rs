//! Firing many due schedules in one batch (one transaction, a few
//! statements on PostgreSQL): each slot recorded once with its own job
//! under the key of its (schedule, slot), slots recorded before left alone,
//! agents' runs, catch-ups and overlap decisions in the same batch; and
//! nodes racing the same batch on PostgreSQL.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::json;
use steward_domain::schedule::{
    FireStatus, MissedRunPolicy, MissedRunSettings, NewSchedule, OverlapPolicy, ScheduleFire, SchedulePolicies,
    ScheduleTarget, ScheduleZone, When,
};
use steward_domain::{ManualClock, ScheduleId};
use steward_store::{EventQuery, FireRequest, Store, StoreOptions};
use steward_test_support::{TestDatabase, TestStore, store_tests};

use crate::helpers::{USER, agent_named};

const BATCH: usize = 200;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn minutely(index: usize) -> NewSchedule {
    NewSchedule {
        user_id: USER,
        name: format!("S{index}"),
        when: When::parse("* * * * *").unwrap(),
        zone: ScheduleZone::UTC,
        target: ScheduleTarget::Job { job_kind: "noop".into(), payload: json!({ "index": index }) },
        policies: SchedulePolicies::default(),
        precondition: None,
    }
}

fn request(ids: &[ScheduleId]) -> FireRequest {
    FireRequest { schedules: ids.to_vec(), ..FireRequest::default() }
}

/// The job a fire started, checked to be its own: the schedule's kind and
/// payload, under the key of its (schedule, slot).
async fn check_job(store: &dyn Store, fire: &ScheduleFire, index: usize) {
    let job = store.get_job(USER, fire.job_id.expect("a fired slot has its job")).await.unwrap();
    assert_eq!((job.kind.as_str(), &job.payload), ("noop", &json!({ "index": index })));
    let key = format!("schedule:{}:{}", fire.schedule_id, fire.slot.timestamp_micros());
    assert_eq!(job.idempotency_key.as_deref(), Some(key.as_str()));
}

async fn schedule_fired_events(store: &dyn Store) -> usize {
    let query = EventQuery { kind_prefix: Some("schedule.fired".into()), limit: 10_000, ..EventQuery::default() };
    store.list_events(USER, query).await.unwrap().len()
}

async fn a_batch_of_many_due_schedules_fires_each_slot_once_with_its_job(t: TestStore) {
    let store = t.store.as_ref();
    let mut ids = Vec::new();
    for index in 0..BATCH {
        ids.push(store.create_schedule(minutely(index)).await.unwrap().id);
    }
    // Mixed into the same batch: an agent's run, a catch-up of every
    // missed slot, and two schedules whose next slot was recorded already.
    let agent = agent_named(store, "Reporter").await;
    let mut by_agent = minutely(BATCH);
    by_agent.target = ScheduleTarget::Agent { agent_id: agent, instruction: "Say hi".into() };
    let by_agent = store.create_schedule(by_agent).await.unwrap().id;
    let mut all = minutely(BATCH + 1);
    all.policies.missed = MissedRunSettings { policy: MissedRunPolicy::RunAll { max_runs: 5 }, ..Default::default() };
    all.policies.overlap = OverlapPolicy::Allow;
    let all = store.create_schedule(all).await.unwrap().id;
    let slot = start() + TimeDelta::minutes(1);
    for id in &ids[..2] {
        assert_eq!(store.backfill_schedule(USER, *id, slot, slot).await.unwrap().len(), 1);
    }
    let mut every: Vec<ScheduleId> = ids.iter().copied().chain([by_agent, all]).collect();

    t.clock.advance(TimeDelta::minutes(1));
    let fires = store.fire_schedules(request(&every)).await.unwrap();
    let by_schedule: BTreeMap<ScheduleId, &ScheduleFire> = fires.iter().map(|fire| (fire.schedule_id, fire)).collect();
    assert_eq!(fires.len(), BATCH, "one fire per schedule but the two recorded before");
    assert_eq!(by_schedule.len(), fires.len(), "no schedule fired twice");
    for (index, id) in ids.iter().enumerate().skip(2) {
        let fire = by_schedule[id];
        assert_eq!((fire.slot, fire.status), (slot, FireStatus::Fired));
        check_job(store, fire, index).await;
    }
    let run = store.get_run(USER, by_schedule[&by_agent].run_id.expect("a run")).await.unwrap();
    assert_eq!((run.instruction.as_str(), run.job_id), ("Say hi", by_schedule[&by_agent].job_id));
    assert!(by_schedule[&all].job_id.is_some());
    let jobs: HashSet<_> = fires.iter().map(|fire| fire.job_id.unwrap()).collect();
    assert_eq!(jobs.len(), fires.len(), "each fire its own job");
    for id in &ids[..2] {
        let recorded = store.list_schedule_fires(USER, *id, 10).await.unwrap();
        assert_eq!(recorded.len(), 1, "the backfilled slot is not fired again");
        assert_eq!(recorded[0].status, FireStatus::Backfilled);
        assert_eq!(store.get_schedule(USER, *id).await.unwrap().next_slot, Some(slot + TimeDelta::minutes(1)));
    }
    assert_eq!(schedule_fired_events(store).await, BATCH + 2);
    // Asked again: nothing is due, nothing recorded.
    assert!(store.fire_schedules(request(&every)).await.unwrap().is_empty());

    // Three minutes later, every job still queued: the default overlap
    // policy skips each slot; the catch-up schedule fires its three slots.
    t.clock.advance(TimeDelta::minutes(3));
    every.reverse();
    let fires = store.fire_schedules(request(&every)).await.unwrap();
    let skipped = fires.iter().filter(|fire| fire.status == FireStatus::Skipped && fire.job_id.is_none()).count();
    assert_eq!(skipped, BATCH + 1, "{fires:?}");
    let caught_up: Vec<_> = fires.iter().filter(|fire| fire.schedule_id == all).collect();
    assert_eq!(caught_up.len(), 3);
    assert!(caught_up.iter().all(|fire| fire.status == FireStatus::Fired && fire.job_id.is_some()));
    let detail = fires.iter().find(|fire| fire.schedule_id == ids[5]).unwrap().detail.clone().unwrap();
    assert!(detail.starts_with("overlap: job "), "{detail}");
    for id in &ids {
        let stored = store.get_schedule(USER, *id).await.unwrap();
        assert_eq!(stored.next_slot, Some(start() + TimeDelta::minutes(5)));
    }
}

store_tests!(a_batch_of_many_due_schedules_fires_each_slot_once_with_its_job);

/// Three nodes race the same batch of schedules, each listing them in its
/// own order, through three slots: every slot fired once, with one job.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_racing_one_batch_fire_each_slot_once() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let clock = Arc::new(ManualClock::new(start()));
    let options = StoreOptions { clock: clock.clone(), ..StoreOptions::default() };
    let nodes =
        [database.open(options.clone()).await, database.open(options.clone()).await, database.open(options).await];
    let mut ids = Vec::new();
    for index in 0..BATCH {
        let mut schedule = minutely(index);
        schedule.policies.overlap = OverlapPolicy::Allow;
        ids.push(nodes[0].create_schedule(schedule).await.unwrap().id);
    }
    let mut reversed = ids.clone();
    reversed.reverse();
    let mut odd_first: Vec<ScheduleId> = ids.iter().skip(1).step_by(2).copied().collect();
    odd_first.extend(ids.iter().step_by(2));
    for _ in 0..3 {
        clock.advance(TimeDelta::minutes(1));
        let (a, b, c) = tokio::join!(
            nodes[0].fire_schedules(request(&ids)),
            nodes[1].fire_schedules(request(&reversed)),
            nodes[2].fire_schedules(request(&odd_first)),
        );
        let fires: Vec<ScheduleFire> = [a.unwrap(), b.unwrap(), c.unwrap()].concat();
        assert_eq!(fires.len(), BATCH, "each due schedule fired by exactly one node");
        let fired: HashSet<ScheduleId> = fires.iter().map(|fire| fire.schedule_id).collect();
        assert_eq!(fired.len(), BATCH);
    }
    let mut jobs = HashSet::new();
    for (index, id) in ids.iter().enumerate() {
        let fires = nodes[1].list_schedule_fires(USER, *id, 10).await.unwrap();
        let slots: Vec<DateTime<Utc>> = fires.iter().map(|fire| fire.slot).collect();
        let expected: Vec<DateTime<Utc>> = (1..=3).rev().map(|minute| start() + TimeDelta::minutes(minute)).collect();
        assert_eq!(slots, expected);
        for fire in &fires {
            assert_eq!(fire.status, FireStatus::Fired);
            check_job(nodes[2].as_ref(), fire, index).await;
            assert!(jobs.insert(fire.job_id.unwrap()), "a job shared by two fires");
        }
    }
    assert_eq!(schedule_fired_events(nodes[0].as_ref()).await, 3 * BATCH);
}
