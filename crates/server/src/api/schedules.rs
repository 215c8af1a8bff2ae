//! Schedules on the wire: what `/api/v1/schedules` accepts and returns.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::schedule::{FireOutcome, FireStatus, Precondition, Schedule, ScheduleFire, ScheduleTarget};
use steward_domain::{ActionId, AgentId, JobId, RunId, ScheduleId, ValidationError};
use steward_runtime::usecases::{CreateSchedule, TargetRequest};
use utoipa::ToSchema;

use super::fields;

/// A new schedule: a name, a *when*, and exactly one target — `agent_id`
/// with `instruction`, `action_id` (with an optional `instruction`),
/// `routine`, or `job` (with an optional `payload`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateScheduleRequest {
    /// Unique among your schedules, without regard to case.
    pub name: String,
    /// Cron (5 or 6 fields), `@daily`, `daily at 08:00`, `weekdays at 08:00`,
    /// `mondays at 09:00`, `every 15 minutes`, or a one-shot `at 2030-01-31T09:00`.
    pub when: String,
    /// IANA time zone; default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// `catch_up_once` (default), `skip`, `run_all` or `run_all:N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<String>,
    /// Late slots older than this are missed whatever the policy; default a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catchup_window_secs: Option<i64>,
    /// `skip` (default), `buffer_one`, `buffer_all`, `cancel_running` or `allow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<String>,
    /// Each slot fires up to this many seconds late, the same for a slot everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_secs: Option<i64>,
    /// Pause after this many failed fires in a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_on_failures: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub action_id: Option<ActionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routine: Option<String>,
    /// A job kind this server runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// A check made without any model call before each fire; when false the
    /// fire is recorded as `skipped_no_change`: `{"kind": "new_events",
    /// "kinds": ["action.created"]}`, `{"kind": "open_actions", "agent_id": 1}`,
    /// `{"kind": "file_changed", "path": "/srv/feed.xml"}`, `{"kind":
    /// "url_changed", "url": "https://example.com/feed"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub precondition: Option<Value>,
}

impl CreateScheduleRequest {
    /// The use case's request; names the field at fault.
    pub fn into_create(self) -> Result<CreateSchedule, ValidationError> {
        let target = self.target()?;
        let precondition = self
            .precondition
            .map(serde_json::from_value::<Precondition>)
            .transpose()
            .map_err(|error| ValidationError::new("precondition", error.to_string()))?;
        let seconds = |field: &str, value: Option<i64>| match value {
            Some(seconds) if seconds < 0 => Err(ValidationError::new(field, "must not be negative")),
            Some(seconds) => Ok(Some(TimeDelta::try_seconds(seconds).unwrap_or(TimeDelta::MAX))),
            None => Ok(None),
        };
        Ok(CreateSchedule {
            name: self.name,
            when: self.when,
            zone: self.tz,
            missed: self.missed.as_deref().map(str::parse).transpose()?,
            catchup_window: seconds("catchup_window_secs", self.catchup_window_secs)?,
            overlap: self.overlap.as_deref().map(str::parse).transpose()?,
            jitter: seconds("jitter_secs", self.jitter_secs)?,
            pause_on_failures: self.pause_on_failures,
            target,
            precondition,
        })
    }

    fn target(&self) -> Result<TargetRequest, ValidationError> {
        let given: Vec<&str> = [
            ("agent_id", self.agent_id.is_some()),
            ("action_id", self.action_id.is_some()),
            ("routine", self.routine.is_some()),
            ("job", self.job.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, present)| present.then_some(field))
        .collect();
        let target = match given.as_slice() {
            [] => {
                return Err(ValidationError::new(
                    "target",
                    "give what each fire starts: agent_id with instruction, action_id, routine, or job",
                ));
            }
            [_, second, ..] => {
                return Err(ValidationError::new(
                    *second,
                    format!("give one target, not both {} and {second}", given[0]),
                ));
            }
            ["agent_id"] => TargetRequest::Agent {
                agent_id: self.agent_id.unwrap_or(AgentId(0)),
                instruction: self
                    .instruction
                    .clone()
                    .ok_or_else(|| ValidationError::new("instruction", "an agent target needs an instruction"))?,
            },
            ["action_id"] => TargetRequest::Action {
                action_id: self.action_id.unwrap_or(ActionId(0)),
                instruction: self.instruction.clone(),
            },
            ["routine"] => TargetRequest::Routine { routine: self.routine.clone().unwrap_or_default() },
            _ => TargetRequest::Job {
                kind: self.job.clone().unwrap_or_default(),
                payload: self.payload.clone().unwrap_or(Value::Object(Default::default())),
            },
        };
        if self.payload.is_some() && !matches!(target, TargetRequest::Job { .. }) {
            return Err(ValidationError::new("payload", "a payload goes with a job target"));
        }
        if self.instruction.is_some() && matches!(target, TargetRequest::Routine { .. } | TargetRequest::Job { .. }) {
            return Err(ValidationError::new("instruction", "an instruction goes with an agent or action target"));
        }
        Ok(target)
    }
}

