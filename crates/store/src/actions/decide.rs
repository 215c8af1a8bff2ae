//! What a person's move of an action changes, decided once for both
//! databases: whether it is allowed while runs work on the action, and
//! what happens to those runs. Each backend loads the action and its runs
//! that are not finished (locking them on PostgreSQL), calls
//! [`decide_manual_move`], and applies the answer in its own transaction.

use steward_domain::{Action, ActionId, ActionState, AgentId, Run, RunId};

use crate::rules;
use crate::{ConflictKind, StoreError};

/// Decides a person's move of `action` to `to` while `working` (its runs
/// that are not finished) work on it. `Some(error)`: after the action
/// moves, those runs are stopped with `error` as why (a move nobody wants
/// the work done after); `None`: they are left alone.
pub(crate) fn decide_manual_move(
    action: &Action,
    to: ActionState,
    working: &[Run],
) -> Result<Option<String>, StoreError> {
    rules::check_action_transition(action.state, to)?;
    match runs_on_manual_move(to) {
        RunsOnManualMove::Refuse => match working.iter().find(|run| !run.cancel_requested).or(working.first()) {
            Some(run) => Err(run_works_on_action(to, run.id, run.cancel_requested)),
            None => Ok(None),
        },
        RunsOnManualMove::Cancel if !working.is_empty() => Ok(Some(cancelled_by_action_move(action.id, to))),
        RunsOnManualMove::Cancel | RunsOnManualMove::Keep => Ok(None),
    }
}

/// A run's `action_id` must name an action of the run's agent.
pub(crate) fn action_of_other_agent(action: ActionId, owner: AgentId, agent: AgentId) -> StoreError {
    StoreError::invalid("action_id", format!("action {action} belongs to agent {owner}, not agent {agent}"))
}

pub(crate) fn missing_action(field: &str, action: ActionId) -> StoreError {
    StoreError::invalid(field, format!("no action {action}"))
}

/// What a person's move of an action does to the runs still working on it
/// (its runs that are not finished).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunsOnManualMove {
    /// Dismissing the action, or taking it back to `defined` or `draft`,
    /// means nobody wants the work done now: the runs are cancelled in the
    /// same transaction, as `cancel_run` cancels them.
    Cancel,
    /// Starting, completing or failing the action by hand would contradict
    /// a run that is still working on it (the run moves the action itself
    /// when it ends): refused until the run is cancelled.
    Refuse,
    /// `scheduled` leaves them alone (a run still stopping after a cancel
    /// does not hold the action back; it no longer moves it).
    Keep,
}

pub(crate) fn runs_on_manual_move(to: ActionState) -> RunsOnManualMove {
    match to {
        ActionState::Draft | ActionState::Defined | ActionState::Dismissed => RunsOnManualMove::Cancel,
        ActionState::InProgress | ActionState::Completed | ActionState::Failed => RunsOnManualMove::Refuse,
        ActionState::Scheduled => RunsOnManualMove::Keep,
    }
}

/// Refuses a person's move of an action to `to` while `run` works on it,
/// saying how to get past it.
pub(crate) fn run_works_on_action(to: ActionState, run: RunId, cancel_requested: bool) -> StoreError {
    let message = if cancel_requested {
        format!(
            "run {run} is still stopping after a cancel, and it moves this action when it ends; wait for it, or \
             end it now (steward runs cancel {run}) before moving the action to {to}"
        )
    } else {
        format!("run {run} is working on this action; cancel it first (steward runs cancel {run})")
    };
    StoreError::conflict(ConflictKind::IllegalTransition, Some("to"), message)
}

/// The error a run records when it is cancelled because a person moved its
/// action to `to`.
pub(crate) fn cancelled_by_action_move(action: ActionId, to: ActionState) -> String {
    match to {
        ActionState::Dismissed => format!("cancelled: action {action} was dismissed"),
        other => format!("cancelled: action {action} was moved back to {other}"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use steward_domain::{
        ActionId, ActionMode, ActionPriority, AgentId, RunId, RunLimits, RunStatus, RunUsage, UserId,
    };

    use super::*;

    fn action(state: ActionState) -> Action {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        Action {
            id: ActionId(4),
            user_id: UserId(1),
            agent_id: AgentId(2),
            title: "Plan".into(),
            description: String::new(),
            priority: ActionPriority::Medium,
            mode: ActionMode::Scheduled,
            scheduled_for: None,
            state,
            state_reason: None,
            job_id: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn run(id: i64, cancel_requested: bool) -> Run {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        Run {
            id: RunId(id),
            user_id: UserId(1),
            agent_id: AgentId(2),
            action_id: Some(ActionId(4)),
            job_id: None,
            status: RunStatus::Running,
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
            started_at: Some(at),
            finished_at: None,
        }
    }

    #[test]
    fn finishing_by_hand_is_refused_naming_the_run_not_yet_asked_to_stop() {
        let working = [run(7, true), run(8, false)];
        let Err(StoreError::Conflict { message, .. }) =
            decide_manual_move(&action(ActionState::InProgress), ActionState::Completed, &working)
        else {
            panic!("expected a conflict");
        };
        assert!(message.contains("run 8 is working on this action"), "{message}");
        assert_eq!(decide_manual_move(&action(ActionState::InProgress), ActionState::Completed, &[]).unwrap(), None);
    }

    #[test]
    fn dismissing_stops_the_working_runs_and_scheduling_keeps_them() {
        let working = [run(7, false)];
        let stop = decide_manual_move(&action(ActionState::InProgress), ActionState::Dismissed, &working).unwrap();
        assert_eq!(stop.as_deref(), Some("cancelled: action 4 was dismissed"));
        assert_eq!(decide_manual_move(&action(ActionState::Defined), ActionState::Scheduled, &working).unwrap(), None);
        assert!(decide_manual_move(&action(ActionState::Completed), ActionState::Scheduled, &[]).is_err());
    }

    #[test]
    fn taking_an_action_back_cancels_its_runs_and_moving_it_on_by_hand_is_refused() {
        use ActionState::*;
        for to in [Draft, Defined, Dismissed] {
            assert_eq!(runs_on_manual_move(to), RunsOnManualMove::Cancel, "{to}");
        }
        for to in [InProgress, Completed, Failed] {
            assert_eq!(runs_on_manual_move(to), RunsOnManualMove::Refuse, "{to}");
        }
        assert_eq!(runs_on_manual_move(Scheduled), RunsOnManualMove::Keep);
        let StoreError::Conflict { kind, field, message } = run_works_on_action(Completed, RunId(7), false) else {
            panic!("expected a conflict");
        };
        assert_eq!((kind, field.as_deref()), (ConflictKind::IllegalTransition, Some("to")));
        assert_eq!(message, "run 7 is working on this action; cancel it first (steward runs cancel 7)");
        assert_eq!(cancelled_by_action_move(ActionId(3), Dismissed), "cancelled: action 3 was dismissed");
        assert_eq!(cancelled_by_action_move(ActionId(3), Defined), "cancelled: action 3 was moved back to defined");
    }
}
