//! What a run's start, begin, finish and cancel change, decided once for
//! both databases: the job that executes a run, where the run moves its
//! action, the events, and the refusals with their messages. Each backend
//! loads what a decision needs (the run, and the action it works on), calls
//! these, and applies what they return in its own SQL and transaction,
//! taking its locks in its own order.

use chrono::{DateTime, Utc};
use steward_domain::run::execution;
use steward_domain::{Action, ActionId, ActionState, Job, JobId, NewEvent, NewJob, Run, RunId, RunOutcome, RunStatus};

use crate::jobs::EnqueueOutcome;
use crate::rules::storable_error;
use crate::runs::RunFinish;
use crate::{ConflictKind, StoreError};

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
        return Err(run_is_finished(run.id, run.outcome));
    }
    Ok(())
}

/// Beginning (or resuming) a run moves a scheduled action to in progress.
pub(crate) fn action_move_on_begin(of: &ActionOfRun) -> Option<ActionMove> {
    let to = action_state_on_begin(of.action.state, of.latest_run)?;
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
    let to = action_state_on_finish(of.action.state, finish.outcome, of.latest_run)?;
    Some(ActionMove { to, reason: (to == ActionState::Failed).then(|| reason_of_finish(finish)) })
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

/// Why a job of a run is enqueued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunJobPurpose {
    Start,
    /// The run's `number`-th resume after approvals (1 for the first).
    Resume {
        number: u32,
    },
}

/// The job that executes `run` for `purpose`. Its idempotency key names the
/// run and the purpose, so enqueueing the same start or resume twice (a
/// transaction run again after a transient failure, two deciders racing on
/// PostgreSQL) finds the first job instead of creating a second.
pub(crate) fn run_job(run: RunId, purpose: RunJobPurpose, run_at: Option<DateTime<Utc>>) -> NewJob {
    let key = match purpose {
        RunJobPurpose::Start => format!("run:{run}:start"),
        RunJobPurpose::Resume { number } => format!("run:{run}:resume:{number}"),
    };
    let mut job = NewJob::new(execution::JOB_KIND, execution::payload(run))
        .with_queue(execution::QUEUE)
        .with_max_attempts(execution::MAX_ATTEMPTS)
        .with_timeout(execution::JOB_TIMEOUT)
        .with_key(key);
    job.run_at = run_at;
    job
}

/// The job an enqueue of [`run_job`] returned, unless its key was already
/// taken by a job that does not execute this run (a person could enqueue a
/// job with any key): then the run would never execute, so it is refused.
pub(crate) fn job_of_run(run: RunId, mut outcomes: Vec<EnqueueOutcome>) -> Result<Job, StoreError> {
    let outcome = outcomes.pop().ok_or_else(|| StoreError::Database("enqueue returned no job".into()))?;
    let job = outcome.job;
    let executes_run = job.kind == execution::JOB_KIND && execution::run_of(&job.payload) == Some(run);
    if outcome.created || executes_run {
        return Ok(job);
    }
    Err(StoreError::conflict(
        ConflictKind::AlreadyExists,
        Some("idempotency_key"),
        format!(
            "the idempotency key {:?} of run {run}'s job is taken by job {}, which does not execute the run; \
             cancel or rename that job",
            job.idempotency_key.as_deref().unwrap_or_default(),
            job.id
        ),
    ))
}

/// `schedule_action` starts the run of the action it schedules.
pub(crate) fn check_scheduled_run(action: ActionId, run_action: Option<ActionId>) -> Result<(), StoreError> {
    match run_action {
        Some(named) if named == action => Ok(()),
        Some(named) => {
            Err(StoreError::invalid("action_id", format!("is {named}; it must be the scheduled action {action}")))
        }
        None => Err(StoreError::invalid("action_id", format!("must be the scheduled action {action}"))),
    }
}

