//! Agent runs: an agent working on an instruction (ad hoc, or an action's)
//! through a sequence of steps — model calls and tool calls — until it
//! answers or a limit stops it.
//!
//! A run's steps are its durable checkpoints and its trace at once: each
//! completed step is stored before the next starts, so a run interrupted by
//! a crash resumes from its last stored step, and each step carries the
//! span attributes the trace shows (model, tokens, cost, latency; tool,
//! arguments, result size, duration, error).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::{ActionId, AgentId, JobId, RunId, UserId};
use crate::validation::{ValidationError, check_storable, check_text};

use crate::text_enum::text_enum;

text_enum!(
    /// Where a run is.
    RunStatus, "status", {
        /// Waiting for a worker.
        Queued => "queued",
        Running => "running",
        /// Paused until a person approves or rejects a tool call.
        AwaitingApproval => "awaiting_approval",
        /// Over; the outcome says how.
        Finished => "finished",
    }
);

text_enum!(
    /// How a finished run ended.
    RunOutcome, "outcome", {
        /// The model gave its final answer.
        Completed => "completed",
        MaxSteps => "max_steps",
        MaxTokens => "max_tokens",
        MaxCost => "max_cost",
        MaxWallTime => "max_wall_time",
        /// The agent's daily or total budget would have been exceeded.
        BudgetExceeded => "budget_exceeded",
        Cancelled => "cancelled",
        /// Something went wrong that retrying did not fix (the error says what).
        Failed => "failed",
    }
);

text_enum!(
    /// What a step was.
    StepKind, "kind", {
        /// The instruction the run works on (the first step).
        Instruction => "instruction",
        /// A model call and its reply.
        ModelCall => "model_call",
        /// A tool call and its result.
        ToolCall => "tool_call",
        /// A summary that stands for older steps once the context is too long.
        Summary => "summary",
    }
);

/// Limits on one run. `None` leaves a limit to the next level: run, then
/// agent, then the configured defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunLimits {
    pub max_steps: Option<u32>,
    /// Input plus output tokens over all model calls of the run.
    pub max_tokens: Option<u64>,
    pub max_cost_usd: Option<f64>,
    pub max_wall_time: Option<Duration>,
}

impl RunLimits {
    /// Each limit from `self`, else from `fallback`.
    pub fn or(self, fallback: RunLimits) -> RunLimits {
        RunLimits {
            max_steps: self.max_steps.or(fallback.max_steps),
            max_tokens: self.max_tokens.or(fallback.max_tokens),
            max_cost_usd: self.max_cost_usd.or(fallback.max_cost_usd),
            max_wall_time: self.max_wall_time.or(fallback.max_wall_time),
        }
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.max_steps == Some(0) {
            return Err(ValidationError::new("max_steps", "must be at least 1"));
        }
        if self.max_tokens == Some(0) {
            return Err(ValidationError::new("max_tokens", "must be at least 1"));
        }
        check_storable("max_tokens", self.max_tokens)?;
        check_storable("max_wall_secs", self.max_wall_time.map(|wall| wall.as_secs()))?;
        if let Some(cost) = self.max_cost_usd
            && !(cost.is_finite() && cost > 0.0)
        {
            return Err(ValidationError::new("max_cost_usd", "must be a positive number of dollars"));
        }
        if self.max_wall_time.is_some_and(|wall| wall.is_zero()) {
            return Err(ValidationError::new("max_wall_secs", "must be at least 1 second"));
        }
        Ok(())
    }
}

/// Token and cost totals.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// The cost of the model calls whose cost is known.
    pub cost_usd: f64,
    /// Model calls whose cost is unknown (no price for the model): the run's
    /// real cost is higher than `cost_usd`, by an unknown amount.
    pub unknown_cost_calls: u32,
    pub model_calls: u32,
    pub tool_calls: u32,
    /// Model calls cut off by a crash or a cancel before their reply came
    /// back: counted with estimated input tokens and cost (see
    /// [`ModelCallStarted`]), so the totals are partly estimates.
    pub estimated_calls: u32,
}

/// The stop reason stored on a model-call step that never got its reply:
/// the process stopped (or the run was cancelled) while the call was in
/// flight. Its tokens and cost are estimates; a resumed run skips it when
/// replaying.
pub const INTERRUPTED_STOP_REASON: &str = "interrupted";

/// A model call recorded as started before it is sent, so a call the
/// process never saw the end of is still counted: resuming or finishing the
/// run stores it as an interrupted model-call step with these estimates.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelCallStarted {
    /// The step the reply will be stored as.
    pub sequence: u32,
    /// `provider/model`.
    pub model: String,
    /// Estimated from the request's size (providers bill input tokens of a
    /// call cut off mid-reply).
    pub estimated_input_tokens: u64,
    /// Those tokens at the model's input price; `None` when the price is
    /// unknown.
    pub estimated_cost_usd: Option<f64>,
    pub started_at: DateTime<Utc>,
}

