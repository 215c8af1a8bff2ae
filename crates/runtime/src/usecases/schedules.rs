//! Schedules: creating one from what a person typed (the *when*, a zone,
//! policies, a target), and firing one by hand or over a past interval.
//! The checks that need the store (the agent or action exists, the name is
//! free) are the store's; a *when* that never fires after now is refused
//! here and there.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use steward_domain::schedule::{
    MissedRunPolicy, MissedRunSettings, NewSchedule, OverlapPolicy, Precondition, Schedule, ScheduleFire,
    SchedulePolicies, ScheduleTarget, ScheduleZone, When,
};
use steward_domain::{ActionId, AgentId, ScheduleId, UserId, ValidationError};

use super::{UseCaseError, UseCases, instruction_for};

/// What a new schedule starts, as asked for: exactly one of these.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetRequest {
    Agent {
        agent_id: AgentId,
        instruction: String,
    },
    /// The instruction defaults to the action's ([`instruction_for`]).
    Action {
        action_id: ActionId,
        instruction: Option<String>,
    },
    Routine {
        routine: String,
    },
    Job {
        kind: String,
        payload: Value,
    },
}

/// A schedule as typed; everything but the name, *when* and target may be
/// left out.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateSchedule {
    pub name: String,
    pub when: String,
    /// An IANA zone; UTC by default.
    pub zone: Option<String>,
    pub missed: Option<MissedRunPolicy>,
    pub catchup_window: Option<TimeDelta>,
    pub overlap: Option<OverlapPolicy>,
    pub jitter: Option<TimeDelta>,
    pub pause_on_failures: Option<u32>,
    pub target: TargetRequest,
    pub precondition: Option<Precondition>,
}

impl CreateSchedule {
    /// The schedule that fires a routine, named after it, with default policies.
    pub fn for_routine(routine: &str, when: String, zone: String) -> CreateSchedule {
        CreateSchedule {
            name: routine.to_string(),
            when,
            zone: Some(zone),
            missed: None,
            catchup_window: None,
            overlap: None,
            jitter: None,
            pause_on_failures: None,
            target: TargetRequest::Routine { routine: routine.to_string() },
            precondition: None,
        }
    }
}

impl UseCases {
    /// Creates a schedule; a *when* that does not parse, a zone that does
    /// not exist or a one-shot in the past is refused naming its field.
    pub async fn create_schedule(&self, user: UserId, request: CreateSchedule) -> Result<Schedule, UseCaseError> {
        let schedule = self.new_schedule(user, request).await?;
        Ok(self.store.create_schedule(schedule).await?)
    }

    /// The schedule a request describes, checked as `create_schedule` checks it.
    pub(crate) async fn new_schedule(
        &self,
        user: UserId,
        request: CreateSchedule,
    ) -> Result<NewSchedule, UseCaseError> {
        let when = When::parse(&request.when)?;
        let zone = match &request.zone {
            Some(zone) => ScheduleZone::parse("tz", zone)?,
            None => ScheduleZone::UTC,
        };
        when.check_fires_after(zone, self.clock.now())?;
        let missed = match request.catchup_window {
            Some(window) => MissedRunSettings::new(request.missed.unwrap_or_default(), window)?,
            None => MissedRunSettings { policy: request.missed.unwrap_or_default(), ..MissedRunSettings::default() },
        };
        let target = match request.target {
            TargetRequest::Agent { agent_id, instruction } => ScheduleTarget::Agent { agent_id, instruction },
            TargetRequest::Action { action_id, instruction } => {
                let instruction = match instruction {
                    Some(instruction) => instruction,
                    None => match self.store.get_action(user, action_id).await {
                        Ok(action) => instruction_for(&action),
                        Err(steward_store::StoreError::NotFound { .. }) => {
                            return Err(
                                ValidationError::new("action_id", format!("there is no action {action_id}")).into()
                            );
                        }
                        Err(error) => return Err(error.into()),
                    },
                };
                ScheduleTarget::Action { action_id, instruction }
            }
            TargetRequest::Routine { routine } => ScheduleTarget::Routine { routine },
            TargetRequest::Job { kind, payload } => ScheduleTarget::Job { job_kind: kind, payload },
        };
        let schedule = NewSchedule {
            user_id: user,
            name: request.name,
            when,
            zone,
            target,
            policies: SchedulePolicies {
                missed,
                overlap: request.overlap.unwrap_or_default(),
                jitter: request.jitter.unwrap_or_else(TimeDelta::zero),
                pause_on_failures: request.pause_on_failures,
            },
            precondition: request.precondition,
        };
        Ok(schedule)
    }

    /// Fires a schedule now, whatever its *when* and policies (recorded as
    /// `manual`).
    pub async fn run_schedule_now(&self, user: UserId, id: ScheduleId) -> Result<ScheduleFire, UseCaseError> {
        Ok(self.store.fire_schedule_now(user, id).await?)
    }

    /// Fires the slots of a past interval not recorded yet.
    pub async fn backfill_schedule(
        &self,
        user: UserId,
        id: ScheduleId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScheduleFire>, UseCaseError> {
        if to > self.clock.now() {
            return Err(ValidationError::new("to", "a backfill covers the past; use run-now for the present").into());
        }
        Ok(self.store.backfill_schedule(user, id, from, to).await?)
    }
}
