//! Runs started by hand (an ad-hoc instruction to an agent) and cancelled.

use chrono::{DateTime, Utc};
use steward_domain::delivery::{Destination, NewDeliveries};
use steward_domain::{AgentId, NewRun, Run, RunId, RunLimits, UserId, ValidationError};

use super::start_time::start_time;
use super::{UseCaseError, UseCases};

/// An ad-hoc run: what to do, within which limits, and when.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartRun {
    pub instruction: String,
    pub limits: RunLimits,
    /// Not before this time; give this or `delay_ms`, not both.
    pub at: Option<DateTime<Utc>>,
    pub delay_ms: Option<u64>,
    /// Where its output goes once it finishes (`slack:#plans`, `mailto:…`):
    /// one delivery each, sent once.
    pub deliver: Vec<String>,
}

impl UseCases {
    /// Queues a run of `agent`; a worker executes it when it is due.
    pub async fn start_run(&self, user: UserId, agent: AgentId, request: StartRun) -> Result<Run, UseCaseError> {
        self.agent_runtime()?;
        let destinations = request
            .deliver
            .iter()
            .enumerate()
            .map(|(index, uri)| Destination::parse(&format!("deliver[{index}]"), uri))
            .collect::<Result<Vec<_>, _>>()?;
        let agent = self.store.get_agent(user, agent).await?;
        let run = checked(NewRun {
            agent_id: agent.id,
            action_id: None,
            instruction: request.instruction,
            limits: request.limits,
            run_at: start_time("at", request.at, request.delay_ms, self.clock.now())?,
        })?;
        let run = self.store.start_run(user, run).await?;
        if !destinations.is_empty() {
            // Checked above, so only a failing database can refuse them now.
            self.store.create_deliveries(user, NewDeliveries { run_id: run.id, fire_id: None, destinations }).await?;
        }
        Ok(run)
    }

    /// Cancels a run: at once when it is not running, at its next step
    /// boundary when it is.
    pub async fn cancel_run(&self, user: UserId, run: RunId) -> Result<Run, UseCaseError> {
        Ok(self.store.cancel_run(user, run).await?)
    }
}

/// Checks a run before the store sees it; a limit is named as requests name
/// it (`limits.max_steps`).
pub(super) fn checked(run: NewRun) -> Result<NewRun, ValidationError> {
    run.validate().map_err(|error| {
        let field = if error.field.starts_with("max_") { format!("limits.{}", error.field) } else { error.field };
        ValidationError::new(field, error.message)
    })?;
    Ok(run)
}
