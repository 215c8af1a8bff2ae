//! Scheduling an action (the run that works on it starts with it) and moving
//! an action through its lifecycle.

use chrono::{DateTime, Utc};
use steward_domain::{Action, ActionId, ActionState, NewRun, Run, RunLimits, UserId};

use super::runs::checked;
use super::start_time::start_time;
use super::{UseCaseError, UseCases};

/// How to run a scheduled action; everything may be left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScheduleAction {
    /// What the run is told; by default [`instruction_for`] the action.
    pub instruction: Option<String>,
    pub limits: RunLimits,
    /// Not before this time (by default the action's `scheduled_for`); give
    /// this or `delay_ms`, not both.
    pub at: Option<DateTime<Utc>>,
    pub delay_ms: Option<u64>,
}

impl UseCases {
    /// Schedules a `defined` (or `failed`) action: it becomes `scheduled` and
    /// a run of its agent is queued to work on it, in one transaction. Also
    /// says when the run may start.
    pub async fn schedule_action(
        &self,
        user: UserId,
        id: ActionId,
        request: ScheduleAction,
    ) -> Result<(Action, Run, DateTime<Utc>), UseCaseError> {
        self.agent_runtime()?;
        let action = self.store.get_action(user, id).await?;
        let now = self.clock.now();
        let run_at = start_time("at", request.at, request.delay_ms, now)?.or(action.scheduled_for);
        let run = checked(NewRun {
            agent_id: action.agent_id,
            action_id: Some(action.id),
            instruction: request.instruction.unwrap_or_else(|| instruction_for(&action)),
            limits: request.limits,
            run_at,
        })?;
        let (action, run) = self.store.schedule_action(user, id, run).await?;
        Ok((action, run, run_at.unwrap_or(now)))
    }

    /// Moves an action to `to`. Moving it to `scheduled` is scheduling it with
    /// the defaults (so a scheduled action always has a run; `reason` is not
    /// recorded then).
    pub async fn transition_action(
        &self,
        user: UserId,
        id: ActionId,
        to: ActionState,
        reason: Option<String>,
    ) -> Result<Action, UseCaseError> {
        if to == ActionState::Scheduled {
            let (action, _, _) = self.schedule_action(user, id, ScheduleAction::default()).await?;
            return Ok(action);
        }
        Ok(self.store.transition_action(user, id, to, reason).await?)
    }
}

/// What the agent is told when scheduling says nothing else: the action's
/// title and description.
pub fn instruction_for(action: &Action) -> String {
    let title = action.title.trim();
    let description = action.description.trim();
    if description.is_empty() {
        format!("Deliver action #{}, \"{title}\", and say when it is done.", action.id)
    } else {
        format!("Deliver action #{}, \"{title}\", and say when it is done.\n\n{description}", action.id)
    }
}
