//! Routines on the wire: adding one (from a built-in template or a text),
//! a routine with its schedules and last fire, a fire with its deliveries
//! and the sources it could not read, a dry run's preview, and replays.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::routine::{FireInputs, RepoSource, Routine, RoutineFire};
use steward_domain::{AgentId, FireId, RoutineId, RunId};
use steward_runtime::routines::Preview;
use steward_runtime::usecases::{AddRoutine, EditRoutine};
use utoipa::ToSchema;

use super::deliveries::DeliveryResponse;
use super::enums::{RunOutcome, RunStatus};
use super::fields;

/// A routine to add: a built-in `template`, or its `text`, or both (the
/// text replaces the built-in's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoutineRequest {
    pub name: String,
    #[schema(value_type = i64)]
    pub agent_id: AgentId,
    /// `morning-plan`, `midday-check`, `evening-summary`, `weekly-review`, `strategy`, `discovery`, `stakeholder`,
    /// `living-docs` (needs `repo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// A minijinja template; the sources are its variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// iCalendar files or http(s) feeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calendars: Vec<String>,
    /// A Markdown file of priorities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priorities: Option<String>,
    /// Routines whose latest output is read (the built-in's by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<String>>,
    /// Destination URIs, as for runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deliver: Vec<String>,
    /// The IANA zone its day is read in (UTC by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// When it fires (the built-in's by default): a schedule of the same name is added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// No schedule, even when the built-in has one.
    #[serde(default)]
    pub manual: bool,
    /// Fires when this routine's run completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The git repository whose commits a `living-docs` routine folds into a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<RepoBody>,
}

/// A `living-docs` routine's repository and document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoBody {
    /// The repository's working tree (any folder inside it), on the server's machine.
    pub path: String,
    /// Relative to the repository's root; ARCHITECTURE.md by default (DESIGN.md when only it exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Write the agent's text at once instead of keeping a proposal for `steward sync apply`.
    #[serde(default)]
    pub apply: bool,
}

impl From<RepoBody> for RepoSource {
    fn from(body: RepoBody) -> Self {
        RepoSource { path: body.path, document: body.document, apply: body.apply }
    }
}

impl From<CreateRoutineRequest> for AddRoutine {
    fn from(request: CreateRoutineRequest) -> Self {
        AddRoutine {
            name: request.name,
            agent_id: request.agent_id,
            template: request.template,
            text: request.text,
            calendars: request.calendars,
            priorities: request.priorities,
            outputs: request.outputs,
            deliver: request.deliver,
            zone: request.tz,
            when: request.when,
            manual: request.manual,
            after: request.after,
            repo: request.repo.map(Into::into),
        }
    }
}

/// A partial edit: fields left out stay as they are. A new `when` (or
/// `tz`) replaces the routine's own schedule; `when: null` removes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoutineRequest {
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = i64)]
    pub agent_id: Option<AgentId>,
    /// The template's new text (minijinja; a syntax error names its line).
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub text: Option<String>,
    /// Source fields to replace (`calendars`, `calendar_span`, `actions`, `runs`, `priorities`, `outputs`,
    /// `repo`); the others stay.
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub sources: Option<serde_json::Map<String, Value>>,
    /// Replaces every destination.
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>)]
    pub deliver: Option<Vec<String>>,
    /// Destinations to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_deliver: Vec<String>,
    /// Destinations to drop, as stored or as shown (secret URLs masked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_deliver: Vec<String>,
    /// The IANA zone its day (and its own schedule) is read in.
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub tz: Option<String>,
    /// When it fires; `null`: only by hand (its own schedule is removed).
    #[serde(default, deserialize_with = "fields::nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub when: Option<Option<String>>,
    /// Resume (`true`) or pause (`false`) the schedules that fire it.
    #[serde(default, deserialize_with = "fields::present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub enabled: Option<bool>,
}

