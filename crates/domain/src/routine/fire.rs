//! One firing of a routine: what fired it, the inputs it had (each context
//! source's value, or why it is missing), the prompt rendered from them,
//! and the run it started. The inputs are stored so a fire can be replayed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::delivery::Destination;
use crate::ids::{FireId, RoutineId, RunId, UserId};
use crate::run::NewRun;
use crate::text_enum::text_enum;

text_enum!(
    /// What fired a routine.
    FireTrigger, "trigger", {
        Manual => "manual",
        Schedule => "schedule",
        /// A signed `POST /routines/{name}/trigger`.
        Webhook => "webhook",
        /// A Slack slash command.
        Slack => "slack",
        /// The completion of another routine's run.
        Routine => "routine",
        Replay => "replay",
    }
);

/// A source's value, or why it could not be read. A missing source is shown
/// in the prompt as missing, never as empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceValue {
    Value(Value),
    Missing(String),
}

/// Everything a fire's prompt was rendered from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FireInputs {
    /// When the fire happened (a schedule's slot, else the clock).
    pub at: DateTime<Utc>,
    pub zone: String,
    /// The fire's day in `zone`.
    pub today: NaiveDate,
    /// Text given with the trigger (a slash command's text, a webhook's body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// Each source by name (`calendar`, `actions`, `runs`, `priorities`, `outputs`).
    pub sources: BTreeMap<String, SourceValue>,
}

impl FireInputs {
    /// `(source, reason)` of each source that could not be read.
    pub fn missing(&self) -> Vec<(&str, &str)> {
        self.sources
            .iter()
            .filter_map(|(name, value)| match value {
                SourceValue::Missing(reason) => Some((name.as_str(), reason.as_str())),
                SourceValue::Value(_) => None,
            })
            .collect()
    }
}

/// A stored fire.
#[derive(Clone, Debug, PartialEq)]
pub struct RoutineFire {
    pub id: FireId,
    pub user_id: UserId,
    pub routine_id: RoutineId,
    pub trigger: FireTrigger,
    /// A second fire with the same key is the first (a schedule's slot, a
    /// webhook's signature, the fire a `routine` trigger followed).
    pub fire_key: Option<String>,
    pub replay_of: Option<FireId>,
    pub inputs: FireInputs,
    pub prompt: String,
    pub run_id: Option<RunId>,
    pub created_at: DateTime<Utc>,
}

/// A fire to record, with the run it starts and where its output goes.
#[derive(Clone, Debug, PartialEq)]
pub struct NewFire {
    pub routine_id: RoutineId,
    pub trigger: FireTrigger,
    pub fire_key: Option<String>,
    pub replay_of: Option<FireId>,
    pub inputs: FireInputs,
    pub prompt: String,
    pub run: NewRun,
    pub destinations: Vec<Destination>,
    /// The fire the deliveries are keyed by: this one (`None`), or a
    /// replayed fire's, so a replay does not send what was sent.
    pub deliveries_of: Option<FireId>,
}
