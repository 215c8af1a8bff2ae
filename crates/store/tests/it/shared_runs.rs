//! Runs on PostgreSQL shared by several nodes (played by two stores on one
//! schema): two workers appending the same step store it once, two people
//! deciding a run's last approvals resume it once, a decision racing a
//! cancel leaves nothing running, a dismissal racing the run's begin or
//! finish leaves the action where one of them put it, two nodes opening a
//! chat open one. Skipped when `STEWARD_TEST_DATABASE_URL` is not set.

use std::sync::Arc;

use serde_json::json;
use steward_domain::run::execution;
use steward_domain::{
    ActionState, ConversationKind, Decision, JobState, ManualClock, NewApproval, RunId, RunOutcome, RunStatus, StepKind,
};
use steward_store::{ConflictKind, JobFilter, RunFinish, Store, StoreError};
use tokio::sync::Barrier;

use crate::helpers::{
    USER, ad_hoc_run, agent_named, claim, claim_and_begin, complete, defined_action, model_call, run_of_action, step,
};
use crate::shared_database::two_nodes;

/// Runs `first` and `second` at the same moment and returns both results.
async fn at_once<A, B>(
    first: impl Future<Output = A> + Send + 'static,
    second: impl Future<Output = B> + Send + 'static,
) -> (A, B)
where
    A: Send + 'static,
    B: Send + 'static,
{
    let start = Arc::new(Barrier::new(2));
    let (one, two) = (start.clone(), start);
    let first = tokio::spawn(async move {
        one.wait().await;
        first.await
    });
    let second = tokio::spawn(async move {
        two.wait().await;
        second.await
    });
    (first.await.unwrap(), second.await.unwrap())
}

fn clock() -> ManualClock {
    ManualClock::new(chrono::Utc::now())
}

/// A running run of a new agent, paused for `calls` approvals, whose
/// pausing job has completed.
async fn paused_run(store: &dyn Store, name: &str, calls: &[&str]) -> (RunId, Vec<steward_domain::ApprovalId>) {
    let agent = agent_named(store, name).await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    let (job, _) = claim_and_begin(store, run.id).await;
    store.append_step(model_call(&clock(), run.id, 0, 1, 1, Some(0.001))).await.unwrap();
    let requests = calls
        .iter()
        .map(|call| NewApproval {
            step_sequence: 0,
            call_id: call.to_string(),
            tool: "http.fetch".into(),
            arguments: json!({}),
        })
        .collect();
    let approvals = store.request_approvals(run.id, requests).await.unwrap();
    complete(store, &job).await;
    (run.id, approvals.into_iter().map(|approval| approval.id).collect())
}

fn approve() -> Decision {
    Decision { approve: true, reason: None }
}

