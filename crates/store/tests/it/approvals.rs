//! Approvals: a running run pauses for tool calls to be approved, resumes
//! with a new job once the last is decided, and refuses what does not fit.

use serde_json::json;
use steward_domain::run::execution;
use steward_domain::{
    ApprovalStatus, Decision, EventSubject, JobState, NewApproval, RunId, RunOutcome, RunStatus, UserId,
};
use steward_store::{ApprovalFilter, ClaimedJob, ConflictKind, JobFilter, RunFinish, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{
    USER, ad_hoc_run, agent_named, claim, claim_and_begin, complete, defined_action, event_kinds, model_call,
    run_of_action,
};

fn request(call_id: &str, tool: &str) -> NewApproval {
    NewApproval { step_sequence: 0, call_id: call_id.into(), tool: tool.into(), arguments: json!({ "path": "x.md" }) }
}

/// A running run whose first step is a model call asking for tools, and
/// the job running it.
async fn running_run(t: &TestStore) -> (RunId, ClaimedJob) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    let (job, _) = claim_and_begin(store, run.id).await;
    store.append_step(model_call(&t.clock, run.id, 0, 10, 10, Some(0.001))).await.unwrap();
    (run.id, job)
}

fn approve() -> Decision {
    Decision { approve: true, reason: None }
}

