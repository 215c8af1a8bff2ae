//! Model calls in flight (issue #11, spending survives crashes): a call
//! recorded as started and never stored is stored as an interrupted,
//! estimated model-call step when its run begins again or finishes, counted
//! once in the run's totals and in the agent's spending; a stored reply, or
//! a call that failed, leaves nothing to count.

use steward_domain::run::INTERRUPTED_STOP_REASON;
use steward_domain::{Clock, ModelCallStarted, RunOutcome, RunStatus, StepKind};
use steward_store::{ConflictKind, RunFinish, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, ad_hoc_run, agent_named, claim_and_begin, model_call, step};

fn started(sequence: u32, at: chrono::DateTime<chrono::Utc>) -> ModelCallStarted {
    ModelCallStarted {
        sequence,
        model: "anthropic/claude-sonnet-4-5".into(),
        estimated_input_tokens: 2000,
        estimated_cost_usd: Some(0.006),
        started_at: at,
    }
}

async fn a_call_cut_off_is_counted_once_as_an_estimate_when_the_run_resumes(t: TestStore) {
    let store = t.store.as_ref();
    let clock = t.clock.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    let (job, _) = claim_and_begin(store, run.id).await;
    store.append_step(step(clock, run.id, 0, StepKind::Instruction)).await.unwrap();

    // A call whose reply was stored leaves nothing behind.
    store.model_call_started(run.id, started(1, clock.now())).await.unwrap();
    store.append_step(model_call(clock, run.id, 1, 1000, 100, Some(0.0045))).await.unwrap();
    // A call that failed is forgotten.
    store.model_call_started(run.id, started(2, clock.now())).await.unwrap();
    store.model_call_failed(run.id).await.unwrap();
    let same = store.begin_run(run.id, job.id).await.unwrap();
    assert_eq!((same.steps, same.usage.model_calls, same.usage.estimated_calls), (2, 1, 0));

    // Only the run's next step can be in flight.
    let stale = store.model_call_started(run.id, started(1, clock.now())).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { kind: ConflictKind::Stale, .. }), "{stale:?}");

    // The process dies mid-call; the next job's begin stores the call.
    let cut_at = clock.now();
    store.model_call_started(run.id, started(2, cut_at)).await.unwrap();
    t.clock.advance(chrono::Duration::seconds(30));
    let resumed = store.begin_run(run.id, job.id).await.unwrap();
    assert_eq!((resumed.status, resumed.steps), (RunStatus::Running, 3));
    let usage = resumed.usage;
    assert_eq!((usage.model_calls, usage.estimated_calls, usage.unknown_cost_calls), (2, 1, 0));
    assert_eq!((usage.input_tokens, usage.output_tokens), (3000, 100));
    assert!((usage.cost_usd - 0.0105).abs() < 1e-12, "{}", usage.cost_usd);
    let steps = store.list_steps(USER, run.id).await.unwrap();
    let interrupted = &steps[2];
    assert!(interrupted.is_interrupted());
    assert_eq!(interrupted.stop_reason.as_deref(), Some(INTERRUPTED_STOP_REASON));
    assert_eq!((interrupted.started_at, interrupted.finished_at), (cut_at, clock.now()));
    assert!(interrupted.error.as_deref().unwrap().contains("estimate"));

    // Beginning again counts nothing more; budgets read the estimate.
    let again = store.begin_run(run.id, job.id).await.unwrap();
    assert_eq!(again.usage, usage);
    let spend = store.agent_spend(USER, agent, None).await.unwrap();
    assert!((spend.cost_usd - 0.0105).abs() < 1e-12, "{spend:?}");

    // A call cut off by a cancel is counted when the run finishes.
    store.model_call_started(run.id, started(3, clock.now())).await.unwrap();
    let cancelled = RunFinish { outcome: RunOutcome::Cancelled, output: None, error: Some("cancelled".into()) };
    let finished = store.finish_run(run.id, cancelled).await.unwrap();
    assert_eq!((finished.steps, finished.usage.estimated_calls, finished.usage.model_calls), (4, 2, 3));
    let finished_again = store.model_call_started(run.id, started(4, clock.now())).await.unwrap_err();
    assert!(matches!(finished_again, StoreError::Conflict { .. }), "{finished_again:?}");
}

store_tests!(a_call_cut_off_is_counted_once_as_an_estimate_when_the_run_resumes);
