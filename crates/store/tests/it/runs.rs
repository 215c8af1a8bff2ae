//! Runs: starting one with the job that executes it, the worker's begin,
//! steps as checkpoints with their totals, finishing, scheduling actions,
//! listing, and what each refuses.

use std::time::Duration;

use serde_json::json;
use steward_domain::run::execution;
use steward_domain::{
    ActionState, AgentId, Clock, EventSubject, JobState, NewRun, RunLimits, RunOutcome, RunStatus, StepKind, UserId,
};
use steward_store::{ActionFilter, ConflictKind, JobFilter, RunFilter, RunFinish, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{
    USER, ad_hoc_run, agent_named, claim, claim_and_begin, defined_action, draft_action, event_kinds, model_call,
    run_of_action, step,
};

fn completed(output: &str) -> RunFinish {
    RunFinish { outcome: RunOutcome::Completed, output: Some(output.into()), error: None }
}

fn failed(error: &str) -> RunFinish {
    RunFinish { outcome: RunOutcome::Failed, output: None, error: Some(error.into()) }
}

async fn start_run_enqueues_exactly_one_job_that_executes_it(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let limits = RunLimits {
        max_steps: Some(8),
        max_tokens: Some(9000),
        max_cost_usd: Some(0.75),
        max_wall_time: Some(Duration::from_secs(120)),
    };
    let run = store.start_run(USER, NewRun { limits, ..ad_hoc_run(agent, "Draft the intro") }).await.unwrap();
    assert_eq!((run.status, run.outcome, run.steps), (RunStatus::Queued, None, 0));
    assert_eq!((run.agent_id, run.action_id, run.instruction.as_str()), (agent, None, "Draft the intro"));
    assert_eq!(run.limits, limits);
    assert_eq!(run.created_at, t.clock.now());
    assert_eq!((run.started_at, run.finished_at), (None, None));
    assert_eq!(store.get_run(USER, run.id).await.unwrap(), run);

    let jobs = store.list_jobs(USER.into(), JobFilter { limit: 100, ..JobFilter::default() }).await.unwrap();
    assert_eq!(jobs.len(), 1, "one job per start");
    let job = &jobs[0];
    assert_eq!(Some(job.id), run.job_id);
    assert_eq!((job.kind.as_str(), job.queue.as_str()), (execution::JOB_KIND, execution::QUEUE));
    assert_eq!(job.payload, json!({ "run_id": run.id }));
    assert_eq!((job.max_attempts, job.timeout), (execution::MAX_ATTEMPTS, execution::JOB_TIMEOUT));
    assert_eq!(job.idempotency_key.as_deref(), Some(format!("run:{}:start", run.id).as_str()));
    assert_eq!((job.state, job.run_at), (JobState::Queued, t.clock.now()));
    assert_eq!(event_kinds(store, EventSubject::Run, run.id.get()).await, ["run.queued"]);
}

async fn a_start_key_taken_by_another_job_is_refused(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    // Someone enqueued a job under the key the first run's job will use.
    let squatter = crate::helpers::enqueue_one(store, crate::helpers::keyed("run:1:start")).await;
    match store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap_err() {
        StoreError::Conflict { kind, field, message } => {
            assert_eq!((kind, field.as_deref()), (ConflictKind::AlreadyExists, Some("idempotency_key")));
            assert!(message.contains(&format!("job {}", squatter.id)), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(store.list_runs(USER.into(), RunFilter::default()).await.unwrap().is_empty());
    assert_eq!(store.list_jobs(USER.into(), JobFilter { limit: 10, ..JobFilter::default() }).await.unwrap().len(), 1);
}

async fn a_run_at_delays_its_job(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let at = t.clock.now() + chrono::Duration::minutes(10);
    let run = store.start_run(USER, NewRun { run_at: Some(at), ..ad_hoc_run(agent, "Later") }).await.unwrap();
    assert_eq!(store.get_job(USER, run.job_id.unwrap()).await.unwrap().run_at, at);
    assert!(claim(store, 5).await.is_empty());
    t.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(claim(store, 5).await.len(), 1);
}

async fn start_run_refuses_bad_input_and_writes_nothing(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let other = agent_named(store, "Other").await;
    let others_action = draft_action(store, other).await;
    let invalid_field = |error: StoreError| match error {
        StoreError::Invalid(error) => error.field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    let error = store.start_run(USER, ad_hoc_run(AgentId(999), "x")).await.unwrap_err();
    assert_eq!(invalid_field(error), "agent_id");
    let error = store.start_run(USER, ad_hoc_run(agent, "  ")).await.unwrap_err();
    assert_eq!(invalid_field(error), "instruction");
    let zero_steps =
        NewRun { limits: RunLimits { max_steps: Some(0), ..RunLimits::default() }, ..ad_hoc_run(agent, "x") };
    assert_eq!(invalid_field(store.start_run(USER, zero_steps).await.unwrap_err()), "max_steps");
    let wrong_action = NewRun { action_id: Some(others_action.id), ..ad_hoc_run(agent, "x") };
    assert_eq!(invalid_field(store.start_run(USER, wrong_action).await.unwrap_err()), "action_id");
    store.archive_agent(USER, agent).await.unwrap();
    match store.start_run(USER, ad_hoc_run(agent, "x")).await.unwrap_err() {
        StoreError::Conflict { kind, field, .. } => {
            assert_eq!((kind, field.as_deref()), (ConflictKind::Archived, Some("agent_id")));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(store.list_runs(USER.into(), RunFilter::default()).await.unwrap().is_empty());
    assert!(store.list_jobs(USER.into(), JobFilter::default()).await.unwrap().is_empty());
}

async fn begin_run_sets_it_running_and_refuses_a_finished_run(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    t.clock.advance(chrono::Duration::seconds(3));
    let (job, begun) = claim_and_begin(store, run.id).await;
    assert_eq!((begun.status, begun.job_id), (RunStatus::Running, Some(job.id)));
    let started = t.clock.now();
    assert_eq!(begun.started_at, Some(started));

    // A resumed job begins the run again; the first start time stays.
    t.clock.advance(chrono::Duration::seconds(3));
    let again = store.begin_run(run.id, job.id).await.unwrap();
    assert_eq!(again.started_at, Some(started));

    store.finish_run(run.id, completed("done")).await.unwrap();
    match store.begin_run(run.id, job.id).await.unwrap_err() {
        StoreError::Conflict { kind, message, .. } => {
            assert_eq!(kind, ConflictKind::IllegalTransition);
            assert!(message.contains("finished (completed)"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        event_kinds(store, EventSubject::Run, run.id.get()).await,
        ["run.queued", "run.started", "run.started", "run.finished"]
    );
}

async fn steps_are_checkpoints_in_sequence_with_their_totals(t: TestStore) {
    let store = t.store.as_ref();
    let clock = t.clock.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    claim_and_begin(store, run.id).await;

    let mut appended = vec![step(clock, run.id, 0, StepKind::Instruction)];
    appended.push(model_call(clock, run.id, 1, 1200, 300, Some(0.0125)));
    let mut tool = step(clock, run.id, 2, StepKind::ToolCall);
    tool.error = Some("no such file".into());
    appended.push(tool);
    t.clock.advance(chrono::Duration::milliseconds(1500));
    let mut unknown = model_call(clock, run.id, 3, 800, 200, None);
    unknown.started_at = clock.now() - chrono::Duration::milliseconds(900);
    appended.push(unknown);
    let mut latest = run.clone();
    for step in &appended {
        latest = store.append_step(step.clone()).await.unwrap();
    }
    assert_eq!(latest.steps, 4);
    let usage = latest.usage;
    assert_eq!((usage.input_tokens, usage.output_tokens, usage.total_tokens()), (2000, 500, 2500));
    assert_eq!((usage.cost_usd, usage.unknown_cost_calls), (0.0125, 1), "unknown cost is counted apart, not as $0");
    assert!(!usage.cost_is_known());
    assert_eq!((usage.model_calls, usage.tool_calls), (2, 1));

    // The steps read back exactly as appended: what a resumed run replays.
    assert_eq!(store.list_steps(USER, run.id).await.unwrap(), appended);
    assert_eq!(store.list_steps(USER, run.id).await.unwrap()[3].duration(), Duration::from_millis(900));

    // A step that is not the next one is refused as stale and changes nothing.
    for sequence in [2, 5] {
        match store.append_step(step(clock, run.id, sequence, StepKind::ToolCall)).await.unwrap_err() {
            StoreError::Conflict { kind, field, message } => {
                assert_eq!((kind, field.as_deref()), (ConflictKind::Stale, Some("sequence")));
                assert!(message.contains("stale"), "{message}");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(store.get_run(USER, run.id).await.unwrap(), latest);

    let mut negative = model_call(clock, run.id, 4, 1, 1, Some(-1.0));
    match store.append_step(negative.clone()).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "cost_usd"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    negative.cost_usd = Some(0.0);
    negative.finished_at = negative.started_at - chrono::Duration::seconds(1);
    assert!(
        matches!(store.append_step(negative).await.unwrap_err(), StoreError::Invalid(error) if error.field == "finished_at")
    );

    store.finish_run(run.id, completed("done")).await.unwrap();
    let late = store.append_step(step(clock, run.id, 4, StepKind::ToolCall)).await.unwrap_err();
    assert!(matches!(late, StoreError::Conflict { kind: ConflictKind::IllegalTransition, .. }), "{late:?}");
    let steps = event_kinds(store, EventSubject::Run, run.id.get()).await;
    assert_eq!(steps.iter().filter(|kind| *kind == "run.step").count(), 4);
}

async fn finishing_moves_the_action_and_happens_once(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    let (_, begun) = claim_and_begin(store, run.id).await;
    assert_eq!(begun.status, RunStatus::Running);
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::InProgress);

    t.clock.advance(chrono::Duration::seconds(30));
    let finished = store.finish_run(run.id, completed("Here is the outline")).await.unwrap();
    assert_eq!((finished.status, finished.outcome), (RunStatus::Finished, Some(RunOutcome::Completed)));
    assert_eq!(finished.output.as_deref(), Some("Here is the outline"));
    assert_eq!(finished.finished_at, Some(t.clock.now()));
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Completed);
    match store.finish_run(run.id, failed("again")).await.unwrap_err() {
        StoreError::Conflict { kind, .. } => assert_eq!(kind, ConflictKind::IllegalTransition),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.get_run(USER, run.id).await.unwrap(), finished);

    // Any other outcome fails the action, with the error as its reason.
    let second = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, second.id, run_of_action(&second)).await.unwrap();
    claim_and_begin(store, run.id).await;
    let limit = RunFinish { outcome: RunOutcome::MaxSteps, output: None, error: Some("stopped after 8 steps".into()) };
    store.finish_run(run.id, limit).await.unwrap();
    let failed_action = store.get_action(USER, second.id).await.unwrap();
    assert_eq!(failed_action.state, ActionState::Failed);
    assert_eq!(failed_action.state_reason.as_deref(), Some("stopped after 8 steps"));
    let transitions = event_kinds(store, EventSubject::Action, second.id.get()).await;
    assert_eq!(
        transitions,
        ["action.created", "action.transitioned", "action.transitioned", "action.transitioned", "action.transitioned"]
    );
}

async fn schedule_action_from_defined_or_failed_but_not_draft(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let draft = draft_action(store, agent).await;
    match store.schedule_action(USER, draft.id, run_of_action(&draft)).await.unwrap_err() {
        StoreError::Conflict { kind, message, .. } => {
            assert_eq!(kind, ConflictKind::IllegalTransition);
            assert!(message.contains("cannot go from draft to scheduled"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(store.list_runs(USER.into(), RunFilter::default()).await.unwrap().is_empty());

    let action = defined_action(store, agent).await;
    let mismatched = NewRun { action_id: Some(draft.id), ..run_of_action(&action) };
    assert!(
        matches!(store.schedule_action(USER, action.id, mismatched).await.unwrap_err(), StoreError::Invalid(error) if error.field == "action_id")
    );
    let at = t.clock.now() + chrono::Duration::hours(1);
    let (scheduled, run) =
        store.schedule_action(USER, action.id, NewRun { run_at: Some(at), ..run_of_action(&action) }).await.unwrap();
    assert_eq!(scheduled.state, ActionState::Scheduled);
    assert_eq!(scheduled.job_id, run.job_id);
    assert_eq!(run.action_id, Some(action.id));
    assert_eq!(store.get_job(USER, run.job_id.unwrap()).await.unwrap().run_at, at);
    // Scheduling twice is refused: it is scheduled already.
    assert!(store.schedule_action(USER, action.id, run_of_action(&action)).await.is_err());

    t.clock.advance(chrono::Duration::hours(1));
    claim_and_begin(store, run.id).await;
    store.finish_run(run.id, failed("the API was down")).await.unwrap();
    let (rescheduled, second_run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    assert_eq!((rescheduled.state, rescheduled.state_reason), (ActionState::Scheduled, None));
    assert_ne!(second_run.id, run.id);
    assert_eq!(rescheduled.job_id, second_run.job_id);
    let filter = RunFilter { action_id: Some(action.id), limit: 10, ..RunFilter::default() };
    let runs: Vec<_> = store.list_runs(USER.into(), filter).await.unwrap().into_iter().map(|run| run.id).collect();
    assert_eq!(runs, [second_run.id, run.id], "newest first");
}

async fn list_runs_filters_and_pages(t: TestStore) {
    let store = t.store.as_ref();
    let writer = agent_named(store, "Writer").await;
    let editor = agent_named(store, "Editor").await;
    let first = store.start_run(USER, ad_hoc_run(writer, "one")).await.unwrap();
    let second = store.start_run(USER, ad_hoc_run(editor, "two")).await.unwrap();
    let third = store.start_run(USER, ad_hoc_run(writer, "three")).await.unwrap();
    store.cancel_run(USER, second.id).await.unwrap();
    let ids = |runs: Vec<steward_domain::Run>| runs.into_iter().map(|run| run.id).collect::<Vec<_>>();
    let all = RunFilter { limit: 10, ..RunFilter::default() };
    assert_eq!(ids(store.list_runs(USER.into(), all.clone()).await.unwrap()), [third.id, second.id, first.id]);
    let writers = RunFilter { agent_id: Some(writer), ..all.clone() };
    assert_eq!(ids(store.list_runs(USER.into(), writers).await.unwrap()), [third.id, first.id]);
    let finished = RunFilter { statuses: vec![RunStatus::Finished], ..all.clone() };
    assert_eq!(ids(store.list_runs(USER.into(), finished).await.unwrap()), [second.id]);
    let page = RunFilter { before: Some(third.id), limit: 1, ..all };
    assert_eq!(ids(store.list_runs(USER.into(), page).await.unwrap()), [second.id]);
}

async fn runs_are_scoped_by_user(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    let stranger = UserId(2);
    let not_found = |error: StoreError| matches!(error, StoreError::NotFound { .. });
    assert!(not_found(store.get_run(stranger, run.id).await.unwrap_err()));
    assert!(not_found(store.cancel_run(stranger, run.id).await.unwrap_err()));
    assert!(not_found(store.list_steps(stranger, run.id).await.unwrap_err()));
    assert!(not_found(store.agent_spend(stranger, agent, None).await.unwrap_err()));
    assert!(not_found(store.agent_metrics(stranger, agent).await.unwrap_err()));
    assert!(store.list_runs(stranger.into(), RunFilter::default()).await.unwrap().is_empty());
    // Someone else's agent cannot be used to start a run either.
    assert!(matches!(store.start_run(stranger, ad_hoc_run(agent, "x")).await.unwrap_err(), StoreError::Invalid(_)));
    assert_eq!(store.get_run(USER, run.id).await.unwrap().status, RunStatus::Queued);
    assert!(store.list_actions(stranger.into(), ActionFilter::default()).await.unwrap().is_empty());
}

store_tests!(
    start_run_enqueues_exactly_one_job_that_executes_it,
    a_run_at_delays_its_job,
    a_start_key_taken_by_another_job_is_refused,
    start_run_refuses_bad_input_and_writes_nothing,
    begin_run_sets_it_running_and_refuses_a_finished_run,
    steps_are_checkpoints_in_sequence_with_their_totals,
    finishing_moves_the_action_and_happens_once,
    schedule_action_from_defined_or_failed_but_not_draft,
    list_runs_filters_and_pages,
    runs_are_scoped_by_user,
);