pub(crate) fn run_is_finished(run: RunId, outcome: Option<RunOutcome>) -> StoreError {
    let outcome = outcome.map_or("finished", RunOutcome::as_str);
    StoreError::conflict(
        ConflictKind::IllegalTransition,
        None,
        format!("run {run} is finished ({outcome}); it can no longer change — start a new run instead"),
    )
}

pub(crate) fn run_is_not_running(run: RunId, status: RunStatus) -> StoreError {
    StoreError::conflict(
        ConflictKind::IllegalTransition,
        None,
        format!("run {run} is {status}; only a running run can wait for approval"),
    )
}

/// A finish as stored: the answer and the error cleaned of NUL characters,
/// the error kept to a storable size.
pub(crate) fn storable_finish(finish: RunFinish) -> RunFinish {
    RunFinish {
        outcome: finish.outcome,
        output: finish.output.map(|output| output.replace('\0', "\u{fffd}")),
        error: finish.error.as_deref().map(storable_error),
    }
}

/// The error a cancelled run records.
pub(crate) const CANCELLED_BY_REQUEST: &str = "cancelled by request";

/// Why a run that did not complete ended, in words: its error, or its
/// outcome when it gave none. This becomes its action's `state_reason`.
pub(crate) fn reason_of_finish(finish: &RunFinish) -> String {
    match &finish.error {
        Some(error) if !error.trim().is_empty() => error.clone(),
        _ => format!("the run ended: {}", finish.outcome),
    }
}

/// Where a run's start moves its action: a scheduled action is now in
/// progress. Only the action's latest run moves it (`latest_run`): an older
/// run was let go of when the action was taken back or rescheduled, and
/// must not move the action of the run that replaced it. An action in any
/// other state was moved by a person meanwhile (or is being worked on
/// already) and is left alone.
pub(crate) fn action_state_on_begin(current: ActionState, latest_run: bool) -> Option<ActionState> {
    (latest_run && current == ActionState::Scheduled).then_some(ActionState::InProgress)
}

/// Where a run's end moves its action: completed when the run completed,
/// failed otherwise. From `in_progress`, as the lifecycle says; also from
/// `scheduled`, when the run ended before it began (cancelled while queued)
/// — the one move the store makes that a person cannot, so the action can
/// be rescheduled from `failed`. An action a person moved elsewhere
/// meanwhile (dismissed, taken back to defined) is left alone, and so is
/// the action of a run that is not its latest (see
/// [`action_state_on_begin`]); the run still finishes, so its job ends
/// rather than retrying.
pub(crate) fn action_state_on_finish(
    current: ActionState,
    outcome: RunOutcome,
    latest_run: bool,
) -> Option<ActionState> {
    if !latest_run || !matches!(current, ActionState::InProgress | ActionState::Scheduled) {
        return None;
    }
    Some(if outcome == RunOutcome::Completed { ActionState::Completed } else { ActionState::Failed })
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

    #[test]
    fn a_run_moves_its_action_only_from_scheduled_or_in_progress() {
        use ActionState::*;
        assert_eq!(action_state_on_finish(InProgress, RunOutcome::Completed, true), Some(Completed));
        assert_eq!(action_state_on_finish(InProgress, RunOutcome::MaxSteps, true), Some(Failed));
        assert_eq!(action_state_on_finish(Scheduled, RunOutcome::Cancelled, true), Some(Failed));
        assert_eq!(action_state_on_finish(Dismissed, RunOutcome::Failed, true), None);
        assert_eq!(action_state_on_finish(Defined, RunOutcome::Cancelled, true), None);
        assert_eq!(action_state_on_begin(Scheduled, true), Some(InProgress));
        assert_eq!(action_state_on_begin(InProgress, true), None);
    }

    #[test]
    fn only_the_latest_run_of_an_action_moves_it() {
        use ActionState::*;
        assert_eq!(action_state_on_begin(Scheduled, false), None);
        assert_eq!(action_state_on_finish(InProgress, RunOutcome::Completed, false), None);
        assert_eq!(action_state_on_finish(Scheduled, RunOutcome::Cancelled, false), None);
    }
}
