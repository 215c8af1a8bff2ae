//! What agents spend, by the UTC day the model calls finished, and their
//! metrics: spend, runs, actions completed of total.

use chrono::TimeZone;
use steward_domain::{ActionState, Clock, Spend, StepKind};
use steward_store::RunFinish;
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{
    USER, ad_hoc_run, agent_named, claim_and_begin, defined_action, draft_action, model_call, run_of_action, step,
};

async fn spend_is_counted_by_the_day_the_calls_finished(t: TestStore) {
    let store = t.store.as_ref();
    let clock = t.clock.as_ref();
    let writer = agent_named(store, "Writer").await;
    let editor = agent_named(store, "Editor").await;
    // The clock starts at 2030-01-01T00:00:00Z; the first run spends late that day.
    clock.advance(chrono::Duration::hours(23));
    let run = store.start_run(USER, ad_hoc_run(writer, "Go")).await.unwrap();
    claim_and_begin(store, run.id).await;
    store.append_step(step(clock, run.id, 0, StepKind::Instruction)).await.unwrap();
    store.append_step(model_call(clock, run.id, 1, 100, 10, Some(0.25))).await.unwrap();
    store.append_step(step(clock, run.id, 2, StepKind::ToolCall)).await.unwrap();
    // The run goes on past midnight: these calls are the next day's spending.
    clock.advance(chrono::Duration::hours(2));
    store.append_step(model_call(clock, run.id, 3, 100, 10, Some(0.5))).await.unwrap();
    store.append_step(model_call(clock, run.id, 4, 100, 10, None)).await.unwrap();
    // Another agent's spending is not counted.
    let other = store.start_run(USER, ad_hoc_run(editor, "Go")).await.unwrap();
    claim_and_begin(store, other.id).await;
    store.append_step(model_call(clock, other.id, 0, 1, 1, Some(9.0))).await.unwrap();

    let total = store.agent_spend(USER, writer, None).await.unwrap();
    assert_eq!(total, Spend { cost_usd: 0.75, unknown_cost_calls: 1 });
    let second_day = chrono::Utc.with_ymd_and_hms(2030, 1, 2, 0, 0, 0).unwrap();
    let today = store.agent_spend(USER, writer, Some(second_day)).await.unwrap();
    assert_eq!(today, Spend { cost_usd: 0.5, unknown_cost_calls: 1 });
    let metrics = store.agent_metrics(USER, writer).await.unwrap();
    assert_eq!((metrics.spend_total, metrics.spend_today), (total, today));

    // A new day starts with nothing spent today.
    clock.set(chrono::Utc.with_ymd_and_hms(2030, 1, 3, 8, 0, 0).unwrap());
    let metrics = store.agent_metrics(USER, writer).await.unwrap();
    assert_eq!(metrics.spend_today, Spend::default());
    assert_eq!(metrics.spend_total, total);
    assert_eq!(store.agent_spend(USER, editor, Some(clock.now())).await.unwrap(), Spend::default());
}

async fn metrics_count_runs_and_actions_completed_of_total(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let done = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, done.id, run_of_action(&done)).await.unwrap();
    claim_and_begin(store, run.id).await;
    let completed =
        RunFinish { outcome: steward_domain::RunOutcome::Completed, output: Some("ok".into()), error: None };
    store.finish_run(run.id, completed).await.unwrap();
    draft_action(store, agent).await;
    let dismissed = draft_action(store, agent).await;
    store.transition_action(USER, dismissed.id, ActionState::Dismissed, None).await.unwrap();
    store.start_run(USER, ad_hoc_run(agent, "Ad hoc")).await.unwrap();

    let metrics = store.agent_metrics(USER, agent).await.unwrap();
    assert_eq!(metrics.runs, 2);
    assert_eq!((metrics.actions_completed, metrics.actions_total), (1, 2), "dismissed actions are not counted");
    assert_eq!(metrics.spend_total, Spend::default());
}

store_tests!(spend_is_counted_by_the_day_the_calls_finished, metrics_count_runs_and_actions_completed_of_total);
