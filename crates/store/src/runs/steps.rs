//! The rules of a run's steps, written once for both databases: a step is
//! appended only at its run's next sequence, is checked and cleaned before
//! it is stored, and adds its tokens, cost and calls to its run's totals.
//! Each dialect's SQL is in `sqlite/steps.rs` and `postgres/steps.rs`.

use chrono::{DateTime, Utc};
use steward_domain::run::INTERRUPTED_STOP_REASON;
use steward_domain::validation::check_optional_text;
use steward_domain::{ModelCallStarted, NewRunStep, RunId, StepKind, TokenUsage};

use crate::rules::{storable_error, storable_result};
use crate::{ConflictKind, StoreError};

/// `append_step` takes the run's next sequence only; anything else means
/// the caller's view is out of date (another worker appended meanwhile).
pub(crate) fn check_step_sequence(run: RunId, stored_steps: u32, sequence: u32) -> Result<(), StoreError> {
    if sequence == stored_steps {
        return Ok(());
    }
    Err(StoreError::conflict(
        ConflictKind::Stale,
        Some("sequence"),
        format!(
            "run {run} has {stored_steps} steps, so the next is step {stored_steps}, not {sequence}: \
             the caller's view of the run is stale (is another worker running it?)"
        ),
    ))
}

/// Checks a step's fields before it is stored.
pub(crate) fn check_step(step: &NewRunStep) -> Result<(), StoreError> {
    check_optional_text("name", &step.name, 200)?;
    if let Some(cost) = step.cost_usd
        && !(cost.is_finite() && cost >= 0.0)
    {
        return Err(StoreError::invalid("cost_usd", "must be a number of dollars, 0 or more (None when unknown)"));
    }
    if step.finished_at < step.started_at {
        return Err(StoreError::invalid("finished_at", "must not be before started_at"));
    }
    if let Some(usage) = step.usage {
        let counts = [usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens];
        if counts.into_iter().any(|tokens| i64::try_from(tokens).is_err()) {
            return Err(StoreError::invalid("usage", "token counts must fit in 63 bits"));
        }
    }
    Ok(())
}

/// A step as stored: its free text and JSON cleaned like a job's result
/// ([`storable_result`]), since they come from a model or tool that
/// already ran and losing the step over a NUL character would be worse.
pub(crate) fn storable_step(mut step: NewRunStep) -> NewRunStep {
    step.content = storable_result(&step.content);
    step.error = step.error.as_deref().map(storable_error);
    step.stop_reason = step.stop_reason.as_deref().map(storable_error);
    step.started_at = steward_domain::time::truncate_to_micros(step.started_at);
    step.finished_at = steward_domain::time::truncate_to_micros(step.finished_at);
    step
}

/// Whether a step made a model call: a model-call step, or any step that
/// used tokens (a summary is written by the model too). Its cost counts in
/// the run's cost when known, in `unknown_cost_calls` when not.
pub(crate) fn made_model_call(step: &NewRunStep) -> bool {
    step.kind == StepKind::ModelCall || step.usage.is_some()
}

/// What one step adds to its run's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct StepTotals {
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub cost_usd: f64,
    pub unknown_cost_calls: i32,
    pub model_calls: i32,
    pub tool_calls: i32,
    pub estimated_calls: i32,
}

pub(crate) fn step_totals(step: &NewRunStep) -> StepTotals {
    let usage = step.usage.unwrap_or_default();
    let tokens = |count: u64| i64::try_from(count).unwrap_or(i64::MAX);
    let model_call = made_model_call(step);
    StepTotals {
        input_tokens: tokens(usage.input_tokens),
        output_tokens: tokens(usage.output_tokens),
        cache_read_tokens: tokens(usage.cache_read_tokens),
        cache_write_tokens: tokens(usage.cache_write_tokens),
        cost_usd: if model_call { step.cost_usd.unwrap_or(0.0) } else { 0.0 },
        unknown_cost_calls: i32::from(model_call && step.cost_usd.is_none()),
        model_calls: i32::from(model_call),
        tool_calls: i32::from(step.kind == StepKind::ToolCall),
        estimated_calls: i32::from(is_interrupted(step)),
    }
}

