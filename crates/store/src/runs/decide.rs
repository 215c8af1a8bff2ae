//! What a run's begin, finish and cancel change, decided once for both
//! databases: each backend loads what a decision needs (the run, and the
//! action it works on), calls these, and applies what they return in its
//! own SQL and transaction, taking its locks in its own order.

use steward_domain::{Action, ActionState, JobId, NewEvent, Run, RunOutcome, RunStatus};

use crate::StoreError;
use crate::rules::{self, CANCELLED_BY_REQUEST};
use crate::runs::RunFinish;

/// The action a run works on, as the run's begin or finish finds it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ActionOfRun {
    pub action: Action,
    /// Whether the run is the action's latest; only the latest moves it.
    pub latest_run: bool,
}

/// Where a run's begin or end moves its action, and the reason recorded.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ActionMove {
    pub to: ActionState,
    pub reason: Option<String>,
}

/// Refuses to change a finished run.
pub(crate) fn check_not_finished(run: &Run) -> Result<(), StoreError> {
    if run.status == RunStatus::Finished {
        return Err(rules::run_is_finished(run.id, run.outcome));
    }
    Ok(())
}

/// Beginning (or resuming) a run moves a scheduled action to in progress.
pub(crate) fn action_move_on_begin(of: &ActionOfRun) -> Option<ActionMove> {
    let to = rules::action_state_on_begin(of.action.state, of.latest_run)?;
    Some(ActionMove { to, reason: None })
}

/// The event of `run` beginning with `job`.
pub(crate) fn started_event(run: &Run, job: JobId) -> NewEvent {
    NewEvent::RunStarted {
        run: run.id,
        agent_id: run.agent_id,
        job_id: job,
        from: run.status,
        resumed: run.started_at.is_some(),
    }
}

/// A run's end completes or fails its action; a failed one records why.
pub(crate) fn action_move_on_finish(of: &ActionOfRun, finish: &RunFinish) -> Option<ActionMove> {
    let to = rules::action_state_on_finish(of.action.state, finish.outcome, of.latest_run)?;
    Some(ActionMove { to, reason: (to == ActionState::Failed).then(|| rules::reason_of_finish(finish)) })
}

/// The event of `run` finishing; `finished` is the run as stored after it.
pub(crate) fn finished_event(run: &Run, finish: &RunFinish, finished: &Run) -> NewEvent {
    NewEvent::RunFinished {
        run: run.id,
        agent_id: run.agent_id,
        action_id: run.action_id,
        from: run.status,
        outcome: finish.outcome,
        error: finish.error.clone(),
        steps: finished.steps,
        cost_usd: finished.usage.cost_usd,
        unknown_cost_calls: finished.usage.unknown_cost_calls,
    }
}

/// How a run is stopped.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Stop {
    /// A running run already asked to stop is left to stop.
    AlreadyAsked,
    /// A running run is asked to stop (this event) and its job cancelled,
    /// so its worker hears at the next heartbeat.
    Ask(NewEvent),
    /// Its job is cancelled and it finishes now, so: nothing executes it
    /// (queued, awaiting approval), or its worker is presumed gone.
    EndNow(RunFinish),
}

/// Stopping `run` with `error` as why (a cancel, or its action taken back).
/// A finished run is ended again, which its finish refuses.
pub(crate) fn decide_stop(run: &Run, error: &str) -> Stop {
    match run.status {
        RunStatus::Running if run.cancel_requested => Stop::AlreadyAsked,
        RunStatus::Running => Stop::Ask(NewEvent::RunCancelRequested {
            run: run.id,
            agent_id: run.agent_id,
            job_id: run.job_id,
            reason: error.to_string(),
        }),
        RunStatus::Queued | RunStatus::AwaitingApproval | RunStatus::Finished => Stop::EndNow(cancelled(error)),
    }
}

/// A person's cancel: refused for a finished run; a running run asked a
/// second time ends now (its worker may have died after its job was
/// cancelled, and nothing else would end it).
pub(crate) fn decide_cancel(run: &Run) -> Result<Stop, StoreError> {
    check_not_finished(run)?;
    if run.status == RunStatus::Running && run.cancel_requested {
        return Ok(Stop::EndNow(cancelled(CANCELLED_BY_REQUEST)));
    }
    Ok(decide_stop(run, CANCELLED_BY_REQUEST))
}

/// A finish that cancels a run, recording `error`.
fn cancelled(error: &str) -> RunFinish {
    RunFinish { outcome: RunOutcome::Cancelled, output: None, error: Some(error.to_string()) }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use steward_domain::{ActionId, AgentId, RunId, RunLimits, RunUsage, UserId};

    use super::*;

    fn run(status: RunStatus, cancel_requested: bool) -> Run {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        Run {
            id: RunId(3),
            user_id: UserId(1),
            agent_id: AgentId(2),
            action_id: Some(ActionId(4)),
            job_id: Some(JobId(5)),
            status,
            outcome: None,
            instruction: "go".into(),
            limits: RunLimits::default(),
            usage: RunUsage::default(),
            steps: 0,
            output: None,
            error: None,
            cancel_requested,
            created_at: at,
            updated_at: at,
            started_at: None,
            finished_at: None,
        }
    }

    #[test]
    fn a_cancel_asks_a_running_run_ends_the_others_and_refuses_a_finished_one() {
        let asked = decide_cancel(&run(RunStatus::Running, false)).unwrap();
        assert!(
            matches!(asked, Stop::Ask(NewEvent::RunCancelRequested { ref reason, .. }) if reason == CANCELLED_BY_REQUEST)
        );
        for status in [RunStatus::Queued, RunStatus::AwaitingApproval] {
            let Stop::EndNow(finish) = decide_cancel(&run(status, false)).unwrap() else { panic!("{status}") };
            assert_eq!((finish.outcome, finish.error.as_deref()), (RunOutcome::Cancelled, Some(CANCELLED_BY_REQUEST)));
        }
        assert!(matches!(decide_cancel(&run(RunStatus::Running, true)).unwrap(), Stop::EndNow(_)));
        assert!(decide_cancel(&run(RunStatus::Finished, false)).is_err());
    }

    #[test]
    fn a_stop_leaves_a_run_already_asked_to_stop() {
        assert_eq!(decide_stop(&run(RunStatus::Running, true), "taken back"), Stop::AlreadyAsked);
        let Stop::EndNow(finish) = decide_stop(&run(RunStatus::Queued, false), "taken back") else { panic!() };
        assert_eq!(finish.error.as_deref(), Some("taken back"));
    }
}