impl RunUsage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }

    /// Whether `cost_usd` is the whole cost.
    pub fn cost_is_known(&self) -> bool {
        self.unknown_cost_calls == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub id: RunId,
    pub user_id: UserId,
    pub agent_id: AgentId,
    /// The action the run works on, if any (else an ad-hoc run).
    pub action_id: Option<ActionId>,
    /// The job currently executing or scheduled to execute the run.
    pub job_id: Option<JobId>,
    pub status: RunStatus,
    pub outcome: Option<RunOutcome>,
    pub instruction: String,
    /// The run's own limits (not yet merged with the agent's and defaults).
    pub limits: RunLimits,
    pub usage: RunUsage,
    /// Steps stored so far.
    pub steps: u32,
    /// The final answer, when the run completed.
    pub output: Option<String>,
    /// Why the run failed or stopped, in words.
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub mod limits {
    pub const INSTRUCTION_CHARS: usize = 100_000;
}

/// How runs are executed by the job queue: one job of this kind (payload
/// `{"run_id": …}`) per start or resume of a run, on this queue (so its
/// concurrency can be limited on its own).
pub mod execution {
    use std::time::Duration;

    use serde_json::Value;

    use crate::ids::RunId;

    pub const JOB_KIND: &str = "agent.run";
    pub const QUEUE: &str = "agents";
    /// Attempts of one run's job: a crash resumes the run from its last
    /// stored step, and each resume is an attempt.
    pub const MAX_ATTEMPTS: u32 = 10;
    /// The job's timeout is only a safety net: the loop enforces the run's
    /// wall-time limit itself and stops at a step boundary.
    pub const JOB_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

    /// The payload of the job that executes `run`.
    pub fn payload(run: RunId) -> Value {
        serde_json::json!({ "run_id": run })
    }

    /// The run a job's payload names, if it is the payload of [`payload`].
    pub fn run_of(payload: &Value) -> Option<RunId> {
        payload.get("run_id").and_then(Value::as_i64).map(RunId)
    }
}

/// A run to start.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRun {
    pub agent_id: AgentId,
    pub action_id: Option<ActionId>,
    pub instruction: String,
    pub limits: RunLimits,
    /// When the run's job may start; `None` means now.
    pub run_at: Option<DateTime<Utc>>,
}

impl NewRun {
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_text("instruction", &self.instruction, limits::INSTRUCTION_CHARS)?;
        self.limits.validate()
    }
}

/// Tokens a model call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

/// A completed step, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStep {
    pub run_id: RunId,
    /// 0, 1, 2 … with no gaps: the order of the run's conversation.
    pub sequence: u32,
    pub kind: StepKind,
    /// The model for a model call, the tool for a tool call.
    pub name: String,
    /// What the step carries, owned by the runtime: the reply's content
    /// parts, the tool call and its result, the summary text.
    pub content: Value,
    /// Model calls: tokens used.
    pub usage: Option<TokenUsage>,
    /// Model calls: the cost, `None` when unknown.
    pub cost_usd: Option<f64>,
    /// Model calls: from request to first token.
    pub time_to_first_token: Option<Duration>,
    /// Model calls: why the model stopped.
    pub stop_reason: Option<String>,
    /// Set when the step failed (a tool error, a refused call).
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl RunStep {
    /// A model call that never got its reply (its usage is an estimate):
    /// counted, never replayed.
    pub fn is_interrupted(&self) -> bool {
        self.kind == StepKind::ModelCall && self.stop_reason.as_deref() == Some(INTERRUPTED_STOP_REASON)
    }

    pub fn duration(&self) -> Duration {
        (self.finished_at - self.started_at).to_std().unwrap_or_default()
    }
}

/// A step to store; the store checks `sequence` follows the last one.
pub type NewRunStep = RunStep;

/// What an agent has spent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spend {
    pub cost_usd: f64,
    /// Model calls whose cost is unknown, so not in `cost_usd`.
    pub unknown_cost_calls: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_fall_back_one_by_one() {
        let run = RunLimits { max_steps: Some(3), ..RunLimits::default() };
        let agent = RunLimits { max_steps: Some(10), max_tokens: Some(500), ..RunLimits::default() };
        let merged = run.or(agent);
        assert_eq!(merged.max_steps, Some(3));
        assert_eq!(merged.max_tokens, Some(500));
        assert_eq!(merged.max_cost_usd, None);
    }

    #[test]
    fn limits_must_be_positive() {
        assert_eq!(RunLimits { max_steps: Some(0), ..RunLimits::default() }.validate().unwrap_err().field, "max_steps");
        let negative = RunLimits { max_cost_usd: Some(-1.0), ..RunLimits::default() };
        assert_eq!(negative.validate().unwrap_err().field, "max_cost_usd");
    }

    #[test]
    fn outcomes_and_kinds_parse_their_names() {
        for outcome in RunOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<RunOutcome>(), Ok(*outcome));
        }
        assert_eq!("nap".parse::<RunStatus>().unwrap_err().field, "status");
    }
}