/// Whether the step is a model call that never got its reply (its usage is
/// an estimate).
pub(crate) fn is_interrupted(step: &NewRunStep) -> bool {
    step.is_interrupted()
}

/// The step that stands for a model call recorded as started whose reply
/// was never stored, when its run resumes or finishes: `None` when the
/// record is stale (a step was stored at its sequence since, or the run
/// moved past it), so a call is never counted twice.
pub(crate) fn interrupted_step(
    run: RunId,
    stored_steps: u32,
    started: ModelCallStarted,
    now: DateTime<Utc>,
) -> Option<NewRunStep> {
    if started.sequence != stored_steps {
        return None;
    }
    Some(NewRunStep {
        run_id: run,
        sequence: started.sequence,
        kind: StepKind::ModelCall,
        name: started.model,
        content: serde_json::Value::Object(serde_json::Map::new()),
        usage: Some(TokenUsage { input_tokens: started.estimated_input_tokens, ..TokenUsage::default() }),
        cost_usd: started.estimated_cost_usd,
        time_to_first_token: None,
        stop_reason: Some(INTERRUPTED_STOP_REASON.to_string()),
        error: Some(
            "interrupted: the process stopped (or the run was cancelled) while this model call was in flight; \
             its input tokens and cost are estimates, counted toward the run and the budgets"
                .to_string(),
        ),
        started_at: started.started_at,
        finished_at: now.max(started.started_at),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use steward_domain::TokenUsage;

    use super::*;

    fn step(kind: StepKind, usage: Option<TokenUsage>, cost_usd: Option<f64>) -> NewRunStep {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        NewRunStep {
            run_id: RunId(1),
            sequence: 0,
            kind,
            name: "m".into(),
            content: serde_json::Value::Object(serde_json::Map::new()),
            usage,
            cost_usd,
            time_to_first_token: None,
            stop_reason: None,
            error: None,
            started_at: at,
            finished_at: at,
        }
    }

    #[test]
    fn an_unknown_cost_is_counted_apart_never_as_zero_dollars() {
        let usage = Some(TokenUsage { input_tokens: 10, output_tokens: 5, ..TokenUsage::default() });
        let known = step_totals(&step(StepKind::ModelCall, usage, Some(0.25)));
        assert_eq!((known.cost_usd, known.unknown_cost_calls, known.model_calls), (0.25, 0, 1));
        let unknown = step_totals(&step(StepKind::ModelCall, usage, None));
        assert_eq!((unknown.cost_usd, unknown.unknown_cost_calls, unknown.input_tokens), (0.0, 1, 10));
        let tool = step_totals(&step(StepKind::ToolCall, None, None));
        assert_eq!((tool.unknown_cost_calls, tool.model_calls, tool.tool_calls), (0, 0, 1));
        let summary = step_totals(&step(StepKind::Summary, usage, Some(0.1)));
        assert_eq!(summary.model_calls, 1, "a summary written by the model is a model call");
    }

    #[test]
    fn an_interrupted_call_counts_its_estimate_once_and_only_at_its_own_sequence() {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        let started = ModelCallStarted {
            sequence: 3,
            model: "anthropic/claude".into(),
            estimated_input_tokens: 1200,
            estimated_cost_usd: Some(0.0036),
            started_at: at,
        };
        assert_eq!(interrupted_step(RunId(1), 4, started.clone(), at), None, "a step was stored at 3 since");
        let step = interrupted_step(RunId(1), 3, started, at).unwrap();
        let totals = step_totals(&step);
        assert_eq!((totals.input_tokens, totals.output_tokens, totals.cost_usd), (1200, 0, 0.0036));
        assert_eq!((totals.model_calls, totals.estimated_calls, totals.unknown_cost_calls), (1, 1, 0));
        assert!(step.error.unwrap().contains("estimate"));
    }
}
