//! Schedules: creation refuses bad input with the field named and nothing
//! stored; each due slot is recorded once and its work started in the same
//! transaction (missed-run and overlap policies, preconditions, pause on
//! failures, run now, backfill); two nodes on PostgreSQL fire each slot once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::json;
use steward_domain::schedule::{
    FireOutcome, FireStatus, MissedRunPolicy, MissedRunSettings, NewSchedule, OverlapPolicy, Precondition, Schedule,
    ScheduleFire, SchedulePolicies, ScheduleTarget, ScheduleZone, When,
};
use steward_domain::{EventSubject, JobState, ManualClock, ScheduleId};
use steward_store::{ConflictKind, FireRequest, PreconditionCheck, Store, StoreError, StoreOptions};
use steward_test_support::{TestDatabase, TestStore, store_tests};

use crate::helpers::{USER, agent_named, claim, complete, defined_action, event_kinds, failed};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn job_schedule(name: &str, when: &str) -> NewSchedule {
    NewSchedule {
        user_id: USER,
        name: name.into(),
        when: When::parse(when).unwrap(),
        zone: ScheduleZone::UTC,
        target: ScheduleTarget::Job { job_kind: "noop".into(), payload: json!({"from": name}) },
        policies: SchedulePolicies::default(),
        precondition: None,
    }
}

fn with_missed(mut schedule: NewSchedule, policy: MissedRunPolicy) -> NewSchedule {
    schedule.policies.missed = MissedRunSettings { policy, ..MissedRunSettings::default() };
    schedule
}

fn with_overlap(mut schedule: NewSchedule, overlap: OverlapPolicy) -> NewSchedule {
    schedule.policies.overlap = overlap;
    schedule
}

/// Asks the store to fire every schedule that has a next fire; it fires
/// those due by its own clock (the firing loop asks only for due ones).
async fn fire(store: &dyn Store) -> Vec<ScheduleFire> {
    let far = Utc.with_ymd_and_hms(9999, 1, 1, 0, 0, 0).unwrap();
    let due = store.due_schedules(far, 1000).await.unwrap();
    let request = FireRequest { schedules: due.iter().map(|schedule| schedule.id).collect(), ..FireRequest::default() };
    store.fire_schedules(request).await.unwrap()
}

async fn history(store: &dyn Store, id: ScheduleId) -> Vec<ScheduleFire> {
    let mut fires = store.list_schedule_fires(USER, id, 1000).await.unwrap();
    fires.reverse();
    fires
}

fn statuses(fires: &[ScheduleFire]) -> Vec<(u32, FireStatus)> {
    use chrono::Timelike;
    fires.iter().map(|fire| (fire.slot.minute(), fire.status)).collect()
}

async fn bad_input_names_the_field_and_stores_nothing(t: TestStore) {
    let store = t.store.as_ref();
    let field = |error: StoreError| match error {
        StoreError::Invalid(error) => error.field,
        StoreError::Conflict { field, .. } => field.unwrap_or_default(),
        other => panic!("expected a refusal naming a field, got {other:?}"),
    };
    let past = job_schedule("Past", "at 2029-12-31T09:00");
    assert_eq!(field(store.create_schedule(past).await.unwrap_err()), "when");
    let mut agentless = job_schedule("Agentless", "@daily");
    agentless.target = ScheduleTarget::Agent { agent_id: 999.into(), instruction: "Go".into() };
    assert_eq!(field(store.create_schedule(agentless).await.unwrap_err()), "agent_id");
    let mut actionless = job_schedule("Actionless", "@daily");
    actionless.target = ScheduleTarget::Action { action_id: 999.into(), instruction: "Go".into() };
    assert_eq!(field(store.create_schedule(actionless).await.unwrap_err()), "action_id");
    let mut jittery = job_schedule("Jittery", "@daily");
    jittery.policies.jitter = TimeDelta::hours(2);
    assert_eq!(field(store.create_schedule(jittery).await.unwrap_err()), "jitter");
    assert!(store.list_schedules(USER.into()).await.unwrap().is_empty(), "nothing stored");

    store.create_schedule(job_schedule("Morning", "daily at 08:00")).await.unwrap();
    assert_eq!(field(store.create_schedule(job_schedule("MORNING", "@hourly")).await.unwrap_err()), "name");
    let found = store.find_schedule(USER, "morning").await.unwrap();
    assert_eq!((found.name.as_str(), found.next_slot), ("Morning", Some(start() + TimeDelta::hours(8))));
    assert!(matches!(
        store.create_schedule(job_schedule("Morning", "@hourly")).await.unwrap_err(),
        StoreError::Conflict { kind: ConflictKind::AlreadyExists, .. }
    ));
}

