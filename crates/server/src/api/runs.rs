//! Runs on the wire: starting and scheduling runs, runs as returned with
//! their usage, listing filters, and a run's trace (one span per step).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::{ActionId, AgentId, AssessmentId, JobId, RunId, RunUsage};
use utoipa::{IntoParams, ToSchema};

use super::actions::ActionResponse;
use super::agents::LimitsBody;
use super::enums::{RunOutcome, RunStatus, StepKind};
use super::fields;

/// An agent run: an agent working on an instruction (ad hoc, or an
/// action's) through model calls and tool calls until it answers or a limit
/// stops it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunResponse {
    #[schema(value_type = i64)]
    pub id: RunId,
    #[schema(value_type = i64)]
    pub agent_id: AgentId,
    /// The action the run works on; null for an ad-hoc run.
    #[schema(value_type = Option<i64>)]
    pub action_id: Option<ActionId>,
    /// The job executing (or about to execute) the run.
    #[schema(value_type = Option<i64>)]
    pub job_id: Option<JobId>,
    pub status: RunStatus,
    /// How it ended, once finished.
    pub outcome: Option<RunOutcome>,
    pub instruction: String,
    /// The run's own limits; a null limit comes from the agent, then the server.
    pub limits: LimitsBody,
    pub usage: RunUsageBody,
    /// Steps stored so far (the instruction is step 0).
    pub steps: u32,
    /// The final answer, when the run completed.
    pub output: Option<String>,
    /// Why the run failed or stopped, in words.
    pub error: Option<String>,
    /// A cancel was asked for and the run stops at its next step boundary.
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Tokens and cost of a run's model calls so far.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunUsageBody {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// US dollars of the model calls whose price is known.
    pub cost_usd: f64,
    /// False when some model call had no known price: the real cost is then
    /// higher than `cost_usd`, by an unknown amount.
    pub cost_known: bool,
    /// Model calls whose cost is unknown.
    pub unknown_cost_calls: u32,
    pub model_calls: u32,
    pub tool_calls: u32,
    /// Model calls cut off by a crash or a cancel before their reply: their
    /// input tokens and cost are counted as estimates (trace spans with
    /// stop reason `interrupted`).
    pub estimated_calls: u32,
}

impl From<RunUsage> for RunUsageBody {
    fn from(usage: RunUsage) -> Self {
        RunUsageBody {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cache_read_tokens: usage.cache_read_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            cost_usd: usage.cost_usd,
            cost_known: usage.cost_is_known(),
            unknown_cost_calls: usage.unknown_cost_calls,
            model_calls: usage.model_calls,
            tool_calls: usage.tool_calls,
            estimated_calls: usage.estimated_calls,
        }
    }
}

impl From<steward_domain::Run> for RunResponse {
    fn from(run: steward_domain::Run) -> Self {
        RunResponse {
            id: run.id,
            agent_id: run.agent_id,
            action_id: run.action_id,
            job_id: run.job_id,
            status: run.status.into(),
            outcome: run.outcome.map(Into::into),
            instruction: run.instruction,
            limits: run.limits.into(),
            usage: run.usage.into(),
            steps: run.steps,
            output: run.output,
            error: run.error,
            cancel_requested: run.cancel_requested,
            created_at: run.created_at,
            updated_at: run.updated_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
        }
    }
}

/// An ad-hoc run of an agent (`POST /agents/{id}/runs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRunRequest {
    /// What the agent should do; 1–100,000 characters.
    pub instruction: String,
    /// Limits of this run; each left out comes from the agent, then the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsBody>,
    /// Start not before this RFC 3339 time. Give this or `delay_ms`, not both; default now.
    #[serde(default, deserialize_with = "fields::optional_time", skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// Start not before this many milliseconds from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Where the output goes once the run finishes, each once: `slack:#channel`,
    /// `slack:@USERID`, `slack-webhook:URL`, `webhook:URL`, `mailto:ADDRESS`, `file:PATH`
    /// (a URL may be `$VARIABLE`, read from the server's environment). See `GET /deliveries`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deliver: Vec<String>,
}

/// Schedules a `defined` (or `failed`) action: it becomes `scheduled` and a
/// run starts working on it. Every field is optional; the body may be left out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleActionRequest {
    /// Start not before this RFC 3339 time. Give this or `delay_ms`, not both; default the
    /// action's `scheduled_for`, else now.
    #[serde(default, deserialize_with = "fields::optional_time", skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// Start not before this many milliseconds from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// What the agent is told to do; default a sentence made of the action's title and description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsBody>,
}

/// The scheduled action and the run that works on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleActionResponse {
    pub action: ActionResponse,
    pub run: RunResponse,
    /// When the run may start: the time asked for, the action's scheduled-for time, or now.
    pub starts_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunListResponse {
    /// Newest first.
    pub runs: Vec<RunResponse>,
    /// Pass as `before` for the next page; null when this page is the last.
    #[schema(value_type = Option<i64>)]
    pub next_before: Option<RunId>,
}

/// Filters and paging of `GET /runs`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListQuery {
    /// Only the runs of this agent.
    #[param(value_type = Option<i64>)]
    pub agent_id: Option<AgentId>,
    /// Only the runs working on this action.
    #[param(value_type = Option<i64>)]
    pub action_id: Option<ActionId>,
    /// Only runs in these statuses: repeat the parameter or separate with commas.
    #[param(value_type = Option<Vec<RunStatus>>, style = Form, explode)]
    pub status: Vec<RunStatus>,
    /// Only runs with a smaller id (the previous page's `next_before`).
    #[param(value_type = Option<i64>)]
    pub before: Option<RunId>,
    /// 1…500, default 50.
    pub limit: Option<usize>,
}

