//! What a person's move of an action changes, decided once for both
//! databases: whether it is allowed while runs work on the action, and
//! what happens to those runs. Each backend loads the action and its runs
//! that are not finished (locking them on PostgreSQL), calls
//! [`decide_manual_move`], and applies the answer in its own transaction.

use steward_domain::{Action, ActionState, Run};

use crate::StoreError;
use crate::rules::{self, RunsOnManualMove};

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
    match rules::runs_on_manual_move(to) {
        RunsOnManualMove::Refuse => match working.iter().find(|run| !run.cancel_requested).or(working.first()) {
            Some(run) => Err(rules::run_works_on_action(to, run.id, run.cancel_requested)),
            None => Ok(None),
        },
        RunsOnManualMove::Cancel if !working.is_empty() => Ok(Some(rules::cancelled_by_action_move(action.id, to))),
        RunsOnManualMove::Cancel | RunsOnManualMove::Keep => Ok(None),
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
}