/// Jobs executing `run` that may still run.
async fn live_jobs_of(store: &dyn Store, run: RunId) -> usize {
    let filter = JobFilter {
        kind: Some(execution::JOB_KIND.into()),
        states: vec![JobState::Blocked, JobState::Queued, JobState::Running],
        limit: 1000,
        ..JobFilter::default()
    };
    let jobs = store.list_jobs(USER.into(), filter).await.unwrap();
    jobs.iter().filter(|job| job.payload == json!({ "run_id": run })).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_appending_the_same_step_store_it_once() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    let agent = agent_named(first.as_ref(), "Writer").await;
    let run = first.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    claim_and_begin(first.as_ref(), run.id).await;
    let rounds = 20;
    for sequence in 0..rounds {
        let mut from_first = step(&clock(), run.id, sequence, StepKind::ToolCall);
        from_first.content = json!({ "worker": "first" });
        let mut from_second = from_first.clone();
        from_second.content = json!({ "worker": "second" });
        let (a, b) = at_once(
            {
                let store = first.clone();
                async move { store.append_step(from_first).await }
            },
            {
                let store = second.clone();
                async move { store.append_step(from_second).await }
            },
        )
        .await;
        let refused = match (a, b) {
            (Ok(_), Err(error)) | (Err(error), Ok(_)) => error,
            other => panic!("step {sequence}: expected exactly one append to succeed, got {other:?}"),
        };
        assert!(matches!(refused, StoreError::Conflict { kind: ConflictKind::Stale, .. }), "{refused:?}");
    }
    let stored = first.get_run(USER, run.id).await.unwrap();
    assert_eq!((stored.steps, stored.usage.tool_calls), (rounds, rounds));
    let steps = second.list_steps(USER, run.id).await.unwrap();
    assert_eq!(steps.iter().map(|step| step.sequence).collect::<Vec<_>>(), (0..rounds).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deciding_the_last_two_approvals_at_once_resumes_the_run_once() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    for round in 0..10 {
        let (run, approvals) = paused_run(first.as_ref(), &format!("Agent {round}"), &["call_1", "call_2"]).await;
        let (a, b) = at_once(
            {
                let store = first.clone();
                let id = approvals[0];
                async move { store.decide_approval(USER, id, approve()).await }
            },
            {
                let store = second.clone();
                let id = approvals[1];
                async move { store.decide_approval(USER, id, approve()).await }
            },
        )
        .await;
        a.unwrap();
        b.unwrap();
        assert_eq!(first.get_run(USER, run).await.unwrap().status, RunStatus::Queued, "round {round}");
        assert_eq!(live_jobs_of(first.as_ref(), run).await, 1, "round {round}: one resume job");
        // Leave nothing claimable for the next round's worker.
        first.cancel_run(USER, run).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_racing_a_cancel_leaves_a_cancelled_run_with_nothing_running() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    for round in 0..10 {
        let (run, approvals) = paused_run(first.as_ref(), &format!("Agent {round}"), &["call_1"]).await;
        let (decided, cancelled) = at_once(
            {
                let store = first.clone();
                let id = approvals[0];
                async move { store.decide_approval(USER, id, approve()).await }
            },
            {
                let store = second.clone();
                async move { store.cancel_run(USER, run).await }
            },
        )
        .await;
        match decided {
            Ok(_) => {}
            Err(StoreError::Conflict { message, .. }) => assert!(message.contains("withdrawn"), "{message}"),
            Err(other) => panic!("round {round}: unexpected {other:?}"),
        }
        let cancelled = cancelled.unwrap();
        assert_eq!((cancelled.status, cancelled.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)));
        assert_eq!(live_jobs_of(first.as_ref(), run).await, 0, "round {round}: nothing left to run it");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dismissal_racing_the_runs_begin_or_finish_leaves_the_action_where_one_of_them_put_it() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    for round in 0..10 {
        let agent = agent_named(first.as_ref(), &format!("Agent {round}")).await;
        let action = defined_action(first.as_ref(), agent).await;
        let (_, run) = first.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
        let job = claim(first.as_ref(), 1).await.pop().unwrap();
        let dismiss = {
            let store = second.clone();
            async move { store.transition_action(USER, action.id, ActionState::Dismissed, None).await }
        };
        // Even rounds race the worker's begin, odd rounds its finish.
        let (worker, dismissed) = if round % 2 == 0 {
            let store = first.clone();
            at_once(async move { store.begin_run(run.id, job.id).await.map(drop) }, dismiss).await
        } else {
            first.begin_run(run.id, job.id).await.unwrap();
            let store = first.clone();
            let done = RunFinish { outcome: RunOutcome::Completed, output: Some("done".into()), error: None };
            at_once(async move { store.finish_run(run.id, done).await.map(drop) }, dismiss).await
        };
        let action_now = first.get_action(USER, action.id).await.unwrap();
        let run_now = first.get_run(USER, run.id).await.unwrap();
        match (worker, dismissed) {
            // The dismissal went first: the run was cancelled (a begun run
            // asked to stop), the worker told the run had finished (begin)
            // or let finish it (finish), and its job cancelled.
            (Ok(()) | Err(StoreError::Conflict { .. }), Ok(_)) => {
                assert_eq!(action_now.state, ActionState::Dismissed, "round {round}");
                assert!(run_now.status == RunStatus::Finished || run_now.cancel_requested, "round {round}");
                assert_eq!(live_jobs_of(first.as_ref(), run.id).await, 0, "round {round}: nothing left to run it");
            }
            // The finish went first: the action was completed, which is final.
            (Ok(()), Err(StoreError::Conflict { .. })) if round % 2 == 1 => {
                assert_eq!(action_now.state, ActionState::Completed, "round {round}");
                assert_eq!(run_now.outcome, Some(RunOutcome::Completed), "round {round}");
            }
            other => panic!("round {round}: unexpected {other:?}"),
        }
        // Leave nothing claimable for the next round's claim.
        first.cancel_run(USER, run.id).await.ok();
        if run_now.status == RunStatus::Finished {
            complete(first.as_ref(), &job).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_opening_an_agent_chat_at_once_open_one() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    for round in 0..10 {
        let agent = agent_named(first.as_ref(), &format!("Agent {round}")).await;
        let (a, b) = at_once(
            {
                let store = first.clone();
                async move { store.conversation_for(USER, ConversationKind::Agent, agent, None).await }
            },
            {
                let store = second.clone();
                async move { store.conversation_for(USER, ConversationKind::Agent, agent, None).await }
            },
        )
        .await;
        assert_eq!(a.unwrap().id, b.unwrap().id, "round {round}");
    }
}
