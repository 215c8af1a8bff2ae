//! The firing loop's tick on a moved clock: a week of hourly fires whose
//! precondition stays false costs zero model calls; the first change fires
//! a run that does call the model. And the loop started as a task fires a
//! due schedule without being told.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::json;
use steward_domain::schedule::{FireStatus, Precondition};
use steward_domain::{ActionMode, ActionPriority, ManualClock, NewAction};
use steward_fake_llm::Reply;
use steward_runtime::outbound::AddressPolicy;
use steward_runtime::scheduler::PreconditionChecker;
use steward_runtime::tools::ToolRegistry;
use steward_runtime::usecases::{CreateSchedule, TargetRequest};
use steward_runtime::{Scheduler, SharedClock, UseCases};
use tokio_util::sync::CancellationToken;

use crate::agent_support::Harness;
use crate::support::{USER, eventually};

fn hourly(name: &str, target: TargetRequest) -> CreateSchedule {
    CreateSchedule {
        name: name.into(),
        when: "@hourly".into(),
        zone: Some("Europe/London".into()),
        missed: None,
        catchup_window: None,
        overlap: None,
        jitter: None,
        pause_on_failures: None,
        target,
        precondition: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_of_false_preconditions_costs_no_model_call() {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2030, 3, 1, 0, 0, 0).unwrap()));
    let h = Harness::on_clock(ToolRegistry::default(), clock.clone()).await;
    let agent = h.agent(|_| {}).await;
    let shared = SharedClock::new(clock.clone());
    let use_cases = UseCases::new(h.store.clone(), shared.clone()).with_agents(Some(h.runtime.clone()));
    let mut watching = hourly("Triage", TargetRequest::Agent { agent_id: agent.id, instruction: "Triage".into() });
    watching.precondition = Some(Precondition::NewEvents { kinds: vec!["action.created".into()] });
    let watching = use_cases.create_schedule(USER, watching).await.unwrap();
    let mut busy = hourly("Busy", TargetRequest::Agent { agent_id: agent.id, instruction: "Work".into() });
    busy.precondition = Some(Precondition::OpenActions { agent_id: agent.id });
    use_cases.create_schedule(USER, busy).await.unwrap();
    let checker = PreconditionChecker::new(h.store.clone(), Arc::new(AddressPolicy::default()));
    let scheduler = Scheduler::new(h.store.clone(), shared, checker);

    for _ in 0..7 * 24 {
        clock.advance(TimeDelta::hours(1));
        let report = scheduler.tick().await.unwrap();
        assert_eq!(report.fires.len(), 2, "both schedules fire every hour");
        assert!(report.fires.iter().all(|fire| fire.status == FireStatus::SkippedNoChange && fire.job_id.is_none()));
    }
    assert!(h.fake.requests().is_empty(), "a week of unchanged preconditions made no model call");
    let runs =
        h.store.list_runs(USER.into(), steward_store::RunFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert!(runs.is_empty());

    // Something changes: an action is created. The next fire starts a run,
    // which does call the model (so the count above could have moved).
    let action = NewAction {
        agent_id: agent.id,
        title: "Look at this".into(),
        description: String::new(),
        priority: ActionPriority::Medium,
        mode: ActionMode::Interactive,
        scheduled_for: None,
    };
    h.store.create_action(USER, action).await.unwrap();
    clock.advance(TimeDelta::hours(1));
    let report = scheduler.tick().await.unwrap();
    let fired = report.fires.iter().find(|fire| fire.schedule_id == watching.id).unwrap();
    assert_eq!(fired.status, FireStatus::Fired);
    let run = h.store.get_run(USER, fired.run_id.unwrap()).await.unwrap();
    h.fake.push(Reply::text("Triaged."));
    h.execute(&run).await;
    assert_eq!(h.fake.requests().len(), 1);
    // A draft is not an open action: the other schedule still spent nothing.
    let busy = report.fires.iter().find(|fire| fire.schedule_id != watching.id).unwrap();
    assert_eq!(busy.status, FireStatus::SkippedNoChange);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_fires_a_due_schedule_by_itself() {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2030, 3, 1, 0, 0, 0).unwrap()));
    let h = Harness::on_clock(ToolRegistry::default(), clock.clone()).await;
    let shared = SharedClock::new(clock.clone());
    let use_cases = UseCases::new(h.store.clone(), shared.clone());
    let job = TargetRequest::Job { kind: "noop".into(), payload: json!({"hello": 1}) };
    let mut once = hourly("Once", job);
    once.when = "at 2030-03-01T00:00:01Z".into();
    let once = use_cases.create_schedule(USER, once).await.unwrap();
    let checker = PreconditionChecker::new(h.store.clone(), Arc::new(AddressPolicy::default()));
    let stop = CancellationToken::new();
    let task = Scheduler::new(h.store.clone(), shared, checker).start(stop.clone());
    // The loop sleeps on real time until the slot's instant on the manual
    // clock, which it reads again when woken: move the clock past the slot.
    clock.advance(TimeDelta::seconds(2));
    eventually("the one-shot fired", || async {
        !h.store.list_schedule_fires(USER, once.id, 10).await.unwrap().is_empty()
    })
    .await;
    let fires = h.store.list_schedule_fires(USER, once.id, 10).await.unwrap();
    assert_eq!((fires.len(), fires[0].status), (1, FireStatus::Fired));
    stop.cancel();
    task.await.unwrap();
}