async fn a_due_slot_fires_once_with_its_job(t: TestStore) {
    let store = t.store.as_ref();
    let schedule = store.create_schedule(job_schedule("Minutely", "* * * * *")).await.unwrap();
    assert_eq!(store.next_schedule_fire().await.unwrap(), Some(start() + TimeDelta::minutes(1)));
    assert!(fire(store).await.is_empty(), "nothing is due yet");

    t.clock.advance(TimeDelta::minutes(1));
    let fires = fire(store).await;
    assert_eq!(fires.len(), 1);
    assert_eq!((fires[0].slot, fires[0].status), (start() + TimeDelta::minutes(1), FireStatus::Fired));
    let job = store.get_job(USER, fires[0].job_id.unwrap()).await.unwrap();
    assert_eq!((job.kind.as_str(), &job.payload), ("noop", &json!({"from": "Minutely"})));
    assert!(job.idempotency_key.unwrap().starts_with(&format!("schedule:{}:", schedule.id)));
    // Asked again for the same schedule: no longer due, nothing recorded.
    let again = FireRequest { schedules: vec![schedule.id], ..FireRequest::default() };
    assert!(store.fire_schedules(again).await.unwrap().is_empty());
    assert_eq!(history(store, schedule.id).await.len(), 1);
    let stored = store.get_schedule(USER, schedule.id).await.unwrap();
    assert_eq!(stored.next_slot, Some(start() + TimeDelta::minutes(2)));
    let kinds = event_kinds(store, EventSubject::Schedule, schedule.id.get()).await;
    assert_eq!(kinds, ["schedule.created", "schedule.fired"]);
}

async fn each_missed_run_policy_is_applied_after_downtime(t: TestStore) {
    let store = t.store.as_ref();
    let once = store.create_schedule(job_schedule("Once", "*/10 * * * *")).await.unwrap();
    let skip = store.create_schedule(with_missed(job_schedule("Skip", "*/10 * * * *"), MissedRunPolicy::Skip)).await;
    let all = job_schedule("All", "*/10 * * * *");
    let all = with_overlap(with_missed(all, MissedRunPolicy::RunAll { max_runs: 2 }), OverlapPolicy::Allow);
    let all = store.create_schedule(all).await.unwrap();
    // Down from 00:00 to 00:35: slots 10, 20, 30 passed, none on time.
    t.clock.advance(TimeDelta::minutes(35));
    fire(store).await;
    assert_eq!(
        statuses(&history(store, once.id).await),
        [(10, FireStatus::Coalesced), (20, FireStatus::Coalesced), (30, FireStatus::Fired)]
    );
    assert_eq!(
        statuses(&history(store, skip.unwrap().id).await),
        [(10, FireStatus::Missed), (20, FireStatus::Missed), (30, FireStatus::Missed)]
    );
    let all_fires = history(store, all.id).await;
    assert_eq!(statuses(&all_fires), [(10, FireStatus::Missed), (20, FireStatus::Fired), (30, FireStatus::Fired)]);
    assert_ne!(all_fires[1].job_id, all_fires[2].job_id, "one job per fired slot");
    assert_eq!(store.get_schedule(USER, once.id).await.unwrap().next_slot, Some(start() + TimeDelta::minutes(40)));
}

async fn overlap_skips_or_buffers_while_the_previous_job_runs(t: TestStore) {
    let store = t.store.as_ref();
    let skip = store.create_schedule(job_schedule("Skip", "* * * * *")).await.unwrap();
    let buffer =
        store.create_schedule(with_overlap(job_schedule("Buffer", "* * * * *"), OverlapPolicy::BufferOne)).await;
    let buffer = buffer.unwrap();
    t.clock.advance(TimeDelta::minutes(1));
    assert_eq!(fire(store).await.len(), 2);
    t.clock.advance(TimeDelta::minutes(1));
    let second = fire(store).await;
    let by_schedule: BTreeMap<ScheduleId, FireStatus> =
        second.iter().map(|fire| (fire.schedule_id, fire.status)).collect();
    assert_eq!(by_schedule[&skip.id], FireStatus::Skipped);
    assert_eq!(by_schedule[&buffer.id], FireStatus::Buffered);
    assert!(second.iter().all(|fire| fire.job_id.is_none()));

    // The first jobs end: the buffered fire starts at the next settle.
    let claimed = claim(store, 10).await;
    assert_eq!(claimed.len(), 2);
    for job in &claimed {
        complete(store, job).await;
    }
    let report = store.settle_schedule_fires().await.unwrap();
    assert_eq!(report.settled, 2);
    assert_eq!(report.released.len(), 1);
    assert_eq!((report.released[0].schedule_id, report.released[0].status), (buffer.id, FireStatus::Fired));
    assert!(report.released[0].job_id.is_some());
    let fires = history(store, buffer.id).await;
    assert_eq!(fires[0].outcome, Some(FireOutcome::Completed));
}