/// What each fire starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetBody {
    Agent {
        #[schema(value_type = i64)]
        agent_id: AgentId,
        instruction: String,
    },
    Action {
        #[schema(value_type = i64)]
        action_id: ActionId,
        instruction: String,
    },
    Routine {
        routine: String,
    },
    Job {
        job: String,
        payload: Value,
    },
}

impl From<ScheduleTarget> for TargetBody {
    fn from(target: ScheduleTarget) -> Self {
        match target {
            ScheduleTarget::Agent { agent_id, instruction } => TargetBody::Agent { agent_id, instruction },
            ScheduleTarget::Action { action_id, instruction } => TargetBody::Action { action_id, instruction },
            ScheduleTarget::Routine { routine } => TargetBody::Routine { routine },
            ScheduleTarget::Job { job_kind, payload } => TargetBody::Job { job: job_kind, payload },
        }
    }
}

/// A schedule, with its next fire in UTC and in its zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleResponse {
    #[schema(value_type = i64)]
    pub id: ScheduleId,
    pub name: String,
    /// The canonical text of the *when*.
    pub when: String,
    pub tz: String,
    pub target: TargetBody,
    pub missed: String,
    pub catchup_window_secs: i64,
    pub overlap: String,
    pub jitter_secs: i64,
    pub pause_on_failures: Option<u32>,
    pub consecutive_failures: u32,
    pub paused: bool,
    #[schema(value_type = Option<Object>)]
    pub precondition: Option<Value>,
    /// When the next slot fires (its jitter included); null when it never fires again.
    pub next_fire_at: Option<DateTime<Utc>>,
    /// The same instant in the schedule's zone, RFC 3339 with its offset.
    pub next_fire_local: Option<String>,
    /// Slots up to here are fired or recorded.
    pub handled_through: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Schedule> for ScheduleResponse {
    fn from(schedule: Schedule) -> Self {
        let tz = schedule.zone.tz();
        ScheduleResponse {
            id: schedule.id,
            next_fire_local: schedule
                .next_fire_at
                .map(|at| at.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::AutoSi, false)),
            name: schedule.name,
            when: schedule.when.to_string(),
            tz: schedule.zone.to_string(),
            target: schedule.target.into(),
            missed: schedule.policies.missed.policy.to_string(),
            catchup_window_secs: schedule.policies.missed.catchup_window.num_seconds(),
            overlap: schedule.policies.overlap.to_string(),
            jitter_secs: schedule.policies.jitter.num_seconds(),
            pause_on_failures: schedule.policies.pause_on_failures,
            consecutive_failures: schedule.consecutive_failures,
            paused: schedule.paused,
            precondition: schedule.precondition.and_then(|precondition| serde_json::to_value(precondition).ok()),
            next_fire_at: schedule.next_fire_at,
            handled_through: schedule.handled_through,
            created_at: schedule.created_at,
            updated_at: schedule.updated_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleListResponse {
    pub schedules: Vec<ScheduleResponse>,
}

/// One recorded slot of a schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FireResponse {
    pub slot: DateTime<Utc>,
    pub fired_at: DateTime<Utc>,
    /// `fired`, `skipped`, `missed`, `coalesced`, `buffered`,
    /// `skipped_no_change`, `manual` or `backfilled`.
    pub status: String,
    #[schema(value_type = Option<i64>)]
    pub job_id: Option<JobId>,
    #[schema(value_type = Option<i64>)]
    pub run_id: Option<RunId>,
    /// `completed`, `failed` or `cancelled` once the fire's work ended.
    pub outcome: Option<String>,
    pub detail: Option<String>,
}

impl From<ScheduleFire> for FireResponse {
    fn from(fire: ScheduleFire) -> Self {
        FireResponse {
            slot: fire.slot,
            fired_at: fire.fired_at,
            status: FireStatus::as_str(fire.status).to_string(),
            job_id: fire.job_id,
            run_id: fire.run_id,
            outcome: fire.outcome.map(|outcome| FireOutcome::as_str(outcome).to_string()),
            detail: fire.detail,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FireListResponse {
    pub fires: Vec<FireResponse>,
}

/// Fires every slot of a past interval not recorded yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackfillRequest {
    /// RFC 3339.
    #[serde(deserialize_with = "fields::time")]
    pub from: DateTime<Utc>,
    /// RFC 3339, at most now.
    #[serde(deserialize_with = "fields::time")]
    pub to: DateTime<Utc>,
}

/// The next fire times of a *when*, computed without storing anything.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub when: String,
    /// IANA time zone; default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// List fire times after this instant (RFC 3339); default now.
    #[serde(default, deserialize_with = "fields::optional_time", skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// How many, 1 to 100; default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PreviewResponse {
    pub when: String,
    pub tz: String,
    /// RFC 3339 with the zone's offset.
    pub fires: Vec<String>,
}
