//! A person moving an action while a run works on it: dismissing it or
//! taking it back cancels the run in the same transaction, moving it on by
//! hand is refused, and a run that ends afterwards leaves the action where
//! the person put it.

use serde_json::json;
use steward_domain::{
    Action, ActionState, ApprovalStatus, Clock, EventSubject, JobState, NewApproval, NewRun, RunId, RunOutcome,
    RunStatus,
};
use steward_store::{ConflictKind, EventQuery, LeaseStatus, RunFinish, Store, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{
    LEASE, USER, WORKER, agent_named, claim, claim_and_begin, defined_action, event_kinds, model_call, run_of_action,
};

fn finish(outcome: RunOutcome) -> RunFinish {
    let completed = outcome == RunOutcome::Completed;
    RunFinish {
        outcome,
        output: completed.then(|| "done".to_string()),
        error: (!completed).then(|| "cancelled by request".to_string()),
    }
}

/// The `from → to` of the action's transitions, in order.
async fn transitions(store: &dyn Store, action: &Action) -> Vec<String> {
    let query = EventQuery { subject: Some((EventSubject::Action, Some(action.id.get()))), ..EventQuery::default() };
    store
        .list_events(USER, query)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.kind == "action.transitioned")
        .map(|event| format!("{} → {}", event.data["from"].as_str().unwrap(), event.data["to"].as_str().unwrap()))
        .collect()
}

fn refusal(error: StoreError) -> String {
    match error {
        StoreError::Conflict { kind, field, message } => {
            assert_eq!((kind, field.as_deref()), (ConflictKind::IllegalTransition, Some("to")));
            message
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn dismissing_a_scheduled_action_cancels_its_queued_run_at_once(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();

    let reason = Some("the launch moved".to_string());
    let dismissed = store.transition_action(USER, action.id, ActionState::Dismissed, reason).await.unwrap();
    assert_eq!(
        (dismissed.state, dismissed.state_reason.as_deref()),
        (ActionState::Dismissed, Some("the launch moved"))
    );
    let cancelled = store.get_run(USER, run.id).await.unwrap();
    assert_eq!((cancelled.status, cancelled.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)));
    let expected_error = format!("cancelled: action {} was dismissed", action.id);
    assert_eq!(cancelled.error.as_deref(), Some(expected_error.as_str()));
    assert_eq!(store.get_job(USER, run.job_id.unwrap()).await.unwrap().state, JobState::Cancelled);
    assert!(claim(store, 5).await.is_empty(), "nothing is left to execute");
    // One move, the person's: the cancelled run did not fail the action on its way out.
    assert_eq!(transitions(store, &action).await, ["draft → defined", "defined → scheduled", "scheduled → dismissed"]);
    assert_eq!(event_kinds(store, EventSubject::Run, run.id.get()).await, ["run.queued", "run.finished"]);
}

async fn moving_a_scheduled_action_back_to_defined_cancels_its_run_so_it_can_be_scheduled_again(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let later = t.clock.now() + chrono::Duration::days(2);
    let first = NewRun { run_at: Some(later), ..run_of_action(&action) };
    let (_, first) = store.schedule_action(USER, action.id, first).await.unwrap();

    let back = store.transition_action(USER, action.id, ActionState::Defined, None).await.unwrap();
    assert_eq!((back.state, back.state_reason), (ActionState::Defined, None));
    let cancelled = store.get_run(USER, first.id).await.unwrap();
    assert_eq!(cancelled.outcome, Some(RunOutcome::Cancelled));
    let expected_error = format!("cancelled: action {} was moved back to defined", action.id);
    assert_eq!(cancelled.error.as_deref(), Some(expected_error.as_str()));
    assert_eq!(store.get_job(USER, first.job_id.unwrap()).await.unwrap().state, JobState::Cancelled);

    // Rescheduled, the new run works on the action as usual.
    let (_, second) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    claim_and_begin(store, second.id).await;
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::InProgress);
    store.finish_run(second.id, finish(RunOutcome::Completed)).await.unwrap();
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Completed);
    t.clock.advance(chrono::Duration::days(2));
    assert!(claim(store, 5).await.is_empty(), "the first run's job stays cancelled");
}

async fn dismissing_an_action_in_progress_stops_its_run_which_then_leaves_it_dismissed(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    let (job, _) = claim_and_begin(store, run.id).await;
    store.append_step(model_call(&t.clock, run.id, 0, 10, 10, Some(0.01))).await.unwrap();

    store.transition_action(USER, action.id, ActionState::Dismissed, None).await.unwrap();
    let stopping = store.get_run(USER, run.id).await.unwrap();
    assert_eq!((stopping.status, stopping.cancel_requested), (RunStatus::Running, true));
    assert_eq!(store.get_job(USER, job.id).await.unwrap().state, JobState::Cancelled);
    assert_eq!(store.heartbeat(WORKER, vec![job.lease()], LEASE).await.unwrap(), [LeaseStatus::Cancelled]);
    let query = EventQuery { subject: Some((EventSubject::Run, Some(run.id.get()))), ..EventQuery::default() };
    let requested = store.list_events(USER, query).await.unwrap().pop().unwrap();
    assert_eq!(requested.kind, "run.cancel_requested");
    assert_eq!(requested.data["reason"], json!(format!("cancelled: action {} was dismissed", action.id)));

    // Dismissing did not wait for the loop; the loop stops at its next step
    // boundary and finishes the run, which does not move the action again.
    let finished = store.finish_run(run.id, finish(RunOutcome::Cancelled)).await.unwrap();
    assert_eq!(finished.outcome, Some(RunOutcome::Cancelled));
    let action_now = store.get_action(USER, action.id).await.unwrap();
    assert_eq!((action_now.state, action_now.state_reason), (ActionState::Dismissed, None));
    assert_eq!(
        transitions(store, &action).await,
        ["draft → defined", "defined → scheduled", "scheduled → in_progress", "in_progress → dismissed"]
    );
    // A stray job that begins the run afterwards is told it is finished.
    assert!(matches!(store.begin_run(run.id, job.id).await.unwrap_err(), StoreError::Conflict { .. }));
}