async fn consecutive_failures_pause_the_schedule(t: TestStore) {
    let store = t.store.as_ref();
    let mut failing = job_schedule("Failing", "* * * * *");
    failing.policies.pause_on_failures = Some(2);
    failing.target = ScheduleTarget::Job { job_kind: "fail".into(), payload: json!({}) };
    let schedule = store.create_schedule(failing).await.unwrap();
    for _ in 0..2 {
        t.clock.advance(TimeDelta::minutes(1));
        assert_eq!(fire(store).await.len(), 1);
        // Fail every attempt until the job is dead.
        loop {
            let claimed = claim(store, 1).await;
            let Some(job) = claimed.first() else { break };
            crate::helpers::settle(store, failed(job, steward_store::RetryDecision::Permanent)).await;
        }
        store.settle_schedule_fires().await.unwrap();
    }
    let paused = store.get_schedule(USER, schedule.id).await.unwrap();
    assert!(paused.paused);
    assert_eq!(paused.consecutive_failures, 2);
    t.clock.advance(TimeDelta::minutes(5));
    assert!(fire(store).await.is_empty(), "a paused schedule does not fire");

    // Resuming makes the slots passed meanwhile due: caught up once.
    store.set_schedule_paused(USER, schedule.id, false).await.unwrap();
    let resumed = fire(store).await;
    assert_eq!(resumed.len(), 1);
    let kinds = event_kinds(store, EventSubject::Schedule, schedule.id.get()).await;
    assert!(kinds.contains(&"schedule.paused".to_string()) && kinds.contains(&"schedule.resumed".to_string()));
}

async fn a_false_precondition_records_no_change_and_starts_nothing(t: TestStore) {
    let store = t.store.as_ref();
    let mut quiet = job_schedule("Quiet", "* * * * *");
    quiet.precondition = Some(Precondition::NewEvents { kinds: vec!["action.created".into()] });
    let schedule = store.create_schedule(quiet).await.unwrap();
    t.clock.advance(TimeDelta::minutes(1));
    let unchecked = FireRequest { schedules: vec![schedule.id], ..FireRequest::default() };
    assert!(store.fire_schedules(unchecked).await.unwrap().is_empty(), "no check given: left due");
    let check = |passed, seen: &str| FireRequest {
        schedules: vec![schedule.id],
        checks: HashMap::from([(schedule.id, PreconditionCheck { passed, state: Some(seen.into()) })]),
    };
    let fires = store.fire_schedules(check(false, "40")).await.unwrap();
    assert_eq!((fires[0].status, fires[0].job_id), (FireStatus::SkippedNoChange, None));
    // Nothing changed up to what the check saw: that is the next baseline.
    assert_eq!(store.get_schedule(USER, schedule.id).await.unwrap().precondition_state.as_deref(), Some("40"));
    t.clock.advance(TimeDelta::minutes(1));
    let fires = store.fire_schedules(check(true, "41")).await.unwrap();
    assert_eq!(fires[0].status, FireStatus::Fired);
    assert_eq!(store.get_schedule(USER, schedule.id).await.unwrap().precondition_state.as_deref(), Some("41"));
}

async fn agent_and_action_targets_start_runs(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Reporter").await;
    let action = defined_action(store, agent).await;
    let mut by_agent = job_schedule("Agent", "@hourly");
    by_agent.target = ScheduleTarget::Agent { agent_id: agent, instruction: "Say hi".into() };
    let mut by_action = job_schedule("Action", "@hourly");
    by_action.target = ScheduleTarget::Action { action_id: action.id, instruction: "Write the report".into() };
    let by_agent = store.create_schedule(by_agent).await.unwrap();
    store.create_schedule(by_action).await.unwrap();
    t.clock.advance(TimeDelta::hours(1));
    let fires = fire(store).await;
    assert_eq!(fires.len(), 2);
    for fire in &fires {
        let run = store.get_run(USER, fire.run_id.expect("a run")).await.unwrap();
        assert_eq!(run.job_id, fire.job_id);
        let expected = if fire.schedule_id == by_agent.id { "Say hi" } else { "Write the report" };
        assert_eq!(run.instruction, expected);
    }
    let action = store.get_action(USER, action.id).await.unwrap();
    assert_eq!(action.state, steward_domain::ActionState::Scheduled);
}