/// A run and its steps as spans, in sequence order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TraceResponse {
    pub run: RunResponse,
    pub spans: Vec<SpanResponse>,
    /// The guardian's looks at the run: model calls for oversight, with
    /// their own tokens and cost, not among the run's spans.
    #[serde(default)]
    pub oversight: Vec<crate::api::AssessmentResponse>,
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SpanResponse {
    /// 0, 1, 2 … with no gaps.
    pub sequence: u32,
    pub kind: StepKind,
    /// `provider/model` for a model call or summary, the tool's name for a tool call.
    pub name: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// Set for model calls and summaries (any step that called the model).
    pub model_call: Option<ModelCallSpan>,
    /// Set for tool calls.
    pub tool_call: Option<ToolCallSpan>,
    /// Why the step failed (a tool error, a refused or rejected call).
    pub error: Option<String>,
    /// What the step stored, as the runtime keeps it: the instruction's
    /// text, the reply's content parts and requested tool calls, the tool's
    /// arguments and result, the summary.
    pub content: Value,
}

/// What a model call cost and how it went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelCallSpan {
    /// `anthropic`, `openai`, or a configured provider's name.
    pub provider: String,
    /// The model's name at its provider.
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// US dollars; null when the model's price is unknown (then `cost_known` is false).
    pub cost_usd: Option<f64>,
    pub cost_known: bool,
    /// From sending the request to the first token of the reply.
    pub time_to_first_token_ms: Option<u64>,
    /// Why the model stopped (`end_turn`, `tool_use`, `max_tokens`, …); `interrupted` for a call cut off by a
    /// crash or a cancel before its reply, whose input tokens and cost are estimates.
    pub stop_reason: Option<String>,
}

/// A tool call: what it was asked and how big its answer was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolCallSpan {
    /// The tool's dotted name (`workspace.write`).
    pub tool: String,
    /// The provider's id of the call.
    pub call_id: Option<String>,
    /// The arguments the model gave, with secrets masked.
    pub arguments: Value,
    /// Size of the result (or error text) the model was given, in bytes.
    pub result_bytes: Option<u64>,
    /// The tool failed or the call was refused; the span's `error` says why.
    pub is_error: bool,
}

impl From<steward_domain::RunStep> for SpanResponse {
    fn from(step: steward_domain::RunStep) -> Self {
        let duration_ms = u64::try_from(step.duration().as_millis()).unwrap_or(u64::MAX);
        let model_call = (step.kind == steward_domain::StepKind::ModelCall || step.usage.is_some()).then(|| {
            let usage = step.usage.unwrap_or_default();
            let (provider, model) = step.name.split_once('/').unwrap_or(("", step.name.as_str()));
            ModelCallSpan {
                provider: provider.to_string(),
                model: model.to_string(),
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cache_read_tokens: usage.cache_read_tokens,
                cache_write_tokens: usage.cache_write_tokens,
                cost_usd: step.cost_usd,
                cost_known: step.cost_usd.is_some(),
                time_to_first_token_ms: step
                    .time_to_first_token
                    .map(|first| u64::try_from(first.as_millis()).unwrap_or(u64::MAX)),
                stop_reason: step.stop_reason.clone(),
            }
        });
        let tool_call = (step.kind == steward_domain::StepKind::ToolCall).then(|| tool_call_span(&step));
        SpanResponse {
            sequence: step.sequence,
            kind: step.kind.into(),
            name: step.name,
            started_at: step.started_at,
            finished_at: step.finished_at,
            duration_ms,
            model_call,
            tool_call,
            error: step.error,
            content: step.content,
        }
    }
}

/// The tool call's span, from the content the runtime stored for it.
fn tool_call_span(step: &steward_domain::RunStep) -> ToolCallSpan {
    match serde_json::from_value::<steward_runtime::agent::steps::ToolCallContent>(step.content.clone()) {
        Ok(content) => ToolCallSpan {
            tool: content.tool,
            call_id: Some(content.call_id),
            arguments: content.arguments,
            result_bytes: Some(content.result.len() as u64),
            is_error: content.is_error,
        },
        // Content of another shape (stored by another version): what the row says.
        Err(_) => ToolCallSpan {
            tool: step.name.clone(),
            call_id: None,
            arguments: step.content.get("arguments").cloned().unwrap_or(Value::Null),
            result_bytes: None,
            is_error: step.error.is_some(),
        },
    }
}

/// A person's intervention on a run the guardian assessed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterveneRequest {
    /// `pause` (applies a pause the policy only proposed: the run holds at its next model call),
    /// `cancel` (applies a proposed pause or cancel: the run is cancelled now) or `resume` (a run
    /// the guardian holds goes on, as approving its pause or rejecting its cancel does).
    pub intervention: String,
    /// The assessment acted on; by default the run's latest one waiting for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub assessment: Option<AssessmentId>,
    /// Why, kept with the approval a resume decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What an intervention did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InterveneResponse {
    /// The run as it is now.
    pub run: RunResponse,
    /// The assessment applied (absent for a resume).
    #[serde(default)]
    pub assessment: Option<crate::api::AssessmentResponse>,
}
