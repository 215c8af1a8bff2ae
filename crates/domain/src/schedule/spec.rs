//! A stored schedule and its fires: what a schedule starts (its target),
//! the cheap check that may hold a fire back (its precondition), its
//! policies, and what each fire recorded. The store keeps these; the
//! firing loop and the API read them.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::missed_runs::MissedRunSettings;
use super::overlap::OverlapPolicy;
use super::when::When;
use super::zone::ScheduleZone;
use crate::ids::{ActionId, AgentId, JobId, RunId, ScheduleId, UserId};
use crate::text_enum::text_enum;
use crate::validation::{ValidationError, check_machine_name, check_text};

/// The job kind a routine's fire enqueues (its handler is the routines');
/// its payload is a [`RoutineRunPayload`].
pub const ROUTINE_JOB_KIND: &str = "routine.run";

/// A `routine.run` job's payload as a schedule's fire enqueues it:
/// `{"routine": NAME, "schedule": NAME, "slot": RFC3339}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoutineRunPayload {
    pub routine: String,
    pub schedule: String,
    pub slot: String,
}

impl RoutineRunPayload {
    pub fn to_json(&self) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        object.insert("routine".to_string(), self.routine.clone().into());
        object.insert("schedule".to_string(), self.schedule.clone().into());
        object.insert("slot".to_string(), self.slot.clone().into());
        serde_json::Value::Object(object)
    }
}
/// The longest schedule name.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest jitter a schedule may ask for.
pub const MAX_JITTER: TimeDelta = TimeDelta::hours(1);
/// The most slots one backfill fires.
pub const MAX_BACKFILL_SLOTS: usize = 500;

/// What each fire of a schedule starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScheduleTarget {
    /// A run of the agent with the instruction.
    Agent { agent_id: AgentId, instruction: String },
    /// A run of the action's agent working on the action, told `instruction`.
    Action { action_id: ActionId, instruction: String },
    /// A job of kind `routine.run` for the routine of this name.
    Routine { routine: String },
    /// A job of this kind and payload.
    Job { job_kind: String, payload: Value },
}

impl ScheduleTarget {
    /// Whether each fire starts the routine named `name` (names compare
    /// without ASCII case, as routine names are unique).
    pub fn fires_routine(&self, name: &str) -> bool {
        matches!(self, ScheduleTarget::Routine { routine } if routine.eq_ignore_ascii_case(name))
    }

    /// Checks the parts that need no lookup.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            ScheduleTarget::Agent { instruction, .. } | ScheduleTarget::Action { instruction, .. } => {
                check_text("instruction", instruction, 20_000)
            }
            ScheduleTarget::Routine { routine } => check_text("routine", routine, MAX_NAME_CHARS),
            ScheduleTarget::Job { job_kind, .. } => check_machine_name("job", job_kind),
        }
    }
}

/// A check evaluated without any model call before a fire; when it is
/// false, the fire is recorded as `skipped_no_change` and starts nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Precondition {
    /// Events of one of these kinds were appended since the last fire.
    NewEvents { kinds: Vec<String> },
    /// The agent has open actions (defined, scheduled or in progress).
    OpenActions { agent_id: AgentId },
    /// The file's content changed since the last fire (by hash).
    FileChanged { path: String },
    /// The URL's content changed since the last fire (by ETag, else hash).
    UrlChanged { url: String },
}

impl Precondition {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let field = "precondition";
        match self {
            Precondition::NewEvents { kinds } if kinds.is_empty() => {
                Err(ValidationError::new(format!("{field}.kinds"), "name at least one event kind"))
            }
            Precondition::FileChanged { path } if path.trim().is_empty() => {
                Err(ValidationError::new(format!("{field}.path"), "must not be empty"))
            }
            Precondition::UrlChanged { url } if !(url.starts_with("http://") || url.starts_with("https://")) => {
                Err(ValidationError::new(format!("{field}.url"), "must be an http:// or https:// URL"))
            }
            _ => Ok(()),
        }
    }
}

/// The policies of a schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SchedulePolicies {
    pub missed: MissedRunSettings,
    pub overlap: OverlapPolicy,
    /// Each slot fires up to this much later (deterministically per slot).
    pub jitter: TimeDelta,
    /// Pause after this many consecutive failed fires.
    pub pause_on_failures: Option<u32>,
}

/// A schedule to create.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSchedule {
    pub user_id: UserId,
    pub name: String,
    pub when: When,
    pub zone: ScheduleZone,
    pub target: ScheduleTarget,
    pub policies: SchedulePolicies,
    pub precondition: Option<Precondition>,
}

impl NewSchedule {
    /// Checks what needs no lookup and no clock: the name, the target, the
    /// jitter, the precondition.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_text("name", &self.name, MAX_NAME_CHARS)?;
        if self.name.trim() != self.name {
            return Err(ValidationError::new("name", "must not start or end with spaces"));
        }
        self.target.validate()?;
        if self.policies.jitter < TimeDelta::zero() || self.policies.jitter > MAX_JITTER {
            return Err(ValidationError::new("jitter", "must be from 0 to 1 hour"));
        }
        if self.policies.pause_on_failures == Some(0) {
            return Err(ValidationError::new("pause_on_failures", "must be at least 1"));
        }
        if let Some(precondition) = &self.precondition {
            precondition.validate()?;
        }
        Ok(())
    }
}

/// A stored schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub id: ScheduleId,
    pub user_id: UserId,
    pub name: String,
    pub when: When,
    pub zone: ScheduleZone,
    pub target: ScheduleTarget,
    pub policies: SchedulePolicies,
    pub precondition: Option<Precondition>,
    /// What the precondition saw at the last fire (an event id, a hash, an ETag).
    pub precondition_state: Option<String>,
    pub paused: bool,
    pub consecutive_failures: u32,
    /// Slots up to here are handled (fired or recorded).
    pub handled_through: DateTime<Utc>,
    /// The next slot, `None` when the schedule never fires again.
    pub next_slot: Option<DateTime<Utc>>,
    /// When the next slot fires: the slot plus its jitter.
    pub next_fire_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

text_enum!(
    /// What was recorded for one slot of a schedule.
    FireStatus, "status", {
        /// Its work was started.
        Fired => "fired",
        /// Not started: the previous fire's work still ran (overlap `skip`).
        Skipped => "skipped",
        /// Not started: missed during downtime or a pause, per the policy.
        Missed => "missed",
        /// Not started: another fire (`detail`) stood for it.
        Coalesced => "coalesced",
        /// Waiting for the previous fire's work to end.
        Buffered => "buffered",
        /// Not started: the precondition was false.
        SkippedNoChange => "skipped_no_change",
        /// Started by hand (run now).
        Manual => "manual",
        /// Started by a backfill of a past interval.
        Backfilled => "backfilled",
    }
);

impl FireStatus {
    /// Whether the fire started work (and so has a job).
    pub fn started_work(self) -> bool {
        matches!(self, FireStatus::Fired | FireStatus::Manual | FireStatus::Backfilled)
    }
}

text_enum!(
    /// How a fire's work ended.
    FireOutcome, "outcome", {
        Completed => "completed",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

/// One recorded slot of a schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleFire {
    pub schedule_id: ScheduleId,
    pub slot: DateTime<Utc>,
    pub fired_at: DateTime<Utc>,
    pub status: FireStatus,
    pub job_id: Option<JobId>,
    pub run_id: Option<RunId>,
    pub outcome: Option<FireOutcome>,
    /// Why, in words: the missed reason, the fire a slot was coalesced
    /// into, the work still running, a count of older slots summarised.
    pub detail: Option<String>,
}