async fn run_now_and_backfill_record_their_fires(t: TestStore) {
    let store = t.store.as_ref();
    let schedule = store.create_schedule(job_schedule("Hourly", "@hourly")).await.unwrap();
    let manual = store.fire_schedule_now(USER, schedule.id).await.unwrap();
    assert_eq!((manual.status, manual.slot), (FireStatus::Manual, start()));
    assert!(manual.job_id.is_some());
    let from = start() - TimeDelta::hours(3);
    let backfilled = store.backfill_schedule(USER, schedule.id, from, start() - TimeDelta::minutes(1)).await.unwrap();
    assert_eq!(backfilled.len(), 3);
    assert!(backfilled.iter().all(|fire| fire.status == FireStatus::Backfilled && fire.job_id.is_some()));
    // Backfilling the same interval again fires nothing new.
    let again = store.backfill_schedule(USER, schedule.id, from, start() - TimeDelta::minutes(1)).await.unwrap();
    assert!(again.is_empty());
    let too_far = store.backfill_schedule(USER, schedule.id, from - TimeDelta::days(60), from).await.unwrap_err();
    assert!(matches!(too_far, StoreError::Invalid(error) if error.field == "to"));
    let deleted = store.delete_schedule(USER, schedule.id).await.unwrap();
    assert_eq!(deleted.id, schedule.id);
    assert!(matches!(store.get_schedule(USER, schedule.id).await, Err(StoreError::NotFound { .. })));
}

async fn a_one_shot_fires_once_and_is_done(t: TestStore) {
    let store = t.store.as_ref();
    let schedule = store.create_schedule(job_schedule("Once", "at 2030-01-01T00:05")).await.unwrap();
    t.clock.advance(TimeDelta::minutes(10));
    assert_eq!(fire(store).await.len(), 1);
    let done: Schedule = store.get_schedule(USER, schedule.id).await.unwrap();
    assert_eq!((done.next_slot, done.next_fire_at), (None, None));
    t.clock.advance(TimeDelta::days(400));
    assert!(fire(store).await.is_empty());
    assert_eq!(store.next_schedule_fire().await.unwrap(), None);
}

store_tests!(
    bad_input_names_the_field_and_stores_nothing,
    a_due_slot_fires_once_with_its_job,
    each_missed_run_policy_is_applied_after_downtime,
    overlap_skips_or_buffers_while_the_previous_job_runs,
    consecutive_failures_pause_the_schedule,
    a_false_precondition_records_no_change_and_starts_nothing,
    agent_and_action_targets_start_runs,
    run_now_and_backfill_record_their_fires,
    a_one_shot_fires_once_and_is_done,
);

/// Two nodes fire a hundred schedules at once: every slot once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_fire_each_slot_once() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let clock = Arc::new(ManualClock::new(start()));
    let options = StoreOptions { clock: clock.clone(), ..StoreOptions::default() };
    let first = database.open(options.clone()).await;
    let second = database.open(options).await;
    let mut ids = Vec::new();
    for index in 0..100 {
        let schedule = with_overlap(job_schedule(&format!("S{index}"), "* * * * *"), OverlapPolicy::Allow);
        ids.push(first.create_schedule(schedule).await.unwrap().id);
    }
    // Both nodes share the manual clock; move it through three slots.
    for _ in 0..3 {
        clock.advance(TimeDelta::minutes(1));
        let request = FireRequest { schedules: ids.clone(), ..FireRequest::default() };
        let (a, b) = tokio::join!(first.fire_schedules(request.clone()), second.fire_schedules(request));
        let total = a.unwrap().len() + b.unwrap().len();
        assert_eq!(total, 100, "each due schedule fired by exactly one node");
    }
    for id in ids {
        let fires = first.list_schedule_fires(USER, id, 10).await.unwrap();
        assert_eq!(fires.len(), 3);
        for fire in fires {
            let job = first.get_job(USER, fire.job_id.unwrap()).await.unwrap();
            assert_eq!(job.state, JobState::Queued);
        }
    }
}
