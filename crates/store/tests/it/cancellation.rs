//! Cancelling a run in each of its states: queued, running (the worker
//! learns at its next heartbeat), awaiting approval, finished.

use serde_json::json;
use steward_domain::{ActionState, ApprovalStatus, EventSubject, JobState, NewApproval, RunOutcome, RunStatus};
use steward_store::{ApprovalFilter, ConflictKind, LeaseStatus, RunFinish, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{
    LEASE, USER, WORKER, ad_hoc_run, agent_named, claim_and_begin, defined_action, event_kinds, model_call,
    run_of_action,
};

async fn a_queued_run_is_finished_at_once_and_its_job_cancelled(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    let cancelled = store.cancel_run(USER, run.id).await.unwrap();
    assert_eq!((cancelled.status, cancelled.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)));
    assert_eq!(cancelled.error.as_deref(), Some("cancelled by request"));
    assert!(!cancelled.cancel_requested);
    assert_eq!(store.get_job(USER, run.job_id.unwrap()).await.unwrap().state, JobState::Cancelled);
    // The action never started; it failed and can be scheduled again.
    let action = store.get_action(USER, action.id).await.unwrap();
    assert_eq!((action.state, action.state_reason.as_deref()), (ActionState::Failed, Some("cancelled by request")));
    assert_eq!(event_kinds(store, EventSubject::Run, run.id.get()).await, ["run.queued", "run.finished"]);

    match store.cancel_run(USER, run.id).await.unwrap_err() {
        StoreError::Conflict { kind, message, .. } => {
            assert_eq!(kind, ConflictKind::IllegalTransition);
            assert!(message.contains("finished (cancelled)"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn a_running_run_is_asked_to_stop_and_its_worker_hears_at_the_heartbeat(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    let (job, _) = claim_and_begin(store, run.id).await;

    let requested = store.cancel_run(USER, run.id).await.unwrap();
    assert_eq!((requested.status, requested.cancel_requested), (RunStatus::Running, true));
    assert_eq!(store.get_job(USER, job.id).await.unwrap().state, JobState::Cancelled);
    let statuses = store.heartbeat(WORKER, vec![job.lease()], LEASE).await.unwrap();
    assert_eq!(statuses, [LeaseStatus::Cancelled]);

    // The loop stops at the next step boundary and records the outcome.
    let cancelled =
        RunFinish { outcome: RunOutcome::Cancelled, output: None, error: Some("cancelled by request".into()) };
    let finished = store.finish_run(run.id, cancelled).await.unwrap();
    assert_eq!((finished.status, finished.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)));
    assert!(finished.cancel_requested);
    let kinds = event_kinds(store, EventSubject::Run, run.id.get()).await;
    assert_eq!(kinds, ["run.queued", "run.started", "run.cancel_requested", "run.finished"]);
}

async fn asking_a_running_run_twice_ends_it_at_once(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    claim_and_begin(store, run.id).await;
    store.cancel_run(USER, run.id).await.unwrap();
    // The worker died after its job was cancelled: nothing else would end it.
    let ended = store.cancel_run(USER, run.id).await.unwrap();
    assert_eq!((ended.status, ended.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)));
}

async fn a_run_awaiting_approval_is_finished_and_its_approvals_withdrawn(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    claim_and_begin(store, run.id).await;
    store.append_step(model_call(&t.clock, run.id, 0, 10, 10, Some(0.001))).await.unwrap();
    let request = NewApproval {
        step_sequence: 0,
        call_id: "call_1".into(),
        tool: "http.fetch".into(),
        arguments: json!({ "url": "https://example.com" }),
    };
    let approvals = store.request_approvals(run.id, vec![request]).await.unwrap();
    assert_eq!(store.get_run(USER, run.id).await.unwrap().status, RunStatus::AwaitingApproval);

    let cancelled = store.cancel_run(USER, run.id).await.unwrap();
    assert_eq!((cancelled.status, cancelled.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)));
    let withdrawn = store.get_approval(USER, approvals[0].id).await.unwrap();
    assert_eq!(withdrawn.status, ApprovalStatus::Withdrawn);
    assert_eq!(withdrawn.decided_at, Some(steward_domain::Clock::now(t.clock.as_ref())));
    let pending = ApprovalFilter { run_id: Some(run.id), statuses: vec![ApprovalStatus::Pending] };
    assert!(store.list_approvals(USER.into(), pending).await.unwrap().is_empty());
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Failed);
    assert_eq!(
        event_kinds(store, EventSubject::Approval, approvals[0].id.get()).await,
        ["approval.requested", "approval.decided"]
    );
}

store_tests!(
    a_queued_run_is_finished_at_once_and_its_job_cancelled,
    a_running_run_is_asked_to_stop_and_its_worker_hears_at_the_heartbeat,
    asking_a_running_run_twice_ends_it_at_once,
    a_run_awaiting_approval_is_finished_and_its_approvals_withdrawn,
);