async fn dismissing_an_action_awaiting_approval_finishes_its_run_and_withdraws_the_approvals(t: TestStore) {
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

    store.transition_action(USER, action.id, ActionState::Dismissed, None).await.unwrap();
    let ended = store.get_run(USER, run.id).await.unwrap();
    assert_eq!((ended.status, ended.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)));
    assert_eq!(store.get_approval(USER, approvals[0].id).await.unwrap().status, ApprovalStatus::Withdrawn);
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Dismissed);
}

async fn moving_an_action_on_by_hand_while_its_run_works_is_refused(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    let working = format!("run {} is working on this action; cancel it first (steward runs cancel {})", run.id, run.id);
    let events_before = store.list_events(USER, EventQuery { limit: 1000, ..EventQuery::default() }).await.unwrap();

    let message = refusal(store.transition_action(USER, action.id, ActionState::InProgress, None).await.unwrap_err());
    assert_eq!(message, working);
    let events_after = store.list_events(USER, EventQuery { limit: 1000, ..EventQuery::default() }).await.unwrap();
    assert_eq!(events_after.len(), events_before.len(), "a refusal writes nothing");
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Scheduled);
    assert_eq!(store.get_run(USER, run.id).await.unwrap().status, RunStatus::Queued);

    claim_and_begin(store, run.id).await;
    for to in [ActionState::Completed, ActionState::Failed] {
        let message = refusal(store.transition_action(USER, action.id, to, None).await.unwrap_err());
        assert_eq!(message, working, "{to}");
    }
    // Asked to stop, the run still moves the action when it ends: the
    // refusal says so, and how to end it now.
    store.cancel_run(USER, run.id).await.unwrap();
    let message = refusal(store.transition_action(USER, action.id, ActionState::Completed, None).await.unwrap_err());
    assert!(message.contains(&format!("run {} is still stopping", run.id)), "{message}");
    assert!(message.contains(&format!("steward runs cancel {}", run.id)), "{message}");
    store.cancel_run(USER, run.id).await.unwrap();
    let failed = store.get_action(USER, action.id).await.unwrap();
    assert_eq!((failed.state, failed.state_reason.as_deref()), (ActionState::Failed, Some("cancelled by request")));
}

async fn only_the_latest_run_of_an_action_moves_it(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    // An earlier run of the action, started apart from scheduling.
    let earlier = store.start_run(USER, run_of_action(&action)).await.unwrap();
    let later = t.clock.now() + chrono::Duration::hours(1);
    let (_, latest) =
        store.schedule_action(USER, action.id, NewRun { run_at: Some(later), ..run_of_action(&action) }).await.unwrap();

    claim_and_begin(store, earlier.id).await;
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Scheduled);
    store.finish_run(earlier.id, finish(RunOutcome::Completed)).await.unwrap();
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Scheduled);

    t.clock.advance(chrono::Duration::hours(1));
    claim_and_begin(store, latest.id).await;
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::InProgress);
    store.finish_run(latest.id, finish(RunOutcome::Completed)).await.unwrap();
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Completed);
    assert_eq!(
        transitions(store, &action).await,
        ["draft → defined", "defined → scheduled", "scheduled → in_progress", "in_progress → completed"]
    );
}

async fn taking_an_action_back_cancels_every_run_still_working_on_it(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let runs: Vec<RunId> = [
        store.start_run(USER, run_of_action(&action)).await.unwrap().id,
        store.start_run(USER, run_of_action(&action)).await.unwrap().id,
    ]
    .into();
    store.transition_action(USER, action.id, ActionState::Draft, None).await.unwrap();
    for run in runs {
        assert_eq!(store.get_run(USER, run).await.unwrap().outcome, Some(RunOutcome::Cancelled), "run {run}");
    }
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Draft);
}

store_tests!(
    dismissing_a_scheduled_action_cancels_its_queued_run_at_once,
    moving_a_scheduled_action_back_to_defined_cancels_its_run_so_it_can_be_scheduled_again,
    dismissing_an_action_in_progress_stops_its_run_which_then_leaves_it_dismissed,
    dismissing_an_action_awaiting_approval_finishes_its_run_and_withdraws_the_approvals,
    moving_an_action_on_by_hand_while_its_run_works_is_refused,
    only_the_latest_run_of_an_action_moves_it,
    taking_an_action_back_cancels_every_run_still_working_on_it,
);