async fn the_run_resumes_only_after_the_last_pending_decision(t: TestStore) {
    let store = t.store.as_ref();
    let (run, paused_job) = running_run(&t).await;
    let approvals = store
        .request_approvals(run, vec![request("call_1", "workspace.write"), request("call_2", "http.fetch")])
        .await
        .unwrap();
    assert_eq!(approvals.len(), 2);
    assert!(
        approvals.iter().all(|approval| approval.status == ApprovalStatus::Pending && approval.run_id == Some(run))
    );
    assert_eq!(approvals[1].tool, "http.fetch");
    assert_eq!(approvals[0].arguments, json!({ "path": "x.md" }));
    assert_eq!(store.get_run(USER, run).await.unwrap().status, RunStatus::AwaitingApproval);
    // The job that paused the run completes; nothing runs until a decision.
    complete(store, &paused_job).await;
    assert!(claim(store, 5).await.is_empty());

    let decided = store.decide_approval(USER, approvals[0].id, approve()).await.unwrap();
    assert_eq!(decided.status, ApprovalStatus::Approved);
    assert_eq!(store.get_run(USER, run).await.unwrap().status, RunStatus::AwaitingApproval, "one is still pending");
    let agent_jobs = JobFilter { kind: Some(execution::JOB_KIND.into()), limit: 100, ..JobFilter::default() };
    assert_eq!(store.list_jobs(USER.into(), agent_jobs.clone()).await.unwrap().len(), 1);

    let rejection = Decision { approve: false, reason: Some("not that site".into()) };
    let rejected = store.decide_approval(USER, approvals[1].id, rejection).await.unwrap();
    assert_eq!((rejected.status, rejected.reason.as_deref()), (ApprovalStatus::Rejected, Some("not that site")));
    assert!(rejected.decided_at.is_some());
    let resumed = store.get_run(USER, run).await.unwrap();
    assert_eq!(resumed.status, RunStatus::Queued);
    let jobs = store.list_jobs(USER.into(), agent_jobs).await.unwrap();
    assert_eq!(jobs.len(), 2, "one new job resumes the run");
    let resume_job = &jobs[0];
    assert_eq!(Some(resume_job.id), resumed.job_id);
    assert_eq!((resume_job.state, resume_job.payload.clone()), (JobState::Queued, json!({ "run_id": run })));
    assert_eq!(resume_job.idempotency_key.as_deref(), Some(format!("run:{run}:resume:1").as_str()));

    // A decision cannot be taken twice.
    match store.decide_approval(USER, approvals[0].id, approve()).await.unwrap_err() {
        StoreError::Conflict { kind, message, .. } => {
            assert_eq!(kind, ConflictKind::IllegalTransition);
            assert!(message.contains("already approved"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let kinds = event_kinds(store, EventSubject::Run, run.get()).await;
    assert_eq!(kinds, ["run.queued", "run.started", "run.step", "run.awaiting_approval", "run.queued"]);

    // The resumed run begins again and can pause a second time.
    let (_, begun) = claim_and_begin(store, run).await;
    assert_eq!(begun.status, RunStatus::Running);
    store.append_step(model_call(&t.clock, run, 1, 10, 10, Some(0.001))).await.unwrap();
    let again = NewApproval { step_sequence: 1, ..request("call_3", "workspace.write") };
    let second = store.request_approvals(run, vec![again]).await.unwrap();
    store.decide_approval(USER, second[0].id, approve()).await.unwrap();
    let run_now = store.get_run(USER, run).await.unwrap();
    let job = store.get_job(USER, run_now.job_id.unwrap()).await.unwrap();
    assert_eq!(job.idempotency_key.as_deref(), Some(format!("run:{run}:resume:2").as_str()));
}

async fn a_repeated_request_returns_the_first_and_pauses_only_while_pending(t: TestStore) {
    let store = t.store.as_ref();
    let (run, paused_job) = running_run(&t).await;
    let first = store.request_approvals(run, vec![request("call_1", "workspace.write")]).await.unwrap();
    complete(store, &paused_job).await;
    store.decide_approval(USER, first[0].id, approve()).await.unwrap();
    let (_, begun) = claim_and_begin(store, run).await;
    assert_eq!(begun.status, RunStatus::Running);
    // Replaying its steps after a crash, the run asks again for the same call.
    let again = store.request_approvals(run, vec![request("call_1", "workspace.write")]).await.unwrap();
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].status, ApprovalStatus::Approved);
    assert_eq!(store.get_run(USER, run).await.unwrap().status, RunStatus::Running, "nothing to wait for");
    let all = store
        .list_approvals(USER.into(), ApprovalFilter { run_id: Some(run), ..ApprovalFilter::default() })
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
}

async fn requests_must_come_from_a_running_run_and_name_stored_steps(t: TestStore) {
    let store = t.store.as_ref();
    let (run, _) = running_run(&t).await;
    let agent = agent_named(store, "Queued").await;
    let queued = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    match store.request_approvals(queued.id, vec![request("call_1", "http.fetch")]).await.unwrap_err() {
        StoreError::Conflict { message, .. } => assert!(message.contains("only a running run"), "{message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let invalid_field = |error: StoreError| match error {
        StoreError::Invalid(error) => error.field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(invalid_field(store.request_approvals(run, vec![]).await.unwrap_err()), "requests");
    let beyond = NewApproval { step_sequence: 1, ..request("call_1", "http.fetch") };
    assert_eq!(
        invalid_field(store.request_approvals(run, vec![beyond]).await.unwrap_err()),
        "requests[0].step_sequence"
    );
    let twice = vec![request("call_1", "http.fetch"), request("call_1", "http.fetch")];
    assert_eq!(invalid_field(store.request_approvals(run, twice).await.unwrap_err()), "requests[1].call_id");
    let bad_tool = request("call_1", "Not A Tool");
    assert_eq!(invalid_field(store.request_approvals(run, vec![bad_tool]).await.unwrap_err()), "requests[0].tool");
    assert!(store.list_approvals(USER.into(), ApprovalFilter::default()).await.unwrap().is_empty());
    assert_eq!(store.get_run(USER, run).await.unwrap().status, RunStatus::Running);
}

async fn a_finished_run_withdraws_its_approvals_and_refuses_decisions(t: TestStore) {
    let store = t.store.as_ref();
    let (run, _) = running_run(&t).await;
    let approvals = store
        .request_approvals(run, vec![request("call_1", "http.fetch"), request("call_2", "http.fetch")])
        .await
        .unwrap();
    // The loop ends the run while it waits (its wall time ran out, say).
    let limit = RunFinish { outcome: RunOutcome::MaxWallTime, output: None, error: Some("out of time".into()) };
    store.finish_run(run, limit).await.unwrap();
    for approval in &approvals {
        let withdrawn = store.get_approval(USER, approval.id).await.unwrap();
        assert_eq!(withdrawn.status, ApprovalStatus::Withdrawn);
        match store.decide_approval(USER, approval.id, approve()).await.unwrap_err() {
            StoreError::Conflict { message, .. } => assert!(message.contains("withdrawn"), "{message}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(store.get_run(USER, run).await.unwrap().status, RunStatus::Finished);
}

async fn the_action_of_a_resumed_run_records_its_new_job(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    let (job, _) = claim_and_begin(store, run.id).await;
    store.append_step(model_call(&t.clock, run.id, 0, 10, 10, None)).await.unwrap();
    let approvals = store.request_approvals(run.id, vec![request("call_1", "http.fetch")]).await.unwrap();
    complete(store, &job).await;
    store.decide_approval(USER, approvals[0].id, approve()).await.unwrap();
    let resumed = store.get_run(USER, run.id).await.unwrap();
    assert_ne!(resumed.job_id, Some(job.id));
    assert_eq!(store.get_action(USER, action.id).await.unwrap().job_id, resumed.job_id);
    let (_, begun) = claim_and_begin(store, run.id).await;
    assert_eq!(begun.job_id, resumed.job_id);
}

async fn approvals_are_scoped_by_user(t: TestStore) {
    let store = t.store.as_ref();
    let (run, _) = running_run(&t).await;
    let approvals = store.request_approvals(run, vec![request("call_1", "http.fetch")]).await.unwrap();
    let stranger = UserId(2);
    assert!(matches!(store.get_approval(stranger, approvals[0].id).await.unwrap_err(), StoreError::NotFound { .. }));
    assert!(matches!(
        store.decide_approval(stranger, approvals[0].id, approve()).await.unwrap_err(),
        StoreError::NotFound { .. }
    ));
    assert!(store.list_approvals(stranger.into(), ApprovalFilter::default()).await.unwrap().is_empty());
    assert_eq!(store.get_approval(USER, approvals[0].id).await.unwrap().status, ApprovalStatus::Pending);
    let mine = ApprovalFilter { run_id: Some(run), statuses: vec![ApprovalStatus::Pending] };
    assert_eq!(store.list_approvals(USER.into(), mine).await.unwrap(), approvals);
}

store_tests!(
    the_run_resumes_only_after_the_last_pending_decision,
    a_repeated_request_returns_the_first_and_pauses_only_while_pending,
    requests_must_come_from_a_running_run_and_name_stored_steps,
    a_finished_run_withdraws_its_approvals_and_refuses_decisions,
    the_action_of_a_resumed_run_records_its_new_job,
    approvals_are_scoped_by_user,
);