impl From<UpdateRoutineRequest> for EditRoutine {
    fn from(request: UpdateRoutineRequest) -> Self {
        EditRoutine {
            agent_id: request.agent_id,
            text: request.text,
            sources: request.sources,
            deliver: request.deliver,
            add_deliver: request.add_deliver,
            remove_deliver: request.remove_deliver,
            zone: request.tz,
            when: request.when,
            enabled: request.enabled,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutineResponse {
    #[schema(value_type = i64)]
    pub id: RoutineId,
    pub name: String,
    #[schema(value_type = i64)]
    pub agent_id: AgentId,
    /// The template's text.
    pub template: String,
    /// What each fire reads: `calendars`, `calendar_span`, `actions`, `runs`, `priorities`, `outputs`.
    #[schema(value_type = Object)]
    pub sources: Value,
    /// Where each fire's output goes (secret URLs masked).
    pub deliver: Vec<String>,
    pub tz: String,
    pub after: Option<String>,
    /// The *when* of each schedule that fires it.
    pub schedules: Vec<String>,
    /// False when every schedule that fires it is paused.
    pub enabled: bool,
    pub last_fire: Option<RoutineFireResponse>,
    pub created_at: DateTime<Utc>,
}

impl RoutineResponse {
    /// `schedules`: the *when* of each schedule that fires it, and whether it is paused.
    pub fn new(routine: Routine, schedules: Vec<(String, bool)>, last_fire: Option<RoutineFireResponse>) -> Self {
        let deliver = match routine.destinations() {
            Ok(destinations) => destinations.iter().map(|destination| destination.redacted()).collect(),
            Err(_) => routine.deliveries.clone(),
        };
        RoutineResponse {
            id: routine.id,
            name: routine.name,
            agent_id: routine.agent_id,
            template: routine.template,
            sources: serde_json::to_value(&routine.sources).unwrap_or(Value::Null),
            deliver,
            tz: routine.zone,
            after: routine.after,
            enabled: schedules.is_empty() || schedules.iter().any(|(_, paused)| !paused),
            schedules: schedules.into_iter().map(|(when, _)| when).collect(),
            last_fire,
            created_at: routine.created_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutineListResponse {
    pub routines: Vec<RoutineResponse>,
}

/// A source that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MissingSource {
    pub source: String,
    pub reason: String,
}

fn missing(inputs: &FireInputs) -> Vec<MissingSource> {
    inputs
        .missing()
        .into_iter()
        .map(|(source, reason)| MissingSource { source: source.to_string(), reason: reason.to_string() })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutineFireResponse {
    #[schema(value_type = i64)]
    pub id: FireId,
    #[schema(value_type = i64)]
    pub routine_id: RoutineId,
    /// `manual`, `schedule`, `webhook`, `slack`, `routine` or `replay`.
    pub trigger: String,
    #[schema(value_type = Option<i64>)]
    pub replay_of: Option<FireId>,
    #[schema(value_type = Option<i64>)]
    pub run_id: Option<RunId>,
    pub run_status: Option<RunStatus>,
    pub run_outcome: Option<RunOutcome>,
    /// Sources that could not be read (the prompt says so too).
    pub missing: Vec<MissingSource>,
    /// What the prompt was rendered from, as stored for replays.
    #[schema(value_type = Object)]
    pub inputs: Value,
    pub prompt: String,
    pub deliveries: Vec<DeliveryResponse>,
    /// `false` when the same trigger (key) had fired it already.
    pub created: bool,
    pub created_at: DateTime<Utc>,
}

impl RoutineFireResponse {
    pub fn new(fire: RoutineFire, run: Option<&steward_domain::Run>, deliveries: Vec<DeliveryResponse>) -> Self {
        RoutineFireResponse {
            missing: missing(&fire.inputs),
            inputs: serde_json::to_value(&fire.inputs).unwrap_or(Value::Null),
            id: fire.id,
            routine_id: fire.routine_id,
            trigger: fire.trigger.as_str().to_string(),
            replay_of: fire.replay_of,
            run_id: fire.run_id,
            run_status: run.map(|run| run.status.into()),
            run_outcome: run.and_then(|run| run.outcome.map(Into::into)),
            prompt: fire.prompt,
            deliveries,
            created: true,
            created_at: fire.created_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutineFireListResponse {
    /// Newest first.
    pub fires: Vec<RoutineFireResponse>,
}

/// Fire a routine now, or only show what a fire would do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRoutineRequest {
    /// Build the context and prompt, start nothing, send nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The template's `input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub input: Option<Value>,
}

/// What a fire would read, say and deliver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutinePreviewResponse {
    #[schema(value_type = Object)]
    pub inputs: Value,
    pub missing: Vec<MissingSource>,
    pub prompt: String,
    /// Where it would deliver; nothing is sent.
    pub destinations: Vec<String>,
}

impl From<Preview> for RoutinePreviewResponse {
    fn from(preview: Preview) -> Self {
        RoutinePreviewResponse {
            missing: missing(&preview.inputs),
            inputs: serde_json::to_value(&preview.inputs).unwrap_or(Value::Null),
            prompt: preview.prompt,
            destinations: preview.destinations,
        }
    }
}

/// A fire, or a dry run's preview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunRoutineResponse {
    pub dry_run: bool,
    pub fire: Option<RoutineFireResponse>,
    pub preview: Option<RoutinePreviewResponse>,
}

/// Run a past fire again from its stored inputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Deliver its output (nothing is delivered otherwise).
    #[serde(default)]
    pub deliver: bool,
    /// Send again to destinations the replayed fire already sent to.
    #[serde(default)]
    pub resend: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateResponse {
    pub name: String,
    pub description: String,
    /// When a routine made from it fires, unless told otherwise.
    pub when: Option<String>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateListResponse {
    pub templates: Vec<TemplateResponse>,
}

/// What a signed trigger or slash command did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TriggerResponse {
    #[schema(value_type = i64)]
    pub fire: FireId,
    #[schema(value_type = Option<i64>)]
    pub run_id: Option<RunId>,
    /// `false` when the same signed request had fired it already.
    pub created: bool,
}
